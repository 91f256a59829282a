"""Training augmentation: MNIST digits as a camera sees them, and as other writers write them.

camera_like(): what the preprocess node hands the model when a person holds a digit up to
the camera: the digit drawn anywhere from far away (a few dozen pixels) to held close
(several hundred), seen on tilted paper, with a pen anywhere from a thin ballpoint to a
marker, blurred by focus or motion, noisy, binarized, cut where a printed line was erased
or by the frame's edge, then found and normalized by the very functions the node runs, so
training and inference see the same kind of image. jittered(): the clean digit slightly
rotated, scaled and shifted, the variation between writers that MNIST's own test set has.
numpy/OpenCV only.
"""

import cv2
import numpy as np

from digit_recognition.core.preprocessing import (
    find_digit_ink, normalize_digit, PreprocessSettings, read_frame)
from digit_recognition.core.preprocessing.lines import LINE_ERASE_WIDTH, THICKER_THAN_A_LINE
from digit_recognition.simulation.synthetic_frames import ROI_SIZE

DIGIT_HEIGHTS = (35, 260)  # pixels: far away to held close (drawn log-uniformly)
TILT = 0.3  # perspective: the far edge of the sheet up to 30 % shorter than the near one
ELASTIC_PIXELS = 20  # scale of the elastic field (a smoothed uniform field: ~1-2 px moves)


def _perspective(size, rng):
    """A homography for a sheet tilted away from the camera, seen slightly rotated."""
    corners = np.float32([[0, 0], [size, 0], [size, size], [0, size]])
    pull = rng.uniform(0, TILT) / 4  # each far corner moves this share towards the opposite
    moved = corners.copy()
    side = rng.integers(4)  # which edge of the sheet is farther away
    for corner in (side, (side + 1) % 4):
        moved[corner] += (corners[(corner + 2) % 4] - corners[corner]) * pull
    angle = np.deg2rad(rng.uniform(-15, 15))
    rotation = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (moved - size / 2) @ rotation.T * rng.uniform(0.8, 1.05) + size / 2
    moved += rng.uniform(-0.05, 0.05, 2).astype(np.float32) * size
    return cv2.getPerspectiveTransform(corners, moved.astype(np.float32))


def _pen(big, height, rng):
    """The strokes redrawn thinner or thicker: MNIST's pen scaled up is a marker."""
    mnist_stroke = height / 9  # MNIST strokes are about a ninth of the digit's height
    pen = mnist_stroke * np.exp(rng.uniform(np.log(0.12), np.log(1.3)))
    radius = int(round((pen - mnist_stroke) / 2))
    if radius:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(radius) + 1,) * 2)
        thinned = (cv2.dilate if radius > 0 else cv2.erode)(big, kernel)
        # Thinning may erase a digit's thinnest parts whole; keep the original pen then.
        if np.count_nonzero(thinned > 127) > 0.25 * np.count_nonzero(big > 127):
            return thinned
    return big


def _blur(image, height, rng):
    """Focus or motion blur, in proportion to the digit's size in the frame."""
    kind = rng.integers(3)
    if kind == 0:
        return cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 0.5 + height / 120))
    if kind == 1:  # a straight motion streak in any direction
        length = int(rng.integers(3, 5 + height // 10))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2] = 1.0 / length
        rotation = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2),
                                           rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rotation, (length, length))
        return cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))
    return image


def _erase_lines(binary, rng):
    """Gaps through the digit's thin strokes where preprocessing erased a printed line."""
    size = binary.shape[0]
    bands = np.zeros_like(binary)
    for _ in range(rng.integers(1, 4)):
        y = rng.uniform(0.1, 0.9) * size
        slope = np.tan(np.deg2rad(rng.uniform(-20, 20)))
        cv2.line(bands, (0, int(y - slope * size / 2)), (size, int(y + slope * size / 2)), 255,
                 LINE_ERASE_WIDTH)
    bands[cv2.morphologyEx(binary, cv2.MORPH_OPEN, THICKER_THAN_A_LINE) > 0] = 0
    return cv2.subtract(binary, bands)


