"""The viewer: pure helpers, and the real process on a virtual X display driven by key presses.

The display tests need Xvfb, xdotool and ImageMagick's `import` (Debian: apt-get install -y
xvfb xdotool imagemagick). Set VIEWER_SCREENSHOT=docs/viewer.png to keep the screenshot.
"""

import os
from pathlib import Path
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest
from rcl_interfaces.msg import (
    IntegerRange, Parameter, ParameterDescriptor, ParameterType, ParameterValue)
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Int32

from conftest import launch_command, REPO, spin_until, start, stop
from digit_recognition.core.image_encodings import image_from_msg
from digit_recognition.core.overlay import FOUND
from digit_recognition.core.preprocessing import THRESHOLD_MEANINGS, THRESHOLD_MODES
from digit_recognition.operator_tools.viewer.view import (
    crop_path, parent_namespace, resolve_node_name, Status, ThresholdSync, TITLE, to_ppm,
    ViewerState)
from digit_recognition.simulation.synthetic_frames import render_frame

NAMESPACE = '/viewer_test'
X_TOOLS = ('Xvfb', 'xdotool', 'import')


# --- pure helpers ---

def test_to_ppm_of_a_mono_image_is_a_pgm():
    image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert to_ppm(image) == b'P5 3 2 255\n' + bytes(range(6))


def test_to_ppm_of_a_bgr_image_is_an_rgb_ppm():
    image = np.zeros((1, 2, 3), np.uint8)
    image[0, 0] = (255, 0, 0)  # blue in BGR
    image[0, 1] = (0, 0, 255)  # red
    assert to_ppm(image) == b'P6 2 1 255\n' + bytes([0, 0, 255, 255, 0, 0])


def test_to_ppm_zooms_each_pixel_into_a_square():
    image = np.array([[0, 255]], np.uint8)
    assert to_ppm(image, zoom=2) == b'P5 4 2 255\n' + bytes([0, 0, 255, 255] * 2)


@pytest.mark.parametrize('image', [np.zeros((2, 2), np.float32), np.zeros((0, 3), np.uint8),
                                   np.zeros((2, 2, 4), np.uint8), np.zeros(5, np.uint8)])
def test_to_ppm_rejects_what_is_not_mono8_or_bgr8(image):
    with pytest.raises(ValueError):
        to_ppm(image)


@pytest.mark.parametrize('name, namespace, expected', [
    ('preprocess', '/', '/preprocess'),
    ('preprocess', '/robot1', '/robot1/preprocess'),
    ('/robot2/preprocess', '/robot1', '/robot2/preprocess'),
    ('cam/preprocess', '/robot1', '/robot1/cam/preprocess'),
])
def test_resolve_node_name(name, namespace, expected):
    assert resolve_node_name(name, namespace) == expected


@pytest.mark.parametrize('name', ['', '/', 'robot1/'])
def test_resolve_node_name_rejects_what_is_no_node(name):
    with pytest.raises(ValueError):
        resolve_node_name(name, '/')


def test_parent_namespace():
    assert parent_namespace('/robot1/preprocess') == '/robot1'
    assert parent_namespace('/preprocess') == '/'


def test_crop_path_is_a_png_in_the_save_dir():
    path = crop_path('/tmp/crops', time.localtime(0), 3)
    assert path.parent == Path('/tmp/crops') and path.suffix == '.png'
    assert path.stem.endswith('_3')


def test_threshold_sync_sends_nothing_before_the_node_is_heard():
    sync = ThresholdSync()
    assert sync.user_moved(0) is None  # the slider's initial 0 must not reach the node
    assert sync.node_changed(100)
    assert sync.user_moved(100) is None  # the slider echoing the node's value


def test_threshold_sync_sends_the_latest_value_once_the_previous_is_answered():
    sync = ThresholdSync()
    sync.node_changed(100)
    assert sync.user_moved(101) == 101
    assert sync.user_moved(102) is None and sync.user_moved(105) is None  # still dragging
    assert not sync.node_changed(101)  # our own echo: the slider stays under the hand
    assert sync.set_done(True) == 105
    assert sync.set_done(True) is None
    assert sync.node_value == 105
    assert sync.node_changed(90)  # set elsewhere: the slider follows


