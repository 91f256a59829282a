"""The design card's knob on a launched preprocess node: `threshold`, set live over its
parameter services as `ros2 param set` sets it, changes the crop and the ink it publishes in
every threshold_mode; its description follows the mode; and a value that loses a faint digit
says so on /diagnostics."""

from cv_bridge import CvBridge
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient
from sensor_msgs.msg import Image

from conftest import faint_digit, launch_command, spin_until, start, stop
from digit_recognition.core.preprocessing import THRESHOLD_MEANINGS, THRESHOLD_MODES

pytestmark = pytest.mark.slow  # a launched process and DDS

NAMESPACE = '/threshold_test'
BRIDGE = CvBridge()
# For the faint digit, per mode: a threshold that finds it and one that takes other ink or
# none (the fixed grey level goes up to take fainter ink, the other modes' percentage down).
FINDS, OTHER = {'flatfield': (70, 160), 'fixed': (160, 100), 'otsu': (70, 100),
                'adaptive': (70, 130)}, 1


class PreprocessUnderTest:
    """The launched node, fed one frame over and over; what it publishes, collected."""

    def __init__(self, ros_context, frame, tmp_path):
        self.process = start(launch_command('preprocess_node', 'preprocess', NAMESPACE, {},
                                            tmp_path))
        self.executor = SingleThreadedExecutor(context=ros_context)
        self.node = Node('threshold_tester', namespace=NAMESPACE, context=ros_context)
        self.executor.add_node(self.node)
        self.crops, self.binaries, self.statuses = [], [], []
        self.node.create_subscription(Image, 'digit_crop', self.crops.append, 10)
        self.node.create_subscription(Image, 'preprocess/debug/binary', self.binaries.append, 10)
        self.node.create_subscription(DiagnosticArray, '/diagnostics', lambda msg: (
            self.statuses.extend(s for s in msg.status if s.name == f'{NAMESPACE}/preprocess')),
            10)
        self._frames = self.node.create_publisher(Image, 'image_raw', 5)
        self._frame = BRIDGE.cv2_to_imgmsg(frame, encoding='bgr8')
        self._sent = 0
        self.client = AsyncParameterClient(self.node, 'preprocess')

    def spin_until(self, condition, timeout_sec=10.0):
        """Spin, sending frames (each stamped with its number), until condition()."""
        return spin_until(self.executor, lambda: self._send() or condition(), timeout_sec)

    def _send(self):
        self._sent += 1
        self._frame.header.stamp.sec = self._sent
        self._frames.publish(self._frame)

    def set(self, **values):
        future = self.client.set_parameters([Parameter(k, value=v) for k, v in values.items()])
        assert spin_until(self.executor, future.done, 10.0)
        assert all(result.successful for result in future.result().results), values

    def seen(self):
        """(crop or None, ink view) of frames sent after the last set: outputs carry their
        frame's stamp, so nothing read with the previous setting is taken."""
        after = self._sent

        def fresh(messages):
            return [m for m in messages if m.header.stamp.sec > after]
        assert self.spin_until(lambda: len(fresh(self.binaries)) >= 2)
        binary = BRIDGE.imgmsg_to_cv2(fresh(self.binaries)[-1])
        if (binary == 255).any():  # the chosen digit is white in the view: a crop went out
            assert self.spin_until(lambda: fresh(self.crops))
            return BRIDGE.imgmsg_to_cv2(fresh(self.crops)[-1]), binary
        return None, binary

    def description(self, name):
        future = self.client.describe_parameters([name])
        assert spin_until(self.executor, future.done, 10.0)
        [descriptor] = future.result().descriptors
        return descriptor

    def close(self):
        self.executor.shutdown()
        self.node.destroy_node()
        return stop(self.process)


@pytest.fixture
def preprocess(ros_context, mnist_sample, tmp_path):
    under_test = PreprocessUnderTest(ros_context, faint_digit(mnist_sample[0]), tmp_path)
    yield under_test
    output = under_test.close()
    assert 'Traceback' not in output, output


def test_threshold_set_live_changes_crop_and_ink_in_every_mode(preprocess):
    assert preprocess.client.wait_for_services(timeout_sec=30.0)
    for mode in THRESHOLD_MODES:
        preprocess.set(threshold_mode=mode)
        # `ros2 param describe` says what the threshold means in this mode.
        descriptor = preprocess.description('threshold')
        assert descriptor.description.startswith(f'threshold_mode {mode}: ')
        assert THRESHOLD_MEANINGS[mode] in descriptor.description
        assert [(r.from_value, r.to_value) for r in descriptor.integer_range] == [(0, 255)]
        seen = {}
        for threshold in (FINDS[mode][0], FINDS[mode][OTHER]):
            preprocess.set(threshold=threshold)
            seen[threshold] = preprocess.seen()
        (found, found_ink), (other, other_ink) = seen.values()
        assert found is not None and found.max() == 255, mode
        assert other is None or not np.array_equal(found, other), mode
        assert not np.array_equal(found_ink, other_ink), mode


def test_a_threshold_that_loses_the_digit_says_so_on_diagnostics(preprocess):
    assert preprocess.client.wait_for_services(timeout_sec=30.0)
    # The defaults (flatfield, 100) find the faint digit.
    found, _ = preprocess.seen()
    assert found is not None
    assert preprocess.spin_until(lambda: preprocess.statuses and
                                 preprocess.statuses[-1].level == DiagnosticStatus.OK)

    preprocess.set(threshold=255)
    assert preprocess.seen()[0] is None

    def warned():
        status = preprocess.statuses[-1] if preprocess.statuses else None
        return status is not None and status.level == DiagnosticStatus.WARN and \
            'no digit since threshold 100 -> 255' in status.message
    assert preprocess.spin_until(warned, 10.0), [s.message for s in preprocess.statuses[-3:]]
    message = preprocess.statuses[-1].message
    assert 'too faint' in message and 'lower it' in message, message
    values = {kv.key: kv.value for kv in preprocess.statuses[-1].values}
    assert values['threshold'] == '255' and values['ink in the last frame'] == 'none'

    # Lowered again, the digit is back and so is the OK.
    preprocess.set(threshold=100)
    assert preprocess.seen()[0] is not None
    assert preprocess.spin_until(lambda: preprocess.statuses[-1].level == DiagnosticStatus.OK)