def camera_like(digit, rng):
    """One augmented uint8 28x28 crop of a uint8 28x28 MNIST digit (white on black)."""
    height = int(np.exp(rng.uniform(*np.log(DIGIT_HEIGHTS))))  # of the ink
    side = height * 28 // 20  # MNIST's ink fills 20 of its 28 pixels
    size = int(side * 1.5)  # room for rotation and tilt
    big = cv2.resize(digit, (side, side), interpolation=cv2.INTER_CUBIC)
    before = (size - side) // 2
    big = cv2.copyMakeBorder(big, before, size - side - before, before, size - side - before,
                             cv2.BORDER_CONSTANT, value=0)
    big = cv2.warpPerspective(big, _perspective(size, rng), (size, size),
                              flags=cv2.INTER_LINEAR, borderValue=0)
    big = _pen(big, height, rng)
    big = _blur(big, height, rng)
    noisy = big.astype(np.float32) + rng.normal(0, rng.uniform(0, 25), big.shape)
    big = np.clip(noisy, 0, 255).astype(np.uint8)
    binary = np.where(big > rng.uniform(50, 160), np.uint8(255), np.uint8(0))
    if rng.random() < 0.3:
        binary = _erase_lines(binary, rng)
    if rng.random() < 0.1:  # held close: the frame's edge cuts off a sliver at top or bottom
        rows = np.flatnonzero(binary.any(axis=1))
        if rows.size:
            cut = int(rng.uniform(0, 0.08) * (rows[-1] - rows[0]))
            if rng.random() < 0.5:
                binary[:rows[0] + cut] = 0
            else:
                binary[rows[-1] + 1 - cut:] = 0

    # At the preprocess node's default roi_size: its rules are relative to it.
    ink = find_digit_ink(binary, roi_size=ROI_SIZE)
    return digit if ink is None else normalize_digit(ink)


def jittered(digit, rng):
    """The MNIST digit rotated up to 12 degrees, scaled 0.9-1.1, shifted up to 2 px and, in
    half of the copies, bent by a smooth random field (Simard et al.'s elastic distortion:
    the wobble of a hand)."""
    angle = rng.uniform(-12, 12)
    matrix = cv2.getRotationMatrix2D((digit.shape[1] / 2, digit.shape[0] / 2), angle,
                                     rng.uniform(0.9, 1.1))
    matrix[:, 2] += rng.uniform(-2, 2, 2)
    moved = cv2.warpAffine(digit, matrix, digit.shape[::-1], flags=cv2.INTER_LINEAR,
                           borderValue=0)
    if rng.random() < 0.5:
        return moved
    shape = digit.shape
    field = [ELASTIC_PIXELS * cv2.GaussianBlur(rng.uniform(-1, 1, shape).astype(np.float32),
                                               (0, 0), 4) for _ in range(2)]
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    return cv2.remap(moved, cols + field[0], rows + field[1], cv2.INTER_LINEAR,
                     borderValue=0)


def simulated(digit, rng):
    """The digit (or any glyph) in a whole camera frame of a random condition and variant of
    simulation/conditions.py, its centre line redrawn by the scene's pen, read by the
    preprocess node's default settings: the crops the node makes, line remnants, shadows and
    fingers beside the digit included. The camera-like copy when nothing is found. MNIST's
    own strokes are left to the evaluation, as a way of drawing training never sees."""
    from digit_recognition.simulation.conditions import CONDITIONS, render_condition  # noqa: PLC0415

    names = list(CONDITIONS)
    frame, _ = render_condition(names[int(rng.integers(len(names)))], digit, rng)
    crop = read_frame(frame, PreprocessSettings()).crop  # as the node reads, by default
    return camera_like(digit, rng) if crop is None else crop


AUGMENTATIONS = {'camera-like': camera_like, 'jittered': jittered, 'simulated': simulated}


def augment_in_parallel(digits, name, seed, workers):
    """augment_batch() in `workers` processes, a chunk each (each chunk seeded from seed)."""
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415
    chunks = np.array_split(digits, max(1, workers * 2))
    with ProcessPoolExecutor(workers) as pool:
        return np.concatenate(list(pool.map(augment_batch, chunks, [name] * len(chunks),
                                            [seed * 1000 + k for k in range(len(chunks))])))


def augment_batch(digits, name, seed=0):
    """One augmented copy (AUGMENTATIONS[name]) of each digit of a uint8 [N, 28, 28] array,
    reproducible by seed."""
    augment = AUGMENTATIONS[name]
    rng = np.random.default_rng(seed)
    return np.stack([augment(digit, rng) for digit in digits])
