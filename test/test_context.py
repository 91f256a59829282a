"""The context of a crop (core/preprocessing/context.py) and the crop with its context as the
classifier reads it (core/patches.py), on frames drawn here with OpenCV: what the gate sees
that the 28x28 crop alone cannot show."""

import cv2
import numpy as np
import pytest

from digit_recognition.core.patches import as_patches, crop_with_context, PATCH_CHANNELS
from digit_recognition.core.preprocessing import PreprocessSettings, read_frame

HEIGHT, WIDTH = 480, 640


def page(*strokes, width=6):
    """Grey-white paper with dark strokes (polylines of frame pixels), bgr8."""
    frame = np.full((HEIGHT, WIDTH, 3), 205, np.uint8)
    for points in strokes:
        cv2.polylines(frame, [np.int32(points)], False, (40, 40, 40), width, cv2.LINE_AA)
    return frame


def context_of(frame):
    reading = read_frame(frame, PreprocessSettings())
    assert reading.crop is not None
    return reading.context, reading.patch()


def test_a_lone_stroke_and_a_paper_edge_are_one_crop_and_two_contexts():
    # Normalized, a lone "1" and a stretch of a long straight edge are the same vertical bar;
    # the context keeps what tells them apart: the edge runs on past the digit's box.
    one = read_frame(page([(320, 185), (320, 295)]), PreprocessSettings())
    edge = read_frame(page([(320, 185), (320, 295)], [(320, 295), (320, 420)],
                           [(320, 60), (320, 185)]), PreprocessSettings())
    assert one.crop is not None
    if edge.crop is not None:  # the whole edge, or none of it: never a short bar alone
        assert np.count_nonzero(edge.context[..., 0]) > 1.5 * np.count_nonzero(
            one.context[..., 0])
    # The lone stroke's context: its own ink, short against the ROI, nothing around it.
    rows = np.flatnonzero(one.context[..., 0].any(axis=1))
    assert 5 <= len(rows) <= 14  # 110 px in a window of 1.5 ROI sides (300 px): ~10 of 28
    assert one.context[..., 1].max() == 0


def test_other_marks_beside_the_digit_show_in_the_second_channel():
    alone, _ = context_of(page([(320, 190), (320, 290)]))
    beside, _ = context_of(page([(320, 190), (320, 290)],
                                [(365, 200), (405, 200), (370, 290)]))  # a 7 beside the 1
    assert alone[..., 1].max() == 0
    right_half = beside[:, 15:, 1]
    assert right_half.max() == 255 and beside[:, :13, 1].max() == 0


def test_the_part_of_the_window_never_searched_is_at_half_level():
    # A digit at the ROI's edge: its window reaches past the searched area (ROI plus a
    # quarter of its side), which is marked at half level in the second channel.
    context, _ = context_of(page([(228, 175), (228, 290)]))
    assert (context[:, :2, 1] == 128).all()
    assert context[..., 0].max() == 255


def test_the_patch_is_the_crop_then_its_context():
    frame = page([(320, 185), (320, 295)])
    reading = read_frame(frame, PreprocessSettings())
    patch = reading.patch()
    assert patch.shape == (28, 28, PATCH_CHANNELS) and patch.dtype == np.uint8
    np.testing.assert_array_equal(patch[..., 0], reading.crop)
    np.testing.assert_array_equal(patch[..., 1:], reading.context)
    # The tutorial's resize has no digit to centre a window on: its crop comes alone.
    resized = read_frame(frame, PreprocessSettings(normalization='resize'))
    assert resized.context is None and not resized.patch()[..., 1:].any()
    assert read_frame(page(), PreprocessSettings()).patch() is None


def test_plain_crops_become_patches_with_an_empty_context():
    crops = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    patches = as_patches(crops)
    assert patches.shape == (4, 28, 28, 3)
    np.testing.assert_array_equal(patches[..., 0], crops)
    assert not patches[..., 1:].any()
    assert as_patches(patches) is patches
    np.testing.assert_array_equal(crop_with_context(crops[0]), patches[0])


@pytest.mark.parametrize('bad', [np.zeros((4, 28, 28), np.float32), np.zeros((4, 28, 28, 2),
                                                                             np.uint8),
                                 np.zeros((4, 27, 28), np.uint8), np.zeros((28, 28), np.uint8)])
def test_anything_else_is_refused_with_what_was_expected(bad):
    with pytest.raises(ValueError, match=r'\[N, 28, 28\]'):
        as_patches(bad)
