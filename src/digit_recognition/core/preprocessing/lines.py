"""Printed lines: straight lines across the image (ruled and squared paper, a margin line,
the sheet's edge), found by their votes and erased from the ink, even where they cross the
digit."""

import cv2
import numpy as np

from .blobs import component_boxes

# ROI sides: straight ink at least this long is a printed line or an edge, not a digit.
LINE_LENGTH = 1.5
LINE_ERASE_WIDTH = 9  # pixels erased along a printed line: its width and the search's error
LINE_ANGLE_STEP = np.pi / 360  # the line search's angle resolution
LINE_NEAR_WIDTH = 13  # ink wholly this close to a printed line is part of it
LINE_FIT_BAND = 2.5  # ink pixels: a line's votes place it this well; its ink is fitted there
LINE_SPAN = 0.75  # a printed line's ink spans this share of its way across the image
MAX_LINED_INK = 0.15  # paper with printed lines has less ink than this share of the frame
THICKER_THAN_A_LINE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))


def erase_printed_lines(ink: np.ndarray, min_length: int, scale: int = 1) -> np.ndarray:
    """The ink mask without straight lines through at least min_length pixels of ink (ruled
    or squared paper, a margin line, the sheet's edge), even where they cross the digit.

    Lines are voted for at half the ink's resolution (a quarter of the cost, plenty for lines
    hundreds of pixels long), so a faint line broken into dashes by noise still counts; each
    is erased from edge to edge, as printed lines cross the whole sheet. `scale`: frame
    pixels per pixel of `ink` (the erased band's width is in frame pixels).
    """
    erase_width, near_width = (int(full / scale) for full in (LINE_ERASE_WIDTH, LINE_NEAR_WIDTH))
    thicker_than_a_line = cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE if scale == 1 else cv2.MORPH_RECT,
        (max(3, THICKER_THAN_A_LINE.shape[0] // scale | 1),) * 2)
    height, width = ink.shape
    if min(height, width) < 2:
        return ink  # no room for a line, nor for the half-resolution image
    half = cv2.resize(ink, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    _, half = cv2.threshold(half, 0, 255, cv2.THRESH_BINARY)  # any ink in the 2x2 block
    # The share of ink at half the frame's resolution, whatever the ink's own.
    if np.count_nonzero(half if scale == 1 else ink) > MAX_LINED_INK * height * width / (
            4 if scale == 1 else 1):
        return ink  # a shadow thresholded as ink, not printed lines (and slow to search)
    lines = cv2.HoughLines(half, 1, LINE_ANGLE_STEP, min_length // 2)
    if lines is None:
        return ink
    reach = cv2.dilate(half, None)  # a line's ink may wander a pixel off the fitted line
    points = cv2.findNonZero(ink).reshape(-1, 2).astype(np.float32)
    erased = np.zeros_like(ink)
    near = np.zeros_like(ink)
    kept = []
    # A long stroke of a digit held close ends; printed lines run on.
    crossing = _lines_crossing_the_image(reach, lines[:, 0])
    for (rho, theta), crosses in zip(lines[:, 0], crossing):  # strongest first
        if not crosses or any(abs(rho - r) <= 3 and abs(theta - t) <= 2 * LINE_ANGLE_STEP
                              for r, t in kept):
            continue  # or the same line again, a step off
        kept.append((rho, theta))
        # Back to the ink's resolution: half-resolution pixel p covers 2p + 0.5 there.
        normal = np.array([np.cos(theta), np.sin(theta)], np.float32)
        point, direction = _fit_line(points, normal, 2 * rho + 0.5 * normal.sum())
        along = direction * (width + height)
        ends = [tuple(int(round(v * 16)) for v in end) for end in (point - along, point + along)]
        cv2.line(erased, *ends, 255, erase_width, shift=4)  # 1/16-pixel end points
        cv2.line(near, *ends, 255, near_width, shift=4)
    # Strokes wider than a printed line survive where they run along one (a 7's bar), unless
    # they run as far as a line does: then they are a heavy line.
    thick = cv2.morphologyEx(ink, cv2.MORPH_OPEN, thicker_than_a_line) & erased
    count, labels, boxes = component_boxes(thick)
    length = boxes[:, 2:].max(axis=1)
    stroke = length < min_length // 2
    stroke[0] = False
    erased[stroke[labels]] = 0
    rest = cv2.subtract(ink, erased)
    # What is left entirely beside a line is the line too, where it bends (a curled sheet)
    # out of the straight band, or where two lines cross.
    count, labels = cv2.connectedComponents(rest, connectivity=8)
    is_rest = rest > 0
    beside = np.bincount(labels[(near > 0) & is_rest], minlength=count)
    remnant = beside >= 0.9 * np.bincount(labels[is_rest], minlength=count)
    remnant[0] = False
    rest[remnant[labels]] = 0
    return rest


def _fit_line(points, normal, offset):
    """(point, unit direction) of the straight line fitted to the ink `points` (float [N, 2]
    of x, y) within LINE_FIT_BAND of the line {p: p . normal = offset}, which the votes
    found only to their own resolution; that line itself if too few points lie near it."""
    near = points[np.abs(points @ normal - offset) <= LINE_FIT_BAND]
    if len(near) < 2 * LINE_FIT_BAND:
        return normal * offset, np.array([-normal[1], normal[0]])
    direction_x, direction_y, x, y = cv2.fitLine(near, cv2.DIST_L2, 0, 0.01, 0.01).ravel()
    return np.array([x, y]), np.array([direction_x, direction_y])


def _lines_crossing_the_image(mask, lines):
    """Bool per line (rho, theta) of `lines` [K, 2]: whether the ink of `mask` on the line
    reaches across LINE_SPAN of its chord through the image, gaps and all."""
    height, width = mask.shape
    rho, theta = lines[:, :1], lines[:, 1:]
    steps = np.arange(-(width + height), width + height + 1, dtype=np.float32)  # 1 px apart
    xs = np.rint(np.cos(theta) * rho - np.sin(theta) * steps).astype(int)
    ys = np.rint(np.sin(theta) * rho + np.cos(theta) * steps).astype(int)
    inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    on = np.zeros(inside.shape, bool)
    on[inside] = mask[ys[inside], xs[inside]] > 0
    first = np.argmax(on, axis=1)
    last = on.shape[1] - 1 - np.argmax(on[:, ::-1], axis=1)
    chord = np.count_nonzero(inside, axis=1)
    return on.any(axis=1) & (last - first + 1 >= LINE_SPAN * chord)