def test_the_status_line_says_what_the_threshold_means_in_each_mode():
    status = Status('/preprocess')
    assert status.text == 'waiting for /preprocess'
    status.threshold_read()
    assert status.text == 'connected to /preprocess'
    for mode in THRESHOLD_MODES:
        assert status.mode_read(mode) == THRESHOLD_MEANINGS[mode]
        assert status.text == f'threshold_mode {mode}: the threshold is {THRESHOLD_MEANINGS[mode]}'
    status.set_answered(300, False, 'out of range')
    assert status.state is ViewerState.REJECTED
    status.mode_read('fixed')  # a rejection stays shown until a set succeeds
    assert status.state is ViewerState.REJECTED
    status.set_answered(90, True)
    assert status.text.startswith('threshold_mode fixed: ')


def test_threshold_sync_keeps_the_node_value_when_a_set_is_rejected():
    sync = ThresholdSync()
    sync.node_changed(100)
    assert sync.user_moved(150) == 150
    assert sync.set_done(False) is None
    assert sync.node_value == 100 and sync.in_flight is None


# --- the process on a virtual display ---

@pytest.fixture
def display():
    """A private Xvfb server; its display name (':N', a free number Xvfb picks itself)."""
    missing = [tool for tool in X_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f'{", ".join(missing)} not installed '
                    '(Debian: apt-get install -y xvfb xdotool imagemagick)')
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ['Xvfb', '-displayfd', str(write_end), '-screen', '0', '1280x800x24',
         '-nolisten', 'tcp'], pass_fds=(write_end,),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 20.0)
        number = os.read(read_end, 16).decode().strip() if ready else ''
        assert number.isdigit(), 'Xvfb did not report a display'
        yield f':{number}'
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(timeout=10)


class Viewer:
    """The viewer process; its stdout lines collected by a thread as they come."""

    def __init__(self, display, save_dir, namespace=NAMESPACE):
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'digit_recognition.operator_tools.viewer',
             '--save-dir', str(save_dir), '--ros-args', '-r', f'__ns:={namespace}'],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, 'DISPLAY': display, 'PYTHONUNBUFFERED': '1'})
        self.display = display
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip('\n'))

    def output(self):
        return '\n'.join(self.lines)

    def xdotool(self, *args):
        return subprocess.run(['xdotool', *args], capture_output=True, text=True, timeout=30,
                              env={**os.environ, 'DISPLAY': self.display})

    def find_window(self, timeout_sec=30.0):
        """The id of the viewer's window once it is mapped, or None."""
        deadline = time.monotonic() + timeout_sec
        while time.monotonic() < deadline and self.process.poll() is None:
            found = self.xdotool('search', '--onlyvisible', '--name', TITLE).stdout.split()
            if found:
                return found[0]
            time.sleep(0.2)
        return None

    def keys(self, window, *keys):
        """Real key presses (XTEST) into the focused window, as a user types them."""
        self.xdotool('windowfocus', '--sync', window)
        self.xdotool('key', '--delay', '100', *keys)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        return self.output()


def threshold_parameter(value):
    return Parameter(name='threshold', value=ParameterValue(
        type=ParameterType.PARAMETER_INTEGER, integer_value=value))


def mode_parameter(mode):
    return Parameter(name='threshold_mode', value=ParameterValue(
        type=ParameterType.PARAMETER_STRING, string_value=mode))


