"""demo: run the pipeline on a video and print each digit and number as a robot controller
receives it.

Runs the camera, preprocess and classifier nodes as `pipeline` does (frames travel over DDS),
with a controller node in the same process listening on `digit_reading`, and
exits when the video ends. The controller is created before the camera starts: one in
another process first waits for DDS discovery, which on a loaded machine took over 3 s,
longer than half the sample video.
"""

import argparse
from pathlib import Path
import sys

from rclpy.node import Node

from digit_recognition.nodes.camera_node import CameraNode
from digit_recognition.nodes.classifier_node import ClassifierNode
from digit_recognition.nodes.preprocess_node import PreprocessNode
from digit_recognition.ros.messages import (digit_reading_type, NUMBER_READING_TOPIC,
                                            number_reading_type, READING_TOPIC)
from digit_recognition.ros.runner import run_nodes


class DigitListener(Node):
    """What a robot controller sees: each batch's `digit_reading` and `number_reading`."""

    def __init__(self):
        super().__init__('demo_controller')
        # (capture stamp, text) of each published digit or number, in the order heard
        self.readings = []
        self.create_subscription(digit_reading_type(), READING_TOPIC, self._on_reading, 10)
        self.create_subscription(number_reading_type(), NUMBER_READING_TOPIC, self._on_number,
                                 10)

    def _on_reading(self, msg):
        if msg.status == msg.PART_OF_NUMBER:
            return  # number_reading says what came of it
        if msg.status != msg.DIGIT:  # silent: say why, as an operator would see it
            why = 'not a digit' if msg.status == msg.NOT_A_DIGIT else 'unsure'
            print(f'silent: {why} (reader {msg.digit} at {msg.confidence:.2f}, '
                  f'digitness {msg.digitness:.2f})', flush=True)
            return
        self.readings.append((_stamp(msg), str(msg.digit)))
        print(f'digit {msg.digit}  confidence {msg.confidence:.3f}', flush=True)

    def _on_number(self, msg):
        if len(msg.confidences) < 2:
            return  # a lone digit: digit_reading says it
        if msg.status != msg.NUMBER:
            print(f'silent: number {msg.text or "?"} not read (status {msg.status})',
                  flush=True)
            return
        self.readings.append((_stamp(msg), msg.text))
        print(f'number {msg.text}  confidence {min(msg.confidences):.3f}', flush=True)


def _stamp(msg):
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


def collapse_repeats(digits):
    """7 7 2 2 2 1 -> 7 2 1: each digit held in front of the camera counted once."""
    return [d for i, d in enumerate(digits) if i == 0 or d != digits[i - 1]]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--params-file', default='config/params.yaml',
                        help='parameters for the pipeline (default: %(default)s)')
    parser.add_argument('--source', default='samples/digits.mp4',
                        help='video file to replay once (default: %(default)s)')
    options = parser.parse_args(argv)
    for path in (options.params_file, options.source):
        if not Path(path).is_file():
            print(f'demo: no such file: {path}', file=sys.stderr)
            return 1

    controllers = []

    def controller():
        controllers.append(DigitListener())
        return controllers[-1]

    # As `pipeline`, the classifier before the camera; the controller before both.
    returncode = run_nodes(
        [controller, ClassifierNode, PreprocessNode, CameraNode], logger_name='demo',
        drain_sec=1.0, args=[sys.argv[0], '--ros-args', '--params-file', options.params_file,
                             '-p', f'source:={options.source}', '-p', 'loop:=false'])
    if not controllers:
        return returncode
    listener = controllers[0]
    # A batch's digit_reading and number_reading may arrive in either order: by stamp.
    digits = [text for _, text in sorted(listener.readings)]
    print(f'\n{len(digits)} batches -> in view: '
          f'{" ".join(collapse_repeats(digits)) or "none"}')
    expected_file = Path(options.source).with_suffix('.txt')
    if expected_file.is_file():
        expected = expected_file.read_text().split()
        print(f'written on the paper: {" ".join(expected)}')
    if returncode:
        return returncode
    return 0 if digits else 1


if __name__ == '__main__':
    sys.exit(main())
