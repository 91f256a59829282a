"""classifier: batches of `digit_crop` -> the reader (which digit) and the gate (a digit at all)
-> `digit` and `digit_confidence` when both are sure, and `digit_reading` for every batch (its
status says why a batch stayed silent; with the capture stamp and frame_id of the batch).

A `digit_crop` in 8UC3 carries the crop and its context (what the preprocess node sends); a
plain mono8 crop from another node works too: the gate then judges the crop alone.
"""

import sys
import time

from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Float32, Int32

from digit_recognition.core.decision import (DecisionSettings, DIGIT, DigitDecider, NOT_DIGIT,
                                             REFUSED, UNSURE)
from digit_recognition.core.image_encodings import crop_from_msg
from digit_recognition.core.model import BACKEND_SUFFIX, load_models, NO_GATE
from digit_recognition.core.sizes import CROP_SIZE
from digit_recognition.ros.diagnostics import Diagnostics, RateMeter
from digit_recognition.ros.messages import digit_reading_type, READING_TOPIC
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
        self._decider = DigitDecider(models.reader.predict_batch, decision,
                                     models.probability_tolerance,
                                     models.gate.predict_batch if models.gate else None)
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
                        NOT_DIGIT: self._DigitReading.NOT_A_DIGIT}
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
            crop = crop_from_msg(msg)
            if crop.shape[:2] != (CROP_SIZE, CROP_SIZE):
                raise ValueError(f'crop of shape {crop.shape}, expected {CROP_SIZE}x{CROP_SIZE}')
        except ValueError as exc:
            self.crops_dropped += 1
            self.diagnostics.error(f'dropped crop: {exc}')
            self.get_logger().warning(f'dropping crop: {exc}', throttle_duration_sec=5.0)
            return
        self._rate.record()
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        self._decider.configure(self._params.settings(DecisionSettings))  # live changes
        verdict = self._decider.add(crop, stamp)
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
            header=msg.header, status=self._STATUS[verdict.kind], digit=verdict.digit,
            confidence=verdict.confidence, digitness=digitness))
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


    @staticmethod
    def _describe(verdict):
        """The last batch in words, for an operator: why it was (not) published."""
        if verdict is None:
            return 'none yet'
        gate = '' if verdict.digitness is None else f', digitness {verdict.digitness:.2f}'
        said = {DIGIT: f'digit {verdict.digit} published', UNSURE: 'unsure',
                NOT_DIGIT: 'not a digit'}[verdict.kind]
        return f'{said} (reader: {verdict.digit} at {verdict.confidence:.2f}{gate})'


def main(args=None):
    return run_nodes([ClassifierNode], args=args, logger_name='classifier')


if __name__ == '__main__':
    sys.exit(main())
