"""The preprocess and classifier nodes on real rclpy and DDS, inside the test process."""

import cv2
from cv_bridge import CvBridge
import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient
from sensor_msgs.msg import Image
from std_msgs.msg import Float32, Int32, String

from conftest import spin_until
from digit_recognition.core.decision import DecisionSettings
from digit_recognition.core.overlay import draw_overlay
from digit_recognition.core.preprocessing import PreprocessSettings, read_frame
from digit_recognition.nodes.classifier_node import ClassifierNode
from digit_recognition.nodes.preprocess_node import PreprocessNode
from digit_recognition.ros.messages import digit_reading_type, number_reading_type

pytestmark = pytest.mark.slow  # nodes on DDS in this process

DigitReading = digit_reading_type()
NumberReading = number_reading_type()

BRIDGE = CvBridge()


def grey_square_frame(ink):
    """A square drawn with a 12 px marker in the ROI (a filled one would be a shadow)."""
    frame = np.full((480, 640, 3), 210, np.uint8)
    cv2.rectangle(frame, (270, 190), (369, 289), (ink, ink, ink), 12)
    return frame


@pytest.fixture
def harness(ros_context):
    """An executor and a test node on the private context; nodes added to it are cleaned up."""
    executor = SingleThreadedExecutor(context=ros_context)
    tester = Node('tester', context=ros_context)
    executor.add_node(tester)
    added = [tester]

    def add(node):
        executor.add_node(node)
        added.append(node)
        return node

    yield executor, tester, add
    executor.shutdown()
    for node in added:
        node.destroy_node()


def set_parameter(executor, tester, node_name, name, value):
    client = AsyncParameterClient(tester, node_name)
    assert client.wait_for_services(timeout_sec=5.0)
    future = client.set_parameters([Parameter(name, value=value)])
    assert spin_until(executor, future.done, 5.0)
    return future.result().results[0]


def test_threshold_is_tuned_live_through_the_parameter_service(harness, ros_context):
    executor, tester, add = harness
    add(PreprocessNode(context=ros_context,
                       parameter_overrides=[Parameter('threshold_mode', value='fixed')]))
    crops = []
    tester.create_subscription(Image, 'digit_crop', crops.append, 10)
    frames = tester.create_publisher(Image, 'image_raw', 5)
    frame = BRIDGE.cv2_to_imgmsg(grey_square_frame(ink=120), encoding='bgr8')

    def next_crop(timeout_sec=10.0):
        crops.clear()
        if spin_until(executor, lambda: frames.publish(frame) or crops, timeout_sec):
            return BRIDGE.imgmsg_to_cv2(crops[-1])
        return None

    # Grey ink (120) is paper at the default threshold 100: no digit, so no crop at all.
    assert spin_until(executor, lambda: frames.get_subscription_count() > 0, 5.0)
    assert next_crop(timeout_sec=1.0) is None
    result = set_parameter(executor, tester, 'preprocess', 'threshold', 130)
    assert result.successful
    crop = next_crop()
    assert crop.shape == (28, 28, 3)  # the crop, then its context
    assert crop[..., 0].max() == 255

    result = set_parameter(executor, tester, 'preprocess', 'threshold', 300)
    assert not result.successful
    assert 'threshold' in result.reason and '255' in result.reason
    result = set_parameter(executor, tester, 'preprocess', 'threshold', 'dark')
    assert not result.successful
    assert result.reason
    assert next_crop().max() == 255  # still thresholding at 130

    result = set_parameter(executor, tester, 'preprocess', 'threshold_mode', 'auto')
    assert not result.successful
    assert 'flatfield, fixed, otsu, adaptive' in result.reason
    assert set_parameter(executor, tester, 'preprocess', 'threshold_mode', 'adaptive').successful
    assert next_crop().max() == 255  # adaptive finds the grey square on its own


