"""A number around the digit: the row of marks a room number, a shelf label or a page number
makes, found from the chosen digit outwards. numpy/OpenCV only.

The marks of one number are about as tall as each other, side by side on one line and close
together; the ROI says where to look, not where the number must end, so the row may run out of
it. Pieces of ink that overlap left to right are one mark (a "5" and its flag, a "4" written in
two strokes); ink much shorter or taller than the digit, off its line or farther than
ROW_GAP digit heights away (a ruled line's fragment, a word elsewhere on the page, a finger)
is not part of the row. Whether each mark is a digit is the gate's to say, not this module's.
"""

from typing import List, NamedTuple, Tuple

import numpy as np

from .blobs import component_boxes, MIN_SPECK_FRACTION
from .frame import Box
from .normalize import stroke_width

# Sizes relative to the chosen digit's height.
ROW_GAP = 0.8  # the widest gap between two marks of one number
MARK_HEIGHTS = (0.55, 1.5)  # a mark of the number is this tall against the digit
MIN_LINE_OVERLAP = 0.6  # of a mark's height, inside the digit's rows (one line of text)
PIECE_OVERLAP = 0.0  # pieces that overlap left to right are one mark (side by side: two)
MAX_MARKS = 16  # a row is followed no farther: longer ones are only reported as too long
# A mark's strokes are this many times broader or narrower than the digit's at most: one pen
# wrote the number (a finger or a hand's rim beside the digit is far broader).
STROKE_RATIO = 2.5
# A mark of a row wider than this (against the digit's height) is digits written joined: the
# row is not read, as no crop of it would be one digit.
MAX_MARK_WIDTH = 1.1


class Mark(NamedTuple):
    """One mark of a row, in the pixels of the ink it was found in."""

    mask: np.ndarray  # bool, the ink's shape: this mark's ink only
    box: Box  # left, top, width, height


class Row(NamedTuple):
    """The marks of the number the chosen digit belongs to, left to right."""

    marks: Tuple[Mark, ...]
    # Not to be read: a mark touches the edge of the frame (the number may go on beyond it),
    # a mark is too wide for one digit (digits written joined), or another digit-tall piece
    # of ink overlaps the digit left to right (a lone digit too).
    unreadable: bool


def _pieces_on_the_line(boxes, areas, box, min_area):
    """Indices of the ink pieces (component boxes) on the digit's line: mostly within its
    rows, not taller than a mark can be, more than a speck."""
    _, top, _, height = box
    chosen = []
    for index in range(1, len(boxes)):
        x, y, w, h = boxes[index]
        inside = min(y + h, top + height) - max(y, top)
        if (areas[index] >= min_area and h <= MARK_HEIGHTS[1] * height
                and inside >= MIN_LINE_OVERLAP * min(h, height)):
            chosen.append(index)
    return chosen


def _group_into_marks(pieces, boxes, tolerance):
    """Lists of piece indices, each a mark: pieces that overlap left to right (by more than
    -tolerance), by left edge."""
    marks, right = [], None
    for index in sorted(pieces, key=lambda i: boxes[i][0]):
        x, _, w, _ = boxes[index]
        if marks and x < right + tolerance:
            marks[-1].append(index)
            right = max(right, x + w)
        else:
            marks.append([index])
            right = x + w
    return marks


def _union(boxes, indices) -> Box:
    left = min(boxes[i][0] for i in indices)
    top = min(boxes[i][1] for i in indices)
    right = max(boxes[i][0] + boxes[i][2] for i in indices)
    bottom = max(boxes[i][1] + boxes[i][3] for i in indices)
    return int(left), int(top), int(right - left), int(bottom - top)


