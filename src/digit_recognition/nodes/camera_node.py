"""camera: publishes frames on `image_raw` and their `camera_info`, from any OpenCV source.

The source is opened and read on a thread of its own (capture.py): a camera that hangs
never blocks this node's executor, its diagnostics, its parameter services, its shutdown,
nor the other nodes of a `pipeline` process. A source that cannot be opened, gives no
frame, or stops delivering is reported once and retried with back-off until it returns.

With `publish_compressed`, each frame is also published as a JPEG on `image_raw/compressed`
(sensor_msgs/CompressedImage, as image_transport's compressed plugin names and writes it), for
a preprocess node on another machine: encoded only while someone subscribes to it.
"""

import sys
import time

from cv_bridge import CvBridge
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.task import Future
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from digit_recognition.core.calibration import load_calibration, uncalibrated
from digit_recognition.core.capture import CaptureThread, RateAllowance
from digit_recognition.core.image_encodings import encode_jpeg, JPEG_FORMAT
from digit_recognition.core.sizes import FRAME_SIZE
from digit_recognition.core.sources import FrameSource, SourceError
from digit_recognition.ros.diagnostics import Diagnostics, RateMeter
from digit_recognition.ros.parameters import NodeParameters, overridable_qos, ParameterSpec
from digit_recognition.ros.runner import run_nodes

SOURCE_DESCRIPTION = (
    'csi://N (Jetson CSI), device index or path (0, /dev/video0), rtsp:// or http:// '
    'stream, GStreamer pipeline, video file, image-sequence pattern (frames/img_%04d.png), '
    'folder or glob of images')

PARAMETERS = (
    # Dynamically typed so that an integer override (-p source:=1, `source: 1` in YAML) is
    # not refused before this node can read it as device N (source_name).
    ParameterSpec('source', '0', SOURCE_DESCRIPTION, read_only=True, dynamic_typing=True,
                  constraints='a string; an integer N means device N'),
    ParameterSpec('image_width', FRAME_SIZE[0],
                  'Published frame width in pixels (0: as the source gives)',
                  limits=(0, 8192), read_only=True),
    ParameterSpec('image_height', FRAME_SIZE[1],
                  'Published frame height in pixels (0: as the source gives)',
                  limits=(0, 8192), read_only=True),
    ParameterSpec('framerate', 30.0, 'Frames per second to publish', limits=(0.1, 240.0),
                  read_only=True),
    ParameterSpec('flip_method', 0, 'csi:// only: nvvidconv flip-method (0 none, 2 rotate 180)',
                  limits=(0, 7), read_only=True),
    ParameterSpec('frame_id', 'camera', 'frame_id of the published images'),
    ParameterSpec('loop', True,
                  'Replay a video file, sequence or folder from the start when it ends'),
    ParameterSpec('camera_info_file', '',
                  'camera_calibration YAML for camera_info; empty: uncalibrated (size only)',
                  read_only=True),
    ParameterSpec('publish_compressed', False,
                  "Also publish each frame as JPEG on image_raw/compressed (image_transport's "
                  'name and format), while someone subscribes to it', read_only=True),
    ParameterSpec('jpeg_quality', 80,
                  'JPEG quality of image_raw/compressed, 1-100 (higher: larger, sharper)',
                  limits=(1, 100)),
)


