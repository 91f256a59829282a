"""examples/digit_controller.py: its decision logic, and two robots on one machine."""

import importlib.util
import re
import sys

import cv2
import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from std_msgs.msg import Int32, String

from conftest import launch_command, REPO, spin_until, start, stop
from digit_recognition.operator_tools.demo import collapse_repeats
from digit_recognition.core.sources import read_video_frames
from digit_recognition.simulation.synthetic_frames import blank_frame, render_frame

CONTROLLER = REPO / 'examples' / 'digit_controller.py'
SAMPLE_DIGITS = [int(d) for d in (REPO / 'samples' / 'digits.txt').read_text().split()]


def load_controller_module():
    spec = importlib.util.spec_from_file_location('digit_controller', CONTROLLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


StableDigit = load_controller_module().StableDigit


def feed(decision, readings):
    """The digits acted on, batch by batch."""
    acted = (decision.update(digit, confidence) for digit, confidence in readings)
    return [digit for digit in acted if digit is not None]


# --- the decision logic ---

def test_acts_after_stable_confident_batches_and_only_once():
    decision = StableDigit(stable_batches=3, min_confidence=0.95)
    assert feed(decision, [(7, 0.99)] * 2) == []
    assert feed(decision, [(7, 0.99)]) == [7]
    assert feed(decision, [(7, 0.99)] * 10) == []  # the same reading: not again


def test_an_unsure_batch_breaks_the_run():
    decision = StableDigit(stable_batches=3, min_confidence=0.95)
    assert feed(decision, [(7, 0.99), (7, 0.99), (7, 0.94), (7, 0.99), (7, 0.99)]) == []
    assert feed(decision, [(7, 0.99)]) == [7]


def test_a_different_digit_breaks_the_run():
    decision = StableDigit(stable_batches=3, min_confidence=0.95)
    assert feed(decision, [(7, 0.99), (7, 0.99), (1, 0.99), (7, 0.99), (7, 0.99)]) == []


def test_acts_again_on_a_digit_after_another_was_read():
    decision = StableDigit(stable_batches=2, min_confidence=0.95)
    assert feed(decision, [(0, 0.99)] * 3 + [(4, 0.99)] * 3 + [(0, 0.99)] * 3) == [0, 4, 0]


def test_an_unsure_reading_of_another_digit_does_not_rearm():
    decision = StableDigit(stable_batches=2, min_confidence=0.95)
    assert feed(decision, [(5, 0.99)] * 2 + [(6, 0.6)] + [(5, 0.99)] * 3) == [5]


def test_one_stable_batch_acts_at_once():
    decision = StableDigit(stable_batches=1, min_confidence=0.5)
    assert feed(decision, [(3, 0.5), (3, 0.49), (8, 0.9), (8, 0.9)]) == [3, 8]


def test_zero_is_a_digit_to_act_on():
    decision = StableDigit(stable_batches=2, min_confidence=0.95)
    assert feed(decision, [(0, 0.99)] * 2) == [0]


@pytest.mark.parametrize('stable_batches, min_confidence', [(0, 0.9), (3, -0.1), (3, 1.5)])
def test_rejects_impossible_settings(stable_batches, min_confidence):
    with pytest.raises(ValueError):
        StableDigit(stable_batches, min_confidence)


# --- two robots on one machine ---

def write_video(path, mnist_sample, digits_shown, frames_per_digit):
    """An mp4 of camera frames showing the first sample image of each digit in turn."""
    images, labels = mnist_sample
    rng = np.random.default_rng(4)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 30, (640, 480))
    for label in digits_shown:
        frame_digit = images[labels == label][0]
        for _ in range(frames_per_digit):
            writer.write(render_frame(frame_digit, digit_size=200, rng=rng))
    writer.release()
    return path


def with_lead_in(path, source, seconds=2.0, fps=30):
    """`source`'s frames after `seconds` of empty paper, as an mp4 at `path`.

    A camera replaying a file starts once a subscriber matched its image_raw; the hops after
    it (preprocess to classifier, classifier to whoever listens) match on their own time,
    on a loaded machine after the first crops (colcon test lost the sample's first digit
    so). A real camera streams before the digit is held up: the empty paper gives every hop
    that time here too."""
    frames = read_video_frames(source)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             frames[0].shape[1::-1])
    rng = np.random.default_rng(5)
    for _ in range(int(seconds * fps)):
        writer.write(blank_frame(frames[0].shape[1::-1], rng))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def has_controller(node, namespace):
    return any(info.node_name == 'digit_controller' and info.node_namespace == namespace
               for info in node.get_subscriptions_info_by_topic(f'{namespace}/digit_reading'))


