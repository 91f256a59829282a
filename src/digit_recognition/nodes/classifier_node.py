"""classifier: batches of `digit_crop` -> the reader (which digit) and the gate (a digit at all)
-> `digit` and `digit_confidence` when both are sure, and `digit_reading` for every batch (its
status says why a batch stayed silent; with the capture stamp and frame_id of the batch).

A `digit_crop` in 8UC3 carries the crop and its context (what the preprocess node sends); a
plain mono8 crop from another node works too: the gate then judges the crop alone. A crop k
times as wide (28 x 28k) is a row of k marks, a number: read position by position, published
on `number` (std_msgs/String, "07" keeps its zero) and `number_reading` when every digit is
sure, and never on `digit`. A lone digit is published on `number` too.
"""

import sys
import time

from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Float32, Int32, String

from digit_recognition.core.decision import (DecisionSettings, DIGIT, NOT_DIGIT,
                                             NUMBER, PART_OF_NUMBER, REFUSED, TOO_LONG,
                                             UNSTEADY, UNSURE)
from digit_recognition.core.image_encodings import crop_from_msg
from digit_recognition.core.patches import crops_of_row
from digit_recognition.core.model import BACKEND_SUFFIX, load_models, NO_GATE
from digit_recognition.ros.diagnostics import Diagnostics, RateMeter
from digit_recognition.ros.messages import (digit_reading_type, NUMBER_READING_TOPIC,
                                            number_reading_type, READING_TOPIC)
from digit_recognition.ros.parameters import NodeParameters, overridable_qos, ParameterSpec
from digit_recognition.ros.runner import run_nodes

# The defaults of how crops are decided are the core's own.
_DECISION = DecisionSettings()

PARAMETERS = (
    ParameterSpec('model_path', '',
                  'Model file (.keras or .tflite; its twin beside it serves the other backend); '
                  'empty for the model bundled with the package', read_only=True),
    ParameterSpec('gate_path', '',
                  'The gate (is it a digit at all?), .keras or .tflite: empty for the one '
                  "beside model_path (name_gate.keras), if there is one; 'none': decide with "
                  'the reader alone', read_only=True),
    ParameterSpec('backend', 'tflite',
                  'tflite: LiteRT interpreter, TensorFlow never imported; keras: TensorFlow '
                  'graph call', choices=tuple(BACKEND_SUFFIX), read_only=True),
    ParameterSpec('batch_size', _DECISION.batch_size,
                  'Crops per model call; one digit is published per batch', limits=(1, 64)),
    ParameterSpec('min_confidence', _DECISION.min_confidence,
                  "Publish only when the reader is at least this sure: the batch's mean "
                  '(calibrated) probability of its digit must reach this; below it the '
                  'batch is unsure', limits=(0.0, 1.0)),
    ParameterSpec('min_digitness', _DECISION.min_digitness,
                  "Publish only when the gate's mean (calibrated) probability that the batch "
                  'shows a digit at all reaches this; below it the batch is not a digit '
                  '(letters, symbols, hands, edges)', limits=(0.0, 1.0)),
    ParameterSpec('read_numbers', _DECISION.read_numbers,
                  'Read a row of digit-sized marks (a room number) as a number on `number`; '
                  'false: numbers are not read (their digits are never published on `digit` '
                  'either way)'),
    ParameterSpec('max_number_digits', _DECISION.max_number_digits,
                  'The longest number read; a longer row of marks publishes nothing',
                  limits=(2, 16)),
    ParameterSpec('batch_timeout', _DECISION.batch_timeout,
                  'Seconds between two crops (by capture stamp) that end a batch unfinished: '
                  'the digit left the view', limits=(0.01, 60.0)),
)


