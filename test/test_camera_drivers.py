"""Frames from a camera driver that is not ours: a separate process on Fast DDS's defaults.

The driver (helpers_driver.py) loads no profile, as usb_cam, gscam or realsense2_camera
would not; the preprocess executable is started as `ros2 launch` starts it. What reached
preprocess is read from its own `/diagnostics` report (`frames received`).
"""

import os
from pathlib import Path
import subprocess
import sys

from diagnostic_msgs.msg import DiagnosticArray
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from conftest import launch_command, spin_until, start, stop

DRIVER = Path(__file__).resolve().parent / 'helpers_driver.py'
NAMESPACE = '/driver_test'
FRAMES = 100


def without_profile():
    """The environment of a process that runs Fast DDS on its defaults."""
    return {k: v for k, v in os.environ.items()
            if k not in ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')}


@pytest.fixture
def preprocess_report(ros_context):
    """The latest /diagnostics values of /driver_test/preprocess, as a dict (or None)."""
    executor = SingleThreadedExecutor(context=ros_context)
    node = Node('driver_test_listener', context=ros_context)
    executor.add_node(node)
    latest = {}

    def on_diagnostics(msg):
        for status in msg.status:
            if status.name == f'{NAMESPACE}/preprocess':
                latest['values'] = {kv.key: kv.value for kv in status.values}
    node.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics, 10)
    yield executor, latest
    executor.shutdown()
    node.destroy_node()


def run_driver(preprocess_report, tmp_path, driver_args, preprocess_overrides=None):
    """Start preprocess, then the driver; return (published, received, report values)."""
    executor, latest = preprocess_report
    preprocess = start(launch_command('preprocess_node', 'preprocess', NAMESPACE,
                                      preprocess_overrides or {}, tmp_path))
    driver = None
    try:
        assert spin_until(executor, lambda: 'values' in latest, 30.0), 'no report'
        # 15 fps: a suite on two loaded cores keeps up, so a frame missing here was lost on
        # the way, not dropped by a preprocess node that fell behind (the benchmark runs 30).
        driver = subprocess.Popen(
            [sys.executable, str(DRIVER), '--count', str(FRAMES), '--rate', '15', *driver_args,
             '--namespace', NAMESPACE],
            env=without_profile(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        assert spin_until(executor, lambda: driver.poll() is not None, 60.0)
        driver_output = driver.communicate()[0]
        assert driver.returncode == 0, driver_output
        # Two more reports: every frame that was going to arrive has been counted.
        for _ in range(2):
            latest.pop('values', None)
            assert spin_until(executor, lambda: 'values' in latest, 5.0)
    finally:
        if driver is not None and driver.poll() is None:
            driver.kill()
        output = stop(preprocess)
    values = latest['values']
    return int(driver_output.split()[-1]), int(values['frames received']), values, output


def test_a_reliable_driver_on_default_dds_loses_at_most_one_percent_of_frames(
        preprocess_report, tmp_path):
    published, received, values, output = run_driver(
        preprocess_report, tmp_path, ['--reliability', 'reliable'])
    assert published == FRAMES
    # A best-effort subscription got 90-184 of 150-300 such frames (40 % lost).
    assert received >= 0.99 * published, (received, output)
    assert values['input reliability'] == 'reliable'
    assert 'subscribing reliable to match them' in output


def test_a_best_effort_driver_is_still_heard(preprocess_report, tmp_path):
    # A reliable subscription would match no such publisher and receive nothing.
    published, received, values, output = run_driver(
        preprocess_report, tmp_path, ['--reliability', 'best_effort'])
    if received == 0:
        # Known product bug, issue 18: now and then not one of the 100 frames arrives (1 run
        # in 6 here today, 3 in 6 in the issue). One more run, until issue 18 finds the cause
        # and removes this retry.
        (tmp_path / 'again').mkdir()
        preprocess_report[1].pop('values', None)  # wait for the new preprocess's report
        published, received, values, output = run_driver(
            preprocess_report, tmp_path / 'again', ['--reliability', 'best_effort'])
    assert published == FRAMES
    assert received > 0, output
    assert values['input reliability'] == 'best_effort'


def test_a_reliability_set_in_the_params_file_is_kept(preprocess_report, tmp_path):
    published, received, values, output = run_driver(
        preprocess_report, tmp_path, ['--reliability', 'reliable'],
        {'qos_overrides./driver_test/image_raw.subscription.reliability': 'best_effort'})
    assert values['input reliability'] == 'best_effort'
    assert 'to match them' not in output


def test_compressed_frames_from_a_driver_reach_preprocess(preprocess_report, tmp_path):
    published, received, values, output = run_driver(
        preprocess_report, tmp_path, ['--reliability', 'reliable', '--transport', 'compressed'],
        {'image_transport': 'compressed'})
    assert received >= 0.99 * published, (received, output)
    assert values['frames dropped'] == '0', values
