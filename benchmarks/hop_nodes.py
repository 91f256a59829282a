"""The camera -> preprocess hop alone: a minimal frame publisher and subscriber (end_to_end).

    hop_nodes.py publisher --count 600 [--rate 30] [--no-buffer-reuse]
    hop_nodes.py subscriber --output hop.json [--no-buffer-reuse]

The publisher sends real 640x480 bgr8 frames of samples/digits.mp4 as the camera node does
(reliable, depth 5, stamped just before publishing); the subscriber takes them as the
preprocess node does (sensor-data QoS) and records receive time - stamp, written as JSON
when it is stopped with SIGINT. Neither does any image work, so the hop is all they measure.
Both reuse frame buffers as every node does (transport.keep_frame_buffers), unless told not to.
"""

import argparse
import json
from pathlib import Path
import sys
import time

import cv2
from cv_bridge import CvBridge
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rclpy.task import Future
from sensor_msgs.msg import Image

from digit_recognition.core.sizes import FRAME_SIZE
from digit_recognition.core.sources import read_video_frames
from digit_recognition.ros.transport import keep_frame_buffers

SAMPLE_VIDEO = Path(__file__).resolve().parents[1] / 'samples' / 'digits.mp4'


def read_frames(path, size=FRAME_SIZE):
    return [cv2.resize(frame, size) if frame.shape[1::-1] != size else frame
            for frame in read_video_frames(path)]


class FramePublisher(Node):

    def __init__(self, count, rate):
        super().__init__('hop_publisher')
        self.count = count
        self.published = 0
        self.done = Future()
        self._frames = read_frames(SAMPLE_VIDEO)
        self._bridge = CvBridge()
        self._publisher = self.create_publisher(Image, 'image_raw', 5)  # as camera_node
        self._started = None
        self._timer = self.create_timer(1.0 / rate, self._tick)

    def _tick(self):
        # As the camera replaying a file: nothing is sent before someone listens, and a
        # second more lets discovery finish so the first frames are not lost to it.
        if self._publisher.get_subscription_count() == 0:
            return
        if self._started is None:
            self._started = time.monotonic()
        if time.monotonic() - self._started < 1.0:
            return
        msg = self._bridge.cv2_to_imgmsg(self._frames[self.published % len(self._frames)],
                                         encoding='bgr8')
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = 'camera'
        self._publisher.publish(msg)
        self.published += 1
        if self.published >= self.count:
            self._timer.cancel()
            self.done.set_result(True)


class FrameSubscriber(Node):

    def __init__(self):
        super().__init__('hop_subscriber')
        self.latencies_ms = []
        self.sizes = set()
        self.first = self.last = None  # time.monotonic(): one clock for all processes
        self.create_subscription(Image, 'image_raw', self._on_frame, qos_profile_sensor_data)

    def _on_frame(self, msg):
        received = time.time_ns()
        self.last = time.monotonic()
        self.first = self.first or self.last
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        self.latencies_ms.append((received - stamp) / 1e6)
        self.sizes.add(len(msg.data))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('role', choices=('publisher', 'subscriber'))
    parser.add_argument('--count', type=int, default=600, help='frames to publish')
    parser.add_argument('--rate', type=float, default=30.0, help='frames per second')
    parser.add_argument('--output', type=Path, help="subscriber's JSON results")
    parser.add_argument('--no-buffer-reuse', action='store_true',
                        help="leave glibc's allocator as it is (to show what reuse saves)")
    options = parser.parse_args(argv)
    if not options.no_buffer_reuse:
        keep_frame_buffers()
    rclpy.init()
    node = FramePublisher(options.count, options.rate) if options.role == 'publisher' \
        else FrameSubscriber()
    try:
        if options.role == 'publisher':
            rclpy.spin_until_future_complete(node, node.done)
            # Let the last frames leave before the participant goes.
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                rclpy.spin_once(node, timeout_sec=0.05)
            print(f'published {node.published}', flush=True)
        else:
            rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if options.role == 'subscriber' and options.output is not None:
            options.output.write_text(json.dumps(
                {'received': len(node.latencies_ms), 'latencies_ms': node.latencies_ms,
                 'sizes': sorted(node.sizes), 'first': node.first, 'last': node.last}))
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
