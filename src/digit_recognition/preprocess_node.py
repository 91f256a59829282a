"""preprocess: `image_raw` -> threshold, find and normalize the digit -> 28x28 mono8 `digit_crop`.

With `image_transport: compressed` it reads `image_raw/compressed` (sensor_msgs/CompressedImage,
JPEG or PNG, as image_transport's compressed plugin names and writes it) instead: for a camera
on a robot and this node elsewhere, or a recording made that way.

Debug views for rqt_image_view on a headless robot, built only while someone subscribes:
`~/debug/binary` (the thresholded ROI) and `~/debug/overlay` (the frame with the ROI box and
the classifier's latest digit).
"""

import sys
import time

from cv_bridge import CvBridge
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Float32, Int32

from digit_recognition.image_encodings import decode_compressed
from digit_recognition.matched_subscription import MatchedSubscription
from digit_recognition.node_utils import (
    declare_parameter, Diagnostics, image_from_msg, overridable_qos, RateMeter, run_nodes)
from digit_recognition.overlay import draw_overlay
from digit_recognition.preprocessing import (
    DEFAULT_THRESHOLD_MODE, NORMALIZATIONS, preprocess_frame, preprocess_steps, roi_box,
    THRESHOLD_MODES)

IMAGE_TRANSPORTS = ('raw', 'compressed')


def image_from_compressed_msg(msg):
    """A sensor_msgs/CompressedImage (JPEG or PNG) as a bgr8 image; ValueError if it cannot be."""
    return decode_compressed(msg.format, msg.data)


class PreprocessNode(Node):

    def __init__(self, **kwargs):
        super().__init__('preprocess', **kwargs)
        threshold = declare_parameter(
            self, 'threshold', 100,
            'threshold_mode fixed: pixels darker than this are ink (0-255)',
            integer_range=(0, 255))
        roi_size = declare_parameter(
            self, 'roi_size', 200,
            'Side in pixels of the centred square where the digit\'s centre must be',
            integer_range=(28, 4096))
        threshold_mode = declare_parameter(
            self, 'threshold_mode', DEFAULT_THRESHOLD_MODE,
            'flatfield: lighting divided out, ink is darker than the paper around it; '
            'fixed: ink is darker than `threshold`; otsu: automatic global threshold; '
            'adaptive: darker than the neighbourhood\'s mean',
            choices=THRESHOLD_MODES)
        normalization = declare_parameter(
            self, 'normalization', 'mnist',
            "mnist: fit the digit's ink into 20x20, centred by mass, like MNIST; "
            "resize: squeeze the whole ROI into 28x28 (the tutorial's way)",
            choices=NORMALIZATIONS)
        image_transport = declare_parameter(
            self, 'image_transport', 'raw',
            'raw: sensor_msgs/Image on image_raw; compressed: JPEG or PNG '
            'sensor_msgs/CompressedImage on image_raw/compressed (image_transport\'s naming)',
            choices=IMAGE_TRANSPORTS, read_only=True)

        self._bridge = CvBridge()
        # QoS of both topics can be overridden from a params file (qos_overrides./topic...).
        overridable = overridable_qos()
        self._publisher = self.create_publisher(Image, 'digit_crop', 10,
                                                qos_overriding_options=overridable)
        self._binary_publisher = self.create_publisher(Image, '~/debug/binary', 1)
        self._overlay_publisher = self.create_publisher(Image, '~/debug/overlay', 1)
        self._latest_digit = None
        self._latest_confidence = 0.0
        self._rate = RateMeter()
        self.frames_received = 0
        self.frames_dropped = 0
        self.frames_without_digit = 0
        self.diagnostics = Diagnostics(self, self._report)
        self.create_subscription(Int32, 'digit', self._on_digit, 10)
        self.create_subscription(Float32, 'digit_confidence', self._on_confidence, 10)
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
        self.get_logger().info(
            f'{self._subscription.topic_name} -> {self._publisher.topic_name} '
            f'(threshold_mode {threshold_mode}, threshold {threshold}, roi_size {roi_size}, '
            f'normalization {normalization})')

    def _settings(self):
        return [self.get_parameter(name).value
                for name in ('threshold', 'roi_size', 'threshold_mode', 'normalization')]

    def _on_frame(self, msg):
        self._process(msg, lambda: image_from_msg(msg, 'bgr8'))

    def _on_compressed_frame(self, msg):
        self._process(msg, lambda: image_from_compressed_msg(msg))

    def _process(self, msg, convert):
        """Preprocess one frame message; convert() gives its bgr8 image or raises ValueError."""
        started = time.perf_counter()  # decoding is part of the processing time
        self.frames_received += 1
        want_binary = self._binary_publisher.get_subscription_count() > 0
        want_overlay = self._overlay_publisher.get_subscription_count() > 0
        try:
            frame = convert()
            if want_binary or want_overlay:
                reading = preprocess_steps(frame, *self._settings())
                crop = reading.crop
            else:
                crop = preprocess_frame(frame, *self._settings())
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
            box = roi_box(frame.shape, self.get_parameter('roi_size').value)
            found = crop is not None
            overlay = draw_overlay(frame, box, found, self._latest_digit if found else None,
                                   self._latest_confidence, reading.digit_box)
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

    def _on_digit(self, msg):
        self._latest_digit = msg.data

    def _on_confidence(self, msg):
        self._latest_confidence = msg.data


def main(args=None):
    return run_nodes([PreprocessNode], args=args, logger_name='preprocess')


if __name__ == '__main__':
    sys.exit(main())
