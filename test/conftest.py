"""Shared fixtures: the committed MNIST sample, an isolated DDS domain, rclpy contexts."""

import os
from pathlib import Path
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from digit_recognition.ros.transport import profile_variables

REPO = Path(__file__).resolve().parents[1]
PARAMS_FILE = REPO / 'config' / 'params.yaml'
SAMPLE_FILE = REPO / 'test' / 'data' / 'mnist_sample.npz'
VENV_BIN = Path(sys.executable).parent


def executable(name):
    """Path of one of the package's executables: installed by colcon, else in the venv.

    `colcon test` puts the install space on AMENT_PREFIX_PATH, where `ros2 run` finds
    executables (prefix/lib/digit_recognition); `make test` installs them beside Python.
    """
    for prefix in filter(None, os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep)):
        installed = Path(prefix) / 'lib' / 'digit_recognition' / name
        if installed.is_file() and os.access(installed, os.X_OK):
            return installed
    return VENV_BIN / name

# Tests on one machine (or two test runs at once) must not hear each other's nodes:
# a random DDS domain per run, discovery kept on this host. Child processes inherit it.
os.environ['ROS_DOMAIN_ID'] = str(random.randint(1, 100))
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# As the launch file does: config/fastdds.xml for this process and children,
# in every variable this distro's Fast DDS reads (Jazzy's Fast DDS 2 ignores the FASTDDS_ one).
for _variable in profile_variables():
    os.environ[_variable] = str(REPO / 'config' / 'fastdds.xml')


@pytest.fixture(scope='session')
def mnist_sample():
    """500 official MNIST test digits (50 per class): images uint8 [500, 28, 28], labels."""
    with np.load(SAMPLE_FILE) as data:
        return data['images'], data['labels']


def faint_digit(images, seed=3, contrast=0.25):
    """A bgr8 640x480 frame of a digit of the MNIST sample (images[3]) drawn `contrast` times
    as dark as render_frame draws it: at 0.25, faint pencil, about 40 grey levels under the
    paper's 200."""
    from digit_recognition.simulation.synthetic_frames import render_frame
    return render_frame(images[3], digit_size=160, rng=np.random.default_rng(seed),
                        contrast=contrast)


@pytest.fixture(scope='session')
def bundled_classifier():
    """The bundled reader (Keras)."""
    from digit_recognition.core.model import load_classifier
    return load_classifier()


@pytest.fixture(scope='session')
def bundled_models():
    """The bundled reader and its gate (Keras), as core.model.load_models gives them."""
    from digit_recognition.core.model import load_models
    return load_models(backend='keras')


# Modules whose every test runs one of the executables for seconds, and says so here.
SLOW_MODULES = {'test_evaluate.py': 'runs `evaluate` on rendered frames'}


def pytest_collection_modifyitems(items):
    """Tests on a ROS graph (the ros_context fixture) and those of SLOW_MODULES are slow (the
    others say so with pytest.mark.slow): `make check` leaves them out."""
    for item in items:
        if 'ros_context' in getattr(item, 'fixturenames', ()) or \
                item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def ros_context():
    """A private rclpy context, shut down after the test."""
    import rclpy
    from rclpy.context import Context
    context = Context()
    rclpy.init(context=context)
    yield context
    rclpy.try_shutdown(context=context)


def spin_until(executor, condition, timeout_sec):
    """Spin until condition() is true; return whether it became true in time."""
    deadline = time.monotonic() + timeout_sec
    while time.monotonic() < deadline:
        if condition():
            return True
        executor.spin_once(timeout_sec=0.05)
    return condition()


def launch_command(program, name, namespace, overrides, tmp_path):
    """The command line launch_ros builds for Node(name=, namespace=, parameters=[file, {..}])."""
    command = [str(executable(program)), '--ros-args', '-r', f'__node:={name}',
               '-r', f'__ns:={namespace}', '--params-file', str(PARAMS_FILE)]
    if overrides:
        # launch_ros writes a dict of parameters to a temporary file keyed /**.
        override_file = tmp_path / f'{name}_overrides.yaml'
        override_file.write_text(yaml.safe_dump({'/**': {'ros__parameters': overrides}}))
        command += ['--params-file', str(override_file)]
    return command


def start(command):
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.communicate()[0]
