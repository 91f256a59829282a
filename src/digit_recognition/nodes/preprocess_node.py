"""preprocess: `image_raw` -> threshold, find and normalize the digit -> 28x28 mono8 `digit_crop`.

With `image_transport: compressed` it reads `image_raw/compressed` (sensor_msgs/CompressedImage,
JPEG or PNG, as image_transport's compressed plugin names and writes it) instead: for a camera
on a robot and this node elsewhere, or a recording made that way.

Debug views for rqt_image_view on a headless robot, built only while someone subscribes:
`~/debug/binary` (the thresholded ROI) and `~/debug/overlay` (the frame with the ROI box and
the classifier's latest reading, `digit_reading`).
"""

import sys
import time

from cv_bridge import CvBridge
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage, Image

from digit_recognition.core.image_encodings import image_from_compressed_msg, image_from_msg
from digit_recognition.core.overlay import draw_overlay
from digit_recognition.core.preprocessing import (
    NORMALIZATIONS, PreprocessSettings, read_frame, THRESHOLD_MODES)
from digit_recognition.ros.diagnostics import Diagnostics, RateMeter
from digit_recognition.ros.matched_subscription import MatchedSubscription
from digit_recognition.ros.messages import digit_reading_type, READING_TOPIC
from digit_recognition.ros.parameters import (
    declare_parameters, overridable_qos, ParameterSpec)
from digit_recognition.ros.runner import run_nodes
from digit_recognition.ros.transport import receive_buffer_warning

IMAGE_TRANSPORTS = ('raw', 'compressed')
# The defaults of how frames are read are the core's own.
_READING = PreprocessSettings()

PARAMETERS = (
    ParameterSpec('threshold', _READING.threshold,
                  'threshold_mode fixed: pixels darker than this are ink (0-255)',
                  limits=(0, 255)),
    ParameterSpec('roi_size', _READING.roi_size,
                  "Side in pixels of the centred square where the digit's centre must be",
                  limits=(28, 4096)),
    ParameterSpec('threshold_mode', _READING.threshold_mode,
                  'flatfield: lighting divided out, ink is darker than the paper around it; '
                  'fixed: ink is darker than `threshold`; otsu: automatic global threshold; '
                  "adaptive: darker than the neighbourhood's mean",
                  choices=THRESHOLD_MODES),
    ParameterSpec('normalization', _READING.normalization,
                  "mnist: fit the digit's ink into 20x20, centred by mass, like MNIST; "
                  "resize: squeeze the whole ROI into 28x28 (the tutorial's way)",
                  choices=NORMALIZATIONS),
    ParameterSpec('image_transport', 'raw',
                  'raw: sensor_msgs/Image on image_raw; compressed: JPEG or PNG '
                  "sensor_msgs/CompressedImage on image_raw/compressed (image_transport's "
                  'naming)', choices=IMAGE_TRANSPORTS, read_only=True),
)