class ClassifierNode(Node):

    def __init__(self, **kwargs):
        super().__init__('classifier', **kwargs)
        self._params = NodeParameters(self, PARAMETERS)
        model_path, backend = self._params['model_path'], self._params['backend']
        decision = self._params.settings(DecisionSettings)

        # Loading and the first (tracing) call are slow: pay for both before any crop arrives.
        # Both raise ModelLoadError (one error line, exit 1) for a model that cannot serve,
        # its outputs on blank crops not being probabilities included.
        started = time.monotonic()
        gate_path = self._params['gate_path']
        models = load_models(model_path or None, gate_path, backend)
        models.warm_up(decision.batch_size)
        load_sec = time.monotonic() - started
        if models.gate is None and gate_path.lower() != NO_GATE:
            self.get_logger().warning(f'no gate beside {models.reader.path}: deciding with '
                                      'the reader alone')
        self._classifier, self._gate = models
        self._decider = models.decider(decision)
        self._backend = backend
        self._rate = RateMeter()
        self._batch_rate = RateMeter(window_sec=5.0)
        self.crops_dropped = 0
        self.digits_published = 0
        self.unsure_batches = 0
        self.non_digit_batches = 0  # the model read something that is not a digit
        self.batches_refused = 0  # outputs that were not probabilities (NaN, no softmax)
        self._last_batch_refused = False
        self.diagnostics = Diagnostics(self, self._report)
        self._digit_publisher = self.create_publisher(Int32, 'digit', 10)
        self._confidence_publisher = self.create_publisher(Float32, 'digit_confidence', 10)
        self._DigitReading = digit_reading_type()
        self._STATUS = {DIGIT: self._DigitReading.DIGIT, UNSURE: self._DigitReading.UNSURE,
                        NOT_DIGIT: self._DigitReading.NOT_A_DIGIT,
                        PART_OF_NUMBER: self._DigitReading.PART_OF_NUMBER}
        self._NumberReading = number_reading_type()
        self._NUMBER_STATUS = {
            NUMBER: self._NumberReading.NUMBER, DIGIT: self._NumberReading.NUMBER,
            UNSURE: self._NumberReading.UNSURE, NOT_DIGIT: self._NumberReading.NOT_A_NUMBER,
            UNSTEADY: self._NumberReading.UNSTEADY, TOO_LONG: self._NumberReading.TOO_LONG}
        self._number_publisher = self.create_publisher(String, 'number', 10)
        self._number_reading_publisher = self.create_publisher(
            self._NumberReading, NUMBER_READING_TOPIC, 10)
        self.numbers_published = 0
        self.number_batches = 0  # batches whose frames showed a number
        self._last_verdict = None
        self._reading_publisher = self.create_publisher(self._DigitReading, READING_TOPIC, 10)
        self._subscription = self.create_subscription(
            Image, 'digit_crop', self._on_crop, qos_profile_sensor_data,
            qos_overriding_options=overridable_qos())
        gate = f'gate {self._gate.path}' if self._gate else 'no gate'
        self.get_logger().info(
            f'{backend} model {self._classifier.path} and {gate} ready in {load_sec:.2f} s; '
            f'batches of {decision.batch_size} '
            f'{self._subscription.topic_name} -> {self._digit_publisher.topic_name}')

    def _on_crop(self, msg):
        try:
            row = crops_of_row(crop_from_msg(msg))
        except ValueError as exc:
            self.crops_dropped += 1
            self.diagnostics.error(f'dropped crop: {exc}')
            self.get_logger().warning(f'dropping crop: {exc}', throttle_duration_sec=5.0)
            return
        self._rate.record()
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        self._decider.configure(self._params.settings(DecisionSettings))  # live changes
        verdict = self._decider.add_row(row, stamp)
        if verdict is None:
            return
        self._batch_rate.record(verdict.inference_sec)
        self._last_batch_refused = verdict.kind == REFUSED
        if verdict.kind == REFUSED:
            self.batches_refused += 1
            self.diagnostics.error(f'batch refused, model output not probabilities: '
                                   f'{verdict.reason}')
            self.get_logger().warning(f'batch refused: the model output is not probabilities '
                                      f'({verdict.reason})', throttle_duration_sec=5.0)
            return
        digitness = -1.0 if verdict.digitness is None else verdict.digitness
        self._last_verdict = verdict
        # Every batch: the crop that completed it gives the capture stamp and frame_id.
        self._reading_publisher.publish(self._DigitReading(
            header=msg.header, status=self._STATUS[verdict.kind],
            digit=-1 if verdict.digit is None else verdict.digit,
            confidence=verdict.confidence or 0.0, digitness=digitness))
        if self._params['read_numbers']:
            self._publish_number(verdict, msg.header)
        if verdict.kind == PART_OF_NUMBER:
            self.number_batches += 1
            self.get_logger().debug(f'part of a number: {self._describe(verdict)}')
            return
        if verdict.kind == NOT_DIGIT:
            self.non_digit_batches += 1
            self.get_logger().debug(f'not a digit (digitness {digitness:.3f}), not published')
            return
        if verdict.kind == UNSURE:
            self.unsure_batches += 1
            self.get_logger().debug(f'unsure: digit {verdict.digit} at '
                                    f'{verdict.confidence:.3f}, not published')
            return
        self.digits_published += 1
        self._confidence_publisher.publish(Float32(data=verdict.confidence))
        self._digit_publisher.publish(Int32(data=verdict.digit))
        self.get_logger().debug(f'digit {verdict.digit} (confidence {verdict.confidence:.3f})')

    def _report(self):
        values = {'crop rate': f'{self._rate.rate():.1f}',
                  'inference ms per batch': f'{self._batch_rate.mean_ms():.2f}',
                  'crops dropped': self.crops_dropped, 'digits published': self.digits_published,
                  'numbers published': self.numbers_published,
                  'batches showing a number': self.number_batches,
                  'unsure batches': self.unsure_batches,
                  'non-digit batches': self.non_digit_batches,
                  'batches refused': self.batches_refused,
                  'last batch': self._describe(self._last_verdict),
                  'model loaded': True, 'backend': self._backend,
                  'model': str(self._classifier.path),
                  'gate': str(self._gate.path) if self._gate else 'none'}
        if self._last_batch_refused:
            return 'error', 'model output is not probabilities: batches refused', values
        return 'ok', 'model loaded', values


    def _publish_number(self, verdict, header):
        """`number_reading` for every batch, `number` for a sure one (a lone digit too)."""
        number = verdict.number
        if number is None and verdict.kind == PART_OF_NUMBER:
            return  # numbers are not read
        positions = number.positions if number is not None else (verdict,)
        kind = number.kind if number is not None else verdict.kind
        if kind == REFUSED:
            return  # not probabilities: the refusal is counted and reported as a batch's
        text = number.text if number is not None else str(verdict.digit)
        self._number_reading_publisher.publish(self._NumberReading(
            header=header, status=self._NUMBER_STATUS[kind], text=text,
            confidences=[p.confidence for p in positions],
            digitness=[-1.0 if p.digitness is None else p.digitness for p in positions]))
        if kind in (NUMBER, DIGIT):
            self.numbers_published += 1
            self._number_publisher.publish(String(data=text))

    @staticmethod
    def _describe(verdict):
        """The last batch in words, for an operator: why it was (not) published."""
        if verdict is None:
            return 'none yet'
        if verdict.kind == PART_OF_NUMBER:
            number = verdict.number
            if number is None:
                return 'part of a number (numbers not read)'
            said = {NUMBER: f'number {number.text} published', UNSURE: 'number unsure',
                    NOT_DIGIT: 'a mark of the number is not a digit', UNSTEADY: 'unsteady',
                    TOO_LONG: 'number too long', REFUSED: 'refused'}[number.kind]
            return f'part of a number: {said} ({number.reason or number.text})'
        gate = '' if verdict.digitness is None else f', digitness {verdict.digitness:.2f}'
        said = {DIGIT: f'digit {verdict.digit} published', UNSURE: 'unsure',
                NOT_DIGIT: 'not a digit'}[verdict.kind]
        return f'{said} (reader: {verdict.digit} at {verdict.confidence:.2f}{gate})'


def main(args=None):
    return run_nodes([ClassifierNode], args=args, logger_name='classifier')


if __name__ == '__main__':
    sys.exit(main())
