"""camera: publishes frames on `image_raw` and their `camera_info`, from any OpenCV source.

A source that cannot be opened, or stops delivering, is reported once and retried with
back-off until it returns; the node keeps running meanwhile.
"""

import sys
import time

from cv_bridge import CvBridge
from rclpy.node import Node
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.task import Future
from sensor_msgs.msg import CameraInfo, Image

from digit_recognition.calibration import load_calibration, uncalibrated
from digit_recognition.node_utils import declare_parameter, Diagnostics, RateMeter, run_nodes
from digit_recognition.sources import Backoff, FrameSource, SourceError


class CameraNode(Node):

    def __init__(self, **kwargs):
        super().__init__('camera', **kwargs)
        source = declare_parameter(
            self, 'source', '0',
            'csi://N (Jetson CSI), device index or path (0, /dev/video0), rtsp:// or http:// '
            'stream, GStreamer pipeline, video file, image-sequence pattern '
            '(frames/img_%04d.png), folder or glob of images', read_only=True)
        width = declare_parameter(
            self, 'image_width', 640, 'Published frame width in pixels (0: as the source gives)',
            integer_range=(0, 8192), read_only=True)
        height = declare_parameter(
            self, 'image_height', 480, 'Published frame height in pixels (0: as the source gives)',
            integer_range=(0, 8192), read_only=True)
        framerate = declare_parameter(
            self, 'framerate', 30.0, 'Frames per second to publish', float_range=(0.1, 240.0),
            read_only=True)
        flip_method = declare_parameter(
            self, 'flip_method', 0, 'csi:// only: nvvidconv flip-method (0 none, 2 rotate 180)',
            integer_range=(0, 7), read_only=True)
        declare_parameter(self, 'frame_id', 'camera', 'frame_id of the published images')
        declare_parameter(self, 'loop', True,
                          'Replay a video file, sequence or folder from the start when it ends')
        calibration_file = declare_parameter(
            self, 'camera_info_file', '',
            'camera_calibration YAML for camera_info; empty: uncalibrated (size only)',
            read_only=True)

        self.source = FrameSource(source, width, height, framerate, flip_method)
        try:
            self._calibration = load_calibration(calibration_file) if calibration_file else None
        except ValueError as exc:
            raise SourceError(str(exc)) from None
        # Completed when a file ends without `loop`, so main() can exit cleanly.
        self.finished = Future()
        self.frames_published = 0
        self.read_failures = 0
        self._backoff = Backoff()
        self._next_attempt = 0.0
        self._rate = RateMeter()
        self._bridge = CvBridge()
        # Reliable with a small queue, as camera drivers do; image subscribers choose best
        # effort (sensor data). Overridable from a params file (qos_overrides./image_raw...).
        overridable = QoSOverridingOptions.with_default_policies()
        self._publisher = self.create_publisher(Image, 'image_raw', 5,
                                                qos_overriding_options=overridable)
        self._info_publisher = self.create_publisher(CameraInfo, 'camera_info', 5)
        self.diagnostics = Diagnostics(self, self._report)
        self._timer = self.create_timer(1.0 / framerate, self._publish_frame)
        self.get_logger().info(
            f'publishing {self.source.kind} {source!r} on {self._publisher.topic_name} at '
            f'{framerate:g} fps ({width}x{height}, 0 = native size)')

    def _open(self):
        """Try to open the source; on failure log once, then retry with growing delays."""
        try:
            self.source.open()
        except SourceError as exc:
            delay = self._backoff.next_delay()
            self._next_attempt = time.monotonic() + delay
            if self._backoff.failures == 1:
                self.get_logger().error(f'{exc}; retrying every {self._backoff.initial:g}-'
                                        f'{self._backoff.maximum:g} s')
                self.diagnostics.error(str(exc))
            else:
                self.get_logger().debug(f'{exc}; next try in {delay:g} s')
            return False
        if self._backoff.failures:
            self.get_logger().info(f'{self.source.kind} {self.source.source!r} is back after '
                                   f'{self._backoff.failures} failed attempts')
        self._backoff.reset()
        return True

    def _publish_frame(self):
        # A recording is not lost to the void: wait until someone listens before replaying it.
        if not self.source.is_live and self._publisher.get_subscription_count() == 0:
            return
        if not self.source.is_open:
            if time.monotonic() < self._next_attempt or not self._open():
                return
        frame = self.source.read()
        if frame is None and not self.source.is_live and self.get_parameter('loop').value:
            if not self._open():  # the file may have gone meanwhile
                return
            frame = self.source.read()
        if frame is None:
            if self.source.is_live:
                self._lost()
            else:
                self._stop(f'{self.source.kind} {self.source.source!r} ended after '
                           f'{self.frames_published} frames')
            return
        stamp = self.get_clock().now().to_msg()
        msg = self._bridge.cv2_to_imgmsg(frame, encoding='bgr8')
        msg.header.stamp = stamp
        msg.header.frame_id = self.get_parameter('frame_id').value
        self._publisher.publish(msg)
        self._info_publisher.publish(self._camera_info(msg))
        self.frames_published += 1
        self._rate.record()

    def _camera_info(self, image):
        fields = self._calibration or uncalibrated(image.width, image.height)
        info = CameraInfo(**fields)
        info.header = image.header
        return info

    def _lost(self):
        self.read_failures += 1
        message = (f'{self.source.kind} {self.source.source!r} stopped delivering frames; '
                   'reconnecting')
        self.get_logger().error(message)
        self.diagnostics.error(message)
        self.source.close()
        self._next_attempt = time.monotonic() + self._backoff.next_delay()

    def _stop(self, reason):
        self.get_logger().info(reason)
        self._timer.cancel()
        self.source.close()
        if not self.finished.done():
            self.finished.set_result(reason)

    def _report(self):
        connected = self.source.is_open or self.finished.done()
        values = {'frame rate': f'{self._rate.rate():.1f}', 'frames published':
                  self.frames_published, 'read failures': self.read_failures,
                  'camera connected': connected, 'source': self.source.source}
        if connected:
            return 'ok', 'publishing' if not self.finished.done() else 'source ended', values
        return 'error', 'camera not connected: retrying', values


def main(args=None):
    return run_nodes([CameraNode], args=args, logger_name='camera')


if __name__ == '__main__':
    sys.exit(main())
