"""Camera conditions: an MNIST digit as the robot's camera sees it in real use, and empty views.

An independent judge of the preprocessing: written from how paper, pens, light and cameras
behave, not from how preprocess_frame works. numpy/OpenCV only.

A frame is built as a camera forms it: the sheet's reflectance (paper colour, printed lines,
ink), possibly tilted, and objects before it (a finger, the table beyond the sheet's edge);
times the light falling on it (gradients, lamps, shadows), plus glare; then the lens blurs it,
the sensor adds noise, the phone or webcam processes and compresses it as JPEG. The digit is
redrawn as a pen would draw it: MNIST's strokes are thinned to their centre line and drawn
again with the pen's own width, colour and texture.

Each condition has several variants generated in different ways (not one formula with other
numbers), so that no single simulator formula is what the preprocessing learns to pass.
"""

from dataclasses import dataclass
import functools
from statistics import NormalDist
from typing import Optional

import cv2
import numpy as np

from digit_recognition.training.synthetic_frames import (
    check_frame_size, DIGIT_SHAPE, FRAME_SIZE, ROI_SIZE)

MARGIN = 10  # px the ink keeps from the ROI's border where a condition keeps it inside
WORK_SCALE = 4  # the MNIST digit is thinned at this many times its size
MIN_HOLE = WORK_SCALE ** 2 // 2  # px at WORK_SCALE: a smaller hole is a gap, not a loop
REFERENCE_HEIGHT = 200.0  # digit height (px) at which the pens' widths below hold
GREY_WEIGHTS = np.array([0.114, 0.587, 0.299], np.float32)  # B, G, R, as cv2's BGR2GRAY


@dataclass(frozen=True)
class Pen:
    """colour: B, G, R share of the light the ink lets through where it fully covers the paper;
    width: stroke width range in px for a REFERENCE_HEIGHT tall digit."""

    colour: tuple
    width: tuple
    texture: str  # 'ballpoint', 'graphite' or 'felt'


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

# Paper reflectance, B, G, R.
PAPERS = {
    'white': (0.93, 0.94, 0.94),
    'grey': (0.62, 0.63, 0.63),
    'cream': (0.74, 0.88, 0.94),
    'yellow': (0.5, 0.86, 0.94),
    'blue': (0.93, 0.84, 0.74),
    'green': (0.72, 0.9, 0.76),
}
SKINS = ((0.6, 0.7, 0.92), (0.43, 0.55, 0.78), (0.18, 0.25, 0.39))  # light, medium, dark; B, G, R
WARM_LIGHT = (0.72, 0.88, 1.0)  # a tungsten lamp's B, G, R relative to daylight


@dataclass(frozen=True)
class Scene:
    """Everything one frame is made of. Arrays are float32 [H, W] unless said otherwise."""

    paper: tuple  # B, G, R reflectance
    level: float  # grey level of the lit paper, on average over the ROI
    tint: tuple  # B, G, R colour of the light, white balance included
    pen: Pen
    ink: tuple  # this pen's B, G, R transmittance in this frame
    pen_width: float  # px
    height: float  # px, of the ink's bounding box
    offset: Optional[tuple]  # (dx, dy) of the ink's centre from the ROI's; None: anywhere inside
    angle: float  # degrees, counter-clockwise
    slant: float  # horizontal shear of the handwriting
    aspect: float  # width stretch of the handwriting
    antialias: bool  # False: strokes drawn with hard pixel edges
    marks: tuple  # (coverage, B G R transmittance) on the sheet, under the ink
    covers: tuple  # (alpha, colour float32 [3, H, W]) in front of the sheet
    light: Optional[np.ndarray]  # relative light, about 1 over the ROI; None: even
    glare: Optional[np.ndarray]  # grey levels reflected straight into the lens
    warp: Optional[np.ndarray]  # float64 [3, 3] homography of the sheet
    blur: float  # Gaussian sigma of the lens, px
    kernel: Optional[np.ndarray]  # float32 blur kernel replacing the Gaussian
    focus: Optional[np.ndarray]  # share of each pixel out of focus (blur) vs in focus
    resolution: float  # sensor resolution relative to the frame (upscaled when < 1)
    noise: float  # sensor noise sigma, grey levels
    chroma_noise: float  # sigma of blotchy colour noise, grey levels
    denoise: int  # median filter size of the phone's noise reduction, 0 = none
    sharpen: float  # unsharp mask amount, 0 = none
    jpeg: int  # JPEG quality


# --- the digit: centre line, placement, pen ---

def _check_digit(digit: np.ndarray) -> np.ndarray:
    digit = np.asarray(digit)
    if digit.dtype != np.uint8 or digit.shape != DIGIT_SHAPE:
        raise ValueError(f'expected a uint8 28x28 MNIST digit, got {digit.dtype} {digit.shape}')
    if digit.max() < 128:
        raise ValueError('the digit image has no ink (no pixel of 128 or more)')
    return digit


def _neighbours(padded: np.ndarray) -> list:
    """The 8 neighbours P2..P9 (north, then clockwise) of each inner pixel of a padded image."""
    h, w = padded.shape[0] - 2, padded.shape[1] - 2
    steps = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))
    return [padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy, dx in steps]


def thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: bool [H, W] shapes -> bool [H, W], their one-pixel centre lines."""
    image = np.pad(binary, 1).astype(np.uint8)
    centre = image[1:-1, 1:-1]
    while True:
        removed = 0
        for first_pass in (True, False):
            p = _neighbours(image)
            count = sum(p)
            crossings = sum((p[i] == 0) & (p[(i + 1) % 8] == 1) for i in range(8))
            if first_pass:
                keep = (p[0] & p[2] & p[4]) | (p[2] & p[4] & p[6])
            else:
                keep = (p[0] & p[2] & p[6]) | (p[0] & p[4] & p[6])
            delete = (centre == 1) & (count >= 2) & (count <= 6) & (crossings == 1) & (keep == 0)
            centre[delete] = 0
            removed += int(delete.sum())
        if not removed:
            return centre.astype(bool)


def _neighbour_count(skeleton: np.ndarray) -> np.ndarray:
    """How many of its 8 neighbours each pixel of a bool [H, W] image has, int [H, W]."""
    return sum(p.astype(int) for p in _neighbours(np.pad(skeleton, 1)))


def prune(skeleton: np.ndarray, length: int) -> np.ndarray:
    """A centre line, bool [H, W], without the side branches shorter than `length` px that
    thinning leaves at a stroke's corners and blunt ends; the strokes keep their length."""
    pruned = skeleton.copy()
    for _ in range(length):
        pruned &= ~(_neighbour_count(pruned) == 1)
    # Grow the remaining ends back along the original line.
    grown = pruned & (_neighbour_count(pruned) <= 1)
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(length):
        grown = cv2.dilate(grown.astype(np.uint8), kernel).astype(bool) & skeleton
    return pruned | grown


def _graph(skeleton: np.ndarray) -> tuple:
    """The centre line's pixels as points float [K, 2] (x, y) and the index pairs int [E, 2]
    of neighbouring ones; a diagonal only where no straight step joins the two already."""
    ys, xs = np.nonzero(skeleton)
    index = np.full((skeleton.shape[0] + 2, skeleton.shape[1] + 2), -1)
    index[ys + 1, xs + 1] = np.arange(len(ys))

    def at(dy, dx):
        return index[ys + 1 + dy, xs + 1 + dx]

    right, down, left = at(0, 1), at(1, 0), at(0, -1)
    pairs = [right, down, np.where((right < 0) & (down < 0), at(1, 1), -1),
             np.where((left < 0) & (down < 0), at(1, -1), -1)]
    edges = np.concatenate([np.column_stack([np.flatnonzero(p >= 0), p[p >= 0]])
                            for p in pairs])
    return np.column_stack([xs, ys]).astype(np.float64), edges


def _smooth(points: np.ndarray, edges: np.ndarray, rounds: int) -> np.ndarray:
    """Laplacian smoothing along the line: each point moves halfway to its neighbours' mean,
    so the pixel staircase becomes a pen's smooth path; ends stay where they are."""
    degree = np.bincount(edges.ravel(), minlength=len(points))
    movable = (degree >= 2)[:, None]
    for _ in range(rounds):
        total = np.zeros_like(points)
        np.add.at(total, edges[:, 0], points[edges[:, 1]])
        np.add.at(total, edges[:, 1], points[edges[:, 0]])
        mean = total / np.maximum(degree, 1)[:, None]
        points = np.where(movable, (points + mean) / 2, points)
    return points


