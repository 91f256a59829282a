"""Numbers (issue 35): the row of marks around the digit (core/preprocessing/numbers.py, in
read_frame) and a batch of rows decided position by position (core/decision.py), on printed
numbers drawn here with OpenCV's Hershey faces and on MNIST digits side by side."""

import cv2
import numpy as np
import pytest

from digit_recognition.core.decision import (DecisionSettings, DIGIT, DigitDecider, judge,
                                             judge_number, NOT_DIGIT, NUMBER, PART_OF_NUMBER,
                                             TOO_LONG, UNSTEADY, UNSURE)
from digit_recognition.core.patches import crops_of_row, row_image
from digit_recognition.core.preprocessing import PreprocessSettings, read_frame


def printed(text, scale=3.0, x=None, y=240, thickness=6, font=cv2.FONT_HERSHEY_SIMPLEX):
    """`text` printed dark on grey-white paper, centred on the frame unless x is given."""
    frame = np.full((480, 640, 3), 205, np.uint8)
    (width, height), _ = cv2.getTextSize(text, font, scale, thickness)
    x = (640 - width) // 2 if x is None else x
    cv2.putText(frame, text, (x, y + height // 2), font, scale, (40, 40, 40), thickness,
                cv2.LINE_AA)
    return frame


def lefts(reading):
    return [box[0] for box in reading.number_boxes]


@pytest.mark.parametrize('text', ['214', '07', '88', '19', '4096'])
def test_a_printed_number_is_a_row_of_its_digits_left_to_right(text):
    reading = read_frame(printed(text), PreprocessSettings())
    assert reading.number is not None and reading.number.shape == (len(text), 28, 28, 3)
    assert lefts(reading) == sorted(lefts(reading))
    np.testing.assert_array_equal(reading.patches(), reading.number)
    # Each mark's crop is a digit of its own, not the number squeezed.
    assert all(crop[..., 0].any() for crop in reading.number)


def test_a_lone_digit_is_a_row_of_one():
    reading = read_frame(printed('7'), PreprocessSettings())
    assert reading.number is None and reading.number_boxes == ()
    assert reading.patches().shape == (1, 28, 28, 3)


def test_a_number_running_out_of_the_roi_is_read_whole():
    # The ROI (200 px) says where to look: a six-digit number is wider than it.
    reading = read_frame(printed('123456', scale=2.4), PreprocessSettings())
    assert reading.number is not None and len(reading.number) == 6


def test_the_outer_digits_of_a_number_beyond_the_searched_area_are_read_too():
    # The searched area is the ROI and a quarter of it around (x 170-470 here): the "5" lies
    # wholly outside it, touching nothing that runs out of it. Read from the searched area
    # alone, this was "270", published as a number with full confidence.
    frame = np.full((480, 640, 3), 205, np.uint8)
    for digit, x in zip('5270', (105, 205, 305, 405)):
        cv2.putText(frame, digit, (x, 276), cv2.FONT_HERSHEY_SIMPLEX, 3.0, (40, 40, 40), 6,
                    cv2.LINE_AA)
    reading = read_frame(frame, PreprocessSettings())
    assert reading.number is not None and len(reading.number) == 4
    assert reading.number_boxes[0][0] < 170


def test_a_number_cut_by_the_frame_edge_is_not_read():
    reading = read_frame(printed('5317294', scale=3.4, x=240), PreprocessSettings())
    assert reading.number_unreadable and reading.crop is None and reading.patches() is None
    assert len(reading.number_boxes) >= 2  # the marks found, for the views


def test_digits_written_joined_are_not_read_as_a_row():
    # A "1" joined to the next digit by its stroke: one wide mark beside another.
    frame = printed('1', x=250)
    cv2.putText(frame, '47', (290, 276), cv2.FONT_HERSHEY_SIMPLEX, 3.0, (40, 40, 40), 6,
                cv2.LINE_AA)
    cv2.line(frame, (270, 250), (300, 250), (40, 40, 40), 6)  # the "1" joins the "4"
    reading = read_frame(frame, PreprocessSettings())
    assert reading.number is None  # never a number with a mark that is two digits


def test_far_marks_and_marks_of_another_size_are_not_part_of_the_row():
    frame = printed('5')
    # A word far to the left, small print under the digit, a ruled line's stub above.
    cv2.putText(frame, 'Lab', (20, 260), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (40, 40, 40), 2)
    cv2.putText(frame, 'room', (300, 330), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (40, 40, 40), 2)
    cv2.line(frame, (360, 170), (420, 170), (40, 40, 40), 2)
    reading = read_frame(frame, PreprocessSettings())
    assert reading.crop is not None and reading.number is None


def test_crops_of_a_row_travel_side_by_side():
    patches = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 3), dtype=np.uint8)
    image = row_image(patches)
    assert image.shape == (28, 84, 3)
    np.testing.assert_array_equal(crops_of_row(image), patches)
    assert crops_of_row(np.zeros((28, 28), np.uint8)).shape == (1, 28, 28)
    for bad in (np.zeros((28, 30), np.uint8), np.zeros((30, 28), np.uint8),
                np.zeros((28, 28 * 17), np.uint8), np.zeros((28, 56, 2), np.uint8)):
        with pytest.raises(ValueError, match='28x28'):
            crops_of_row(bad)


