"""preprocess: `image_raw` -> threshold and crop -> 28x28 mono8 `digit_crop`."""

import sys

from cv_bridge import CvBridge
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from digit_recognition.node_utils import declare_parameter, image_to_cv2, run_nodes
from digit_recognition.preprocessing import NORMALIZATIONS, preprocess_frame, THRESHOLD_MODES


class PreprocessNode(Node):

    def __init__(self, **kwargs):
        super().__init__('preprocess', **kwargs)
        threshold = declare_parameter(
            self, 'threshold', 100,
            'threshold_mode fixed: pixels darker than this are ink (0-255)',
            integer_range=(0, 255))
        roi_size = declare_parameter(
            self, 'roi_size', 200,
            'Side in pixels of the centred square region that holds the digit',
            integer_range=(28, 4096))
        threshold_mode = declare_parameter(
            self, 'threshold_mode', 'otsu',
            'fixed: ink is darker than `threshold`; otsu: automatic global threshold; '
            'adaptive: darker than the neighbourhood (uneven light)',
            choices=THRESHOLD_MODES)
        normalization = declare_parameter(
            self, 'normalization', 'mnist',
            "mnist: fit the digit's ink into 20x20, centred by mass, like MNIST; "
            "resize: squeeze the whole ROI into 28x28 (the tutorial's way)",
            choices=NORMALIZATIONS)

        self._bridge = CvBridge()
        self._publisher = self.create_publisher(Image, 'digit_crop', 10)
        # Frames are perishable: keep the newest rather than queue stale ones.
        self._subscription = self.create_subscription(
            Image, 'image_raw', self._on_frame, qos_profile_sensor_data)
        self.get_logger().info(
            f'{self._subscription.topic_name} -> {self._publisher.topic_name} '
            f'(threshold_mode {threshold_mode}, threshold {threshold}, roi_size {roi_size}, '
            f'normalization {normalization})')

    def _on_frame(self, msg):
        try:
            frame = image_to_cv2(self._bridge, msg, 'bgr8')
            crop = preprocess_frame(frame, *(self.get_parameter(name).value for name in (
                'threshold', 'roi_size', 'threshold_mode', 'normalization')))
        except ValueError as exc:
            self.get_logger().warning(f'dropping frame: {exc}', throttle_duration_sec=5.0)
            return
        if crop is None:  # no digit in view: publish nothing, so nothing is classified
            return
        out = self._bridge.cv2_to_imgmsg(crop, encoding='mono8')
        out.header = msg.header
        self._publisher.publish(out)


def main(args=None):
    return run_nodes([PreprocessNode], args=args, logger_name='preprocess')


if __name__ == '__main__':
    sys.exit(main())
