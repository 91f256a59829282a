import cv2
import numpy as np
import pytest

from digit_recognition.preprocessing import binarize, centre_roi, preprocess_frame, to_gray


def paper_with_square(size=(480, 640), square=(200, 320, 60), ink=40, paper=210):
    """Light paper with a dark filled square of side square[2] centred at (row, col)."""
    frame = np.full((*size, 3), paper, np.uint8)
    row, col, side = square
    frame[row - side // 2:row + side // 2, col - side // 2:col + side // 2] = ink
    return frame


def test_crop_is_uint8_28x28():
    crop = preprocess_frame(paper_with_square(), threshold=100, roi_size=200)
    assert crop.shape == (28, 28)
    assert crop.dtype == np.uint8


def test_dark_ink_becomes_white_on_black():
    frame = paper_with_square(square=(240, 320, 100))
    crop = preprocess_frame(frame, threshold=100, roi_size=200)
    assert crop[14, 14] == 255  # the ink in the centre
    assert crop[1, 1] == 0  # the paper around it


def test_threshold_decides_what_is_ink():
    frame = paper_with_square(square=(240, 320, 100), ink=120)
    assert preprocess_frame(frame, threshold=100, roi_size=200).max() == 0
    assert preprocess_frame(frame, threshold=130, roi_size=200).max() == 255


def test_only_the_centred_roi_is_used():
    # Ink outside the centred 200x200 region must not reach the crop.
    frame = paper_with_square(square=(240, 130, 60))
    assert preprocess_frame(frame, threshold=100, roi_size=200).max() == 0
    assert preprocess_frame(frame, threshold=100, roi_size=480).max() > 0


def test_roi_larger_than_frame_is_clipped():
    frame = paper_with_square(size=(120, 160), square=(60, 80, 40))
    assert centre_roi(to_gray(frame), 500).shape == (120, 120)
    assert preprocess_frame(frame, threshold=100, roi_size=500).shape == (28, 28)


def test_mono8_frames_are_accepted():
    frame = paper_with_square(square=(240, 320, 100))
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    np.testing.assert_array_equal(preprocess_frame(gray, 100, 200),
                                  preprocess_frame(frame, 100, 200))


def test_binarize_is_inverse_threshold():
    gray = np.array([[0, 99, 100, 101, 255]], np.uint8)
    np.testing.assert_array_equal(binarize(gray, 100), [[255, 255, 255, 0, 0]])


@pytest.mark.parametrize('frame, message', [
    (np.zeros((48, 64, 3), np.float32), 'uint8'),
    (np.zeros((48, 64, 4), np.uint8), 'shape'),
    (np.zeros((0, 0, 3), np.uint8), 'empty'),
])
def test_bad_frames_raise_value_error(frame, message):
    with pytest.raises(ValueError, match=message):
        preprocess_frame(frame, 100, 200)


@pytest.mark.parametrize('threshold, roi_size', [(-1, 200), (256, 200), (100, 0)])
def test_bad_settings_raise_value_error(threshold, roi_size):
    with pytest.raises(ValueError):
        preprocess_frame(paper_with_square(), threshold, roi_size)


def test_rendered_mnist_digits_come_back_as_themselves(mnist_sample):
    from digit_recognition.rendering import render_frame
    images, _ = mnist_sample
    rng = np.random.default_rng(0)
    for digit in images[:20]:
        crop = preprocess_frame(render_frame(digit, digit_size=200, rng=rng), 100, 200)
        correlation = np.corrcoef(crop.ravel().astype(float), digit.ravel().astype(float))[0, 1]
        assert correlation > 0.8