@pytest.fixture
def operator(ros_context):
    """A node of the test: reads and sets the preprocess node's threshold, hears `digit` and
    the node's debug view of the ink."""
    executor = SingleThreadedExecutor(context=ros_context)
    node = Node('viewer_test', namespace=NAMESPACE, context=ros_context)
    executor.add_node(node)
    node.digits = []
    node.binaries = []
    node.create_subscription(Int32, 'digit', lambda msg: node.digits.append(msg.data), 10)
    node.create_subscription(Image, 'preprocess/debug/binary', node.binaries.append, 10)
    node.get_client = node.create_client(GetParameters, 'preprocess/get_parameters')
    node.set_client = node.create_client(SetParameters, 'preprocess/set_parameters')
    yield executor, node
    executor.shutdown()
    node.destroy_node()


def call(executor, client, request, timeout_sec=10.0):
    assert spin_until(executor, client.service_is_ready, timeout_sec)
    future = client.call_async(request)
    assert spin_until(executor, future.done, timeout_sec)
    return future.result()


def node_threshold(executor, node):
    response = call(executor, node.get_client, GetParameters.Request(names=['threshold']))
    return response.values[0].integer_value


def wait_for_line(executor, viewer, wanted, timeout_sec=15.0, anywhere=False):
    """Spin until the viewer wrote a line starting with (or containing) `wanted`; return it."""
    def found():
        return next((line for line in viewer.lines
                     if (wanted in line if anywhere else line.startswith(wanted))), None)
    spin_until(executor, lambda: found() is not None or viewer.process.poll() is not None,
               timeout_sec)
    return found()


def ink_view(executor, node):
    """The node's debug view of the ink, once three more have come (the newest)."""
    node.binaries.clear()
    assert spin_until(executor, lambda: len(node.binaries) >= 3, 10.0)
    return image_from_msg(node.binaries[-1], 'mono8')


def test_viewer_shows_the_pipeline_and_tunes_the_threshold(display, operator, mnist_sample,
                                                           tmp_path):
    executor, node = operator
    # The camera replays one still frame of a 7: what the node shows changes only with its
    # settings.
    images, labels = mnist_sample
    still = tmp_path / 'still'
    still.mkdir()
    cv2.imwrite(str(still / 'seven.png'), render_frame(
        images[labels == 7][0], digit_size=160, rng=np.random.default_rng(0)))
    processes = [
        start(launch_command('classifier_node', 'classifier', NAMESPACE, {}, tmp_path)),
        # The defaults: threshold_mode flatfield, threshold 100.
        start(launch_command('preprocess_node', 'preprocess', NAMESPACE, {}, tmp_path)),
    ]
    viewer = None
    try:
        assert spin_until(executor, lambda: node.count_publishers('digit') > 0, 60.0)
        processes.append(start(launch_command(
            'camera_node', 'camera', NAMESPACE, {'source': str(still), 'loop': True},
            tmp_path)))
        viewer = Viewer(display, tmp_path)

        # (a) the window is up and has read the node's threshold and what it means
        window = viewer.find_window()
        assert window is not None, viewer.output()
        assert wait_for_line(executor, viewer, 'threshold ') == 'threshold 100', viewer.output()
        assert wait_for_line(executor, viewer, 'threshold_mode ') == (
            f'threshold_mode flatfield: {THRESHOLD_MEANINGS["flatfield"]}'), viewer.output()

        # (b) three presses of the right arrow on the slider: the node's threshold follows
        viewer.keys(window, 'Right', 'Right', 'Right')
        assert spin_until(executor, lambda: node_threshold(executor, node) == 103, 10.0), \
            viewer.output()

        # (c) a change made elsewhere (as `ros2 param set` makes it) moves the slider
        response = call(executor, node.set_client,
                        SetParameters.Request(parameters=[threshold_parameter(90)]))
        assert response.results[0].successful
        assert wait_for_line(executor, viewer, 'threshold 90') is not None, viewer.output()

        # The node draws the ROI box green once it sees a digit: wait for one, then look.
        assert spin_until(executor, lambda: len(node.digits) >= 2, 30.0)
        spin_until(executor, lambda: False, 1.0)
        screenshot = tmp_path / 'viewer.png'
        subprocess.run(['import', '-window', window, str(screenshot)], check=True, timeout=30,
                       env={**os.environ, 'DISPLAY': display})
        shot = cv2.imread(str(screenshot))
        box_pixels = np.all(np.abs(shot.astype(int) - FOUND) <= 30, axis=2).sum()
        assert box_pixels > 500, 'no green ROI box on the screen'
        if os.environ.get('VIEWER_SCREENSHOT'):
            shutil.copy(screenshot, REPO / os.environ['VIEWER_SCREENSHOT'])

        # (d) s saves the current crop
        viewer.keys(window, 's')
        saved = wait_for_line(executor, viewer, 'saved ')
        assert saved is not None, viewer.output()
        crop = cv2.imread(saved.split(' ', 1)[1], cv2.IMREAD_UNCHANGED)
        assert crop is not None and crop.shape == (28, 28) and crop.max() == 255
        assert Path(saved.split(' ', 1)[1]).parent == tmp_path

        # (e) in every mode the slider moves the node's threshold, and the ink it shows follows
        for mode in THRESHOLD_MODES:
            response = call(executor, node.set_client,
                            SetParameters.Request(parameters=[mode_parameter(mode)]))
            assert response.results[0].successful
            assert wait_for_line(executor, viewer, f'threshold_mode {mode}: ') is not None, \
                viewer.output()
            views = []
            for key, value in (('Home', 0), ('End', 255)):
                viewer.keys(window, key)
                assert spin_until(executor, lambda v=value: node_threshold(executor, node) == v,
                                  10.0), viewer.output()
                views.append(ink_view(executor, node))
            assert not np.array_equal(*views), mode

        # (f) q quits with status 0
        viewer.keys(window, 'q')
        assert viewer.process.wait(timeout=15) == 0, viewer.output()
    finally:
        if viewer is not None:
            viewer.stop()
        outputs = [stop(p) for p in processes]
    assert 'Traceback' not in viewer.output(), viewer.output()
    assert all('Traceback' not in output for output in outputs), '\n'.join(outputs)