def source_name(value):
    """The `source` parameter as a string; an integer is device N; SourceError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if not isinstance(value, str) or not value:
        raise SourceError(f'source must be a string or a device number (0, 1, ...); '
                          f'got {value!r}')
    return value


class CameraNode(Node):

    def __init__(self, **kwargs):
        super().__init__('camera', **kwargs)
        self._params = parameters = NodeParameters(self, PARAMETERS)
        source = source_name(parameters['source'])
        width, height = parameters['image_width'], parameters['image_height']
        framerate, flip_method = parameters['framerate'], parameters['flip_method']
        calibration_file = parameters['camera_info_file']
        publish_compressed = parameters['publish_compressed']

        # Refuses a size over image_encodings.MAX_PIXELS, which preprocess would drop.
        self.source = FrameSource(source, width, height, framerate, flip_method)
        try:
            self._calibration = load_calibration(calibration_file) if calibration_file else None
        except ValueError as exc:
            raise SourceError(str(exc)) from None
        # Completed when a file ends without `loop`, so main() can exit cleanly.
        self.finished = Future()
        self.frames_published = 0
        # A live source without a frame for two periods (at least 1 s) is not connected.
        # A live frame is published as soon as it is read: the capture thread wakes the
        # executor through a guard condition (thread-safe), at most `framerate` times a second.
        self._frame_ready = self.create_guard_condition(self._publish_frame)
        self._capture = CaptureThread(self.source, stall_sec=max(1.0, 2.0 / framerate),
                                      on_live_frame=self._frame_ready.trigger)
        self._allowance = RateAllowance(framerate)
        self._rate = RateMeter()
        self._bridge = CvBridge()
        # Reliable with a small queue, as camera drivers do; image subscribers choose best
        # effort (sensor data). Overridable from a params file (qos_overrides./image_raw...).
        overridable = overridable_qos()
        self._publisher = self.create_publisher(Image, 'image_raw', 5,
                                                qos_overriding_options=overridable)
        self._info_publisher = self.create_publisher(CameraInfo, 'camera_info', 5)
        # Same QoS as image_raw. A remap of image_raw does not move it (nor in image_transport).
        self._compressed_publisher = self.create_publisher(
            CompressedImage, 'image_raw/compressed', 5,
            qos_overriding_options=overridable) if publish_compressed else None
        self.diagnostics = Diagnostics(self, self._report)
        self._timer = self.create_timer(1.0 / framerate, self._publish_frame)
        self._capture.start()
        self.get_logger().info(
            f'publishing {self.source.kind} {source!r} on {self._publisher.topic_name} at '
            f'{framerate:g} fps ({width}x{height}, 0 = native size)')

    def _publish_frame(self):
        """Take the newest frame from the capture thread, if any, and publish it; never waits."""
        self._log_events()
        self._capture.loop = self._params['loop']
        # A recording is not lost to the void: wait until someone listens before replaying it.
        if not self.source.is_live and not self._listened_to():
            return
        if self.source.is_live and not self._allowance.available():
            return  # faster than framerate: a newer frame will replace this one
        frame = self._capture.take()
        if frame is None:
            if self._capture.ended:
                self._stop(f'{self.source.kind} {self.source.source!r} ended after '
                           f'{self.frames_published} frames')
            return
        # Stamped when it was read: the node's clock now, less the frame's age.
        age_ns = max(0, int((time.monotonic() - frame.captured) * 1e9))
        stamp = (self.get_clock().now() - Duration(nanoseconds=age_ns)).to_msg()
        msg = self._bridge.cv2_to_imgmsg(frame.image, encoding='bgr8')
        msg.header.stamp = stamp
        msg.header.frame_id = self._params['frame_id']
        self._publisher.publish(msg)
        self._publish_compressed(frame.image, msg.header)
        self._allowance.use()
        self._info_publisher.publish(self._camera_info(msg))
        self.frames_published += 1
        self._rate.record()

    def _listened_to(self):
        return self._publisher.get_subscription_count() > 0 or (
            self._compressed_publisher is not None
            and self._compressed_publisher.get_subscription_count() > 0)

    def _publish_compressed(self, image, header):
        """The frame as JPEG on image_raw/compressed, same header; only while subscribed."""
        if (self._compressed_publisher is None
                or self._compressed_publisher.get_subscription_count() == 0):
            return
        try:
            data = encode_jpeg(image, self._params['jpeg_quality'])
        except ValueError as exc:
            self.diagnostics.error(f'JPEG not published: {exc}')
            self.get_logger().warning(f'JPEG not published: {exc}', throttle_duration_sec=5.0)
            return
        self._compressed_publisher.publish(
            CompressedImage(header=header, format=JPEG_FORMAT, data=data))

    def _camera_info(self, image):
        fields = self._calibration or uncalibrated(image.width, image.height)
        info = CameraInfo(**fields)
        info.header = image.header
        return info

    def _log_events(self):
        """Log what the capture thread reported; its errors go to /diagnostics too."""
        logger = self.get_logger()
        for level, message in self._capture.events():
            if level == 'error':
                logger.error(message)
                self.diagnostics.error(message)
            elif level == 'info':
                logger.info(message)
            else:
                logger.debug(message)

    def _stop(self, reason):
        self.get_logger().info(reason)
        self._timer.cancel()
        self._capture.close()
        if not self.finished.done():
            self.finished.set_result(reason)

    def _report(self):
        self._log_events()  # also when the frame timer is slow (framerate 0.1) or stopped
        connected = self._capture.connected or self.finished.done()
        values = {'frame rate': f'{self._rate.rate():.1f}', 'frames published':
                  self.frames_published, 'read failures': self._capture.read_failures,
                  'camera connected': connected, 'source': self.source.source}
        if connected:
            return 'ok', 'publishing' if not self.finished.done() else 'source ended', values
        return 'error', 'camera not connected: retrying', values

    def destroy_node(self):
        # Bounded: a capture thread still blocked in OpenCV is a daemon and ends on its own.
        # None when the constructor failed before it (its context still destroys the node).
        if getattr(self, '_capture', None) is not None:
            self._capture.close()
        super().destroy_node()


def main(args=None):
    return run_nodes([CameraNode], args=args, logger_name='camera')


if __name__ == '__main__':
    sys.exit(main())