def find_row(ink: np.ndarray, digit: np.ndarray, roi_size: int,
             frame_edges: Tuple[bool, bool, bool, bool] = (False,) * 4) -> Row:
    """The row of marks the chosen digit is part of, left to right: one mark for a lone
    digit. ink: uint8 0/255 mask of what preprocessing found; digit: bool mask of the chosen
    digit, same shape (it may itself hold several marks, written close together); roi_size in
    the ink's pixels; frame_edges: which sides of `ink` (left, top, right, bottom) are the
    frame's."""
    rows = np.flatnonzero(digit.any(axis=1))
    cols = np.flatnonzero(digit.any(axis=0))
    box = (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
    count, labels, boxes = component_boxes(ink)
    areas = np.bincount(labels.ravel(), minlength=count)
    min_area = MIN_SPECK_FRACTION * roi_size ** 2
    pieces = _pieces_on_the_line(boxes, areas, box, min_area)
    in_digit = set(np.unique(labels[digit]).tolist()) - {0}
    pieces = sorted(set(pieces) | in_digit)
    height = box[3]
    groups = _group_into_marks(pieces, boxes, PIECE_OVERLAP * height)
    # A piece of the chosen digit too short to be a mark of its own (a detached flag, a
    # speck of its stroke) stays with the digit: it joins the nearest mark of the digit.
    tall = [g for g in groups if _union(boxes, g)[3] >= MARK_HEIGHTS[0] * height]
    own_tall = [g for g in tall if in_digit & set(g)]
    for group in groups:
        if group not in tall and in_digit & set(group) and own_tall:
            x = _union(boxes, group)[0]
            min(own_tall, key=lambda g: abs(_union(boxes, g)[0] - x)).extend(group)
    marks = [(group, _union(boxes, group)) for group in tall]
    own = [k for k, (group, _) in enumerate(marks) if in_digit & set(group)]
    if not own:  # the digit is all short pieces: it is the row, alone
        return Row((Mark(digit.copy(), box),), False)
    first, last = min(own), max(own)
    pen = stroke_width(digit.astype(np.uint8) * np.uint8(255))

    def close(k, neighbour):
        _, (x, _, w, _) = marks[k]
        _, (nx, _, nw, _) = marks[neighbour]
        return max(nx - (x + w), x - (nx + nw)) <= ROW_GAP * height

    def fits(k, neighbour):
        group, (nx, ny, nw, nh) = marks[neighbour]
        if not (MARK_HEIGHTS[0] * height <= nh <= MARK_HEIGHTS[1] * height
                and close(k, neighbour)):
            return False
        window = np.isin(labels[ny:ny + nh, nx:nx + nw], group).astype(np.uint8) * 255
        return 1 / STROKE_RATIO <= stroke_width(window) / pen <= STROKE_RATIO

    while last + 1 < len(marks) and last - first + 1 < MAX_MARKS and fits(last, last + 1):
        last += 1
    while first > 0 and last - first + 1 < MAX_MARKS and fits(first, first - 1):
        first -= 1
    # A digit-tall mark right beside the number that is not one of its digits (another
    # height or pen): the number might go on through it, so it is not read.
    blocked = (last + 1 < len(marks) and close(last, last + 1)) or (
        first > 0 and close(first, first - 1))
    row: List[Mark] = []
    for group, mark_box in marks[first:last + 1]:
        x, y, w, h = mark_box
        mask = np.zeros(ink.shape, bool)
        window = labels[y:y + h, x:x + w]
        mask[y:y + h, x:x + w] = np.isin(window, group)
        row.append(Mark(mask, mark_box))
    number = len(row) > 1
    joined = any(w > MAX_MARK_WIDTH * height for _, (_, _, w, _) in row)
    # A digit-tall piece of other ink overlapping a mark of the digit left to right: another
    # digit leaning into it (slanted handwriting, a tilted card), never read as one digit.
    leaning = any(set(group) - in_digit and any(
        boxes[i][3] >= MARK_HEIGHTS[0] * height for i in set(group) - in_digit)
        for group, _ in (marks[k] for k in own))
    return Row(tuple(row), leaning or (number and (joined or blocked or _touches(
        row, ink.shape, frame_edges))))


def _touches(row, shape, frame_edges) -> bool:
    """Whether a mark of the row touches a side of the ink that is the frame's edge."""
    height, width = shape
    for _, (x, y, w, h) in row:
        if ((frame_edges[0] and x <= 0) or (frame_edges[1] and y <= 0)
                or (frame_edges[2] and x + w >= width) or (frame_edges[3] and y + h >= height)):
            return True
    return False


def reaches_box_edge(row: Row, box, frame_shape) -> bool:
    """Whether the row's first or last mark lies within ROW_GAP of its height of a side of
    the searched `box` (left, top, width, height, in the row's pixels) that is not the
    frame's: a next mark of the number could lie beyond it, unsearched."""
    x, _, width, _ = box
    first, last = row.marks[0].box, row.marks[-1].box
    reach = ROW_GAP * max(mark.box[3] for mark in row.marks)
    return ((x > 0 and first[0] <= reach)
            or (x + width < frame_shape[1] and last[0] + last[2] >= width - reach))
