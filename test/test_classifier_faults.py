"""The classifier node with models that fail: it never publishes what is not a probability.

Real models built to fail (helpers_models.py), a real ClassifierNode on a private rclpy
context, real MNIST crops on `digit_crop`; and the real executable for start-up refusals.
"""

import subprocess

from cv_bridge import CvBridge
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image
from std_msgs.msg import Float32, Int32

from conftest import launch_command, spin_until
from digit_recognition.nodes.classifier_node import ClassifierNode
from helpers_models import nan_model, overflowing_model, QUANTIZED_MODEL, unnormalized_model

pytestmark = pytest.mark.slow  # nodes on DDS and launched processes

BRIDGE = CvBridge()


@pytest.fixture
def classifier(ros_context):
    """start(**parameters) -> (executor, node, digits, confidences, publish(crops), status())."""
    executor = SingleThreadedExecutor(context=ros_context)
    nodes = []

    def start(**parameters):
        tester = Node('tester', context=ros_context)
        node = ClassifierNode(context=ros_context, parameter_overrides=[
            Parameter(name, value=value) for name, value in parameters.items()])
        nodes.extend([tester, node])
        for each in (tester, node):
            executor.add_node(each)
        digits, confidences, statuses = [], [], []
        tester.create_subscription(Int32, 'digit', lambda m: digits.append(m.data), 10)
        tester.create_subscription(Float32, 'digit_confidence',
                                   lambda m: confidences.append(m.data), 10)
        tester.create_subscription(
            DiagnosticArray, '/diagnostics',
            lambda m: statuses.extend(s for s in m.status if s.name == '/classifier'), 10)
        crops = tester.create_publisher(Image, 'digit_crop', 10)
        assert spin_until(executor, lambda: crops.get_subscription_count() > 0, 5.0)
        assert spin_until(executor, lambda: tester.count_subscribers('digit_crop') > 0, 5.0)

        def publish(images):
            for crop in images:
                crops.publish(BRIDGE.cv2_to_imgmsg(crop, encoding='mono8'))
                spin_until(executor, lambda: False, 0.05)  # paced like a camera

        def status_after(count):
            """The first report after `count` reports had come: one that saw what came before."""
            assert spin_until(executor, lambda: len(statuses) > count, 3.0)
            return statuses[count]

        return executor, node, digits, confidences, publish, lambda: len(statuses), status_after

    yield start
    executor.shutdown()
    for node in nodes:
        node.destroy_node()


def values(status):
    return {kv.key: kv.value for kv in status.values}


@pytest.mark.parametrize('backend', ['keras', 'tflite'])
@pytest.mark.parametrize('build', [overflowing_model, unnormalized_model])
def test_outputs_that_are_not_probabilities_are_never_published(
        classifier, tmp_path, mnist_sample, backend, build):
    # Both models pass the start-up check (0.1 per class on blank crops); on digits one gives
    # NaN (published before as digit 0, confidence NaN), the other sums far above 1 (digit 3,
    # confidence about 1.1, passing min_confidence 0.9).
    path = build(tmp_path / 'bad.keras')
    executor, node, digits, confidences, publish, reports, status_after = classifier(
        model_path=str(path), backend=backend)
    images, _ = mnist_sample
    publish(images[:10])  # two batches
    assert not spin_until(executor, lambda: digits or confidences, 1.0), (digits, confidences)
    assert node.batches_refused == 2

    status = status_after(reports())
    assert status.level == DiagnosticStatus.ERROR, status.message
    assert 'not probabilities' in status.message
    assert values(status)['batches refused'] == '2'
    assert 'not probabilities' in values(status)['last error']
    assert values(status)['digits published'] == '0'

    # Blank crops are probabilities (0.1 each: unsure, not published): the error level
    # lasts only while batches are refused; the count and the last error stay.
    publish(np.zeros((5, 28, 28), np.uint8))
    assert spin_until(executor, lambda: node.unsure_batches == 1, 5.0)
    status = status_after(reports())
    assert status.level == DiagnosticStatus.OK, status.message
    assert values(status)['batches refused'] == '2'
    assert 'not probabilities' in values(status)['last error']
    assert digits == []


def test_the_int8_model_publishes_digits_with_probabilities(classifier, mnist_sample):
    executor, node, digits, confidences, publish, _, _ = classifier(
        model_path=str(QUANTIZED_MODEL), backend='tflite')
    assert node._classifier.quantized
    images, labels = mnist_sample
    # The sample's first 3 looks like a 5 (the calibrated model gives it 0.5): a batch with it
    # stays under min_confidence 0.9, as it should.
    publish([*images[labels == 3][1:6], *images[labels == 7][:5]])
    assert spin_until(executor, lambda: len(digits) >= 2 and len(confidences) >= 2, 10.0)
    assert digits == [3, 7]
    assert all(0.9 <= c <= 1.0 for c in confidences), confidences
    assert node.batches_refused == 0


@pytest.mark.parametrize('backend', ['keras', 'tflite'])
def test_a_model_giving_nan_on_blank_crops_is_refused_at_start_up(tmp_path, backend):
    path = nan_model(tmp_path / 'nan.keras')
    command = launch_command('classifier_node', 'classifier', '/ns',
                             {'model_path': str(path), 'backend': backend}, tmp_path)
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert 'Traceback' not in output
    errors = [line for line in output.splitlines() if 'ERROR' in line]
    assert len(errors) == 1, output
    served = path.with_suffix('.keras' if backend == 'keras' else '.tflite')
    assert str(served) in errors[0] and 'does not output probabilities' in errors[0], errors[0]


@pytest.mark.parametrize('gate_path, says', [
    ('reader', 'is not a gate'),  # the reader itself given as the gate
    ('missing', 'not found'),
])
def test_a_gate_path_that_cannot_serve_is_refused_at_start_up(tmp_path, gate_path, says):
    from digit_recognition.core.model import BUNDLED_MODEL
    path = {'reader': BUNDLED_MODEL.with_suffix('.tflite'),
            'missing': tmp_path / 'no_gate.tflite'}[gate_path]
    command = launch_command('classifier_node', 'classifier', '/ns',
                             {'gate_path': str(path)}, tmp_path)
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert 'Traceback' not in output
    errors = [line for line in output.splitlines() if 'ERROR' in line]
    assert len(errors) == 1 and says in errors[0] and str(path) in errors[0], output
