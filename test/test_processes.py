"""The executables as real processes, started exactly as the launch file starts them."""

import os
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from std_msgs.msg import Int32

from conftest import executable, launch_command, PARAMS_FILE, REPO, spin_until, start, stop
from digit_recognition.operator_tools.demo import collapse_repeats
from digit_recognition.simulation.synthetic_frames import blank_frame, render_frame

pytestmark = pytest.mark.slow  # launched processes on DDS

NAMESPACE = '/robot_under_test'


def write_digit_frames(mnist_sample, folder, digits_shown, frames_per_digit):
    """An image sequence of camera frames showing the second sample image of each digit (the
    calibrated model is unsure of the first 9, 0.83-0.91: a frame lost at the subscription's
    switch shifts the batches, and its batch may fall under min_confidence)."""
    images, labels = mnist_sample
    rng = np.random.default_rng(1)
    index = 0
    for label in digits_shown:
        digit_image = images[labels == label][1]
        for _ in range(frames_per_digit):
            cv2.imwrite(str(folder / f'frame_{index:04d}.png'),
                        render_frame(digit_image, digit_size=200, rng=rng))
            index += 1
    return str(folder / 'frame_%04d.png')


@pytest.fixture
def listener(ros_context):
    executor = SingleThreadedExecutor(context=ros_context)
    node = Node('robot_controller', namespace=NAMESPACE, context=ros_context)
    executor.add_node(node)
    digits = []
    node.create_subscription(Int32, 'digit', lambda msg: digits.append(msg.data), 10)
    yield executor, node, digits
    executor.shutdown()
    node.destroy_node()


def play_through_launched_nodes(listener, pattern, tmp_path, expected_digits, camera=None):
    """Play an image sequence through the three launched executables; return the digits the
    listener heard and the processes' output, once the camera has exited cleanly."""
    executor, node, digits = listener
    processes = [
        start(launch_command('classifier_node', 'classifier', NAMESPACE,
                             {'model_path': ''}, tmp_path)),
        start(launch_command('preprocess_node', 'preprocess', NAMESPACE, {}, tmp_path)),
    ]
    try:
        # The classifier creates `digit` once its model is loaded: start the camera then,
        # or the first frames would be classified by nobody.
        assert spin_until(executor, lambda: node.count_publishers('digit') > 0, 60.0)
        processes.append(start(launch_command(
            'camera_node', 'camera', NAMESPACE,
            {'source': pattern, 'loop': False, **(camera or {})}, tmp_path)))
        assert spin_until(executor, lambda: processes[2].poll() is not None, 60.0)
        spin_until(executor, lambda: len(digits) >= expected_digits, 5.0)
    finally:
        outputs = [stop(p) for p in processes]
    assert processes[2].returncode == 0, outputs[2]
    return digits, outputs


def test_launched_processes_read_digits_from_the_camera(listener, mnist_sample, tmp_path):
    digits_shown = [7, 2, 1, 0, 4, 9]
    pattern = write_digit_frames(mnist_sample, tmp_path, digits_shown, frames_per_digit=10)
    digits, outputs = play_through_launched_nodes(listener, pattern, tmp_path,
                                                  2 * len(digits_shown))
    assert collapse_repeats(digits) == digits_shown, '\n'.join(outputs)


def write_condition_frames(mnist_sample, folder, shown, frames_per_digit):
    """An image sequence of simulated camera frames: (condition, variant, digit) in turn, each
    with its own seed."""
    from digit_recognition.simulation.conditions import render_condition
    images, labels = mnist_sample
    index = 0
    for seed, (condition, variant, label) in enumerate(shown):
        rng = np.random.default_rng(seed)
        digit_image = images[labels == label][1]
        for _ in range(frames_per_digit):
            frame, _ = render_condition(condition, digit_image, rng, variant)
            cv2.imwrite(str(folder / f'frame_{index:04d}.png'), frame)
            index += 1
    return str(folder / 'frame_%04d.png')


def test_launched_processes_read_digits_held_close_in_shadow_and_on_ruled_paper(
        listener, mnist_sample, tmp_path):
    # The wiring end to end, under conditions the old preprocessing found few digits in; how
    # often each condition is read is evaluate's measure, so these are digits read surely (on
    # blue lines this 8 now reads as "not a digit" in one frame of five: a silent batch).
    shown = [('held_close', None, 3), ('shadow', 'hard_edge', 5), ('ruled_paper', 'grey_lines', 8),
             ('shadow', 'penumbra', 7), ('squared_paper', None, 6), ('held_close', None, 9)]
    pattern = write_condition_frames(mnist_sample, tmp_path, shown, frames_per_digit=15)
    # 10 fps: what is tested is reading, not keeping up on a loaded test machine.
    digits, outputs = play_through_launched_nodes(listener, pattern, tmp_path, 3 * len(shown),
                                                  camera={'framerate': 10.0})
    assert collapse_repeats(digits) == [label for *_, label in shown], (digits, outputs)


