"""How every executable of this package runs its nodes: one line for a start-up error, a
callback that raises is logged and skipped, Ctrl-C and SIGTERM exit 0 quietly."""

import re
import signal
import sys
import time

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, ShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.qos_overriding_options import InvalidQosOverridesError
import yaml

from digit_recognition.core.errors import StartupError
from digit_recognition.ros.transport import apply_fastdds_profile, keep_frame_buffers

RCLError = _rclpy.RCLError

# Errors that make a node useless from the start: one error line and a non-zero exit.
# A parameter file with a value out of range or of the wrong type is one of them.
FATAL_STARTUP_ERRORS = (StartupError, ParameterException)


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


def one_line(exc):
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
                         f'{one_line(exc)}', throttle_duration_sec=1.0)


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
    apply_fastdds_profile()
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
            raise StartupError(f'cannot start: {one_line(exc)}') from None
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
        logger.error(one_line(exc))
        return 1
    except (KeyboardInterrupt, ExternalShutdownException, ShutdownException):
        return 0
    finally:
        ignore_further_signals()
        if executor is not None:
            executor.shutdown()
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown()
        ignore_further_signals()  # rclpy restores the handlers it replaced


def ignore_further_signals():
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _build_node(factory, files):
    """A node from its factory; its start-up failures become StartupError, one line each."""
    where = f' (check {", ".join(files)})' if files else ''
    try:
        return factory()
    except (ParameterException, InvalidQosOverridesError) as exc:
        raise StartupError(f'{one_line(exc)}{where}') from None
    except FATAL_STARTUP_ERRORS:
        raise
    except (RuntimeError, RCLError) as exc:
        # A bad qos_overrides value in a params file fails when the topic is created.
        raise StartupError(f'cannot start: {one_line(exc)}{where}') from None
