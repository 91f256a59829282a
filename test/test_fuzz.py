"""Property-based fuzzing: any Image message into the preprocess and classifier nodes, on real
rclpy. They must keep running and only ever publish valid crops and digits."""

from hypothesis import given, HealthCheck, settings, strategies as st
import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Int32

from conftest import spin_until
from digit_recognition.core.image_encodings import SUPPORTED_ENCODINGS
from digit_recognition.nodes.classifier_node import ClassifierNode
from digit_recognition.nodes.preprocess_node import PreprocessNode

pytestmark = pytest.mark.slow  # nodes on DDS in this process

ENCODINGS = st.sampled_from([*SUPPORTED_ENCODINGS, '32FC1', 'bayer_rggb8', '', 'jpeg'])


@st.composite
def image_messages(draw):
    """Images that are right, slightly wrong or absurd: sizes, steps, data lengths."""
    encoding = draw(ENCODINGS)
    height = draw(st.one_of(st.integers(0, 40), st.sampled_from([28, 480, 100_000])))
    width = draw(st.one_of(st.integers(0, 40), st.sampled_from([28, 640, 100_000])))
    bytes_per_pixel = draw(st.sampled_from([1, 2, 3, 4, 6]))
    step = max(0, width * bytes_per_pixel + draw(st.integers(-3, 8)))
    size = min(step * height, 1_000_000)  # claimed huge images come with little data
    length = max(0, size + draw(st.sampled_from([0, 0, 0, -1, -size // 2, 5])))
    fill = draw(st.sampled_from(['zeros', 'random', 'paper with ink']))
    if fill == 'random':
        data = np.random.default_rng(draw(st.integers(0, 99))).integers(
            0, 256, length, dtype=np.uint8).tobytes()
    elif fill == 'paper with ink':
        data = (np.full(length, 210, np.uint8) - (np.arange(length) % 97 < 30) * 180)
        data = data.astype(np.uint8).tobytes()
    else:
        data = bytes(length)
    return Image(height=height, width=width, encoding=encoding, step=step,
                 is_bigendian=draw(st.sampled_from([0, 0, 1])), data=data)


@pytest.fixture(scope='module')
def fuzz_harness():
    import rclpy
    from rclpy.context import Context
    from rclpy.parameter import Parameter
    context = Context()
    rclpy.init(context=context)
    executor = SingleThreadedExecutor(context=context)
    nodes = [PreprocessNode(context=context),
             # The classifier takes the fuzz on its own topic, so that what the tester sees
             # on digit_crop is only what preprocess published.
             ClassifierNode(context=context, cli_args=['--ros-args', '-r', 'digit_crop:=fuzz'],
                            parameter_overrides=[Parameter('batch_size', value=1),
                                                 Parameter('min_confidence', value=0.0)])]
    tester = Node('fuzzer', context=context)
    for node in [*nodes, tester]:
        executor.add_node(node)
    crops, digits = [], []
    tester.create_subscription(Image, 'digit_crop', crops.append, 100)
    tester.create_subscription(Int32, 'digit', lambda m: digits.append(m.data), 100)
    frames = tester.create_publisher(Image, 'image_raw', 10)
    crop_input = tester.create_publisher(Image, 'fuzz', 10)
    assert spin_until(executor, lambda: frames.get_subscription_count() > 0
                      and crop_input.get_subscription_count() > 0, 10.0)
    yield executor, frames, crop_input, crops, digits, nodes
    executor.shutdown()
    for node in [*nodes, tester]:
        node.destroy_node()
    rclpy.try_shutdown(context=context)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(message=image_messages())
def test_any_image_message_leaves_the_nodes_running_and_outputs_valid(fuzz_harness, message):
    executor, frames, crop_input, crops, digits, nodes = fuzz_harness
    frames.publish(message)
    crop_input.publish(message)
    # A callback that raised would surface here, out of spin_once.
    spin_until(executor, lambda: False, 0.02)
    for crop in crops:  # a crop with its context, or a number's side by side
        marks = crop.width // 28
        assert (crop.height, crop.width, crop.encoding, crop.step) == (
            28, 28 * marks, '8UC3', 3 * 28 * marks) and 1 <= marks <= 16
        assert len(crop.data) == 28 * 28 * 3 * marks
    assert all(0 <= digit <= 9 for digit in digits)


def test_the_fuzzed_nodes_still_work_and_counted_what_they_dropped(fuzz_harness, mnist_sample):
    executor, frames, crop_input, crops, digits, nodes = fuzz_harness
    preprocess, classifier = nodes
    images, labels = mnist_sample
    digits.clear()
    crop = Image(height=28, width=28, encoding='mono8', step=28,
                 data=images[labels == 4][0].tobytes())
    assert spin_until(executor, lambda: crop_input.publish(crop) or 4 in digits, 5.0)
    assert preprocess.frames_dropped > 0 and classifier.crops_dropped > 0