def test_missing_model_is_one_error_line_and_a_non_zero_exit(tmp_path):
    command = launch_command('classifier_node', 'classifier', NAMESPACE,
                             {'model_path': str(tmp_path / 'missing.keras')}, tmp_path)
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert 'Traceback' not in output
    errors = [line for line in output.splitlines() if 'ERROR' in line]
    assert len(errors) == 1, output
    assert 'model file not found' in errors[0] and 'missing.tflite' in errors[0]
    assert 'beside' in errors[0] and 'missing.keras' in errors[0]


def test_a_bad_params_file_value_is_one_error_line_and_a_non_zero_exit(tmp_path):
    command = launch_command('preprocess_node', 'preprocess', NAMESPACE, {'threshold': 300},
                             tmp_path)
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    errors = [line for line in result.stderr.splitlines() if 'ERROR' in line]
    assert len(errors) == 1 and 'threshold' in errors[0], result.stderr


@pytest.mark.parametrize('sample', ['digits', 'numbers'])
def test_demo_reads_the_sample_videos(tmp_path, sample):
    """What `make demo` runs: the pipeline in its own process, a controller in this one; the
    digits sample, then numbers beside digits (a number is read whole, never a digit of it)."""
    result = subprocess.run(
        [str(executable('demo')), '--params-file', str(PARAMS_FILE),
         '--source', str(REPO / 'samples' / f'{sample}.mp4')],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, 'PYTHONUNBUFFERED': '1'})
    assert result.returncode == 0, result.stdout + result.stderr
    expected = (REPO / 'samples' / f'{sample}.txt').read_text().split()
    printed = [line.split()[1] for line in result.stdout.splitlines()
               if line.startswith(('digit ', 'number '))]
    assert collapse_repeats(printed) == expected, result.stdout
    assert f'in view: {" ".join(expected)}' in result.stdout
    assert f'written on the paper: {" ".join(expected)}' in result.stdout


@pytest.mark.parametrize('program', ['preprocess_node', 'classifier_node'])
def test_a_node_without_the_message_package_says_what_to_build(program, tmp_path):
    # A workspace where interfaces/digit_recognition_msgs was not built: a package of that
    # name first on the path that cannot be imported stands for it.
    fake = tmp_path / 'digit_recognition_msgs'
    fake.mkdir()
    (fake / '__init__.py').write_text("raise ImportError('not built')\n")
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get('PYTHONPATH')]))
    result = subprocess.run([str(executable(program))], capture_output=True, text=True,
                            timeout=60, env={**os.environ, 'PYTHONPATH': path})
    assert result.returncode == 1, result.stderr
    assert 'Traceback' not in result.stderr
    errors = [line for line in result.stderr.splitlines() if 'ERROR' in line]
    assert len(errors) == 1 and 'interfaces/digit_recognition_msgs' in errors[0], result.stderr


def test_pipeline_is_runnable_as_a_module():
    result = subprocess.run([sys.executable, '-m', 'digit_recognition.nodes.pipeline',
                             '--ros-args', '--params-file', str(PARAMS_FILE), '-p',
                             'model_path:=/no/such.keras'],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert 'model file not found: /no/such.tflite' in result.stderr
    assert 'Traceback' not in result.stderr


def test_blank_paper_publishes_no_digit(listener, mnist_sample, tmp_path):
    """Ten seconds of empty paper, then one digit: only that digit may ever be published."""
    executor, node, digits = listener
    arrivals = []
    node.create_subscription(Int32, 'digit', lambda msg: arrivals.append(time.monotonic()), 10)
    video = tmp_path / 'blank_then_digit.mp4'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'mp4v'), 30, (640, 480))
    rng = np.random.default_rng(2)
    blank_frames = 300  # 10 s at the camera's 30 fps
    for _ in range(blank_frames):
        writer.write(blank_frame(rng=rng))
    images, labels = mnist_sample
    for _ in range(10):
        # Not the sample's first 3, which looks like a 5 (the model rightly is unsure of it).
        writer.write(render_frame(images[labels == 3][1], digit_size=160, rng=rng))
    writer.release()

    processes = [start(launch_command('classifier_node', 'classifier', NAMESPACE, {}, tmp_path)),
                 start(launch_command('preprocess_node', 'preprocess', NAMESPACE, {}, tmp_path))]
    try:
        assert spin_until(executor, lambda: node.count_publishers('digit') > 0, 60.0)
        camera = start(launch_command('camera_node', 'camera', NAMESPACE,
                                      {'source': str(video), 'loop': False}, tmp_path))
        processes.append(camera)
        started = time.monotonic()
        assert spin_until(executor, lambda: camera.poll() is not None, 60.0)
        spin_until(executor, lambda: len(digits) >= 2, 5.0)
    finally:
        outputs = [stop(p) for p in processes]
    assert 'ended after 310 frames' in outputs[2]
    assert digits == [3, 3], '\n'.join(outputs)
    # The camera paces frames at 30 fps: nothing may arrive during the blank 10 s.
    assert min(arrivals) - started > 0.95 * blank_frames / 30
