"""rendering.py: MNIST digits as a camera sees them; the tutorial's preprocessing undoes it."""

import cv2
import numpy as np
import pytest

from digit_recognition.simulation.synthetic_frames import blank_frame, render_frame

ROI = 200  # the tutorial's centred region of interest, and the digit size the sample video uses


def gray(frame):
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def tutorial_crop(frame, threshold=100):
    """The tutorial's preprocessing, written out: grey, inverse threshold, centre ROI, 28x28."""
    _, binary = cv2.threshold(gray(frame), threshold, 255, cv2.THRESH_BINARY_INV)
    top, left = (frame.shape[0] - ROI) // 2, (frame.shape[1] - ROI) // 2
    return cv2.resize(binary[top:top + ROI, left:left + ROI], (28, 28),
                      interpolation=cv2.INTER_AREA)


def ink_centre(frame):
    """Centre of mass (x, y) of the ink: how much darker than the paper each pixel is."""
    darkness = np.clip(np.median(gray(frame)) - gray(frame).astype(float) - 20, 0, None)
    moments = cv2.moments(darkness)
    return moments['m10'] / moments['m00'], moments['m01'] / moments['m00']


def correlation(a, b):
    return np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1]


def test_frames_are_bgr8_of_the_requested_size(mnist_sample):
    images, _ = mnist_sample
    rng = np.random.default_rng(0)
    for frame, shape in [(render_frame(images[0], rng=rng), (480, 640, 3)),
                         (render_frame(images[0], (320, 240), 100, rng=rng), (240, 320, 3)),
                         (blank_frame(rng=rng), (480, 640, 3)),
                         (blank_frame((100, 50), rng=rng), (50, 100, 3))]:
        assert frame.shape == shape
        assert frame.dtype == np.uint8


def test_dark_ink_on_light_paper(mnist_sample):
    images, _ = mnist_sample
    digit = images[0]
    frame = gray(render_frame(digit, rng=np.random.default_rng(1)))
    # Where the MNIST digit is fully white, the frame shows ink; where it is black, paper.
    scale = ROI / 28
    rows, cols = np.nonzero(digit == 255)
    ink = frame[(140 + (rows + 0.5) * scale).astype(int), (220 + (cols + 0.5) * scale).astype(int)]
    assert 25 <= ink.mean() <= 65
    paper = np.concatenate([frame[:100].ravel(), frame[-100:].ravel()])
    assert 185 <= paper.mean() <= 225
    assert paper.min() > 150  # no dark specks on empty paper


def test_paper_is_gently_lit_with_mild_noise():
    frame = gray(blank_frame(rng=np.random.default_rng(2))).astype(float)
    assert 185 <= frame.mean() <= 225
    smooth = cv2.blur(frame, (31, 31))[15:-15, 15:-15]
    assert 0.5 < smooth.max() - smooth.min() < 20  # lit unevenly, but only a little
    noise = frame - cv2.blur(frame, (5, 5))
    assert 0.5 < noise[2:-2, 2:-2].std() < 6
    assert gray(blank_frame(rng=np.random.default_rng(2), noise=0)).std() < 6


def test_same_seed_same_frame_other_seed_other_frame(mnist_sample):
    images, _ = mnist_sample
    frames = [render_frame(images[7], rng=np.random.default_rng(seed)) for seed in (5, 5, 6)]
    np.testing.assert_array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[0], frames[2])
    np.testing.assert_array_equal(blank_frame(rng=np.random.default_rng(5)),
                                  blank_frame(rng=np.random.default_rng(5)))


def test_each_frame_from_one_generator_has_fresh_noise(mnist_sample):
    images, _ = mnist_sample
    rng = np.random.default_rng(0)
    first, second = (render_frame(images[0], rng=rng) for _ in range(2))
    assert not np.array_equal(first, second)


def test_the_digit_is_placed_at_center_and_scaled_to_digit_size(mnist_sample):
    images, _ = mnist_sample
    digit = images[3]
    moments = cv2.moments(digit.astype(float))
    # The digit's own centre of mass, relative to its image's centre, in 28x28 pixels.
    offset = np.array([moments['m10'], moments['m01']]) / moments['m00'] - 13.5
    for center, size in [((320, 240), 200), ((150, 300), 120), ((500, 100), 60)]:
        frame = render_frame(digit, digit_size=size, center=center,
                             rng=np.random.default_rng(0), noise=0)
        expected = np.array(center) - 0.5 + offset * size / 28
        np.testing.assert_allclose(ink_centre(frame), expected, atol=1.5)


def test_a_digit_partly_outside_the_frame_is_clipped(mnist_sample):
    images, _ = mnist_sample
    frame = render_frame(images[0], digit_size=200, center=(0, 0), rng=np.random.default_rng(0))
    assert frame.shape == (480, 640, 3)
    assert gray(frame)[:100, :100].min() < 80  # the part inside the frame still shows
    assert gray(frame)[200:, 200:].min() > 150


@pytest.mark.parametrize('digit', [
    np.zeros((28, 28), np.float32),
    np.zeros((28, 28), np.int64),
    np.zeros((28, 27), np.uint8),
    np.zeros((28, 28, 3), np.uint8),
    np.zeros((1, 28, 28), np.uint8),
], ids=['float32', 'int64', '28x27', 'colour', 'batch'])
def test_a_digit_that_is_not_uint8_28x28_raises_value_error(digit):
    with pytest.raises(ValueError, match='28x28'):
        render_frame(digit)


def test_bad_sizes_raise_value_error(mnist_sample):
    images, _ = mnist_sample
    with pytest.raises(ValueError):
        render_frame(images[0], digit_size=0)
    with pytest.raises(ValueError):
        render_frame(images[0], frame_size=(0, 480))
    with pytest.raises(ValueError):
        blank_frame((640, 0))


def rendered_crops(images, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([tutorial_crop(render_frame(digit, digit_size=ROI, rng=rng))
                     for digit in images])


@pytest.fixture(scope='module')
def sample_crops(mnist_sample):
    return rendered_crops(mnist_sample[0])


def test_tutorial_preprocessing_gives_back_the_mnist_digit(mnist_sample, sample_crops):
    images, _ = mnist_sample
    similarity = [correlation(crop, digit) for crop, digit in zip(sample_crops, images)]
    assert np.mean(similarity) > 0.95
    assert np.min(similarity) > 0.85
    assert np.abs(sample_crops.astype(int) - images).mean() < 10  # grey levels out of 255


def test_bundled_model_reads_rendered_digits(mnist_sample, sample_crops, bundled_classifier):
    images, labels = mnist_sample
    rendered = (bundled_classifier.predict_batch(sample_crops).argmax(axis=1) == labels).mean()
    raw = (bundled_classifier.predict_batch(images).argmax(axis=1) == labels).mean()
    assert rendered >= 0.90
    assert rendered >= raw - 0.03  # the camera costs the tutorial's pipeline little
