"""What every node of this package shares: typed, documented parameters and a portable main()."""

from collections import deque
import re
import signal
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import (
    FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult)
import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, ShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.qos import HistoryPolicy
from rclpy.qos_overriding_options import InvalidQosOverridesError, QoSOverridingOptions
import yaml

from digit_recognition.image_encodings import to_bgr8, to_mono8
from digit_recognition.model import ModelLoadError
from digit_recognition.sources import SourceError
from digit_recognition.transport import keep_frame_buffers, use_shared_memory_profile

RCLError = _rclpy.RCLError


class StartupError(RuntimeError):
    """The process cannot start: one line says why, and it exits 1."""


# Errors that make a node useless from the start: one error line and a non-zero exit.
# A parameter file with a value out of range or of the wrong type is one of them.
FATAL_STARTUP_ERRORS = (ModelLoadError, SourceError, ParameterException, StartupError)


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


def overridable_qos():
    """QoS overridable from a params file (qos_overrides.<topic>...), checked before the RMW
    sees it: a negative depth reached Fast DDS 2 (Jazzy) as a huge queue and failed with
    rcutils' multi-line error noise on stderr."""
    return QoSOverridingOptions.with_default_policies(callback=_check_qos_overrides)


def _check_qos_overrides(qos):
    if qos.history != HistoryPolicy.KEEP_ALL and qos.depth < 1:
        return SetParametersResult(
            successful=False, reason=f'depth must be at least 1, got {qos.depth}')
    return SetParametersResult(successful=True)


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


def params_files(args):
    """The paths given as `--params-file PATH` among the ROS arguments of a command line."""
    paths = []
    in_ros_args = False
    for argument, following in zip(args, [*args[1:], None]):
        if argument == '--ros-args':
            in_ros_args = True
        elif argument == '--':
            in_ros_args = False
        elif in_ros_args and argument == '--params-file' and following is not None:
            paths.append(following)
    return paths


def check_params_file(path):
    """Raise StartupError, naming the file and the reason, if `path` is not a readable params file.

    rcl's own parser reports these with a traceback and a location in its C sources.
    """
    try:
        with open(path, encoding='utf-8') as f:
            content = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise StartupError(f'cannot read params file {path}: '
                           f'{" ".join(str(reason).split())}') from None
    if content is not None and not isinstance(content, dict):
        raise StartupError(f'params file {path} is not a mapping of node names to '
                           f'ros__parameters (it holds a {type(content).__name__})')


def _one_line(exc):
    """An exception as one readable line, without rcl's C source locations."""
    message = ' '.join(str(exc).split()) or type(exc).__name__
    return _RCL_LOCATION.sub('', message)


_RCL_LOCATION = re.compile(r',? at /\S+:\d+')


def _stop_on_signal(signum, frame):
    # The first SIGINT or SIGTERM stops the node. Later ones (a terminal's Ctrl-C reaches
    # every node, then ros2 launch sends its own) must not interrupt the clean-up.
    for other in (signal.SIGINT, signal.SIGTERM):
        signal.signal(other, signal.SIG_IGN)
    raise KeyboardInterrupt


def _spin(executor, logger, done=lambda: False):
    """Spin until shutdown or done(); an exception in any callback is one log line, not the end.

    rclpy's own services raise too (a SetParameters request of an unknown parameter type):
    whatever arrives over the network, the node keeps serving.
    """
    while rclpy.ok() and not done():
        try:
            executor.spin_once(timeout_sec=0.1)
        except (ExternalShutdownException, ShutdownException):
            raise
        except Exception as exc:  # noqa: BLE001 - any callback, ours or rclpy's
            logger.error(f'a callback failed and was skipped: {type(exc).__name__}: '
                         f'{_one_line(exc)}', throttle_duration_sec=1.0)


def run_nodes(node_factories, args=None, logger_name='digit_recognition', drain_sec=0.0):
    """Start rclpy, build the nodes in order and spin them; return the process exit code.

    Spins until Ctrl-C or SIGTERM, or until a node that has a `finished` future (the camera
    replaying a file without `loop`) completes it; then keeps spinning `drain_sec` so the last
    frames still travel through the other nodes of the same process. A start-up error is one
    line and exit code 1; stopping by signal, however often it comes, exits 0 quietly.
    """
    logger = rclpy.logging.get_logger(logger_name)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop_on_signal)
    use_shared_memory_profile()
    keep_frame_buffers()
    nodes = []
    executor = None
    try:
        files = params_files(sys.argv if args is None else args)
        for path in files:
            check_params_file(path)
        try:
            rclpy.init(args=args)
        except RCLError as exc:
            raise StartupError(f'cannot start: {_one_line(exc)}') from None
        executor = SingleThreadedExecutor()
        for factory in node_factories:
            nodes.append(_build_node(factory, files))
            executor.add_node(nodes[-1])
        finished = next((node.finished for node in nodes if hasattr(node, 'finished')), None)
        if finished is None:
            _spin(executor, logger)
        else:
            _spin(executor, logger, done=finished.done)
            deadline = time.monotonic() + drain_sec
            _spin(executor, logger, done=lambda: time.monotonic() > deadline)
        return 0
    except FATAL_STARTUP_ERRORS as exc:
        logger.error(_one_line(exc))
        return 1
    except (KeyboardInterrupt, ExternalShutdownException, ShutdownException):
        return 0
    finally:
        _stop_on_signal_quietly()
        if executor is not None:
            executor.shutdown()
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown()
        _stop_on_signal_quietly()  # rclpy restores the handlers it replaced


def _stop_on_signal_quietly():
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _build_node(factory, files):
    """A node from its factory; its start-up failures become StartupError, one line each."""
    where = f' (check {", ".join(files)})' if files else ''
    try:
        return factory()
    except (ParameterException, InvalidQosOverridesError) as exc:
        raise StartupError(f'{_one_line(exc)}{where}') from None
    except FATAL_STARTUP_ERRORS:
        raise
    except (RuntimeError, RCLError) as exc:
        # A bad qos_overrides value in a params file fails when the topic is created.
        raise StartupError(f'cannot start: {_one_line(exc)}{where}') from None
