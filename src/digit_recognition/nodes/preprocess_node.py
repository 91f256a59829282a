"""preprocess: `image_raw` -> threshold, find and normalize the digit -> `digit_crop`: the 28x28
crop and its context (the ink around the digit at the ROI's scale, for the classifier's gate)
as one 28x28 `8UC3` image, channel 0 the crop.

With `image_transport: compressed` it reads `image_raw/compressed` (sensor_msgs/CompressedImage,
JPEG or PNG, as image_transport's compressed plugin names and writes it) instead: for a camera
on a robot and this node elsewhere, or a recording made that way.

Debug views for rqt_image_view on a headless robot, built only while someone subscribes:
`~/debug/binary` (the thresholded ROI) and `~/debug/overlay` (the frame with the ROI box and
the classifier's latest reading, `digit_reading`).

`threshold` acts in every threshold_mode; its description (`ros2 param describe`) says what it
means in the current one. When a change of how frames are read loses a digit that was being
found, /diagnostics says so.
"""

from collections import deque
import sys
import time

from cv_bridge import CvBridge
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CompressedImage, Image

from digit_recognition.core.image_encodings import (
    CROP_WITH_CONTEXT_ENCODING, image_from_compressed_msg, image_from_msg)
from digit_recognition.core.overlay import draw_overlay
from digit_recognition.core.patches import row_image
from digit_recognition.core.preprocessing import (
    NORMALIZATIONS, PreprocessSettings, read_frame, THRESHOLD_LIMITS, THRESHOLD_MEANINGS,
    THRESHOLD_MODES)
from digit_recognition.core.sizes import CROP_SIZE
from digit_recognition.ros.diagnostics import Diagnostics, RateMeter
from digit_recognition.ros.matched_subscription import MatchedSubscription
from digit_recognition.ros.messages import (digit_reading_type, NUMBER_READING_TOPIC,
                                            number_reading_type, READING_TOPIC)
from digit_recognition.ros.parameters import NodeParameters, overridable_qos, ParameterSpec
from digit_recognition.ros.runner import run_nodes
from digit_recognition.ros.transport import receive_buffer_warning

IMAGE_TRANSPORTS = ('raw', 'compressed')
# The defaults of how frames are read are the core's own.
_READING = PreprocessSettings()
# Frames read after a change of the settings, none with a digit where one was found before:
# the change lost the digit (about half a second at 30 fps).
LOST_AFTER_FRAMES = 15
RECENT_FRAMES = 30  # the frames before a change that say whether a digit was being found

PARAMETERS = (
    # Described by the current threshold_mode once the node runs (threshold_description).
    ParameterSpec('threshold', _READING.threshold,
                  'In threshold_mode ' + '; in '.join(
                      f'{mode}: {meaning}' for mode, meaning in THRESHOLD_MEANINGS.items()),
                  limits=THRESHOLD_LIMITS),
    ParameterSpec('roi_size', _READING.roi_size,
                  "Side in pixels of the centred square where the digit's centre must be",
                  limits=(CROP_SIZE, 4096)),
    ParameterSpec('threshold_mode', _READING.threshold_mode,
                  'flatfield: lighting divided out, ink is darker than the paper around it; '
                  'fixed: ink is darker than `threshold`; otsu: automatic global threshold; '
                  "adaptive: darker than the neighbourhood's mean",
                  choices=THRESHOLD_MODES),
    ParameterSpec('normalization', _READING.normalization,
                  "mnist: fit the digit's ink into 20x20, centred by mass, like MNIST; "
                  "resize: squeeze the whole ROI into 28x28 (the tutorial's way)",
                  choices=NORMALIZATIONS),
    ParameterSpec('image_transport', 'raw',
                  'raw: sensor_msgs/Image on image_raw; compressed: JPEG or PNG '
                  "sensor_msgs/CompressedImage on image_raw/compressed (image_transport's "
                  'naming)', choices=IMAGE_TRANSPORTS, read_only=True),
)


def threshold_description(mode):
    """The `threshold` parameter's description while threshold_mode is `mode`."""
    return (f'threshold_mode {mode}: {THRESHOLD_MEANINGS[mode]} '
            f'({THRESHOLD_LIMITS[0]}-{THRESHOLD_LIMITS[1]})')


