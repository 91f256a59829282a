"""The pen: its kinds (colour, width, texture) and the ink it lays along the digit's centre
line, placed in the frame (or redrawn alone, as MNIST is framed)."""

import cv2
import numpy as np

from digit_recognition.core.sizes import CROP_SIZE
from digit_recognition.simulation.centre_line import check_digit, centre_segments, WORK_SCALE
from digit_recognition.simulation.geometry import roi_centre
# Pen and REFERENCE_HEIGHT: the other modules take them from here too.
from digit_recognition.simulation.scene_types import Pen, REFERENCE_HEIGHT, Scene
from digit_recognition.simulation.sheet import apply_ink, jitter, smooth_field

MARGIN = 10  # px the ink keeps from the ROI's border where a condition keeps it inside

PENS = {
    'black_ballpoint': Pen((0.17, 0.16, 0.16), (2.0, 5.0), 'ballpoint'),
    'blue_ballpoint': Pen((0.58, 0.27, 0.18), (2.0, 5.0), 'ballpoint'),
    'red_ballpoint': Pen((0.22, 0.2, 0.75), (2.0, 5.0), 'ballpoint'),
    'green_ballpoint': Pen((0.4, 0.55, 0.2), (2.0, 5.0), 'ballpoint'),
    'pencil': Pen((0.58, 0.58, 0.58), (2.5, 4.0), 'graphite'),
    'felt_pen': Pen((0.12, 0.12, 0.13), (5.0, 10.0), 'felt'),
    'marker': Pen((0.09, 0.09, 0.1), (10.0, 20.0), 'felt'),
}

EVERYDAY_PENS = ('black_ballpoint', 'blue_ballpoint', 'felt_pen')


def seen_width(pen: Pen, height: float, rng) -> float:
    """The pen's width, seen at this digit height: farther away, thinner."""
    return max(rng.uniform(*pen.width) * np.clip(height / REFERENCE_HEIGHT, 0.45, 1.6), 1.2)


def frame_ink(pen: Pen, rng) -> tuple:
    if pen.texture == 'graphite':  # pencil: grey, from hard and faint to soft and dark
        return (rng.uniform(0.42, 0.75),) * 3
    return jitter(pen.colour, rng, 0.12)


def pen_redraw(digit: np.ndarray, stroke: float = 2.4) -> np.ndarray:
    """The digit as the pen redraws it, without a camera: its centre line drawn `stroke` px
    wide, fitted in 20x20 and centred by mass in 28x28 as MNIST is; uint8 [28, 28], white on
    black. A classifier's accuracy on these is what redrawing alone costs it."""
    segments = centre_segments(check_digit(digit).tobytes())
    points = segments.reshape(-1, 2)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = (20 - stroke) / max(float((high - low).max()), 1.0)
    coverage, x0, y0 = _stroke_coverage((segments - (low + high) / 2) * scale + 13.5, stroke,
                                        True, (CROP_SIZE, CROP_SIZE))
    image = np.zeros((CROP_SIZE, CROP_SIZE), np.float32)
    image[y0:y0 + coverage.shape[0], x0:x0 + coverage.shape[1]] = coverage
    moments = cv2.moments(image)
    shift = 13.5 - np.array([moments['m10'], moments['m01']]) / moments['m00']
    image = cv2.warpAffine(image, np.float32([[1, 0, shift[0]], [0, 1, shift[1]]]),
                           (CROP_SIZE, CROP_SIZE))
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def _place(segments: np.ndarray, scene: Scene, rng, frame_size, roi_size) -> np.ndarray:
    """The centre line in frame pixels: slanted, stretched, rotated, scaled so the ink is
    scene.height tall, and its bounding box centred at the ROI's centre plus the offset."""
    points = segments.reshape(-1, 2)
    theta = np.deg2rad(scene.angle)
    rotation = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    shape = rotation @ np.array([[scene.aspect, -scene.slant], [0.0, 1.0]])
    points = points @ shape.T
    low, high = points.min(axis=0), points.max(axis=0)
    points = points - (low + high) / 2
    extent = np.maximum(high - low, 1.0)
    scale = max(scene.height - scene.pen_width, 1.0) / extent[1]
    offset = scene.offset
    if offset is None:  # anywhere with the whole ink inside the ROI, smaller if need be
        inner = roi_size - 2 * MARGIN - scene.pen_width
        scale = min(scale, inner / extent.max())
        room = np.maximum(inner - extent * scale, 0) / 2
        offset = rng.uniform(-room, room)
    placed = points * scale + roi_centre(frame_size, roi_size) + np.asarray(offset)
    return placed.reshape(-1, 2, 2).astype(np.float32)


