#!/usr/bin/env python3
"""A minimal robot controller: acts on a digit only when the reading is confident and stable.

    python3 examples/digit_controller.py --ros-args -r __ns:=/robot1 -p stable_batches:=3

Listens on `digit_reading` (digit_recognition_msgs/DigitReading: each batch's status, digit
and confidence in one message; a relative name: run it in the robot's namespace) and logs
`acting on digit N` once the same digit came in `stable_batches` consecutive batches, each
at least `min_confidence` sure; then not again until the reading changes.
Plain rclpy, as on ROS 2 Humble.
"""

import sys

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

try:
    from digit_recognition_msgs.msg import DigitReading
except ImportError as exc:
    sys.exit(f'digit_controller: cannot import digit_recognition_msgs ({exc}): build '
             'interfaces/digit_recognition_msgs with the workspace and source it')


class StableDigit:
    """Decides when a robot may act on the classifier's readings. No ROS in here.

    One reading per batch, its digit and confidence together (`digit_reading`; a silent
    batch, unsure or not a digit, counts as confidence 0). A digit is
    acted on after `stable_batches` consecutive batches read it with confidence >=
    `min_confidence`. An unsure batch breaks the run but is no new reading:
    acting again on the same digit needs a confident reading of another digit in between.
    """

    def __init__(self, stable_batches=3, min_confidence=0.95):
        if stable_batches < 1:
            raise ValueError(f'stable_batches must be at least 1, got {stable_batches}')
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f'min_confidence must be in [0, 1], got {min_confidence}')
        self.stable_batches = stable_batches
        self.min_confidence = min_confidence
        self._reading = None  # the digit of the latest confident batch
        self._run = 0  # consecutive confident batches of that digit
        self._acted = False  # already acted on this reading

    def update(self, digit, confidence):
        """One batch's reading; returns the digit to act on now, or None."""
        if confidence < self.min_confidence:
            self._run = 0
            return None
        if digit != self._reading:
            self._reading, self._run, self._acted = digit, 0, False
        self._run += 1
        if self._run >= self.stable_batches and not self._acted:
            self._acted = True
            return digit
        return None


class DigitController(Node):

    def __init__(self):
        super().__init__('digit_controller')
        stable_batches = self.declare_parameter(
            'stable_batches', 3, ParameterDescriptor(
                description='Consecutive confident batches of one digit before acting on it',
                integer_range=[IntegerRange(from_value=1, to_value=100, step=1)],
                read_only=True)).value
        min_confidence = self.declare_parameter(
            'min_confidence', 0.95, ParameterDescriptor(
                description="A batch counts only if the classifier's confidence reaches this",
                floating_point_range=[FloatingPointRange(from_value=0.0, to_value=1.0)],
                read_only=True)).value
        self._decision = StableDigit(stable_batches, min_confidence)
        self.create_subscription(DigitReading, 'digit_reading', self._on_reading, 10)
        self.get_logger().info(
            f'acting on a digit after {stable_batches} batches at confidence >= '
            f'{min_confidence}')

    def _on_reading(self, msg):
        # Every batch comes on digit_reading; only DIGIT ones were published on `digit`.
        confidence = msg.confidence if msg.status == DigitReading.DIGIT else 0.0
        digit = self._decision.update(msg.digit, confidence)
        if digit is not None:  # 0 is a digit too
            # A real robot would start the task that this digit stands for here.
            self.get_logger().info(f'acting on digit {digit}')


def main(args=None):
    rclpy.init(args=args)
    node = None
    try:
        node = DigitController()
        rclpy.spin(node)
    except ParameterException as exc:  # a value out of range on the command line
        rclpy.logging.get_logger('digit_controller').error(str(exc))
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
