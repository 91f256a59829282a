"""The digit's centre line: MNIST's strokes thinned to the path the writer's pen took, as
segments a pen can draw again with its own width."""

import functools

import cv2
import numpy as np

from digit_recognition.core.sizes import CROP_SIZE

WORK_SCALE = 4  # the MNIST digit is thinned at this many times its size
MIN_HOLE = WORK_SCALE ** 2 // 2  # px at WORK_SCALE: a smaller hole is a gap, not a loop


def check_digit(digit: np.ndarray) -> np.ndarray:
    digit = np.asarray(digit)
    if digit.dtype != np.uint8 or digit.shape != (CROP_SIZE, CROP_SIZE):
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
    size = CROP_SIZE * WORK_SCALE, CROP_SIZE * WORK_SCALE
    big = cv2.GaussianBlur(cv2.resize(digit, size, interpolation=cv2.INTER_CUBIC), (0, 0), 1.0)
    shape = big > 60
    shape |= _holes(shape, 1) & ~_holes(shape, MIN_HOLE)
    for level in (120, 180, 230):
        shape &= ~_holes(big > level, MIN_HOLE)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(shape.astype(np.uint8))
    specks = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < 2 * WORK_SCALE ** 2)
    return shape & ~np.isin(labels, specks)


@functools.lru_cache(maxsize=4096)
def centre_segments(digit_bytes: bytes) -> np.ndarray:
    """Segments float32 [S, 2, 2] of (x, y) between neighbouring points of the digit's centre
    line, in pixels of the digit enlarged WORK_SCALE times; a lone point is a segment of
    length 0 (drawn as a dot). Cached: evaluate draws each digit under every condition."""
    digit = np.frombuffer(digit_bytes, np.uint8).reshape((CROP_SIZE, CROP_SIZE))
    skeleton = prune(thin(pen_shape(digit)), 2 * WORK_SCALE)
    points, edges = _graph(skeleton)
    points = _smooth(points, edges, 4)
    alone = np.flatnonzero(np.bincount(edges.ravel(), minlength=len(points)) == 0)
    segments = np.concatenate([points[edges], points[alone][:, None].repeat(2, axis=1)])
    return segments.astype(np.float32)