def test_preprocess_copies_the_frame_header_and_survives_bad_encodings(harness, ros_context):
    executor, tester, add = harness
    add(PreprocessNode(context=ros_context))
    crops = []
    tester.create_subscription(Image, 'digit_crop', crops.append, 10)
    frames = tester.create_publisher(Image, 'image_raw', 5)
    bad = Image(height=2, width=2, encoding='32FC7', step=8, data=bytes(16))
    good = BRIDGE.cv2_to_imgmsg(grey_square_frame(ink=40), encoding='bgr8')
    good.header.frame_id = 'test_camera'
    good.header.stamp.sec = 42

    assert spin_until(executor, lambda: frames.publish(bad) or frames.publish(good) or crops,
                      10.0)
    assert all(crop.header.frame_id == 'test_camera' for crop in crops)
    assert crops[0].header.stamp.sec == 42
    assert (crops[0].width, crops[0].height, crops[0].encoding) == (28, 28, '8UC3')


def test_classifier_publishes_one_digit_per_batch(harness, ros_context, mnist_sample):
    executor, tester, add = harness
    add(ClassifierNode(context=ros_context))
    digits, confidences = [], []
    tester.create_subscription(Int32, 'digit', lambda m: digits.append(m.data), 10)
    tester.create_subscription(Float32, 'digit_confidence',
                               lambda m: confidences.append(m.data), 10)
    crops = tester.create_publisher(Image, 'digit_crop', 10)
    assert spin_until(executor, lambda: crops.get_subscription_count() > 0, 5.0)
    assert spin_until(executor, lambda: tester.count_subscribers('digit_crop') > 0, 5.0)

    images, labels = mnist_sample
    # The sample's first 3 looks like a 5 (the calibrated model gives it 0.5): a batch with it
    # stays under min_confidence, as it should.
    threes = images[labels == 3][1:6]
    sevens = images[labels == 7][:5]
    # A crop of the wrong size is dropped with a warning; it must not count in a batch.
    wrong_size = np.zeros((30, 30), np.uint8)
    for crop in [wrong_size, *threes, *sevens]:
        crops.publish(BRIDGE.cv2_to_imgmsg(crop, encoding='mono8'))
        spin_until(executor, lambda: False, 0.05)  # paced like a camera, not a burst
    assert spin_until(executor, lambda: len(digits) >= 2 and len(confidences) >= 2, 10.0)
    spin_until(executor, lambda: False, 0.3)  # nothing more may come
    assert digits == [3, 7]
    assert all(0.5 < c <= 1.0 for c in confidences)


def test_each_reading_carries_its_batch_digit_confidence_and_crop_header(
        harness, ros_context, mnist_sample):
    executor, tester, add = harness
    add(ClassifierNode(context=ros_context,
                       parameter_overrides=[Parameter('batch_size', value=3)]))
    digits, confidences, readings = [], [], []
    tester.create_subscription(Int32, 'digit', lambda m: digits.append(m.data), 10)
    tester.create_subscription(Float32, 'digit_confidence',
                               lambda m: confidences.append(m.data), 10)
    tester.create_subscription(DigitReading, 'digit_reading', readings.append, 10)
    crops = tester.create_publisher(Image, 'digit_crop', 10)
    assert spin_until(executor, lambda: crops.get_subscription_count() > 0, 5.0)

    images, labels = mnist_sample
    # Three batches of three: a clear 7, an unsure one (two threes, a seven: not published)
    # and a clear 2, each crop with its own stamp (50 ms apart, as a camera's) and frame_id.
    batches = [images[labels == 7][:3],
               [*images[labels == 3][:2], images[labels == 7][3]],
               images[labels == 2][:3]]
    sent = []
    for crop in (crop for batch in batches for crop in batch):
        msg = BRIDGE.cv2_to_imgmsg(crop, encoding='mono8')
        msg.header.stamp.sec = 1000
        msg.header.stamp.nanosec = 50_000_000 * len(sent)
        msg.header.frame_id = f'camera_{len(sent)}'
        sent.append(msg.header)
        crops.publish(msg)
        spin_until(executor, lambda: False, 0.05)
    assert spin_until(executor, lambda: len(readings) >= 3 and len(confidences) >= 2, 10.0)
    spin_until(executor, lambda: False, 0.3)  # nothing more may come

    assert digits == [7, 2]
    # A reading for every batch; its status says which were published and why not.
    assert [r.status for r in readings] == [DigitReading.DIGIT, DigitReading.UNSURE,
                                            DigitReading.DIGIT]
    published = [r for r in readings if r.status == DigitReading.DIGIT]
    assert [r.digit for r in published] == digits
    assert readings[1].confidence < 0.9  # the unsure batch, with the reader's confidence
    # The gate judged the plain mono8 crops alone (no context): a digitness, sure of digits.
    assert all(0.5 <= r.digitness <= 1.0 for r in published)
    # The same float32 as `digit_confidence` of the same batch, not of another one (the two
    # batches' confidences differ, so a reading paired with the wrong batch would show).
    assert len(set(confidences)) == 2
    assert [r.confidence for r in published] == confidences
    # The header of the crop that completed each batch: the 3rd, the 6th and the 9th.
    assert [(r.header.frame_id, r.header.stamp.sec, r.header.stamp.nanosec)
            for r in readings] == [('camera_2', 1000, 100_000_000),
                                   ('camera_5', 1000, 250_000_000),
                                   ('camera_8', 1000, 400_000_000)]