def _stroke_coverage(segments: np.ndarray, width: float, antialias: bool, frame_size):
    """Share of each pixel the pen covers, float32 [h, w], in the frame window starting at
    (x0, y0): returns (coverage, x0, y0), or None when the strokes miss the frame."""
    reach = width / 2 + 2
    low = np.maximum(np.floor(segments.reshape(-1, 2).min(axis=0) - reach), 0).astype(int)
    high = np.minimum(np.ceil(segments.reshape(-1, 2).max(axis=0) + reach),
                      frame_size).astype(int)
    size = high - low
    if (size <= 0).any():
        return None
    # Drawn larger then area-averaged, so a 1.5 px stroke gets a 1.5 px footprint.
    factor = int(np.clip(800 // size.max(), 1, 4)) if antialias else 1
    canvas = np.zeros((size[1] * factor, size[0] * factor), np.uint8)
    points = np.round(((segments - low + 0.5) * factor - 0.5) * 16).astype(np.int32)
    cv2.polylines(canvas, list(points), False, 255, max(1, round(width * factor)),
                  cv2.LINE_AA if antialias else cv2.LINE_8, shift=4)
    if factor > 1:
        canvas = cv2.resize(canvas, tuple(size), interpolation=cv2.INTER_AREA)
    return canvas.astype(np.float32) / 255, low[0], low[1]


def _pen_texture(coverage: np.ndarray, texture: str, rng) -> np.ndarray:
    """How the pen lays its ink: graphite grainy and broken, ballpoint uneven, felt bleeding."""
    if texture == 'graphite':
        grain = cv2.GaussianBlur(rng.random(coverage.shape, dtype=np.float32), (0, 0), 0.7)
        grain = np.clip((grain - 0.5) * 3 + 0.7, 0.2, 1)  # paper's tooth catches graphite
        breaks = np.clip(smooth_field(coverage.shape, rng, 14) * 2.5 - 0.1, 0.25, 1)
        return coverage * grain * breaks
    if texture == 'ballpoint':
        return coverage * np.clip(1.3 - 0.7 * smooth_field(coverage.shape, rng, 10), 0.45, 1)
    return cv2.GaussianBlur(coverage, (0, 0), 0.6)


def _mnist_coverage(digit: np.ndarray, segments: np.ndarray, placed: np.ndarray, frame_size):
    """MNIST's own strokes scaled up: the digit image warped where its centre line was
    placed (the affine map from `segments` to `placed`), as coverage (see _stroke_coverage)."""
    source = segments.reshape(-1, 2)
    target = placed.reshape(-1, 2)
    ends = np.linspace(0, len(source) - 1, min(len(source), 64)).astype(int)
    matrix, _ = cv2.estimateAffine2D(source[ends], target[ends], method=cv2.LMEDS)
    if matrix is None:
        return None
    big = cv2.resize(digit, (CROP_SIZE * WORK_SCALE, CROP_SIZE * WORK_SCALE),
                     interpolation=cv2.INTER_CUBIC)
    coverage = cv2.warpAffine(big.astype(np.float32) / 255, matrix, frame_size,
                              flags=cv2.INTER_LINEAR)
    return np.clip(coverage, 0, 1), 0, 0


def draw_digit(sheet: np.ndarray, digit: np.ndarray, scene: Scene, rng, roi_size,
               strokes: str = 'pen') -> None:
    frame_size = sheet.shape[2], sheet.shape[1]
    centre_line = centre_segments(digit.tobytes())
    if not len(centre_line):  # a solid blot thins to nothing the pen can trace
        return
    segments = _place(centre_line, scene, rng, frame_size, roi_size)
    if strokes == 'mnist':
        drawn = _mnist_coverage(digit, centre_line, segments, frame_size)
    else:
        drawn = _stroke_coverage(segments, scene.pen_width, scene.antialias, frame_size)
    if drawn is None:
        return
    coverage, x0, y0 = drawn
    coverage = _pen_texture(coverage, scene.pen.texture, rng)
    window = sheet[:, y0:y0 + coverage.shape[0], x0:x0 + coverage.shape[1]]
    apply_ink(window, coverage, scene.ink)