# --- the decision on a batch of rows ---

def reader_saying(digits_by_position, confidence=0.97):
    """A reader that reads position k of every row as digits_by_position[k]; the crops carry
    their position in pixel [0, 0]."""
    def predict(crops):
        rows = np.full((len(crops), 10), (1 - confidence) / 9, np.float32)
        for i, crop in enumerate(crops):
            rows[i, digits_by_position[int(crop[0, 0])]] = confidence
        return rows
    return predict


def gate_saying(digitness_by_position):
    def gate(patches):
        values = np.float32([digitness_by_position[int(p[0, 0, 0])] for p in patches])
        return np.stack([1 - values, values], axis=1)
    return gate


def row_of(count):
    row = np.zeros((count, 28, 28, 3), np.uint8)
    for k in range(count):
        row[k, 0, 0, 0] = k
    return row


def decide_rows(rows, reader, gate=None, **settings):
    decider = DigitDecider(reader, DecisionSettings(batch_size=len(rows), **settings),
                           gate_batch=gate)
    verdicts = [decider.add_row(row) for row in rows]
    assert verdicts[:-1] == [None] * (len(rows) - 1)
    return verdicts[-1]


def test_a_number_is_read_position_by_position_and_never_published_as_a_digit():
    verdict = decide_rows([row_of(2)] * 5, reader_saying([0, 7]), gate_saying([0.9, 0.8]))
    assert verdict.kind == PART_OF_NUMBER and verdict.digit is None
    assert verdict.number.kind == NUMBER and verdict.number.text == '07'  # the zero kept
    assert [p.digitness for p in verdict.number.positions] == pytest.approx([0.9, 0.8])


@pytest.mark.parametrize('reader, gate, kind', [
    (reader_saying([3, 4], 0.97), gate_saying([0.9, 0.1]), NOT_DIGIT),  # "3A"
    (reader_saying([3, 4], 0.6), gate_saying([0.9, 0.9]), UNSURE),
])
def test_a_number_with_a_mark_not_sure_or_not_a_digit_is_silent(reader, gate, kind):
    verdict = decide_rows([row_of(2)] * 5, reader, gate)
    assert verdict.kind == PART_OF_NUMBER and verdict.number.kind == kind


def test_frames_that_disagree_on_the_count_of_marks_read_nothing():
    rows = [row_of(3)] * 3 + [row_of(2)] + [row_of(1)]  # the number came into view
    verdict = decide_rows(rows, reader_saying([2, 1, 4]))
    assert verdict.kind == PART_OF_NUMBER and verdict.number.kind == UNSTEADY
    assert '1 and 2 and 3 marks' in verdict.number.reason


def test_a_number_longer_than_max_number_digits_reads_nothing():
    verdict = decide_rows([row_of(10)] * 5, reader_saying(list(range(10))),
                          max_number_digits=6)
    assert verdict.number.kind == TOO_LONG and verdict.number.text == ''
    assert '10 marks' in verdict.number.reason


def test_with_numbers_off_a_number_is_still_never_a_digit():
    verdict = decide_rows([row_of(2)] * 5, reader_saying([1, 1]), read_numbers=False)
    assert verdict.kind == PART_OF_NUMBER and verdict.number is None


def test_a_lone_digit_decides_as_before():
    verdict = decide_rows([row_of(1)] * 5, reader_saying([6]), gate_saying([0.9]))
    assert verdict.kind == DIGIT and verdict.digit == 6 and verdict.number is None
    expected = judge(reader_saying([6])(np.zeros((5, 28, 28), np.uint8)), DecisionSettings(),
                     gate_saying([0.9])(row_of(1).repeat(5, axis=0)))
    assert verdict._replace(inference_sec=0.0) == expected


def test_judge_number_takes_the_positions_from_one_call():
    calls = []

    def positions(rows):
        calls.append(rows.shape)
        return [judge(np.eye(10, dtype=np.float32)[[4] * len(rows)], DecisionSettings())] * 2
    verdict = judge_number([row_of(2)] * 5, DecisionSettings(), positions)
    assert calls == [(5, 2, 28, 28, 3)] and verdict.text == '44'
