"""What the runner does with faults from outside: signals, broken params files, bad requests.

Every node is started by its real executable, as ros2 launch starts it.
"""

import signal
import subprocess
import threading
import time

from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
import pytest

from conftest import executable, launch_command, PARAMS_FILE, REPO, spin_until

pytestmark = pytest.mark.slow  # launched processes and signals

SAMPLE_VIDEO = REPO / 'samples' / 'digits.mp4'


class Process:
    """A child process whose output is collected line by line as it comes."""

    def __init__(self, command):
        self.popen = subprocess.Popen(command, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.popen.stdout:
            self.lines.append(line.rstrip('\n'))

    @property
    def output(self):
        return '\n'.join(self.lines)

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.popen.poll() is None:
            if text in self.output:
                return True
            time.sleep(0.05)
        return text in self.output

    def finish(self, timeout=15):
        """Wait for the process to end (kill it after `timeout`); its exit code."""
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self._reader.join(timeout=5)
        return self.popen.returncode


# (signal, seconds after the previous one): a terminal's Ctrl-C reaches every node of
# ros2 launch, which then sends its own SIGINT, and SIGTERM to those still running.
SIGNAL_SEQUENCES = {
    'SIGINT': [(signal.SIGINT, 0)],
    'SIGTERM': [(signal.SIGTERM, 0)],
    'Ctrl-C, then launch': [(signal.SIGINT, 0), (signal.SIGINT, 0.005)],
    'Ctrl-C three times': [(signal.SIGINT, 0), (signal.SIGINT, 0.05), (signal.SIGINT, 0.05)],
    'SIGINT, then SIGTERM': [(signal.SIGINT, 0), (signal.SIGTERM, 0.005)],
    'SIGTERM twice': [(signal.SIGTERM, 0), (signal.SIGTERM, 0.002)],
}


def started(program, tmp_path, overrides=None):
    command = launch_command(program, program.replace('_node', ''), '/faults',
                             overrides or {}, tmp_path)
    if program == 'pipeline':  # three nodes of their own names: no __node remapping
        del command[2:4]
    process = Process(command)
    ready = {'preprocess_node': '-> /faults/digit_crop', 'camera_node': 'publishing',
             'classifier_node': 'ready in', 'pipeline': 'publishing'}[program]
    assert process.wait_for(ready, 60), process.output
    return process


def assert_quiet_exit(process, returncode):
    assert returncode == 0, process.output
    assert 'Traceback' not in process.output, process.output
    assert 'KeyboardInterrupt' not in process.output, process.output


@pytest.mark.parametrize('sequence', list(SIGNAL_SEQUENCES))
def test_signals_however_repeated_end_a_node_with_exit_code_0_and_no_traceback(
        sequence, tmp_path):
    process = started('preprocess_node', tmp_path)
    for signum, delay in SIGNAL_SEQUENCES[sequence]:
        time.sleep(delay)
        process.popen.send_signal(signum)
    assert_quiet_exit(process, process.finish())


@pytest.mark.parametrize('program', ['camera_node', 'classifier_node', 'pipeline'])
def test_ctrl_c_then_launchs_sigint_ends_every_executable_quietly(program, tmp_path):
    process = started(program, tmp_path, {'source': str(SAMPLE_VIDEO)})
    for signum, delay in SIGNAL_SEQUENCES['Ctrl-C, then launch']:
        time.sleep(delay)
        process.popen.send_signal(signum)
    assert_quiet_exit(process, process.finish())


def broken_params_files(folder):
    """name -> (path, what the error line must say)."""
    files = {
        'syntax error': ('/**:\n  ros__parameters:\n    threshold: [1, 2\n', 'line 3'),
        'binary content': (bytes(range(256)) * 4, 'decode'),
        'not a mapping': ('just a sentence\n', 'not a mapping'),
        'reliability: sometimes': (
            '/**:\n  ros__parameters:\n    qos_overrides:\n      /faults/image_raw:\n'
            '        subscription:\n          reliability: sometimes\n', 'sometimes'),
        'depth: -3': (
            '/**:\n  ros__parameters:\n    qos_overrides:\n      /faults/image_raw:\n'
            '        subscription:\n          depth: -3\n', 'depth'),
    }
    paths = {}
    for name, (content, reason) in files.items():
        path = folder / (name.replace(' ', '_').replace(':', '') + '.yaml')
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        paths[name] = (path, reason)
    paths['missing file'] = (folder / 'nowhere.yaml', 'No such file')
    (folder / 'a_folder.yaml').mkdir()
    paths['a folder'] = (folder / 'a_folder.yaml', 'Is a directory')
    return paths


BROKEN_PARAMS_FILES = ['syntax error', 'binary content', 'not a mapping',
                       'reliability: sometimes', 'depth: -3', 'missing file', 'a folder']


@pytest.mark.parametrize('broken', BROKEN_PARAMS_FILES)
def test_a_broken_params_file_is_one_line_naming_it_and_exit_code_1(broken, tmp_path):
    path, reason = broken_params_files(tmp_path)[broken]
    result = subprocess.run(
        [str(executable('preprocess_node')), '--ros-args', '-r', '__ns:=/faults',
         '--params-file', str(PARAMS_FILE), '--params-file', str(path)],
        capture_output=True, text=True, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 1, output
    assert len(output.splitlines()) == 1, output
    assert '[ERROR]' in output and str(path) in output and reason in output, output


def test_a_set_parameters_request_of_unknown_type_is_one_line_and_pipeline_keeps_serving(
        ros_context, tmp_path):
    process = started('pipeline', tmp_path, {'source': str(SAMPLE_VIDEO)})
    node = Node('fault_prober', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    try:
        set_parameters = node.create_client(SetParameters, '/faults/preprocess/set_parameters')
        get_parameters = node.create_client(GetParameters, '/faults/classifier/get_parameters')
        assert spin_until(executor, lambda: set_parameters.service_is_ready()
                          and get_parameters.service_is_ready(), 30)
        # rclpy's own parameter service raises on a ParameterValue.type it does not know.
        unknown_type = Parameter(name='threshold', value=ParameterValue(type=99))
        set_parameters.call_async(SetParameters.Request(parameters=[unknown_type]))
        assert process.wait_for('callback failed', 10), process.output

        answer = get_parameters.call_async(GetParameters.Request(names=['batch_size']))
        assert spin_until(executor, answer.done, 10), process.output
        assert answer.result().values[0].type == ParameterType.PARAMETER_INTEGER
        assert process.popen.poll() is None, process.output
    finally:
        executor.shutdown()
        node.destroy_node()
        process.popen.send_signal(signal.SIGINT)
        returncode = process.finish()
    assert_quiet_exit(process, returncode)
    failures = [line for line in process.lines if 'callback failed' in line]
    assert len(failures) == 1 and '99' in failures[0], process.output


def test_an_unreadable_camera_calibration_is_one_line_naming_it_and_exit_code_1(tmp_path):
    calibration = tmp_path / 'calibration.yaml'
    calibration.write_text('camera_matrix: [1, 2\n')
    result = subprocess.run(
        [str(executable('camera_node')), '--ros-args', '-r', '__ns:=/faults',
         '-p', f'source:={SAMPLE_VIDEO}', '-p', f'camera_info_file:={calibration}'],
        capture_output=True, text=True, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 1, output
    assert len(output.splitlines()) == 1, output
    assert '[ERROR]' in output and str(calibration) in output, output