class PreprocessNode(Node):

    def __init__(self, **kwargs):
        super().__init__('preprocess', **kwargs)
        parameters = declare_parameters(self, PARAMETERS)
        image_transport = parameters['image_transport']
        self._settings = None  # PreprocessSettings, rebuilt after a parameter changes
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self._bridge = CvBridge()
        # QoS of both topics can be overridden from a params file (qos_overrides./topic...).
        overridable = overridable_qos()
        self._publisher = self.create_publisher(Image, 'digit_crop', 10,
                                                qos_overriding_options=overridable)
        self._binary_publisher = self.create_publisher(Image, '~/debug/binary', 1)
        self._overlay_publisher = self.create_publisher(Image, '~/debug/overlay', 1)
        self._latest_reading = None  # digit_recognition_msgs/DigitReading
        self._rate = RateMeter()
        self.frames_received = 0
        self.frames_dropped = 0
        self.frames_without_digit = 0
        self.diagnostics = Diagnostics(self, self._report)
        self.create_subscription(digit_reading_type(), READING_TOPIC, self._on_reading, 10)
        # Frames are perishable: keep the newest rather than queue stale ones. Reliable or
        # best effort as the camera publishes, unless the params file says (qos_overrides).
        if image_transport == 'raw':
            self._subscription = MatchedSubscription(
                self, Image, 'image_raw', self._on_frame, qos_profile_sensor_data)
        else:
            # image_transport's name, <base>/compressed, relative like image_raw. A remap of
            # image_raw does not move it (nor does it in image_transport): remap this name.
            self._subscription = MatchedSubscription(
                self, CompressedImage, 'image_raw/compressed', self._on_compressed_frame,
                qos_profile_sensor_data)
        reading = ', '.join(f'{name} {parameters[name]}' for name in (
            'threshold_mode', 'threshold', 'roi_size', 'normalization'))
        self.get_logger().info(
            f'{self._subscription.topic_name} -> {self._publisher.topic_name} ({reading})')
        warning = receive_buffer_warning()
        if warning:
            self.get_logger().warning(warning)

    def _on_set_parameters(self, parameters):
        # Runs before the values are set (and before other callbacks may still refuse
        # them): the settings are rebuilt from the parameters by the next frame.
        if {p.name for p in parameters} & set(PreprocessSettings._fields):
            self._settings = None
        return SetParametersResult(successful=True)

    def _current_settings(self):
        if self._settings is None:
            self._settings = PreprocessSettings(
                *(self.get_parameter(name).value for name in PreprocessSettings._fields))
        return self._settings

    def _on_frame(self, msg):
        self._process(msg, lambda colour: image_from_msg(msg, 'bgr8'))

    def _on_compressed_frame(self, msg):
        # Preprocessing reads brightness only: a JPEG decodes twice as fast without colour,
        # which only the overlay needs.
        self._process(msg, lambda colour: image_from_compressed_msg(msg, grey=not colour))

    def _process(self, msg, convert):
        """Preprocess one frame message; convert(colour) gives its image (bgr8 if colour,
        else bgr8 or mono8) or raises ValueError."""
        started = time.perf_counter()  # decoding is part of the processing time
        self.frames_received += 1
        want_binary = self._binary_publisher.get_subscription_count() > 0
        want_overlay = self._overlay_publisher.get_subscription_count() > 0
        try:
            frame = convert(want_overlay)
            reading = read_frame(frame, self._current_settings())
            crop = reading.crop
        except ValueError as exc:
            self.frames_dropped += 1
            self.diagnostics.error(f'dropped frame: {exc}')
            self.get_logger().warning(f'dropping frame: {exc}', throttle_duration_sec=5.0)
            return
        if crop is not None:
            self._publish(self._publisher, crop, 'mono8', msg.header)
        else:  # no digit in view: publish nothing, so nothing is classified
            self.frames_without_digit += 1
        self._rate.record(time.perf_counter() - started)
        if want_binary:
            self._publish(self._binary_publisher, reading.binary_view(), 'mono8', msg.header)
        if want_overlay:
            found = crop is not None
            latest = self._latest_reading
            digit, confidence = ((latest.digit, latest.confidence)
                                 if found and latest is not None else (None, None))
            overlay = draw_overlay(frame, reading.roi, found, digit, confidence,
                                   reading.digit_box)
            self._publish(self._overlay_publisher, overlay, 'bgr8', msg.header)

    def _publish(self, publisher, image, encoding, header):
        out = self._bridge.cv2_to_imgmsg(image, encoding=encoding)
        out.header = header
        publisher.publish(out)

    def _report(self):
        values = {'frame rate': f'{self._rate.rate():.1f}',
                  'processing ms': f'{self._rate.mean_ms():.2f}',
                  'frames received': self.frames_received,
                  'frames dropped': self.frames_dropped,
                  'frames without digit': self.frames_without_digit,
                  'input reliability': self._subscription.reliability.name.lower()}
        if self._rate.rate() == 0:
            return 'warn', f'no frames on {self._subscription.topic_name}', values
        return 'ok', 'processing frames', values

    def _on_reading(self, msg):
        self._latest_reading = msg


def main(args=None):
    return run_nodes([PreprocessNode], args=args, logger_name='preprocess')


if __name__ == '__main__':
    sys.exit(main())
