"""Training augmentation: MNIST digits as a camera sees them, and as other writers write them.

camera_like(): a camera crop is a digit photographed at a few times MNIST's size, slightly
rotated and scaled, with strokes thicker or thinner than the original pen, blurred, noisy,
binarized by preprocess and normalized back to 28x28. This does the same to an MNIST digit,
reusing the very normalization the node runs, so training and inference see the same kind of
image. jittered(): the clean digit slightly rotated, scaled and shifted, the variation
between writers that MNIST's own test set has. numpy/OpenCV only.
"""

import cv2
import numpy as np

from digit_recognition.preprocessing import find_digit_ink, normalize_digit

UPSCALE = 4  # a 28x28 digit becomes 112x112: digits 80-180 px high in a camera frame


def camera_like(digit, rng):
    """One augmented uint8 28x28 crop of a uint8 28x28 MNIST digit (white on black)."""
    size = digit.shape[0] * UPSCALE
    big = cv2.resize(digit, (size, size), interpolation=cv2.INTER_CUBIC)

    angle = rng.uniform(-15, 15)
    scale = rng.uniform(0.8, 1.1)
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), angle, scale)
    matrix[:, 2] += rng.uniform(-0.06, 0.06, 2) * size
    big = cv2.warpAffine(big, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)

    # Pen width: thin the strokes a little (more breaks them) or thicken them up to ~1.5 px.
    radius = int(rng.integers(-2, 6))
    if radius:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(radius) + 1,) * 2)
        big = (cv2.dilate if radius > 0 else cv2.erode)(big, kernel)

    big = cv2.GaussianBlur(big, (0, 0), rng.uniform(0.5, 2.5))
    noisy = big.astype(np.float32) + rng.normal(0, rng.uniform(0, 25), big.shape)
    big = np.clip(noisy, 0, 255).astype(np.uint8)
    binary = np.where(big > rng.uniform(60, 150), np.uint8(255), np.uint8(0))

    ink = find_digit_ink(binary)
    return digit if ink is None else normalize_digit(ink)


def jittered(digit, rng):
    """The MNIST digit rotated up to 12 degrees, scaled 0.9-1.1 and shifted up to 2 px."""
    angle = rng.uniform(-12, 12)
    matrix = cv2.getRotationMatrix2D((digit.shape[1] / 2, digit.shape[0] / 2), angle,
                                     rng.uniform(0.9, 1.1))
    matrix[:, 2] += rng.uniform(-2, 2, 2)
    return cv2.warpAffine(digit, matrix, digit.shape[::-1], flags=cv2.INTER_LINEAR,
                          borderValue=0)


AUGMENTATIONS = {'camera-like': camera_like, 'jittered': jittered}


def augment_batch(digits, name, seed=0):
    """One augmented copy (AUGMENTATIONS[name]) of each digit of a uint8 [N, 28, 28] array,
    reproducible by seed."""
    augment = AUGMENTATIONS[name]
    rng = np.random.default_rng(seed)
    return np.stack([augment(digit, rng) for digit in digits])