@pytest.mark.slow  # two robots of launched processes
def test_two_robots_in_different_namespaces_do_not_hear_each_other(
        ros_context, mnist_sample, tmp_path):
    # robot1 replays the sample (every digit once, in its order); robot2 alternates two the
    # controller acts on (the sample's first 4 reads at 0.92-0.93, under its 0.95).
    robot2_digits = [0, 7, 0, 7]
    robots = {
        '/robot1': {'source': str(with_lead_in(tmp_path / 'robot1.mp4',
                                               REPO / 'samples' / 'digits.mp4')),
                    'expected': SAMPLE_DIGITS,
                    # 10 frames a digit: batches of 2 give the controller its 3 stable ones
                    'batch_size': 2},
        '/robot2': {'source': str(write_video(tmp_path / 'robot2.mp4', mnist_sample,
                                              robot2_digits, frames_per_digit=30)),
                    'expected': robot2_digits, 'batch_size': 5},
    }
    executor = SingleThreadedExecutor(context=ros_context)
    probe = Node('cross_talk_probe', context=ros_context)
    executor.add_node(probe)
    heard = {namespace: [] for namespace in robots}
    for namespace in robots:
        probe.create_subscription(Int32, f'{namespace}/digit',
                                  lambda msg, ns=namespace: heard[ns].append(msg.data), 10)

    for namespace in robots:  # each robot's override files apart
        (tmp_path / namespace.strip('/')).mkdir()
    processes = {}
    try:
        for namespace, robot in robots.items():
            processes[namespace, 'classifier'] = start(launch_command(
                'classifier_node', 'classifier', namespace, {'batch_size': robot['batch_size']},
                tmp_path / namespace.strip('/')))
            processes[namespace, 'preprocess'] = start(launch_command(
                'preprocess_node', 'preprocess', namespace, {}, tmp_path))
            processes[namespace, 'controller'] = start(
                [sys.executable, str(CONTROLLER), '--ros-args', '-r', f'__ns:={namespace}'])
        # Cameras replaying a file wait for a subscriber: start them once every hop of the
        # chain has been discovered, or a loaded machine loses the first digit's crops.
        assert spin_until(executor, lambda: all(
            probe.count_subscribers(f'{ns}/image_raw') > 0
            and probe.count_publishers(f'{ns}/digit_crop') > 0
            and probe.count_subscribers(f'{ns}/digit_crop') > 0
            and probe.count_publishers(f'{ns}/digit') > 0 and has_controller(probe, ns)
            for ns in robots), 60.0)
        for namespace, robot in robots.items():
            processes[namespace, 'camera'] = start(launch_command(
                'camera_node', 'camera', namespace, {'source': robot['source'], 'loop': False},
                tmp_path / namespace.strip('/')))
        assert spin_until(executor, lambda: all(
            processes[ns, 'camera'].poll() is not None for ns in robots), 60.0)
        # The last batches may still be in flight when the cameras end.
        spin_until(executor, lambda: all(
            collapse_repeats(heard[ns]) == robot['expected'] for ns, robot in robots.items()),
            10.0)
    finally:
        outputs = {key: stop(process) for key, process in processes.items()}
        executor.shutdown()
        probe.destroy_node()

    log = '\n'.join(f'--- {key}\n{output}' for key, output in outputs.items())
    for namespace, robot in robots.items():
        assert processes[namespace, 'camera'].returncode == 0, log
        assert collapse_repeats(heard[namespace]) == robot['expected'], (namespace, heard, log)
        acted = [int(digit) for digit in re.findall(
            r'acting on digit (\d)', outputs[namespace, 'controller'])]
        assert acted == robot['expected'], (namespace, acted, log)


@pytest.mark.slow  # three launched processes
def test_the_launched_pipeline_publishes_numbers_whole_and_their_digits_never(
        ros_context, tmp_path):
    # The nodes as the launch file starts them (its command lines, the shipped params file:
    # numbers on), the numbers sample after empty paper; a controller would hear `number`.
    namespace = '/numbers'
    expected = (REPO / 'samples' / 'numbers.txt').read_text().split()
    executor = SingleThreadedExecutor(context=ros_context)
    probe = Node('number_probe', context=ros_context)
    executor.add_node(probe)
    numbers, digits = [], []
    probe.create_subscription(String, f'{namespace}/number', lambda m: numbers.append(m.data),
                              10)
    probe.create_subscription(Int32, f'{namespace}/digit', lambda m: digits.append(m.data), 10)
    processes = {}
    try:
        processes['classifier'] = start(launch_command('classifier_node', 'classifier',
                                                       namespace, {}, tmp_path))
        processes['preprocess'] = start(launch_command('preprocess_node', 'preprocess',
                                                       namespace, {}, tmp_path))
        assert spin_until(executor, lambda: probe.count_subscribers(f'{namespace}/image_raw') > 0
                          and probe.count_subscribers(f'{namespace}/digit_crop') > 0
                          and probe.count_publishers(f'{namespace}/number') > 0, 60.0)
        video = with_lead_in(tmp_path / 'numbers.mp4', REPO / 'samples' / 'numbers.mp4')
        processes['camera'] = start(launch_command('camera_node', 'camera', namespace,
                                                   {'source': str(video), 'loop': False},
                                                   tmp_path))
        assert spin_until(executor, lambda: processes['camera'].poll() is not None, 60.0)
        spin_until(executor, lambda: collapse_repeats(numbers) == expected, 10.0)
    finally:
        outputs = {key: stop(process) for key, process in processes.items()}
        executor.shutdown()
        probe.destroy_node()
    log = '\n'.join(f'--- {key}\n{output}' for key, output in outputs.items())
    assert collapse_repeats(numbers) == expected, (numbers, log)
    # The lone 7 is the only digit published: never a digit of 214, 38, 07 or 509.
    assert collapse_repeats(digits) == [7], (digits, log)
