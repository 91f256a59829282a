"""What every node of this package shares: typed, documented parameters and a portable main()."""

from collections import deque
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import (
    FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult)
import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

from digit_recognition.image_encodings import to_bgr8, to_mono8
from digit_recognition.model import ModelLoadError
from digit_recognition.sources import SourceError
from digit_recognition.transport import keep_frame_buffers, use_shared_memory_profile

# Errors that make a node useless from the start: one error line and a non-zero exit.
# A parameter file with a value out of range or of the wrong type is one of them.
FATAL_STARTUP_ERRORS = (ModelLoadError, SourceError, ParameterException)


def declare_parameter(node, name, default, description, *, integer_range=None,
                      float_range=None, choices=None, read_only=False):
    """Declare a parameter with its description and range, so rclpy rejects bad values itself.

    rclpy has no range for strings: `choices` are listed in the descriptor, as image_tools'
    cam2image does, and enforced by a set-parameters callback here.
    """
    descriptor = ParameterDescriptor(description=description, read_only=read_only)
    if integer_range is not None:
        descriptor.integer_range = [IntegerRange(
            from_value=integer_range[0], to_value=integer_range[1], step=1)]
    if float_range is not None:
        descriptor.floating_point_range = [FloatingPointRange(
            from_value=float(float_range[0]), to_value=float(float_range[1]), step=0.0)]
    if choices is not None:
        descriptor.additional_constraints = 'one of: ' + ', '.join(choices)
        node.add_on_set_parameters_callback(
            lambda parameters: _check_choice(parameters, name, choices))
    return node.declare_parameter(name, default, descriptor).value


def _check_choice(parameters, name, choices):
    for parameter in parameters:
        if parameter.name == name and parameter.value not in choices:
            return SetParametersResult(
                successful=False,
                reason=f'{name} must be one of {", ".join(choices)}; got {parameter.value!r}')
    return SetParametersResult(successful=True)


class Diagnostics:
    """Publishes this node's status on /diagnostics about once a second.

    `report()` returns (level, message, {key: value}); level is 'ok', 'warn' or 'error'.
    Counters and the last error are kept here so every node reports them the same way.
    """

    LEVELS = {'ok': DiagnosticStatus.OK, 'warn': DiagnosticStatus.WARN,
              'error': DiagnosticStatus.ERROR}

    def __init__(self, node, report, period_sec=1.0):
        self._node = node
        self._report = report
        self.last_error = ''
        self._publisher = node.create_publisher(DiagnosticArray, '/diagnostics', 10)
        node.create_timer(period_sec, self._publish)

    def error(self, message):
        """Remember an error for the next reports (a node logs it itself)."""
        self.last_error = message

    def _publish(self):
        level, message, values = self._report()
        status = DiagnosticStatus(
            level=self.LEVELS[level], name=f'{self._node.get_fully_qualified_name()}',
            message=message, hardware_id='digit_recognition',
            values=[KeyValue(key=k, value=str(v)) for k, v in
                    {**values, 'last error': self.last_error or 'none'}.items()])
        array = DiagnosticArray(status=[status])
        array.header.stamp = self._node.get_clock().now().to_msg()
        self._publisher.publish(array)


class RateMeter:
    """Events per second over a sliding window, and processing time per event."""

    def __init__(self, window_sec=2.0):
        self.window_sec = window_sec
        self._times = deque()
        self._durations = deque()

    def record(self, duration_sec=0.0):
        now = time.monotonic()
        self._times.append(now)
        self._durations.append(duration_sec)
        while now - self._times[0] > self.window_sec:
            self._times.popleft()
            self._durations.popleft()

    def rate(self):
        if len(self._times) < 2:
            return 0.0
        span = time.monotonic() - self._times[0]
        return len(self._times) / max(span, self.window_sec / 2)

    def mean_ms(self):
        return 1000 * sum(self._durations) / len(self._durations) if self._durations else 0.0


def image_from_msg(msg, encoding):
    """A sensor_msgs/Image as a numpy image, `bgr8` or `mono8`; ValueError if it cannot be.

    image_encodings checks size, step and data length before touching the data (cv_bridge
    trusts them, and reports other failures with assorted exception types).
    """
    convert = {'bgr8': to_bgr8, 'mono8': to_mono8}[encoding]
    return convert(msg.encoding, msg.height, msg.width, msg.step, msg.data,
                   bool(msg.is_bigendian))


def run_nodes(node_factories, args=None, logger_name='digit_recognition', drain_sec=0.0):
    """Start rclpy, build the nodes in order and spin them; return the process exit code.

    Spins until Ctrl-C, or until a node that has a `finished` future (the camera replaying a
    file without `loop`) completes it; then keeps spinning `drain_sec` so the last frames
    still travel through the other nodes of the same process.
    """
    use_shared_memory_profile()
    keep_frame_buffers()
    rclpy.init(args=args)
    nodes = []
    executor = SingleThreadedExecutor()
    try:
        for factory in node_factories:
            nodes.append(factory())
            executor.add_node(nodes[-1])
        finished = next((node.finished for node in nodes if hasattr(node, 'finished')), None)
        if finished is None:
            executor.spin()
        else:
            executor.spin_until_future_complete(finished)
            deadline = time.monotonic() + drain_sec
            while rclpy.ok() and time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.05)
        return 0
    except FATAL_STARTUP_ERRORS as exc:
        rclpy.logging.get_logger(logger_name).error(str(exc))
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    finally:
        executor.shutdown()
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown()