def test_a_number_is_published_whole_on_number_and_never_on_digit(
        harness, ros_context, mnist_sample):
    executor, tester, add = harness
    add(ClassifierNode(context=ros_context))
    digits, numbers, readings, number_readings = [], [], [], []
    tester.create_subscription(Int32, 'digit', lambda m: digits.append(m.data), 10)
    tester.create_subscription(String, 'number', lambda m: numbers.append(m.data), 10)
    tester.create_subscription(DigitReading, 'digit_reading', readings.append, 10)
    tester.create_subscription(NumberReading, 'number_reading', number_readings.append, 10)
    crops = tester.create_publisher(Image, 'digit_crop', 10)
    assert spin_until(executor, lambda: crops.get_subscription_count() > 0, 5.0)

    images, labels = mnist_sample
    # "07" as two plain crops side by side (28x56 mono8), five frames; then a lone 7 (28x28),
    # five frames: a lone digit is published on both topics.
    zero, seven = images[labels == 0][0], images[labels == 7][0]
    for crop in [np.hstack([zero, seven])] * 5 + [seven] * 5:
        crops.publish(BRIDGE.cv2_to_imgmsg(np.ascontiguousarray(crop), encoding='mono8'))
        spin_until(executor, lambda: False, 0.05)
    assert spin_until(executor, lambda: len(number_readings) >= 2 and len(numbers) >= 2, 10.0)
    spin_until(executor, lambda: False, 0.3)
    assert numbers == ['07', '7']  # the zero kept
    assert digits == [7]  # the lone 7 only: never the 0 or the 7 of "07"
    assert [r.status for r in readings] == [DigitReading.PART_OF_NUMBER, DigitReading.DIGIT]
    first = number_readings[0]
    assert first.status == NumberReading.NUMBER and first.text == '07'
    assert len(first.confidences) == 2 and min(first.confidences) >= 0.9
    assert len(first.digitness) == 2