def test_viewer_waits_for_its_node_shows_rejections_and_exits_0_on_ctrl_c(
        display, ros_context, tmp_path):
    executor = SingleThreadedExecutor(context=ros_context)
    viewer = Viewer(display, tmp_path, namespace='/late')
    node = None
    try:
        window = viewer.find_window()
        assert window is not None, viewer.output()
        viewer.keys(window, 'Right', 's')  # nothing to set or save yet: no harm done
        time.sleep(1.0)
        assert viewer.process.poll() is None, viewer.output()

        # The node comes up late, and allows less than the slider offers.
        node = Node('preprocess', namespace='/late', context=ros_context)
        node.declare_parameter('threshold', 50, ParameterDescriptor(
            integer_range=[IntegerRange(from_value=0, to_value=50, step=1)]))
        executor.add_node(node)
        assert wait_for_line(executor, viewer, 'threshold 50') is not None, viewer.output()
        viewer.keys(window, 'Right')
        rejected = wait_for_line(executor, viewer, 'threshold 51 rejected', anywhere=True)
        assert rejected is not None and 'range' in rejected, viewer.output()
        # The slider goes back to what the node holds.
        assert spin_until(executor, lambda: viewer.lines.count('threshold 50') == 2, 10.0), \
            viewer.output()
        assert node.get_parameter('threshold').value == 50

        viewer.process.send_signal(signal.SIGINT)
        assert viewer.process.wait(timeout=15) == 0, viewer.output()
    finally:
        output = viewer.stop()
        executor.shutdown()
        if node is not None:
            node.destroy_node()
    assert 'Traceback' not in output and 'saved' not in output, output


def test_viewer_without_a_display_is_one_error_line():
    env = {key: value for key, value in os.environ.items() if key != 'DISPLAY'}
    result = subprocess.run([sys.executable, '-m', 'digit_recognition.operator_tools.viewer'],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith('viewer:')]
    assert len(errors) == 1 and 'display' in errors[0], result.stderr