def _holes(mask: np.ndarray, min_area: int) -> np.ndarray:
    """The holes of at least min_area px that a bool [H, W] mask encloses, bool [H, W]."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8),
                                                           connectivity=4)
    outside = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < min_area)
    return ~mask & ~np.isin(labels, np.concatenate([outside, small]))


def pen_shape(digit: np.ndarray) -> np.ndarray:
    """Where the writer's pen went, bool [28 * WORK_SCALE] * 2, from a uint8 [28, 28] MNIST
    digit: its faint strokes kept (a low threshold), the loops that only open at brighter
    levels kept open (a small 9's or 6's loop is a blur of grey), specks dropped. A gap of
    under half a pixel inside a stroke is no loop: kept open, a thin pen draws a 3 as a 5."""
    size = DIGIT_SHAPE[1] * WORK_SCALE, DIGIT_SHAPE[0] * WORK_SCALE
    big = cv2.GaussianBlur(cv2.resize(digit, size, interpolation=cv2.INTER_CUBIC), (0, 0), 1.0)
    shape = big > 60
    shape |= _holes(shape, 1) & ~_holes(shape, MIN_HOLE)
    for level in (120, 180, 230):
        shape &= ~_holes(big > level, MIN_HOLE)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(shape.astype(np.uint8))
    specks = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < 2 * WORK_SCALE ** 2)
    return shape & ~np.isin(labels, specks)


@functools.lru_cache(maxsize=4096)
def _centre_line(digit_bytes: bytes) -> np.ndarray:
    """Segments float32 [S, 2, 2] of (x, y) between neighbouring points of the digit's centre
    line, in pixels of the digit enlarged WORK_SCALE times; a lone point is a segment of
    length 0 (drawn as a dot). Cached: evaluate draws each digit under every condition."""
    digit = np.frombuffer(digit_bytes, np.uint8).reshape(DIGIT_SHAPE)
    skeleton = prune(thin(pen_shape(digit)), 2 * WORK_SCALE)
    points, edges = _graph(skeleton)
    points = _smooth(points, edges, 4)
    alone = np.flatnonzero(np.bincount(edges.ravel(), minlength=len(points)) == 0)
    segments = np.concatenate([points[edges], points[alone][:, None].repeat(2, axis=1)])
    return segments.astype(np.float32)


def pen_redraw(digit: np.ndarray, stroke: float = 2.4) -> np.ndarray:
    """The digit as the pen redraws it, without a camera: its centre line drawn `stroke` px
    wide, fitted in 20x20 and centred by mass in 28x28 as MNIST is; uint8 [28, 28], white on
    black. A classifier's accuracy on these is what redrawing alone costs it."""
    segments = _centre_line(_check_digit(digit).tobytes())
    points = segments.reshape(-1, 2)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = (20 - stroke) / max(float((high - low).max()), 1.0)
    coverage, x0, y0 = _stroke_coverage((segments - (low + high) / 2) * scale + 13.5, stroke,
                                        True, DIGIT_SHAPE[::-1])
    image = np.zeros(DIGIT_SHAPE, np.float32)
    image[y0:y0 + coverage.shape[0], x0:x0 + coverage.shape[1]] = coverage
    moments = cv2.moments(image)
    shift = 13.5 - np.array([moments['m10'], moments['m01']]) / moments['m00']
    image = cv2.warpAffine(image, np.float32([[1, 0, shift[0]], [0, 1, shift[1]]]), DIGIT_SHAPE)
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def _roi_centre(frame_size: tuple, roi_size: int) -> np.ndarray:
    """(x, y) of the ROI's centre in pixel coordinates: the ROI is centred as the
    preprocessing crops it, from (W - roi) // 2."""
    width, height = frame_size
    return np.array([(width - roi_size) // 2, (height - roi_size) // 2]) + (roi_size - 1) / 2


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
    placed = points * scale + _roi_centre(frame_size, roi_size) + np.asarray(offset)
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


def _smooth_field(shape: tuple, rng, cell: float) -> np.ndarray:
    """Random values in [0, 1], float32 [h, w], varying smoothly over about `cell` px."""
    h, w = shape
    coarse = rng.random((int(h / cell) + 2, int(w / cell) + 2), dtype=np.float32)
    return np.clip(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC), 0, 1)


def _pen_texture(coverage: np.ndarray, texture: str, rng) -> np.ndarray:
    """How the pen lays its ink: graphite grainy and broken, ballpoint uneven, felt bleeding."""
    if texture == 'graphite':
        grain = cv2.GaussianBlur(rng.random(coverage.shape, dtype=np.float32), (0, 0), 0.7)
        grain = np.clip((grain - 0.5) * 3 + 0.7, 0.2, 1)  # paper's tooth catches graphite
        breaks = np.clip(_smooth_field(coverage.shape, rng, 14) * 2.5 - 0.1, 0.25, 1)
        return coverage * grain * breaks
    if texture == 'ballpoint':
        return coverage * np.clip(1.3 - 0.7 * _smooth_field(coverage.shape, rng, 10), 0.45, 1)
    return cv2.GaussianBlur(coverage, (0, 0), 0.6)


def _apply_ink(sheet: np.ndarray, coverage: np.ndarray, colour) -> None:
    """Ink filters the light: the sheet (float32 [3, h, w]) is multiplied by the ink's
    transmittance, in place."""
    for plane, transmittance in zip(sheet, colour):
        plane *= 1 - coverage * np.float32(1 - transmittance)


def _mnist_coverage(digit: np.ndarray, segments: np.ndarray, placed: np.ndarray, frame_size):
    """MNIST's own strokes scaled up: the digit image warped where its centre line was
    placed (the affine map from `segments` to `placed`), as coverage (see _stroke_coverage)."""
    source = segments.reshape(-1, 2)
    target = placed.reshape(-1, 2)
    ends = np.linspace(0, len(source) - 1, min(len(source), 64)).astype(int)
    matrix, _ = cv2.estimateAffine2D(source[ends], target[ends], method=cv2.LMEDS)
    if matrix is None:
        return None
    big = cv2.resize(digit, (DIGIT_SHAPE[1] * WORK_SCALE, DIGIT_SHAPE[0] * WORK_SCALE),
                     interpolation=cv2.INTER_CUBIC)
    coverage = cv2.warpAffine(big.astype(np.float32) / 255, matrix, frame_size,
                              flags=cv2.INTER_LINEAR)
    return np.clip(coverage, 0, 1), 0, 0


def _draw_digit(sheet: np.ndarray, digit: np.ndarray, scene: Scene, rng, roi_size,
                strokes: str = 'pen') -> None:
    frame_size = sheet.shape[2], sheet.shape[1]
    centre_line = _centre_line(digit.tobytes())
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
    _apply_ink(window, coverage, scene.ink)


# --- light ---

def _grid(frame_size, roi_size):
    """x float32 [1, W] and y float32 [H, 1], relative to the ROI's centre."""
    cx, cy = _roi_centre(frame_size, roi_size)
    width, height = frame_size
    return (np.arange(width, dtype=np.float32)[None, :] - np.float32(cx),
            np.arange(height, dtype=np.float32)[:, None] - np.float32(cy))


def _along(frame_size, roi_size, angle, point=(0.0, 0.0)) -> np.ndarray:
    """Signed distance float32 [H, W] from the line through `point` (relative to the ROI's
    centre) whose normal points at `angle` radians."""
    x, y = _grid(frame_size, roi_size)
    return ((x - np.float32(point[0])) * np.float32(np.cos(angle))
            + (y - np.float32(point[1])) * np.float32(np.sin(angle)))


def _radius(frame_size, roi_size, centre=(0.0, 0.0)) -> np.ndarray:
    x, y = _grid(frame_size, roi_size)
    return np.sqrt((x - np.float32(centre[0])) ** 2 + (y - np.float32(centre[1])) ** 2)


def _per_roi(field: np.ndarray, roi_size: int) -> np.ndarray:
    """The light field scaled to a mean of 1 over the ROI, so scene.level is the ROI's paper."""
    top, left = (field.shape[0] - roi_size) // 2, (field.shape[1] - roi_size) // 2
    return (field / field[top:top + roi_size, left:left + roi_size].mean()).astype(np.float32)


def _gradient_light(frame_size, roi_size, rng, strength) -> np.ndarray:
    """Light changing linearly in a random direction by `strength` (share) per half ROI."""
    ramp = _along(frame_size, roi_size, rng.uniform(0, 2 * np.pi)) / (roi_size / 2)
    return _per_roi(np.maximum(1 + strength * ramp, 0.15), roi_size)


def _lamp_light(frame_size, roi_size, rng, reach) -> np.ndarray:
    """A lamp's light falling off as 1 / (1 + (r / reach)^2)^2 from a point near the ROI."""
    centre = rng.uniform(-120, 120, 2)
    return _per_roi(1 / (1 + (_radius(frame_size, roi_size, centre) / reach) ** 2) ** 2,
                    roi_size)


def _near_centre(rng, reach) -> np.ndarray:
    """A point (dx, dy) within `reach` px of the ROI's centre, uniform over the disc."""
    angle, radius = rng.uniform(0, 2 * np.pi), reach * np.sqrt(rng.random())
    return radius * np.array([np.cos(angle), np.sin(angle)])


def _edge_shadow(frame_size, roi_size, rng, softness, curve=0.0) -> np.ndarray:
    """Shadow share [0, 1] beyond an edge through a point near the ROI's centre; softness
    is the width of the penumbra in px, curve bends the edge (per px of its length)."""
    angle = rng.uniform(0, 2 * np.pi)
    distance = _along(frame_size, roi_size, angle, _near_centre(rng, 40))
    if curve:
        distance += np.float32(curve) * _along(frame_size, roi_size, angle + np.pi / 2) ** 2
    return np.clip(0.5 - distance / np.float32(softness), 0, 1)


def _band_shadow(frame_size, roi_size, rng) -> np.ndarray:
    """An arm's shadow: a band 50-140 px wide through a point near the ROI's centre."""
    distance = np.abs(_along(frame_size, roi_size, rng.uniform(0, np.pi), _near_centre(rng, 50)))
    half, softness = rng.uniform(25, 70), rng.uniform(4, 24)
    return np.clip((half - distance) / np.float32(softness) + 0.5, 0, 1)


def _hand_shadow(frame_size, roi_size, rng) -> np.ndarray:
    """A hand's shadow: palm, arm and fingers reaching over the ROI from one side, drawn at a
    quarter of the frame's resolution and softened by a penumbra. Sized for a digit written
    about 4 cm tall filling the ROI: a finger is 1.5-2 cm wide, its shadow wider."""
    width, height = frame_size
    quarter = 4
    small = np.zeros((height // quarter, width // quarter), np.uint8)
    centre = _roi_centre(frame_size, roi_size)
    direction = rng.uniform(0, 2 * np.pi)
    towards = -np.array([np.cos(direction), np.sin(direction)])
    palm = centre - towards * rng.uniform(200, 280)

    def at(point):
        return tuple(int(v) for v in np.round(point * 16 / quarter))

    axes = tuple(int(v * 16 / quarter) for v in rng.uniform((110, 90), (150, 120)))
    cv2.ellipse(small, at(palm), axes, np.rad2deg(direction), 0, 360, 255, -1, cv2.LINE_AA, 4)
    cv2.line(small, at(palm), at(palm - towards * 600), 255, int(rng.uniform(150, 220) / quarter),
             cv2.LINE_AA, 4)
    for spread in np.linspace(-0.5, 0.5, int(rng.integers(3, 5))) + rng.normal(0, 0.08):
        finger = np.array([[np.cos(spread), -np.sin(spread)], [np.sin(spread), np.cos(spread)]])
        tip = palm + (finger @ towards) * rng.uniform(200, 320)
        cv2.line(small, at(palm), at(tip), 255, int(rng.uniform(60, 90) / quarter), cv2.LINE_AA, 4)
    small = cv2.GaussianBlur(small.astype(np.float32) / 255, (0, 0), rng.uniform(1, 5))
    return cv2.resize(small, frame_size, interpolation=cv2.INTER_LINEAR)


def _shadowed(frame_size, roi_size, rng, shadow) -> np.ndarray:
    """Even-ish light darkened by 30-60 % under the shadow share `shadow`."""
    light = _gradient_light(frame_size, roi_size, rng, rng.uniform(0.0, 0.06))
    return light * (1 - np.float32(rng.uniform(0.3, 0.6)) * shadow)


def _glare(frame_size, roi_size, rng) -> np.ndarray:
    """Light reflected off glossy paper: an elongated bright patch over part of the ROI."""
    angle = rng.uniform(0, np.pi)
    point = _near_centre(rng, 70)
    u = _along(frame_size, roi_size, angle, point) / np.float32(rng.uniform(15, 45))
    v = _along(frame_size, roi_size, angle + np.pi / 2, point) / np.float32(rng.uniform(30, 90))
    return np.float32(rng.uniform(60, 150)) * np.exp(-(u * u + v * v) / 2)


# --- marks on the sheet ---

def _line_family(frame_size, roi_size, rng, spacing, angle) -> np.ndarray:
    """Parallel lines float32 [L, 2, 2] ((x, y) ends) `spacing` px apart, running at `angle`
    radians, at a random phase, spanning the frame."""
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    reach = float(np.hypot(*frame_size))
    count = int(reach / spacing) + 1
    offsets = (np.arange(-count, count + 1) + rng.random()) * spacing
    middles = _roi_centre(frame_size, roi_size) + offsets[:, None] * normal
    return np.stack([middles - reach * direction, middles + reach * direction], axis=1)


def _draw_lines(frame_size, lines: np.ndarray, thickness: int) -> np.ndarray:
    """Coverage float32 [H, W] of anti-aliased lines [L, 2, 2] of `thickness` px."""
    width, height = frame_size
    canvas = np.zeros((height, width), np.uint8)
    cv2.polylines(canvas, list(np.round(lines * 16).astype(np.int32)), False, 255,
                  int(thickness), cv2.LINE_AA, shift=4)
    return canvas.astype(np.float32) / 255


def _jitter(colour, rng, amount=0.04) -> tuple:
    return tuple(np.clip(np.asarray(colour) * rng.uniform(1 - amount, 1 + amount, 3), 0.02, 1))


def _light_blue_line(rng):
    return _jitter((0.95, 0.78, 0.6), rng, 0.06)


def _ruled_marks(frame_size, roi_size, rng, height, colour, margin=False) -> tuple:
    """Notebook lines every 40-80 % of the digit's height, 1-3 px, the sheet turned a few
    degrees; with a red margin line through or beside the ROI."""
    angle = np.deg2rad(rng.uniform(-4, 4))
    lines = _line_family(frame_size, roi_size, rng, height * rng.uniform(0.4, 0.8), angle)
    marks = [(_draw_lines(frame_size, lines, rng.integers(1, 4)), colour)]
    if margin:
        offset = rng.uniform(-90, 90)
        across = np.array([np.cos(angle), np.sin(angle)])
        centre = _roi_centre(frame_size, roi_size) + offset * across
        up = np.array([-across[1], across[0]]) * 1000
        marks.append((_draw_lines(frame_size, np.array([[centre - up, centre + up]]),
                                  rng.integers(1, 4)), _jitter((0.6, 0.58, 0.95), rng)))
    return tuple(marks)


def _squared_marks(frame_size, roi_size, rng, height, colour, major=False) -> tuple:
    """5 mm squares for a digit written 6-12 mm tall; `major`: every second line darker."""
    spacing = height * 5 / rng.uniform(6, 12)
    angle = np.deg2rad(rng.uniform(-4, 4))
    lines = np.concatenate([_line_family(frame_size, roi_size, rng, spacing, angle),
                            _line_family(frame_size, roi_size, rng, spacing, angle + np.pi / 2)])
    if not major:
        return ((_draw_lines(frame_size, lines, rng.integers(1, 3)), colour),)
    minor = _draw_lines(frame_size, lines[1::2], 1)
    strong = np.clip(np.asarray(colour) - 0.12, 0.3, 1)
    return ((minor, colour), (_draw_lines(frame_size, lines[::2], 2), tuple(strong)))


def _fibres(frame_size, rng) -> tuple:
    """Paper's mottled texture: its reflectance varying by a few per cent."""
    width, height = frame_size
    return ((_smooth_field((height, width), rng, 5), (1 - rng.uniform(0.03, 0.07),) * 3),)


def _faint_writing(frame_size, roi_size, rng, text, mirrored, level) -> tuple:
    """Writing seen through the sheet or left after erasing: blurred strokes that darken the
    paper by only 5-15 grey levels (a real stroke darkens it by a hundred or more)."""
    width, height = frame_size
    canvas = np.zeros((height, width), np.uint8)
    font = (cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SIMPLEX)[int(rng.integers(2))]
    scale = rng.uniform(2.5, 5.5) / max(1, len(text) ** 0.5)
    thickness = int(rng.integers(3, 10))
    (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
    cx, cy = _roi_centre(frame_size, roi_size) + _near_centre(rng, 40)
    cv2.putText(canvas, text, (int(cx - w / 2), int(cy + h / 2)), font, scale, 255, thickness,
                cv2.LINE_AA)
    if mirrored:
        canvas = cv2.flip(canvas, 1)
        canvas = np.roll(canvas, int(2 * cx - width + 1), axis=1)  # keep it over the ROI
    coverage = cv2.GaussianBlur(canvas.astype(np.float32), (0, 0), rng.uniform(1.2, 3.0))
    coverage /= max(float(coverage.max()), 1e-6)
    return ((coverage, (1 - rng.uniform(5, 15) / level,) * 3),)


# --- objects in front of the sheet ---

def _segment_distance(frame_size, roi_size, start, end) -> tuple:
    """Distance float32 [H, W] of each pixel from the segment start-end (relative to the ROI's
    centre), and the position along it (0 at start, 1 at end)."""
    x, y = _grid(frame_size, roi_size)
    axis = np.asarray(end, np.float32) - np.asarray(start, np.float32)
    dx, dy = x - np.float32(start[0]), y - np.float32(start[1])
    along = np.clip((dx * axis[0] + dy * axis[1]) / np.float32(axis @ axis), 0, 1)
    return np.sqrt((dx - along * axis[0]) ** 2 + (dy - along * axis[1]) ** 2), along


def _finger(frame_size, roi_size, rng, side, width, skin, tip=None) -> tuple:
    """A finger from outside the frame on `side` (angle in radians from the ROI's centre)
    to a tip (dx, dy from the ROI's centre; default: in the ROI): a rounded cylinder, shaded,
    slightly out of focus, maybe a nail."""
    tip = _near_centre(rng, 55) if tip is None else np.asarray(tip, np.float64)
    base = tip + 900 * np.array([np.cos(side), np.sin(side)])
    distance, along = _segment_distance(frame_size, roi_size, base, tip)
    radius = np.float32(width / 2)
    alpha = np.clip((radius - distance) / np.float32(rng.uniform(1.5, 4)) + 0.5, 0, 1)
    roundness = np.sqrt(np.clip(1 - (distance / radius) ** 2, 0, 1))
    colour = np.asarray(skin, np.float32)[:, None, None] * (0.55 + 0.45 * roundness)
    if rng.random() < 0.5:  # the nail, where the back of the finger faces the camera
        from_nail = ((1 - along) * 900 - width * 0.45) / (width * 0.4)
        nail = from_nail ** 2 + (distance / (radius * 0.6)) ** 2 < 1
        for plane, pale in zip(colour, (0.8, 0.8, 0.9)):
            plane[nail] = plane[nail] * 0.4 + 0.6 * pale
    return alpha, colour


def _table_cover(frame_size, roi_size, rng, colour, grain) -> tuple:
    """The table beyond the sheet's edge, which runs through a point near the ROI's centre."""
    angle = rng.uniform(0, 2 * np.pi)
    distance = _along(frame_size, roi_size, angle, _near_centre(rng, 60))
    alpha = np.clip(distance + 0.5, 0, 1)
    table = np.empty((3, *alpha.shape), np.float32)
    table[:] = np.asarray(_jitter(colour, rng, 0.1), np.float32)[:, None, None]
    if grain:  # wood: stripes along the grain
        stripes = np.sin(_along(frame_size, roi_size, rng.uniform(0, np.pi)) / 3.0
                         + 3 * _smooth_field(alpha.shape, rng, 40))
        table *= 1 + np.float32(0.15) * stripes
    return alpha, table, distance


# --- the camera ---

@functools.cache
def _normal_table() -> np.ndarray:
    """The 256 quantiles of a standard normal: byte noise through it is Gaussian enough and
    several times faster to draw than rng.standard_normal."""
    return np.array([NormalDist().inv_cdf((i + 0.5) / 256) for i in range(256)], np.float32)


def _gaussian_noise(rng, shape: tuple) -> np.ndarray:
    """Standard normal noise, float32 of `shape`."""
    raw = np.frombuffer(rng.bytes(int(np.prod(shape))), np.uint8)
    # As a 2-D image: OpenCV reads a 3-D array's last axis as channels, at most 512 of them.
    return cv2.LUT(raw.reshape(-1, shape[-1]), _normal_table()).reshape(shape)


def _optics(sheet: np.ndarray, scene: Scene) -> np.ndarray:
    """The lens's blur of the light, float32 [3, H, W] -> float32 [3, H, W]."""
    if scene.kernel is None and scene.blur <= 0:
        return sheet
    blurred = np.empty_like(sheet)
    for plane, out in zip(sheet, blurred):
        if scene.kernel is not None:
            cv2.filter2D(plane, -1, scene.kernel, dst=out, borderType=cv2.BORDER_REFLECT)
        else:
            cv2.GaussianBlur(plane, (0, 0), scene.blur, dst=out)
        if scene.focus is not None:  # in focus where focus is 0
            sharp = cv2.GaussianBlur(plane, (0, 0), 0.5)
            out[:] = sharp + scene.focus * (out - sharp)
    return blurred


def _sensor(image: np.ndarray, scene: Scene, rng) -> np.ndarray:
    """Sampling and noise: float32 [3, H, W] of light -> uint8 [3, h, w], in place."""
    if scene.resolution < 1:
        image = np.stack([cv2.resize(plane, None, fx=scene.resolution, fy=scene.resolution,
                                     interpolation=cv2.INTER_AREA) for plane in image])
    noise = _gaussian_noise(rng, image.shape)
    noise *= np.float32(scene.noise)
    image += noise
    if scene.chroma_noise:
        size = image.shape[2] // 4, image.shape[1] // 4
        for plane, blotches in zip(image, _gaussian_noise(rng, (3, size[1], size[0]))):
            plane += cv2.resize(blotches * np.float32(scene.chroma_noise), plane.shape[::-1])
    image += 0.5
    return np.clip(image, 0, 255, out=image).astype(np.uint8)


def _camera(sheet: np.ndarray, scene: Scene, rng) -> np.ndarray:
    """Lens blur, sensor noise, the phone's processing and JPEG: float32 [3, H, W] -> bgr8."""
    frame = cv2.merge(list(_sensor(_optics(sheet, scene), scene, rng)))
    if scene.denoise:
        frame = cv2.medianBlur(frame, scene.denoise)
    if scene.sharpen:
        soft = cv2.GaussianBlur(frame, (0, 0), 1.5)
        frame = cv2.addWeighted(frame, 1 + scene.sharpen, soft, -scene.sharpen, 0)
    if scene.resolution < 1:
        frame = cv2.resize(frame, sheet.shape[:0:-1], interpolation=cv2.INTER_LINEAR)
    _, jpeg = cv2.imencode('.jpg', frame, [cv2.IMWRITE_JPEG_QUALITY, int(scene.jpeg)])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def _frame(digit: Optional[np.ndarray], scene: Scene, rng, frame_size, roi_size,
           strokes: str = 'pen', camera_rng=None) -> np.ndarray:
    """The frame of a scene: the sheet, its marks and ink, tilt, objects before it, light,
    camera. digit None: an empty sheet. strokes, camera_rng: see render_condition."""
    width, height = frame_size
    # Planes [3, H, W]: numpy works fast along whole planes, slowly across a last axis of 3.
    sheet = np.empty((3, height, width), np.float32)
    sheet[:] = np.asarray(scene.paper, np.float32)[:, None, None]
    for coverage, colour in scene.marks:
        _apply_ink(sheet, coverage, colour)
    if digit is not None:
        _draw_digit(sheet, digit, scene, rng, roi_size, strokes)
    if scene.warp is not None:
        sheet = np.stack([cv2.warpPerspective(plane, scene.warp, frame_size,
                                              flags=cv2.INTER_LINEAR,
                                              borderMode=cv2.BORDER_REFLECT_101)
                          for plane in sheet])
    for alpha, colour in scene.covers:
        sheet += alpha * (colour - sheet)
    lit_paper = float(GREY_WEIGHTS @ (np.asarray(scene.paper) * scene.tint))
    exposure = scene.level / lit_paper
    for plane, tint in zip(sheet, scene.tint):
        plane *= np.float32(exposure * tint) if scene.light is None else (
            scene.light * np.float32(exposure * tint))
        if scene.glare is not None:
            plane += scene.glare
    if camera_rng is None:
        return _camera(sheet, scene, rng)
    return _camera(_shaken(sheet, camera_rng), scene, camera_rng)


SHAKE_PIXELS, SHAKE_DEGREES = 2.0, 0.5  # a held sheet's movement from one frame to the next


def _shaken(sheet: np.ndarray, rng) -> np.ndarray:
    """The lit scene float32 [3, H, W] moved as a hand-held sheet moves between two frames
    of a video: up to SHAKE_PIXELS across and SHAKE_DEGREES round."""
    height, width = sheet.shape[1:]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2),
                                     rng.uniform(-SHAKE_DEGREES, SHAKE_DEGREES), 1.0)
    matrix[:, 2] += rng.uniform(-SHAKE_PIXELS, SHAKE_PIXELS, 2)
    return np.stack([cv2.warpAffine(plane, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT_101) for plane in sheet])


# --- scenes: the baseline, and each condition's variants ---

def _pen_width(pen: Pen, height: float, rng) -> float:
    """The pen's width, seen at this digit height: farther away, thinner."""
    return max(rng.uniform(*pen.width) * np.clip(height / REFERENCE_HEIGHT, 0.45, 1.6), 1.2)


def _ink(pen: Pen, rng) -> tuple:
    if pen.texture == 'graphite':  # pencil: grey, from hard and faint to soft and dark
        return (rng.uniform(0.42, 0.75),) * 3
    return _jitter(pen.colour, rng, 0.12)


def _scene(rng, frame_size, roi_size, **changes) -> Scene:
    """The baseline, with `changes`: white paper, even-ish light, a dark everyday pen, the
    digit 80-170 px tall inside the ROI, mild blur, sensor noise and JPEG 60-95. Only what is
    not changed is drawn from rng."""
    defaults = dict(
        paper=lambda: _jitter(PAPERS['white'], rng, 0.03),
        level=lambda: rng.uniform(170, 230),
        tint=lambda: tuple(rng.uniform(0.97, 1.03, 3)),
        pen=lambda: PENS[EVERYDAY_PENS[int(rng.integers(len(EVERYDAY_PENS)))]],
        height=lambda: rng.uniform(80, 170),
        offset=lambda: None,
        angle=lambda: rng.uniform(-10, 10),
        slant=lambda: rng.uniform(-0.2, 0.2),
        aspect=lambda: rng.uniform(0.85, 1.15),
        antialias=lambda: True,
        marks=lambda: (),
        covers=lambda: (),
        light=lambda: _gradient_light(frame_size, roi_size, rng, rng.uniform(0.0, 0.05)),
        glare=lambda: None,
        warp=lambda: None,
        blur=lambda: rng.uniform(0.4, 1.0),
        kernel=lambda: None,
        focus=lambda: None,
        resolution=lambda: 1.0,
        noise=lambda: rng.uniform(1.5, 4.0),
        chroma_noise=lambda: 0.0,
        denoise=lambda: 0,
        sharpen=lambda: 0.0,
        jpeg=lambda: int(rng.integers(60, 96)),
    )
    values = {key: changes[key] if key in changes else make() for key, make in defaults.items()}
    values['ink'] = changes.get('ink') or _ink(values['pen'], rng)
    values['pen_width'] = changes.get('pen_width') or _pen_width(values['pen'], values['height'],
                                                                 rng)
    return Scene(**values)


def _offset(rng, low, high, directions=None) -> tuple:
    """(dx, dy) low-high px from the ROI's centre, towards one of `directions` (radians,
    +-15 degrees) or anywhere."""
    if directions is None:
        angle = rng.uniform(0, 2 * np.pi)
    else:
        angle = directions[int(rng.integers(len(directions)))] + np.deg2rad(rng.uniform(-15, 15))
    radius = rng.uniform(low, high)
    return radius * np.cos(angle), radius * np.sin(angle)


def _tilt(frame_size, roi_size, pitch, yaw, roll, focal) -> np.ndarray:
    """Homography of the sheet turned by pitch (about the horizontal axis), yaw (vertical) and
    roll (in plane), degrees, about the ROI's centre, seen through a lens of `focal` px."""
    a, b, c = np.deg2rad([pitch, yaw, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    width, height = frame_size
    centre = _roi_centre(frame_size, roi_size)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64) - centre
    points = np.column_stack([corners, np.zeros(4)]) @ (rz @ ry @ rx).T + [0, 0, focal]
    seen = focal * points[:, :2] / points[:, 2:] + centre
    return cv2.getPerspectiveTransform((corners + centre).astype(np.float32),
                                       seen.astype(np.float32))


def _path_kernel(path: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Blur kernel float32 [K, K] of a camera moving along `path` float [N, 2] (densely
    sampled), spending `weights` [N] of the exposure at each point; splatted bilinearly."""
    path = path - (path.min(axis=0) + path.max(axis=0)) / 2
    size = 2 * int(np.ceil(np.abs(path).max())) + 3
    position = path + size // 2
    corner = np.floor(position).astype(int)
    fraction = position - corner
    kernel = np.zeros((size, size), np.float64)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        share = np.abs(1 - dx - fraction[:, 0]) * np.abs(1 - dy - fraction[:, 1])
        np.add.at(kernel, (corner[:, 1] + dy, corner[:, 0] + dx), weights * share)
    return (kernel / kernel.sum()).astype(np.float32)


def _straight_path(rng, length) -> np.ndarray:
    angle = rng.uniform(0, np.pi)
    t = np.linspace(-0.5, 0.5, int(length * 4) + 2)[:, None]
    return t * length * np.array([np.cos(angle), np.sin(angle)])


def _shaky_path(rng, length) -> np.ndarray:
    """A hand's shake: the direction turning smoothly and randomly along the way."""
    steps = int(length * 4) + 2
    turns = np.cumsum(rng.normal(0, 1, steps))
    heading = rng.uniform(0, 2 * np.pi) + 2.5 * (turns - turns.mean()) / max(np.ptp(turns), 1e-6)
    moves = np.column_stack([np.cos(heading), np.sin(heading)]) * (length / steps)
    return np.cumsum(moves, axis=0)


def _disk_kernel(radius: float) -> np.ndarray:
    """A defocused lens's kernel: a uniform disc of `radius` px, anti-aliased."""
    size = 2 * int(np.ceil(radius)) + 1
    fine = (np.arange(size * 4) + 0.5) / 4 - size / 2
    inside = (fine[:, None] ** 2 + fine[None, :] ** 2 <= radius ** 2).astype(np.float32)
    kernel = inside.reshape(size, 4, size, 4).mean(axis=(1, 3))
    return kernel / kernel.sum()


# Each maker: (rng, frame_size, roi_size) -> Scene. The digit-free scenes serve render_blank.

def _plain_gradient(rng, size, roi):
    pen = PENS[('black_ballpoint', 'blue_ballpoint')[int(rng.integers(2))]]
    return _scene(rng, size, roi, pen=pen)


def _plain_lamp(rng, size, roi):
    return _scene(rng, size, roi, pen=PENS['felt_pen'],
                  light=_lamp_light(size, roi, rng, rng.uniform(600, 1000)))


def _plain_fibres(rng, size, roi):
    return _scene(rng, size, roi, pen=PENS['blue_ballpoint'], marks=_fibres(size, rng))


def _held_close(low, high, offset_low, offset_high):
    def make(rng, size, roi):
        return _scene(rng, size, roi, height=rng.uniform(low, high),
                      offset=_offset(rng, offset_low, offset_high))
    return make


def _held_close_clipped(rng, size, roi):
    """Held so close the frame's top or bottom edge cuts the digit."""
    dy = rng.uniform(20, 30) * (1 if rng.random() < 0.5 else -1)
    return _scene(rng, size, roi, height=rng.uniform(330, 420), offset=(rng.uniform(-10, 10), dy))


def _with_shadow(shadow_maker):
    def make(rng, size, roi):
        return _scene(rng, size, roi, light=_shadowed(size, roi, rng,
                                                      shadow_maker(size, roi, rng)))
    return make


def _hard_edge(size, roi, rng):
    return _edge_shadow(size, roi, rng, rng.uniform(1, 3))


def _penumbra(size, roi, rng):
    return _edge_shadow(size, roi, rng, rng.uniform(15, 60), rng.uniform(-1, 1) * 1.5e-3)


def _curved_edge(size, roi, rng):
    return _edge_shadow(size, roi, rng, rng.uniform(3, 25), rng.choice([-1, 1]) * 3e-3)


def _covering(size, roi, rng):
    """A shadow over the whole ROI, its edge outside the ROI."""
    angle = rng.uniform(0, 2 * np.pi)
    edge = rng.uniform(roi / 2 * 1.5, roi / 2 * 1.5 + 60)
    distance = _along(size, roi, angle) - np.float32(edge)
    return np.clip(0.5 - distance / np.float32(rng.uniform(5, 40)), 0, 1)


def _off_centre(directions):
    def make(rng, size, roi):
        return _scene(rng, size, roi, height=rng.uniform(80, 150),
                      offset=_offset(rng, 30, 60, directions))
    return make


def _dim_neutral(rng, size, roi):
    return _scene(rng, size, roi, level=rng.uniform(75, 105), noise=rng.uniform(4, 10))


def _dim_warm(rng, size, roi):
    return _scene(rng, size, roi, level=rng.uniform(75, 105), tint=_jitter(WARM_LIGHT, rng),
                  light=_lamp_light(size, roi, rng, rng.uniform(700, 1100)),
                  noise=rng.uniform(4, 8))


def _dim_colour_noise(rng, size, roi):
    return _scene(rng, size, roi, level=rng.uniform(75, 105), noise=rng.uniform(4, 8),
                  chroma_noise=rng.uniform(3, 6))


def _dim_denoised(rng, size, roi):
    """A phone's noise reduction smearing a noisy dark frame, then strong compression."""
    return _scene(rng, size, roi, level=rng.uniform(75, 105), noise=rng.uniform(6, 10),
                  denoise=int(rng.choice([3, 5])), jpeg=int(rng.integers(60, 76)))


def _steep_gradient(rng, size, roi):
    return _scene(rng, size, roi,
                  light=_gradient_light(size, roi, rng, rng.uniform(0.2, 0.4)))


def _vignette(rng, size, roi):
    return _scene(rng, size, roi, light=_lamp_light(size, roi, rng, rng.uniform(220, 380)))


def _spotlight(rng, size, roi):
    """A desk lamp's pool of light, its rim across the ROI."""
    floor, spread = rng.uniform(0.3, 0.55), rng.uniform(70, 160)
    radius = _radius(size, roi, _near_centre(rng, 120))
    light = floor + (1 - floor) * np.exp(-(radius / np.float32(spread)) ** 2 / 2)
    return _scene(rng, size, roi, light=_per_roi(light, roi))


def _glossy(rng, size, roi):
    return _scene(rng, size, roi, glare=_glare(size, roi, rng))


def _tinted(paper):
    def make(rng, size, roi):
        colour = _jitter(PAPERS[paper], rng, 0.04)
        # Exposed for the room, not the sheet: tinted paper stays darker than white.
        level = min(float(GREY_WEIGHTS @ colour) * rng.uniform(200, 250), 235.0)
        return _scene(rng, size, roi, paper=colour, level=level)
    return make


def _with_pen(name):
    def make(rng, size, roi):
        return _scene(rng, size, roi, pen=PENS[name])
    return make


def _thin_sharp(antialias, noise, sharpen):
    def make(rng, size, roi):
        return _scene(rng, size, roi, pen=PENS['black_ballpoint'] if rng.random() < 0.6
                      else PENS['blue_ballpoint'], pen_width=rng.uniform(1.5, 3.0),
                      antialias=antialias, blur=0.0, noise=rng.uniform(*noise),
                      sharpen=rng.uniform(0.8, 1.5) if sharpen else 0.0,
                      jpeg=int(rng.integers(85, 96)))
    return make


def _gaussian_defocus(rng, size, roi):
    return _scene(rng, size, roi, blur=rng.uniform(1.5, 3.5))


def _disk_defocus(rng, size, roi):
    # A disc of radius r has a standard deviation of r / 2 along each axis.
    return _scene(rng, size, roi, kernel=_disk_kernel(2 * rng.uniform(1.5, 3.5)))


def _depth_of_field(rng, size, roi):
    """The sheet's far side out of focus: the blur growing across the frame."""
    ramp = _along(size, roi, rng.uniform(0, 2 * np.pi)) / np.float32(rng.uniform(150, 400))
    return _scene(rng, size, roi, blur=rng.uniform(2.0, 4.0), focus=np.clip(ramp + 0.5, 0, 1))


def _motion(path_maker, weighting):
    def make(rng, size, roi):
        path = path_maker(rng, rng.uniform(5, 25))
        t = np.linspace(0, 1, len(path))
        weights = np.ones_like(t) if weighting == 'even' else 0.15 + t ** rng.uniform(1, 3)
        return _scene(rng, size, roi, kernel=_path_kernel(path, weights))
    return make


def _lined(draw_marks, colour_maker, option):
    """A scene on printed paper: draw_marks is _ruled_marks (option: the margin line) or
    _squared_marks (option: major lines)."""
    def make(rng, size, roi):
        height = rng.uniform(80, 170)
        marks = draw_marks(size, roi, rng, height, colour_maker(rng), option)
        return _scene(rng, size, roi, height=height, marks=marks)
    return make


def _grey_line(rng):
    return (rng.uniform(0.7, 0.85),) * 3


def _tilted(pitch, yaw, roll):
    def make(rng, size, roi):
        angles = [rng.uniform(*span) * rng.choice([-1, 1]) for span in (pitch, yaw, roll)]
        return _scene(rng, size, roi, warp=_tilt(size, roi, *angles, rng.uniform(500, 900)))
    return make


def _far_away(pens, resolution):
    def make(rng, size, roi):
        return _scene(rng, size, roi, height=rng.uniform(35, 60),
                      offset=tuple(_near_centre(rng, 40)), pen=PENS[rng.choice(pens)],
                      resolution=resolution,
                      jpeg=int(rng.integers(60, 81 if resolution < 1 else 96)))
    return make


def _paper_edge(colour, grain):
    def make(rng, size, roi):
        alpha, table, distance = _table_cover(size, roi, rng, colour, grain)
        # The sheet, held above the table, casts a soft shadow along its edge.
        light = _gradient_light(size, roi, rng, rng.uniform(0.0, 0.08))
        light *= 1 - np.float32(0.4) * np.exp(-np.maximum(distance, 0) / rng.uniform(5, 25))
        return _scene(rng, size, roi, covers=((alpha, table),), light=light)
    return make


def _printed_rule(rng, size, roi):
    """One or two dark printed rules through the ROI."""
    angle = rng.uniform(0, np.pi)
    lines = _line_family(size, roi, rng, rng.uniform(40, 120), angle)
    middle = len(lines) // 2
    chosen = lines[middle:middle + int(rng.integers(1, 3))]
    return _scene(rng, size, roi, marks=((_draw_lines(size, chosen, rng.integers(1, 5)),
                                          (rng.uniform(0.2, 0.5),) * 3),))


def _table_grid(rng, size, roi):
    """A printed form's table: dark rules both ways, cells larger than the ROI's half."""
    angle = np.deg2rad(rng.uniform(-5, 5))
    lines = np.concatenate([_line_family(size, roi, rng, rng.uniform(110, 180), a)
                            for a in (angle, angle + np.pi / 2)])
    return _scene(rng, size, roi, marks=((_draw_lines(size, lines, rng.integers(1, 4)),
                                          (rng.uniform(0.25, 0.55),) * 3),))


def _heavy_ruled(rng, size, roi):
    lines = _line_family(size, roi, rng, rng.uniform(30, 60), np.deg2rad(rng.uniform(-5, 5)))
    return _scene(rng, size, roi, marks=((_draw_lines(size, lines, rng.integers(2, 4)),
                                          (rng.uniform(0.4, 0.6),) * 3),))


def _show_through(text_maker, mirrored):
    def make(rng, size, roi):
        level = rng.uniform(170, 230)
        marks = _faint_writing(size, roi, rng, text_maker(rng), mirrored, level)
        return _scene(rng, size, roi, level=level, marks=marks)
    return make


def _digit_text(rng):
    return str(int(rng.integers(10)))


def _word_text(rng):
    return ' '.join(str(v) for v in rng.integers(0, 100, 2)) + ' = ?'


def _light_under_fingers(covers, size, roi, rng, drift, depth) -> np.ndarray:
    """Even-ish light darkened by up to `depth` under the soft shadow the fingers (covers)
    cast, offset by up to `drift` px."""
    shadow = sum(cv2.GaussianBlur(alpha, (0, 0), 8) for alpha, _ in covers)
    shift = np.float32([[1, 0, rng.uniform(-drift, drift)], [0, 1, rng.uniform(5, drift)]])
    shadow = cv2.warpAffine(np.minimum(shadow, 1), shift, size)
    return _gradient_light(size, roi, rng, rng.uniform(0.0, 0.08)) * (1 - depth * shadow)


def _fingers(sides, count, widths):
    def make(rng, size, roi):
        side = sides[int(rng.integers(len(sides)))] + np.deg2rad(rng.uniform(-25, 25))
        skin = _jitter(SKINS[int(rng.integers(len(SKINS)))], rng, 0.08)
        covers = []
        for _ in range(count):
            alpha, colour = _finger(size, roi, rng, side, rng.uniform(*widths), skin)
            covers.append((alpha, colour))
        light = _light_under_fingers(covers, size, roi, rng, 25, 0.35)
        return _scene(rng, size, roi, covers=tuple(covers), light=light)
    return make


def _hand(sides, count, widths, reach):
    """Fingers holding the sheet or pointing: from outside the frame on one of `sides`,
    their tips `reach` (low, high) px from the ROI's centre, beside or at the digit."""
    def make(rng, size, roi):
        side = sides[int(rng.integers(len(sides)))] + np.deg2rad(rng.uniform(-20, 20))
        skin = _jitter(SKINS[int(rng.integers(len(SKINS)))], rng, 0.08)
        covers = []
        for _ in range(count):
            spread = side + np.deg2rad(rng.uniform(-15, 15))
            tip = rng.uniform(*reach) * np.array([np.cos(spread), np.sin(spread)])
            covers.append(_finger(size, roi, rng, side, rng.uniform(*widths), skin, tip))
        light = _light_under_fingers(covers, size, roi, rng, 20, 0.3)
        return _scene(rng, size, roi, covers=tuple(covers), light=light,
                      height=rng.uniform(80, 140))
    return make


# Broad strokes of light or coloured ink: felt-tips and markers whose ink is 25-60 % darker
# than the paper (B, G, R transmittance), 10-18 px wide on a digit 200 px tall.
BROAD_LIGHT_PENS = {
    'red_felt_tip': Pen((0.55, 0.5, 0.95), (10.0, 18.0), 'felt'),
    'green_felt_tip': Pen((0.6, 0.8, 0.55), (10.0, 18.0), 'felt'),
    'orange_marker': Pen((0.35, 0.7, 0.98), (10.0, 18.0), 'felt'),
    'soft_pencil': Pen((0.6, 0.6, 0.6), (10.0, 16.0), 'felt'),  # laid on heavily: no grain
    'drying_marker': Pen((0.62, 0.6, 0.58), (10.0, 18.0), 'ballpoint'),
}


def _broad_light(name):
    def make(rng, size, roi):
        pen = BROAD_LIGHT_PENS[name]
        height = rng.uniform(80, 140)
        # The ink's darkness (1 - grey transmittance) is drawn from 25-60 %, before the
        # pen's texture (graphite's grain lightens a soft pencil further).
        darkness = rng.uniform(0.25, 0.6)
        grey = float(GREY_WEIGHTS @ np.asarray(pen.colour))
        ink = tuple(float(np.clip(1 - (1 - c) * darkness / (1 - grey), 0, 1))
                    for c in pen.colour)
        width = rng.uniform(*pen.width) * height / REFERENCE_HEIGHT * 1.6
        return _scene(rng, size, roi, pen=pen, ink=ink, height=height,
                      pen_width=float(np.clip(width, 10, 18)))
    return make


_LEFT, _RIGHT, _UP, _DOWN = np.pi, 0.0, -np.pi / 2, np.pi / 2
_DIAGONALS = (np.pi / 4, 3 * np.pi / 4, 5 * np.pi / 4, 7 * np.pi / 4)

_PLAIN = {'ballpoint_gradient': _plain_gradient, 'felt_pen_lamp': _plain_lamp,
          'blue_pen_fibres': _plain_fibres}
_RULED = {'blue_lines': _lined(_ruled_marks, _light_blue_line, False),
          'grey_lines': _lined(_ruled_marks, _grey_line, False),
          'red_margin': _lined(_ruled_marks, _light_blue_line, True)}
_SQUARED = {'grey_grid': _lined(_squared_marks, _grey_line, False),
            'blue_grid': _lined(_squared_marks, _light_blue_line, False),
            'major_minor': _lined(_squared_marks, _grey_line, True)}
_DIM = {'neutral': _dim_neutral, 'warm_lamp': _dim_warm, 'colour_noise': _dim_colour_noise,
        'denoised': _dim_denoised}
_TINTED = {paper: _tinted(paper) for paper in ('grey', 'cream', 'yellow', 'blue', 'green')}

# Fingers at the sheet's edges (tips outside the digit) and a finger pointing at the digit.
_HAND = {'thumb_below': _hand((_DOWN,), 1, (80, 120), (105, 150)),
         'fingers_side': _hand((_LEFT, _RIGHT), 2, (55, 85), (100, 140)),
         'pointing': _hand((_DOWN, _RIGHT, _LEFT), 1, (55, 85), (70, 100))}

_CONDITION_SCENES = {
    'plain': _PLAIN,
    'held_close': {'centred': _held_close(200, 260, 0, 8),
                   'shifted': _held_close(220, 320, 10, 30),
                   'clipped': _held_close_clipped},
    'shadow': {'hard_edge': _with_shadow(_hard_edge), 'penumbra': _with_shadow(_penumbra),
               'hand': _with_shadow(_hand_shadow), 'arm_band': _with_shadow(_band_shadow)},
    'off_centre': {'sideways': _off_centre((_LEFT, _RIGHT)),
                   'vertical': _off_centre((_UP, _DOWN)),
                   'diagonal': _off_centre(_DIAGONALS)},
    'dim': _DIM,
    'uneven_light': {'steep_gradient': _steep_gradient, 'vignette': _vignette,
                     'spotlight': _spotlight, 'glare': _glossy},
    'tinted_paper': _TINTED,
    'pens': {name: _with_pen(name) for name in ('pencil', 'blue_ballpoint', 'red_ballpoint',
                                                'green_ballpoint', 'felt_pen', 'marker')},
    'thin_sharp': {'aliased': _thin_sharp(False, (1.5, 3.0), False),
                   'downscaled': _thin_sharp(True, (1.0, 2.0), False),
                   'oversharpened': _thin_sharp(True, (1.5, 3.0), True)},
    'blurred': {'gaussian': _gaussian_defocus, 'disk': _disk_defocus,
                'depth_of_field': _depth_of_field},
    'motion_blur': {'straight': _motion(_straight_path, 'even'),
                    'shaky': _motion(_shaky_path, 'even'),
                    'slowing': _motion(_straight_path, 'ramp')},
    'ruled_paper': _RULED,
    'squared_paper': _SQUARED,
    'tilted': {'pitch': _tilted((15, 30), (0, 0), (0, 0)),
               'yaw': _tilted((0, 0), (15, 30), (0, 0)),
               'compound': _tilted((5, 25), (5, 25), (0, 20))},
    'far_away': {'ballpoint': _far_away(('black_ballpoint', 'blue_ballpoint'), 1.0),
                 'felt_pen': _far_away(('felt_pen', 'marker'), 1.0),
                 'low_resolution': _far_away(EVERYDAY_PENS, 0.5)},
    'broad_light_ink': {name: _broad_light(name) for name in BROAD_LIGHT_PENS},
    'hand_holding': _HAND,
}

_BLANK_SCENES = {
    'plain': dict(zip(('gradient', 'lamp', 'fibres'), _PLAIN.values())),
    'ruled': _RULED,
    'squared': _SQUARED,
    'shadowed': {'hand': _with_shadow(_hand_shadow), 'arm_band': _with_shadow(_band_shadow),
                 'covering': _with_shadow(_covering)},
    'dim': _DIM,
    'tinted': _TINTED,
    'paper_edge': {'dark_table': _paper_edge((0.12, 0.12, 0.14), False),
                   'light_table': _paper_edge((0.62, 0.66, 0.7), False),
                   'wood_table': _paper_edge((0.15, 0.28, 0.45), True)},
    'shadow_edge': {'hard': _with_shadow(_hard_edge), 'soft': _with_shadow(_penumbra),
                    'curved': _with_shadow(_curved_edge)},
    'printed_lines': {'single_rule': _printed_rule, 'table_grid': _table_grid,
                      'heavy_ruled': _heavy_ruled},
    'show_through': {'mirrored_digit': _show_through(_digit_text, True),
                     'mirrored_text': _show_through(_word_text, True),
                     'erased_digit': _show_through(_digit_text, False)},
    'finger': {'thumb_bottom': _fingers((_DOWN,), 1, (90, 130)),
               'finger_side': _fingers((_LEFT, _RIGHT), 1, (60, 95)),
               'two_fingers': _fingers((_UP, _DOWN), 2, (60, 90))},
    'hand_holding': {'thumb_below': _HAND['thumb_below'], 'fingers_side': _HAND['fingers_side'],
                     'pointing': _hand((_DOWN, _RIGHT, _LEFT), 1, (55, 85), (0, 60))},
}

CONDITIONS = {name: tuple(variants) for name, variants in _CONDITION_SCENES.items()}
BLANK_KINDS = {name: tuple(variants) for name, variants in _BLANK_SCENES.items()}


def _choose(table: dict, what: str, name: str, variant: Optional[str], rng) -> tuple:
    """The scene maker and variant name for `name` (a condition or blank kind)."""
    if name not in table:
        raise ValueError(f'unknown {what} {name!r}; choose from {", ".join(table)}')
    variants = table[name]
    if variant is None:
        variant = list(variants)[int(rng.integers(len(variants)))]
    elif variant not in variants:
        raise ValueError(f'{what} {name!r} has no variant {variant!r}; '
                         f'choose from {", ".join(variants)}')
    return variants[variant], variant


def _check_geometry(frame_size, roi_size) -> tuple:
    width, height = check_frame_size(frame_size)
    if not 0 < roi_size <= min(width, height):
        raise ValueError(f'roi_size must be 1 to {min(width, height)}, got {roi_size}')
    return width, height


STROKES = ('pen', 'mnist')


def render_condition(condition: str, digit: np.ndarray, rng: np.random.Generator,
                     variant: Optional[str] = None, frame_size: tuple = FRAME_SIZE,
                     roi_size: int = ROI_SIZE, strokes: str = 'pen',
                     camera_rng: Optional[np.random.Generator] = None) -> tuple:
    """One camera frame of an MNIST digit under a condition of CONDITIONS.

    digit: uint8 [28, 28], white on black. variant: one of CONDITIONS[condition], or None to
    let rng choose. strokes: 'pen' redraws the digit's centre line with the scene's pen;
    'mnist' draws MNIST's own strokes scaled up (the writer's own stroke shapes and widths,
    so the redrawing's cost does not cap the measure). camera_rng: the frame's own sensor
    noise and the small movement of the held sheet; frames drawn from generators in the same
    state (the same scene) with different camera_rngs are consecutive frames of a video.
    Returns (frame bgr8 uint8 [H, W, 3], the variant's name); the same rng state (and
    camera_rng state) gives the same frame. ValueError for an unknown
    condition or variant, or a digit that is not a uint8 28x28 image with ink.
    """
    digit = _check_digit(digit)
    frame_size = _check_geometry(frame_size, roi_size)
    if strokes not in STROKES:
        raise ValueError(f'strokes must be one of {STROKES}, got {strokes!r}')
    make, variant = _choose(_CONDITION_SCENES, 'condition', condition, variant, rng)
    scene = make(rng, frame_size, roi_size)
    return _frame(digit, scene, rng, frame_size, roi_size, strokes, camera_rng), variant


def render_blank(kind: str, rng: np.random.Generator, variant: Optional[str] = None,
                 frame_size: tuple = FRAME_SIZE, roi_size: int = ROI_SIZE,
                 camera_rng: Optional[np.random.Generator] = None) -> tuple:
    """A camera frame with no digit in it, of a kind of BLANK_KINDS: (bgr8 uint8 [H, W, 3],
    the variant's name). Same rules as render_condition."""
    frame_size = _check_geometry(frame_size, roi_size)
    make, variant = _choose(_BLANK_SCENES, 'blank kind', kind, variant, rng)
    return _frame(None, make(rng, frame_size, roi_size), rng, frame_size, roi_size,
                  camera_rng=camera_rng), variant


# --- photos ---

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def load_photo(path) -> np.ndarray:
    """A photo as bgr8 uint8 [H, W, 3]: read as cv2.imread(path, IMREAD_COLOR) does, which
    applies a JPEG's EXIF rotation, except that a PNG's transparency is composited on white.
    ValueError if the file cannot be read as an image."""
    try:
        with open(path, 'rb') as f:
            is_png = f.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE
    except OSError as exc:
        raise ValueError(f'cannot read an image from {path}: {exc.strerror}') from exc
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED if is_png else cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f'cannot read an image from {path}')
    if is_png:
        image = _composite_on_white(image)
    return image


def _composite_on_white(image: np.ndarray) -> np.ndarray:
    """bgr8 from a PNG as read unchanged: grey or colour, 8 or 16 bits, with or without alpha."""
    pixels = np.atleast_3d(image).astype(np.float32) / (
        65535.0 if image.dtype == np.uint16 else 255.0)
    has_alpha = pixels.shape[2] in (2, 4)
    colour = pixels[:, :, :-1] if has_alpha else pixels
    alpha = pixels[:, :, -1:] if has_alpha else 1.0
    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    return np.round((colour * alpha + (1 - alpha)) * 255).astype(np.uint8)


def border_colour(image: np.ndarray) -> np.ndarray:
    """Per-channel median of an image's outermost pixels: its paper's colour. uint8 [3]."""
    ring = np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])
    return np.median(ring, axis=0).astype(np.uint8)


def photo_frame(photo_bgr: np.ndarray, longer_side: int,
                frame_size: tuple = FRAME_SIZE) -> np.ndarray:
    """A photo as the robot would see it: bgr8 uint8 [H, W, 3] filled with the photo's paper
    colour (border_colour), the photo scaled so its longer side is `longer_side` px, centred
    (cropped where it is larger than the frame)."""
    photo = np.asarray(photo_bgr)
    if photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3 or min(photo.shape) < 1:
        raise ValueError(f'expected a bgr8 image, got {photo.dtype} {photo.shape}')
    if longer_side < 1:
        raise ValueError(f'longer_side must be positive, got {longer_side}')
    width, height = check_frame_size(frame_size)
    scale = longer_side / max(photo.shape[:2])
    size = (max(1, round(photo.shape[1] * scale)), max(1, round(photo.shape[0] * scale)))
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(photo, size, interpolation=shrink)
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = border_colour(photo)
    top, left = (height - size[1]) // 2, (width - size[0]) // 2
    # Where the scaled photo overlaps the frame, in frame and in photo coordinates.
    y0, y1 = max(top, 0), min(top + size[1], height)
    x0, x1 = max(left, 0), min(left + size[0], width)
    frame[y0:y1, x0:x1] = scaled[y0 - top:y1 - top, x0 - left:x1 - left]
    return frame