@pytest.mark.parametrize('node_class, settings_type, changes', [
    (PreprocessNode, PreprocessSettings,
     dict(threshold=42, roi_size=300, threshold_mode='otsu', normalization='resize')),
    (ClassifierNode, DecisionSettings, dict(batch_size=3, min_confidence=0.5, min_digitness=0.3,
                                            batch_timeout=2.0, read_numbers=False,
                                            max_number_digits=4)),
])
def test_each_setting_of_the_core_is_a_parameter_the_node_takes_live(
        harness, ros_context, node_class, settings_type, changes):
    """Every field of the core's settings type is a parameter of the same name that reaches
    what the node works with once set, as `ros2 param set` sets it."""
    executor, tester, add = harness
    node = add(node_class(context=ros_context))
    assert set(changes) == set(settings_type._fields)
    assert all(getattr(settings_type(), name) != value for name, value in changes.items())
    for name, value in changes.items():
        assert set_parameter(executor, tester, node.get_name(), name, value).successful, name
    if node_class is PreprocessNode:  # the next frame is read with them
        binaries = []
        tester.create_subscription(Image, '/preprocess/debug/binary', binaries.append, 10)
        frames = tester.create_publisher(Image, 'image_raw', 5)
        frame = BRIDGE.cv2_to_imgmsg(grey_square_frame(ink=40), encoding='bgr8')
        assert spin_until(executor, lambda: frames.publish(frame) or binaries, 10.0)
        # resize: the whole ROI, roi_size pixels square, is what the ink view shows
        assert (binaries[-1].height, binaries[-1].width) == (300, 300)
    else:  # the next crop is decided with them
        crops = tester.create_publisher(Image, 'digit_crop', 10)
        crop = BRIDGE.cv2_to_imgmsg(np.zeros((28, 28), np.uint8), encoding='mono8')
        assert spin_until(executor, lambda: crops.publish(crop) or
                          node._decider.settings == settings_type(**changes), 10.0)


def test_classifier_rejects_model_path_changes_at_runtime(harness, ros_context):
    executor, tester, add = harness
    add(ClassifierNode(context=ros_context,
                       parameter_overrides=[Parameter('batch_size', value=2)]))
    result = set_parameter(executor, tester, 'classifier', 'model_path', '/tmp/other.keras')
    assert not result.successful
    assert 'read-only' in result.reason
    assert set_parameter(executor, tester, 'classifier', 'batch_size', 3).successful
    assert not set_parameter(executor, tester, 'classifier', 'batch_size', 0).successful


def test_classifier_publishes_nothing_when_unsure(harness, ros_context, mnist_sample):
    executor, tester, add = harness
    add(ClassifierNode(context=ros_context))
    digits = []
    tester.create_subscription(Int32, 'digit', lambda m: digits.append(m.data), 10)
    crops = tester.create_publisher(Image, 'digit_crop', 10)
    assert spin_until(executor, lambda: crops.get_subscription_count() > 0, 5.0)
    images, labels = mnist_sample

    def publish_batch(batch):
        for crop in batch:
            crops.publish(BRIDGE.cv2_to_imgmsg(crop, encoding='mono8'))
            spin_until(executor, lambda: False, 0.05)

    # Two threes and three sevens: the mean probability of 7 is about 0.6 < 0.9.
    publish_batch([*images[labels == 3][:2], *images[labels == 7][:3]])
    spin_until(executor, lambda: False, 0.5)
    assert digits == []
    # Proof the node was listening: a clear batch comes through.
    publish_batch(images[labels == 7][:5])
    assert spin_until(executor, lambda: digits, 5.0)
    assert digits == [7]


def test_debug_views_are_published_to_whoever_subscribes(harness, ros_context):
    executor, tester, add = harness
    add(PreprocessNode(context=ros_context))
    binaries, overlays = [], []
    tester.create_subscription(Image, '/preprocess/debug/binary', binaries.append, 10)
    tester.create_subscription(Image, '/preprocess/debug/overlay', overlays.append, 10)
    frames = tester.create_publisher(Image, 'image_raw', 5)
    frame = BRIDGE.cv2_to_imgmsg(grey_square_frame(ink=40), encoding='bgr8')
    assert spin_until(executor, lambda: frames.publish(frame) or (binaries and overlays), 10.0)
    binary = BRIDGE.imgmsg_to_cv2(binaries[-1])
    # The searched area, the ROI and a quarter of it around: the square's stroke is the
    # chosen digit (white), its inside paper.
    assert binary.shape == (300, 300) and binary[100, 150] == 255
    assert binary[150, 150] == 0 and binary[5, 5] == 0
    overlay = BRIDGE.imgmsg_to_cv2(overlays[-1])
    assert overlay.shape == (480, 640, 3)
    assert tuple(overlay[140, 320]) == (0, 200, 0)  # the ROI box's top edge, green: a digit


