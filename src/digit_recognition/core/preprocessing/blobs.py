"""Blobs of ink and which one is the digit: pieces grouped into blobs, the shape a digit has,
and what is taken out first (a hand held before the sheet, fingers coming in from the
frame's edge)."""

from typing import Optional, Tuple

import cv2
import numpy as np

from .frame import Box

# Sizes relative to the ROI's side, so they hold at any roi_size.
MIN_SPECK_FRACTION = 0.0005  # blobs smaller than this share of the ROI's area are dirt
MIN_DIGIT_HEIGHT = 0.14  # a digit is at least this tall (far away: ~35 px in a 200 ROI)
MAX_INK_FRACTION = 1.0  # more ink than the ROI's area is a shadow or a hand
GROUP_GAP = 0.06  # ink pieces closer than this are one digit (a broken or line-cut stroke)
FRAME_SPAN = 0.95  # a blob this wide or tall (share of the frame) is not a digit
# Ink broader than this (share of the ROI) over at least as long is a hand or a finger when the
# rest of the ink was written with a pen HAND_TO_PEN times narrower; it is taken out with its
# rim (RIM around it). A digit whose own strokes are that broad (a marker held close) keeps
# them all, and the junctions of broad strokes are too short to count.
BROADEST_STROKE = 0.25
HAND_TO_PEN = 3
RIM = 0.1


def component_boxes(mask: np.ndarray) -> Tuple[int, np.ndarray, np.ndarray]:
    """(count, labels, boxes) of the 8-connected pieces of a uint8 0/255 mask, as
    cv2.connectedComponentsWithStats gives them: labels int32, boxes int [count, 4] of
    (left, top, width, height), row 0 (the background) zeros.

    The boxes come from the pieces' outer contours: the per-pixel statistics of
    connectedComponentsWithStats cost several times the labelling on a sparse mask.
    """
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    boxes = np.zeros((count, 4), int)
    if count > 1:
        contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        for contour, (_, _, _, parent) in zip(contours, hierarchy[0]):
            if parent < 0:  # a piece's outer edge, not a hole's
                x, y = contour[0, 0]
                boxes[labels[y, x]] = cv2.boundingRect(contour)
    return count, labels, boxes


def choose_digit(ink: np.ndarray, roi: Box, roi_size: int, frame_shape,
                 frame_edges: Tuple[bool, bool, bool, bool] = (False,) * 4
                 ) -> Optional[np.ndarray]:
    """The ink blob that is the digit the person shows, as a bool mask, or None.

    Ink pieces closer than GROUP_GAP x roi_size form one blob. A blob can be the digit if it
    is more than a speck, its centre lies inside `roi` (left, top, width, height in the
    ink's pixels) and it is shaped like a digit (is_digit); of those, the one with the most
    ink, each weighted by its closeness to the ROI's centre (full weight at the centre, a
    tenth at the ROI's edge), so a digit held at the centre wins over marks near the edge.
    Ink that comes in from the frame's edge (frame_edges: which sides of the ink image, left,
    top, right, bottom, are the frame's) and lies mostly outside the ROI (the rim of a
    finger or thumb holding the sheet) joins no blob: it never is the digit, nor part of it.
    """
    if any(frame_edges):
        ink = _without_ink_from_outside(ink, roi, frame_edges)
    gap = max(1, int(round(GROUP_GAP * roi_size / 2)))
    grown = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * gap + 1,) * 2))
    groups, group_of, boxes = component_boxes(grown)
    is_ink = ink > 0
    areas = np.bincount(group_of[is_ink], minlength=groups)
    left, top, width, height = roi
    centre = np.array([left + width / 2, top + height / 2])
    best, best_score = 0, 0.0
    for group in range(1, groups):
        # The dilated blob's box, shrunk back to the ink's.
        x, y, w, h = boxes[group, :4] + np.array([gap, gap, -2 * gap, -2 * gap])
        middle = np.array([x + w / 2, y + h / 2])
        if not (left <= middle[0] < left + width and top <= middle[1] < top + height):
            continue
        if areas[group] < MIN_SPECK_FRACTION * roi_size ** 2 or not is_digit(
                w, h, areas[group], roi_size, frame_shape):
            continue
        closeness = 1 - 0.9 * np.abs(middle - centre).max() / (roi_size / 2)
        if areas[group] * closeness > best_score:
            best, best_score = group, areas[group] * closeness
    return (group_of == best) & is_ink if best else None