class PreprocessNode(Node):

    def __init__(self, **kwargs):
        super().__init__('preprocess', **kwargs)
        self._recent = deque(maxlen=RECENT_FRAMES)  # found a digit? per frame read
        self._change = None  # the last change of the reading settings: _SettingsChange
        self._last_ink = None  # whether the last frame read had any ink
        self._params = NodeParameters(self, PARAMETERS, on_change=self._on_parameters)
        self._params.describe('threshold', threshold_description(self._params['threshold_mode']))
        image_transport = self._params['image_transport']

        self._bridge = CvBridge()
        # QoS of both topics can be overridden from a params file (qos_overrides./topic...).
        overridable = overridable_qos()
        self._publisher = self.create_publisher(Image, 'digit_crop', 10,
                                                qos_overriding_options=overridable)
        self._binary_publisher = self.create_publisher(Image, '~/debug/binary', 1)
        self._overlay_publisher = self.create_publisher(Image, '~/debug/overlay', 1)
        self._latest_reading = None  # digit_recognition_msgs/DigitReading
        self._rate = RateMeter()
        self.frames_received = 0
        self.frames_dropped = 0
        self.frames_without_digit = 0
        # Frames whose number ran off the frame or had digits written joined: not read.
        self.numbers_unreadable = 0
        self.diagnostics = Diagnostics(self, self._report)
        self.create_subscription(digit_reading_type(), READING_TOPIC, self._on_reading, 10)
        self._latest_number = None  # digit_recognition_msgs/NumberReading
        self.create_subscription(number_reading_type(), NUMBER_READING_TOPIC,
                                 self._on_number, 10)
        # Frames are perishable: keep the newest rather than queue stale ones. Reliable or
        # best effort as the camera publishes, unless the params file says (qos_overrides).
        if image_transport == 'raw':
            self._subscription = MatchedSubscription(
                self, Image, 'image_raw', self._on_frame, qos_profile_sensor_data)
        else:
            # image_transport's name, <base>/compressed, relative like image_raw. A remap of
            # image_raw does not move it (nor does it in image_transport): remap this name.
            self._subscription = MatchedSubscription(
                self, CompressedImage, 'image_raw/compressed', self._on_compressed_frame,
                qos_profile_sensor_data)
        reading = ', '.join(f'{name} {self._params[name]}' for name in (
            'threshold_mode', 'threshold', 'roi_size', 'normalization'))
        self.get_logger().info(
            f'{self._subscription.topic_name} -> {self._publisher.topic_name} ({reading})')
        warning = receive_buffer_warning()
        if warning:
            self.get_logger().warning(warning)

    def _on_parameters(self, values, changed):
        # Taken at once: the next frame is read with the new values (self._params).
        if 'threshold_mode' in changed:
            self._params.describe('threshold', threshold_description(values['threshold_mode']))
        before = self._params.settings(PreprocessSettings)
        after = PreprocessSettings(**{name: values[name] for name in PreprocessSettings._fields})
        if after != before:
            self._change = _SettingsChange(before, after, any(self._recent))
            self._recent.clear()
        return None

    def _on_frame(self, msg):
        self._process(msg, lambda colour: image_from_msg(msg, 'bgr8'))

    def _on_compressed_frame(self, msg):
        # Preprocessing reads brightness only: a JPEG decodes twice as fast without colour,
        # which only the overlay needs.
        self._process(msg, lambda colour: image_from_compressed_msg(msg, grey=not colour))

    def _process(self, msg, convert):
        """Preprocess one frame message; convert(colour) gives its image (bgr8 if colour,
        else bgr8 or mono8) or raises ValueError."""
        started = time.perf_counter()  # decoding is part of the processing time
        self.frames_received += 1
        want_binary = self._binary_publisher.get_subscription_count() > 0
        want_overlay = self._overlay_publisher.get_subscription_count() > 0
        try:
            frame = convert(want_overlay)
            reading = read_frame(frame, self._params.settings(PreprocessSettings))
            crop = reading.crop
        except ValueError as exc:
            self.frames_dropped += 1
            self.diagnostics.error(f'dropped frame: {exc}')
            self.get_logger().warning(f'dropping frame: {exc}', throttle_duration_sec=5.0)
            return
        if crop is not None:  # a lone digit, or the marks of a number side by side
            self._publish(self._publisher, row_image(reading.patches()),
                          CROP_WITH_CONTEXT_ENCODING, msg.header)
        elif reading.number_unreadable:  # off the frame, or joined: never read in part
            self.numbers_unreadable += 1
        else:  # no digit in view: publish nothing, so nothing is classified
            self.frames_without_digit += 1
        self._recent.append(crop is not None)
        self._last_ink = bool(reading.ink.any())
        if self._change is not None:
            self._change.frames += 1
            self._change.digits += crop is not None
        self._rate.record(time.perf_counter() - started)
        if want_binary:
            self._publish(self._binary_publisher, reading.binary_view(), 'mono8', msg.header)
        if want_overlay:
            found = crop is not None
            number = bool(reading.number_boxes)
            latest = self._latest_number if number else self._latest_reading
            digit, confidence = None, None
            if found and latest is not None and latest.status == (
                    latest.NUMBER if number else latest.DIGIT):  # published, not silent
                digit, confidence = ((latest.text, min(latest.confidences)) if number
                                     else (latest.digit, latest.confidence))
            overlay = draw_overlay(frame, reading.roi, found, digit, confidence,
                                   reading.digit_box, reading.number_boxes)
            self._publish(self._overlay_publisher, overlay, 'bgr8', msg.header)

    def _publish(self, publisher, image, encoding, header):
        out = self._bridge.cv2_to_imgmsg(image, encoding=encoding)
        out.header = header
        publisher.publish(out)

    def _report(self):
        settings = self._params.settings(PreprocessSettings)
        values = {'frame rate': f'{self._rate.rate():.1f}',
                  'processing ms': f'{self._rate.mean_ms():.2f}',
                  'frames received': self.frames_received,
                  'frames dropped': self.frames_dropped,
                  'frames without digit': self.frames_without_digit,
                  'numbers not read (off the frame, joined)': self.numbers_unreadable,
                  'threshold_mode': settings.threshold_mode,
                  'threshold': settings.threshold,
                  'ink in the last frame': {None: 'no frame yet', True: 'yes',
                                            False: 'none'}[self._last_ink],
                  'input reliability': self._subscription.reliability.name.lower()}
        if self._rate.rate() == 0:
            return 'warn', f'no frames on {self._subscription.topic_name}', values
        lost = self._change.lost_digit(self._last_ink) if self._change is not None else None
        if lost:
            return 'warn', lost, values
        return 'ok', 'processing frames', values

    def _on_reading(self, msg):
        self._latest_reading = msg

    def _on_number(self, msg):
        self._latest_number = msg


