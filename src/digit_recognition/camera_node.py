"""camera: publishes frames from a camera, a video file or an image sequence on `image_raw`."""

import sys

from cv_bridge import CvBridge
from rclpy.node import Node
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.task import Future
from sensor_msgs.msg import Image

from digit_recognition.node_utils import declare_parameter, run_nodes
from digit_recognition.sources import FrameSource


class CameraNode(Node):

    def __init__(self, **kwargs):
        super().__init__('camera', **kwargs)
        source = declare_parameter(
            self, 'source', '0',
            'Device index or path (0, /dev/video0), video file, or image-sequence pattern '
            '(frames/img_%04d.png)', read_only=True)
        width = declare_parameter(
            self, 'image_width', 640, 'Published frame width in pixels (0: as the source gives)',
            integer_range=(0, 8192), read_only=True)
        height = declare_parameter(
            self, 'image_height', 480, 'Published frame height in pixels (0: as the source gives)',
            integer_range=(0, 8192), read_only=True)
        framerate = declare_parameter(
            self, 'framerate', 30.0, 'Frames per second to publish', float_range=(0.1, 240.0),
            read_only=True)
        declare_parameter(self, 'frame_id', 'camera', 'frame_id of the published images')
        declare_parameter(self, 'loop', True,
                          'Replay a video file or image sequence from the start when it ends')

        self.source = FrameSource(source, width, height, framerate)
        # Completed when a file ends without `loop`, so main() can exit cleanly.
        self.finished = Future()
        self.frames_published = 0
        self._bridge = CvBridge()
        # Reliable with a small queue, as camera drivers do; image subscribers choose best
        # effort (sensor data). Overridable from a params file (qos_overrides./image_raw...).
        self._publisher = self.create_publisher(
            Image, 'image_raw', 5,
            qos_overriding_options=QoSOverridingOptions.with_default_policies())
        self._timer = self.create_timer(1.0 / framerate, self._publish_frame)
        self.get_logger().info(
            f'publishing {self.source.kind} {source!r} on {self._publisher.topic_name} at '
            f'{framerate:g} fps ({width}x{height}, 0 = native size)')

    def _publish_frame(self):
        # A recording is not lost to the void: wait until someone listens before replaying it.
        if not self.source.is_live and self._publisher.get_subscription_count() == 0:
            return
        frame = self.source.read()
        if frame is None and not self.source.is_live and self.get_parameter('loop').value:
            self.source.rewind()
            frame = self.source.read()
        if frame is None:
            self._stop(f'{self.source.kind} {self.source.source!r} ended after '
                       f'{self.frames_published} frames')
            return
        stamp = self.get_clock().now().to_msg()
        msg = self._bridge.cv2_to_imgmsg(frame, encoding='bgr8')
        msg.header.stamp = stamp
        msg.header.frame_id = self.get_parameter('frame_id').value
        self._publisher.publish(msg)
        self.frames_published += 1

    def _stop(self, reason):
        self.get_logger().info(reason)
        self._timer.cancel()
        self.source.close()
        if not self.finished.done():
            self.finished.set_result(reason)


def main(args=None):
    return run_nodes([CameraNode], args=args, logger_name='camera')


if __name__ == '__main__':
    sys.exit(main())