def _without_ink_from_outside(ink, roi, frame_edges):
    """The ink without connected pieces that touch the frame's edge and whose box's middle
    is outside `roi` (left, top, width, height)."""
    _, labels, boxes = component_boxes(ink)
    x, y, w, h = boxes.T
    left, top, width, height = roi
    outside = ~((left <= x + w / 2) & (x + w / 2 < left + width)
                & (top <= y + h / 2) & (y + h / 2 < top + height))
    on_edge = ((frame_edges[0] & (x <= 0)) | (frame_edges[1] & (y <= 0))
               | (frame_edges[2] & (x + w >= ink.shape[1]))
               | (frame_edges[3] & (y + h >= ink.shape[0])))
    drop = outside & on_edge
    drop[0] = False
    if not drop.any():
        return ink
    return np.where(drop[labels], np.uint8(0), ink)


def is_digit(width: int, height: int, ink_area: int, roi_size: int, frame_shape) -> bool:
    """Whether a blob of ink is shaped like a digit: tall enough, not a sea of ink, and not
    spanning the whole frame (a shadow or an edge)."""
    return (height >= MIN_DIGIT_HEIGHT * roi_size
            and ink_area <= MAX_INK_FRACTION * roi_size ** 2
            and height < FRAME_SPAN * frame_shape[0] and width < FRAME_SPAN * frame_shape[1])


def without_hands(ink: np.ndarray, roi_size: int, scale: int = 1) -> np.ndarray:
    """The ink without blobs broader than BROADEST_STROKE and their rims, when the rest of the
    ink is much thinner (HAND_TO_PEN): a finger or hand held before the sheet, dark enough to
    pass for ink, beside a digit written with a pen. `scale`: frame pixels per ink pixel."""
    # At a quarter of the frame's resolution: a sixteenth of the cost, plenty for blobs this
    # broad.
    height, width = ink.shape
    factor = max(1, 4 // scale)
    side = int(BROADEST_STROKE * roi_size) // factor
    if side < 2 or min(height, width) < factor * side:
        return ink
    small = cv2.resize(ink, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
    _, broad = cv2.threshold(cv2.erode(small, kernel), 127, 255, cv2.THRESH_BINARY)
    if not broad.any():
        return ink
    count, labels, stats, _ = cv2.connectedComponentsWithStats(broad, connectivity=8)
    long = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= side
    long[0] = False
    if not long.any():
        return ink
    rim = 2 * max(1, int(RIM * roi_size) // factor) + 1
    hand = cv2.dilate(cv2.dilate(long[labels].astype(np.uint8) * np.uint8(255), kernel),
                      cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (rim, rim)))
    hand = cv2.resize(hand, (width, height), interpolation=cv2.INTER_NEAREST) >= 128
    rest = ink.copy()
    rest[hand] = 0
    if not rest.any():
        return ink
    # The broadest stroke left, from the distance to the nearest paper: a thick digit's
    # pieces beside its junctions are still broad, a pen's strokes are not.
    pen = 2 * cv2.distanceTransform(rest, cv2.DIST_L2, 3).max()
    if pen * HAND_TO_PEN > factor * side:
        return ink
    # What is left must still hold a digit: slivers of a broad digit's own rim are thin too.
    contours, _ = cv2.findContours(rest, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    tallest = max(cv2.boundingRect(contour)[3] for contour in contours)
    return rest if tallest * scale >= MIN_DIGIT_HEIGHT * roi_size else ink