class _SettingsChange:
    """A change of how frames are read, and what came of it: whether a digit was being found
    before it, and the frames and digits read since."""

    def __init__(self, before, after, found_before):
        self.before, self.after = before, after
        self.found_before = found_before
        self.frames = 0
        self.digits = 0

    def lost_digit(self, ink):
        """The diagnostics message when the change lost the digit found before it, else None;
        `ink`: whether the last frame had any ink."""
        if not self.found_before or self.digits or self.frames < LOST_AFTER_FRAMES:
            return None
        changes = ', '.join(f'{name} {getattr(self.before, name)} -> {value}'
                            for name, value in self.after._asdict().items()
                            if value != getattr(self.before, name))
        message = f'no digit since {changes}; one was found before'
        if self.after.threshold_mode != self.before.threshold_mode or \
                self.after.threshold == self.before.threshold:
            return message
        # fixed: a higher threshold takes fainter ink; the other modes: a lower one.
        takes_more = (self.after.threshold > self.before.threshold) == (
            self.after.threshold_mode == 'fixed')
        if not takes_more or not ink:
            return (message + (': no ink at all' if not ink else '') + ': the ink is too faint '
                    f'for threshold {self.after.threshold}; '
                    f'{"raise" if self.after.threshold_mode == "fixed" else "lower"} it')
        return (message + f': at threshold {self.after.threshold} so much counts as ink that the '
                'digit is lost in it; '
                f'{"lower" if self.after.threshold_mode == "fixed" else "raise"} it')


def main(args=None):
    return run_nodes([PreprocessNode], args=args, logger_name='preprocess')


if __name__ == '__main__':
    sys.exit(main())
