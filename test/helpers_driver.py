"""A camera driver that is not ours: publishes frames as such drivers do, on Fast DDS defaults.

    python test/helpers_driver.py --count 150 [--rate 30] [--reliability reliable]
        [--transport raw|compressed] [--namespace /ns]

Frames of samples/digits.mp4 at 640x480 bgr8 on `image_raw` (or JPEG on
`image_raw/compressed`), keep last 5, stamped just before publishing, after a subscriber has
matched and one second more. It loads no Fast DDS profile: run it with
FASTDDS_DEFAULT_PROFILES_FILE unset, as a usb_cam or gscam process would be. Prints
`published N` and exits 0.
"""

import argparse
from pathlib import Path
import sys
import time

import cv2
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image

from digit_recognition.core.sources import read_video_frames

SAMPLE_VIDEO = Path(__file__).resolve().parents[1] / 'samples' / 'digits.mp4'


def read_frames(path=SAMPLE_VIDEO, size=(640, 480)):
    return [cv2.resize(frame, size) for frame in read_video_frames(path)]


def frame_message(frame, transport, stamp):
    if transport == 'compressed':
        msg = CompressedImage(format='bgr8; jpeg compressed bgr8',
                              data=cv2.imencode('.jpg', frame)[1].tobytes())
    else:
        msg = Image(height=frame.shape[0], width=frame.shape[1], encoding='bgr8',
                    step=frame.shape[1] * 3, data=frame.tobytes())
    msg.header.stamp = stamp
    msg.header.frame_id = 'driver'
    return msg


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count', type=int, default=150)
    parser.add_argument('--rate', type=float, default=30.0)
    parser.add_argument('--reliability', choices=('reliable', 'best_effort'),
                        default='reliable')
    parser.add_argument('--transport', choices=('raw', 'compressed'), default='raw')
    parser.add_argument('--namespace', default='/')
    options = parser.parse_args(argv)
    frames = read_frames()
    rclpy.init()
    node = rclpy.create_node('external_driver', namespace=options.namespace)
    qos = QoSProfile(depth=5, reliability=ReliabilityPolicy[options.reliability.upper()])
    topic, msg_type = (('image_raw/compressed', CompressedImage)
                       if options.transport == 'compressed' else ('image_raw', Image))
    publisher = node.create_publisher(msg_type, topic, qos)
    try:
        while publisher.get_subscription_count() == 0:
            rclpy.spin_once(node, timeout_sec=0.05)
        time.sleep(1.0)
        started = time.monotonic()
        for published in range(options.count):
            time.sleep(max(0.0, started + published / options.rate - time.monotonic()))
            stamp = node.get_clock().now().to_msg()
            publisher.publish(frame_message(frames[published % len(frames)],
                                            options.transport, stamp))
        time.sleep(1.0)  # let the last frames (and their repairs) leave
        print(f'published {options.count}', flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