def test_overlay_shows_the_latest_reading(harness, ros_context):
    executor, tester, add = harness
    node = add(PreprocessNode(context=ros_context))
    overlays = []
    tester.create_subscription(Image, '/preprocess/debug/overlay', overlays.append, 10)
    frames = tester.create_publisher(Image, 'image_raw', 5)
    readings = tester.create_publisher(DigitReading, 'digit_reading', 10)
    image = grey_square_frame(ink=40)
    frame = BRIDGE.cv2_to_imgmsg(image, encoding='bgr8')
    reading = read_frame(image, node._params.settings(PreprocessSettings))

    def overlay_showing(digit, confidence):
        return draw_overlay(image, reading.roi, True, digit, confidence, reading.digit_box)

    def shows(expected):
        return overlays and np.array_equal(BRIDGE.imgmsg_to_cv2(overlays[-1]), expected)

    assert spin_until(executor, lambda: frames.publish(frame) or shows(
        overlay_showing(None, None)), 10.0)  # no reading yet
    for digit, confidence in [(7, 0.93), (0, 0.51)]:
        msg = DigitReading(status=DigitReading.DIGIT, digit=digit, confidence=confidence)
        expected = overlay_showing(digit, confidence)
        assert spin_until(executor, lambda m=msg, e=expected: readings.publish(m)
                          or frames.publish(frame) or shows(e), 10.0), digit
    # A silent batch (unsure, or not a digit) is no reading to show: the overlay says none.
    for status in (DigitReading.UNSURE, DigitReading.NOT_A_DIGIT):
        msg = DigitReading(status=status, digit=1, confidence=0.6, digitness=0.2)
        assert spin_until(executor, lambda m=msg: readings.publish(m) or frames.publish(frame)
                          or shows(overlay_showing(None, None)), 10.0), status


def test_image_qos_can_be_overridden_from_parameters(harness, ros_context):
    from rclpy.qos import ReliabilityPolicy
    executor, tester, add = harness
    add(PreprocessNode(context=ros_context, parameter_overrides=[
        Parameter('qos_overrides./image_raw.subscription.reliability', value='reliable')]))
    [info] = tester.get_subscriptions_info_by_topic('/image_raw')
    assert info.qos_profile.reliability == ReliabilityPolicy.RELIABLE


def test_compressed_transport_reads_jpeg_and_png_and_drops_corrupt_data(harness, ros_context):
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import CompressedImage
    executor, tester, add = harness
    node = add(PreprocessNode(context=ros_context, parameter_overrides=[
        Parameter('image_transport', value='compressed')]))
    crops, statuses = [], []
    tester.create_subscription(Image, 'digit_crop', crops.append, 10)
    tester.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda msg: statuses.extend(s for s in msg.status if s.name == '/preprocess'), 10)
    frames = tester.create_publisher(CompressedImage, 'image_raw/compressed', 5)
    frame = grey_square_frame(ink=40)
    jpeg = CompressedImage(format='bgr8; jpeg compressed bgr8',
                           data=cv2.imencode('.jpg', frame)[1].tobytes())
    png = CompressedImage(format='png', data=cv2.imencode('.png', frame)[1].tobytes())
    corrupt = CompressedImage(format='jpeg', data=bytes(jpeg.data)[:5000])
    for good in (jpeg, png):
        crops.clear()
        assert spin_until(executor, lambda good=good: frames.publish(good) or crops, 10.0)
        assert BRIDGE.imgmsg_to_cv2(crops[-1]).shape == (28, 28, 3)
    dropped = node.frames_dropped
    assert spin_until(executor, lambda: frames.publish(corrupt) or
                      node.frames_dropped > dropped, 5.0)
    crops.clear()  # and it goes on reading the good ones
    assert spin_until(executor, lambda: frames.publish(jpeg) or crops, 10.0)
    assert spin_until(executor, lambda: statuses and 'truncated JPEG' in {
        kv.key: kv.value for kv in statuses[-1].values}['last error'], 3.0)
    assert statuses[-1].message == 'processing frames'


