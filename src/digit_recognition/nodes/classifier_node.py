"""classifier: batches of `digit_crop` -> one model call -> `digit`, `digit_confidence` and
`digit_reading` (both in one message, with the capture stamp and frame_id of the batch)."""

import sys
import time

from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from std_msgs.msg import Float32, Int32

from digit_recognition.core.decision import DecisionSettings, DigitDecider
from digit_recognition.core.image_encodings import image_from_msg
from digit_recognition.core.model import BACKEND_SUFFIX, load_classifier
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
    ParameterSpec('backend', 'tflite',
                  'tflite: LiteRT interpreter, TensorFlow never imported; keras: TensorFlow '
                  'graph call', choices=tuple(BACKEND_SUFFIX), read_only=True),
    ParameterSpec('batch_size', _DECISION.batch_size,
                  'Crops per model call; one digit is published per batch', limits=(1, 64)),
    ParameterSpec('min_confidence', _DECISION.min_confidence,
                  "Publish only when at least this sure: the batch's mean (calibrated) "
                  'probability of its digit must reach this', limits=(0.0, 1.0)),
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
        self._classifier = load_classifier(model_path or None, backend)
        self._classifier.warm_up(decision.batch_size)
        load_sec = time.monotonic() - started

        self._decider = DigitDecider(self._classifier.predict_batch, decision,
                                     self._classifier.probability_tolerance)
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
        self._reading_publisher = self.create_publisher(self._DigitReading, READING_TOPIC, 10)
        self._subscription = self.create_subscription(
            Image, 'digit_crop', self._on_crop, qos_profile_sensor_data,
            qos_overriding_options=overridable_qos())
        self.get_logger().info(
            f'{backend} model {self._classifier.path} ready in {load_sec:.2f} s; '
            f'batches of {decision.batch_size} '
            f'{self._subscription.topic_name} -> {self._digit_publisher.topic_name}')

    def _on_crop(self, msg):
        try:
            crop = image_from_msg(msg, 'mono8')
            if crop.shape != (CROP_SIZE, CROP_SIZE):
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
        self._last_batch_refused = verdict.kind == 'refused'
        if verdict.kind == 'refused':
            self.batches_refused += 1
            self.diagnostics.error(f'batch refused, model output not probabilities: '
                                   f'{verdict.reason}')
            self.get_logger().warning(f'batch refused: the model output is not probabilities '
                                      f'({verdict.reason})', throttle_duration_sec=5.0)
            return
        if verdict.kind == 'not_digit':
            self.non_digit_batches += 1
            self.get_logger().debug(f'not a digit ({verdict.confidence:.3f}), not published')
            return
        if verdict.kind == 'unsure':
            self.unsure_batches += 1
            self.get_logger().debug(f'unsure: digit {verdict.digit} at '
                                    f'{verdict.confidence:.3f}, not published')
            return
        self.digits_published += 1
        self._confidence_publisher.publish(Float32(data=verdict.confidence))
        self._digit_publisher.publish(Int32(data=verdict.digit))
        # The crop that completed the batch: its capture stamp and frame_id.
        self._reading_publisher.publish(self._DigitReading(
            header=msg.header, digit=verdict.digit, confidence=verdict.confidence))
        self.get_logger().debug(f'digit {verdict.digit} (confidence {verdict.confidence:.3f})')

    def _report(self):
        values = {'crop rate': f'{self._rate.rate():.1f}',
                  'inference ms per batch': f'{self._batch_rate.mean_ms():.2f}',
                  'crops dropped': self.crops_dropped, 'digits published': self.digits_published,
                  'unsure batches': self.unsure_batches,
                  'non-digit batches': self.non_digit_batches,
                  'batches refused': self.batches_refused,
                  'model loaded': True, 'backend': self._backend,
                  'model': str(self._classifier.path)}
        if self._last_batch_refused:
            return 'error', 'model output is not probabilities: batches refused', values
        return 'ok', 'model loaded', values


def main(args=None):
    return run_nodes([ClassifierNode], args=args, logger_name='classifier')


if __name__ == '__main__':
    sys.exit(main())