def test_raw_transport_does_not_listen_to_compressed_frames(harness, ros_context):
    from sensor_msgs.msg import CompressedImage
    executor, tester, add = harness
    add(PreprocessNode(context=ros_context))
    frames = tester.create_publisher(CompressedImage, 'image_raw/compressed', 5)
    assert not spin_until(executor, lambda: frames.get_subscription_count() > 0, 1.0)
    assert tester.count_subscribers('/image_raw') == 1


def test_frame_subscription_follows_the_reliability_of_its_publishers(harness, ros_context):
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    executor, tester, add = harness
    add(PreprocessNode(context=ros_context))
    crops = []
    tester.create_subscription(Image, 'digit_crop', crops.append, 10)
    frame = BRIDGE.cv2_to_imgmsg(grey_square_frame(ink=40), encoding='bgr8')

    def subscribed():
        return [info.qos_profile.reliability
                for info in tester.get_subscriptions_info_by_topic('/image_raw')]

    def settles_on(reliability, publisher):
        # Frames keep coming while it switches: the old subscription goes after the new
        # one has its first frame.
        return spin_until(executor, lambda: publisher.publish(frame) or
                          subscribed() == [reliability], 5.0)

    assert subscribed() == [ReliabilityPolicy.BEST_EFFORT]  # matches any publisher
    reliable = tester.create_publisher(Image, 'image_raw', 5)
    assert settles_on(ReliabilityPolicy.RELIABLE, reliable)
    crops.clear()
    assert spin_until(executor, lambda: reliable.publish(frame) or crops, 5.0)
    best_effort = tester.create_publisher(
        Image, 'image_raw', QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT))
    assert settles_on(ReliabilityPolicy.BEST_EFFORT, best_effort)
    crops.clear()
    assert spin_until(executor, lambda: best_effort.publish(frame) or crops, 5.0)


def test_matching_reliability_is_reliable_only_when_every_publisher_is():
    from rclpy.qos import ReliabilityPolicy
    from digit_recognition.ros.matched_subscription import matching_reliability
    best_effort, reliable = ReliabilityPolicy.BEST_EFFORT, ReliabilityPolicy.RELIABLE
    assert matching_reliability([True, True], best_effort) == reliable
    assert matching_reliability([True, False], reliable) == best_effort
    assert matching_reliability([], reliable) == reliable  # nobody to match: no change
    assert matching_reliability([], best_effort) == best_effort


def test_preprocess_and_classifier_report_on_diagnostics(harness, ros_context):
    from diagnostic_msgs.msg import DiagnosticArray
    executor, tester, add = harness
    add(PreprocessNode(context=ros_context))
    add(ClassifierNode(context=ros_context))
    statuses = {}
    tester.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda msg: statuses.update({s.name: s for s in msg.status}), 10)
    frames = tester.create_publisher(Image, 'image_raw', 5)
    bad = Image(height=2, width=2, encoding='bgr8', step=6, data=bytes(3))  # truncated
    assert spin_until(executor, lambda: frames.publish(bad) or
                      {'/preprocess', '/classifier'} <= statuses.keys(), 5.0)
    spin_until(executor, lambda: False, 1.1)  # one more report, after the drops
    preprocess = {kv.key: kv.value for kv in statuses['/preprocess'].values}
    classifier = {kv.key: kv.value for kv in statuses['/classifier'].values}
    assert int(preprocess['frames dropped']) > 0
    assert 'truncated image' in preprocess['last error']
    assert classifier['model loaded'] == 'True' and classifier['backend'] == 'tflite'
