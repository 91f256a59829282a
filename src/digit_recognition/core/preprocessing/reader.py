"""Reading a frame: the digit searched for at half resolution around the ROI (or in the whole
frame when its ink runs out of that), cut from the frame at full resolution and normalized.
read_frame(frame, settings) is the entry point."""

from typing import NamedTuple, Optional, Tuple

import cv2
import numpy as np

from .blobs import choose_digit, without_hands
from digit_recognition.core.patches import crop_with_context
from .context import context_view
from .frame import Box, centre_roi, check_frame, roi_box, search_box, to_gray
from .ink import (binarize, cut_ink, DEFAULT_THRESHOLD, DEFAULT_THRESHOLD_MODE, find_ink,
                  THRESHOLD_MODES, WIDEST_STROKE)
from .lines import erase_printed_lines, LINE_LENGTH
from .normalize import normalize_digit
from .numbers import find_row, reaches_box_edge
from digit_recognition.core.sizes import CROP_SIZE, ROI_SIZE

NORMALIZATIONS = ('mnist', 'resize')

# The digit is found at half resolution (a quarter of the pixels: the rules' sizes are
# relative to the ROI's side) and cut from the full-resolution frame, so thin and far-away
# strokes keep their detail.
FIND_SCALE = 2
MIN_SCALED_FRAME = 64  # smaller frames are searched at full resolution


class PreprocessSettings(NamedTuple):
    """How frames are read (read_frame): the preprocess node's parameters of the same names,
    whose defaults these are."""

    threshold: int = DEFAULT_THRESHOLD  # ink.THRESHOLD_MEANINGS: what it means in each mode
    roi_size: int = ROI_SIZE
    threshold_mode: str = DEFAULT_THRESHOLD_MODE
    normalization: str = 'mnist'


class Reading(NamedTuple):
    """What preprocessing found in one frame."""

    crop: Optional[np.ndarray]  # uint8 [28, 28] white digit on black, None: no digit
    ink: np.ndarray  # uint8 0/255: the ink found in the searched area, 1/scale resolution
    digit: Optional[np.ndarray]  # bool, same shape: the ink chosen as the digit
    search_box: Box  # where `ink` lies in the frame (frame pixels)
    digit_box: Optional[Box]  # the chosen digit's bounding box in the frame
    roi: Tuple[int, int, int] = (0, 0, 0)  # (left, top, size): the ROI, clipped to the frame
    scale: int = 1  # frame pixels per pixel of `ink`
    # uint8 [28, 28, 2]: the ink around the digit at the ROI's scale (context.py); None
    # without a crop or with the tutorial's `resize`.
    context: Optional[np.ndarray] = None
    # The digit is one mark of a number (numbers.py): each mark's crop with its context,
    # uint8 [k, 28, 28, 3] left to right, and its box in the frame; None and () for a lone
    # digit.
    number: Optional[np.ndarray] = None
    number_boxes: Tuple[Box, ...] = ()
    # The number's row runs off the frame (it may go on beyond it) or has digits written
    # joined (numbers.Row.unreadable): it is not read (crop None, the marks' boxes kept
    # for the views).
    number_unreadable: bool = False

    def patch(self) -> Optional[np.ndarray]:
        """uint8 [28, 28, 3]: the crop and its context, as the classifier reads them (None
        without a crop)."""
        return None if self.crop is None else crop_with_context(self.crop, self.context)

    def patches(self) -> Optional[np.ndarray]:
        """uint8 [k, 28, 28, 3]: what the preprocess node publishes on digit_crop (side by
        side): the number's marks, or the lone digit (k = 1); None without a crop."""
        if self.crop is None:
            return None
        return self.number if self.number is not None else self.patch()[None]

    def binary_view(self) -> np.ndarray:
        """uint8 image of the searched area (frame pixels) for ~/debug/binary: the chosen
        digit white, the other ink grey."""
        view = self.ink // 255 * np.uint8(96)
        if self.digit is not None:
            view[self.digit] = 255
        if self.scale == 1:
            return view
        return cv2.resize(view, self.search_box[2:], interpolation=cv2.INTER_NEAREST)


def find_digit_ink(binary: np.ndarray, roi_size: Optional[int] = None) -> Optional[np.ndarray]:
    """uint8 0/255 mask with only the digit's ink of a binary image whose centre is the ROI's
    centre (default: the image is the ROI), or None when there is no digit."""
    height, width = binary.shape
    roi_size = roi_size or min(height, width)
    left, top, size = roi_box(binary.shape, roi_size)
    ink = erase_printed_lines(binary, int(LINE_LENGTH * roi_size))
    digit = choose_digit(ink, (left, top, size, size), roi_size, binary.shape)
    return None if digit is None else digit.astype(np.uint8) * np.uint8(255)


def _search(gray, box, roi, threshold, threshold_mode, roi_size, frame_shape, scale):
    """(Ink, digit) in `box` of the grey frame: the ink and the chosen digit's bool mask or
    None. Lines are erased only when the box is the whole frame: shorter than that, a line
    runs out of the box, and the whole frame is searched then."""
    x, y, w, h = box
    roi_here = (roi[0] - x, roi[1] - y, roi[2], roi[2])
    whole_frame = (h, w) == gray.shape[:2]
    ink = find_ink(gray[y:y + h, x:x + w], threshold, threshold_mode, roi_here,
                   int(WIDEST_STROKE * roi_size),
                   int(LINE_LENGTH * roi_size) if whole_frame else None, scale)
    frame_edges = (x == 0, y == 0, x + w == gray.shape[1], y + h == gray.shape[0])
    ink = ink._replace(mask=without_hands(ink.mask, roi_size, scale))
    return ink, choose_digit(ink.mask, roi_here, roi_size, frame_shape, frame_edges)


def _reaches_inner_edge(mask, box, frame_shape):
    """Whether the mask touches an edge of `box` that is not also the frame's edge."""
    x, y, w, h = box
    height, width = frame_shape[:2]
    return bool((x > 0 and mask[:, 0].any()) or (y > 0 and mask[0].any())
                or (x + w < width and mask[:, -1].any()) or (y + h < height and mask[-1].any()))


def _find(gray, roi, threshold, threshold_mode, roi_size, frame_shape, scale):
    """(box, Ink, digit) of the search around the ROI, or of the whole grey frame when ink
    runs out of that."""
    box = search_box(gray.shape, roi_size)
    ink, digit = _search(gray, box, roi, threshold, threshold_mode, roi_size, frame_shape,
                         scale)
    if _reaches_inner_edge(ink.mask, box, gray.shape):
        # Ink runs out of the searched area: a digit held close, or printed lines, which cross
        # the whole sheet. Follow it to the frame's edge, where lines are long enough to be
        # told from strokes.
        box = (0, 0, gray.shape[1], gray.shape[0])
        ink, digit = _search(gray, box, roi, threshold, threshold_mode, roi_size,
                             frame_shape, scale)
    return box, ink, digit


def _cut_at_full_resolution(frame, digit, ink, box, scale):
    """(uint8 0/255 digit mask, its box in the frame): the digit found at 1/scale resolution
    (bool mask `digit` of the searched `box`, in its pixels), cut from the frame at full
    resolution: the ink there, as `ink` found it, within a pixel of the digit's."""
    rows = np.flatnonzero(digit.any(axis=1))
    cols = np.flatnonzero(digit.any(axis=0))
    y0, y1 = max(0, rows[0] - 1), min(digit.shape[0], rows[-1] + 2)
    x0, x1 = max(0, cols[0] - 1), min(digit.shape[1], cols[-1] + 2)
    near = cv2.dilate(digit[y0:y1, x0:x1].astype(np.uint8), None)
    size = ((x1 - x0) * scale, (y1 - y0) * scale)
    near = cv2.resize(near, size, interpolation=cv2.INTER_NEAREST) > 0
    left, top = (box[0] + x0) * scale, (box[1] + y0) * scale
    window = frame[top:top + size[1], left:left + size[0]]
    reference = None
    if ink.reference is not None:
        reference = cv2.resize(ink.reference[y0:y1, x0:x1], size,
                               interpolation=cv2.INTER_LINEAR)
    cut = cut_ink(to_gray(window), ink, reference) & near
    if not cut.any():  # the digit's ink, all fainter at full resolution: keep its shape
        cut = cv2.resize(digit[y0:y1, x0:x1].astype(np.uint8), size,
                         interpolation=cv2.INTER_NEAREST) > 0
    rows = np.flatnonzero(cut.any(axis=1))
    cols = np.flatnonzero(cut.any(axis=0))
    mask = cut[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.uint8) * np.uint8(255)
    return mask, (left + int(cols[0]), top + int(rows[0]), mask.shape[1], mask.shape[0])


def read_frame(frame: np.ndarray, settings: PreprocessSettings) -> Reading:
    """What preprocessing finds in one bgr8 [H, W, 3] or mono8 [H, W] frame read with
    `settings`: the crop the classifier sees (None when no digit is in view), the ROI, the
    ink found and the chosen digit, for the debug views. The one entry point: the preprocess
    node, evaluation, training and the benchmarks all read frames through it.

    `mnist`: the digit found around the ROI, normalized as MNIST (see the package's
    docstring); `resize`, the tutorial's way, squeezes the whole binarized ROI into 28x28 and
    always returns a crop. ValueError for a bad frame or setting.
    """
    if settings.normalization not in NORMALIZATIONS:
        raise ValueError(f'normalization must be one of {NORMALIZATIONS}, '
                         f'got {settings.normalization!r}')
    if settings.threshold_mode not in THRESHOLD_MODES:
        raise ValueError(f'threshold mode must be one of {THRESHOLD_MODES}, '
                         f'got {settings.threshold_mode!r}')
    threshold, threshold_mode = settings.threshold, settings.threshold_mode
    frame = check_frame(frame)
    left, top, roi_size = roi_box(frame.shape, settings.roi_size)  # clipped to the frame
    roi = (left, top, roi_size, roi_size)
    if settings.normalization == 'resize':  # the tutorial's squeeze of the whole ROI
        ink = binarize(to_gray(centre_roi(frame, roi_size)), threshold, threshold_mode,
                       widest_stroke=int(WIDEST_STROKE * roi_size))
        crop = cv2.resize(ink, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
        return Reading(crop=crop, ink=ink, digit=None, search_box=roi, digit_box=None,
                       roi=roi[:3])

    height, width = frame.shape[:2]
    scale = FIND_SCALE if min(height, width) >= MIN_SCALED_FRAME else 1
    if scale == 1:
        gray = to_gray(frame)
    else:  # averaged: the downscaling is the noise filter
        small = cv2.resize(frame, (width // scale, height // scale),
                           interpolation=cv2.INTER_AREA)
        gray = to_gray(small)
    small_roi = roi_box(gray.shape, roi_size // scale)
    box, ink, digit = _find(gray, (*small_roi, small_roi[2]), threshold, threshold_mode,
                            small_roi[2], gray.shape, scale)
    frame_box = tuple(v * scale for v in box)
    if digit is None:
        return Reading(crop=None, ink=ink.mask, digit=None, search_box=frame_box,
                       digit_box=None, roi=roi[:3], scale=scale)
    crop, context, digit_box = _read_mark(frame, digit, ink, box, frame_box, scale, roi_size)
    reading = Reading(crop=crop, ink=ink.mask, digit=digit, search_box=frame_box,
                      digit_box=digit_box, roi=roi[:3], scale=scale, context=context)
    row = find_row(ink.mask, digit, small_roi[2], _frame_edges(box, gray.shape))
    if reaches_box_edge(row, box, gray.shape):
        # The row may go on outside the searched area (a number's outer digits): follow it
        # in the whole frame. Kept only when it is a number there: a lone digit is read from
        # the searched area as always.
        whole = (0, 0, gray.shape[1], gray.shape[0])
        whole_ink, whole_digit = _search(gray, whole, (*small_roi, small_roi[2]), threshold,
                                         threshold_mode, small_roi[2], gray.shape, scale)
        if whole_digit is not None:
            whole_row = find_row(whole_ink.mask, whole_digit, small_roi[2],
                                 _frame_edges(whole, gray.shape))
            if len(whole_row.marks) >= 2:
                box, ink, digit, row = whole, whole_ink, whole_digit, whole_row
                frame_box = tuple(v * scale for v in box)
                reading = reading._replace(ink=ink.mask, digit=digit, search_box=frame_box)
    if len(row.marks) < 2 and not row.unreadable:
        return reading
    marks = [_read_mark(frame, mark.mask, ink, box, frame_box, scale, roi_size)
             for mark in row.marks]
    boxes = tuple(mark_box for _, _, mark_box in marks)
    if row.unreadable:
        return reading._replace(crop=None, context=None, number_boxes=boxes,
                                number_unreadable=True)
    number = np.stack([crop_with_context(crop, context) for crop, context, _ in marks])
    return reading._replace(number=number, number_boxes=boxes)


def _frame_edges(box, shape):
    """Which sides of `box` (left, top, right, bottom) are the frame's."""
    return (box[0] == 0, box[1] == 0, box[0] + box[2] == shape[1], box[1] + box[3] == shape[0])


def _read_mark(frame, mask, ink, box, frame_box, scale, roi_size):
    """(crop, context, box in the frame) of one mark (the chosen digit, or a mark of its
    number): bool `mask` of the searched `box` at 1/scale resolution, cut from the frame at
    full resolution and normalized."""
    if scale == 1:
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        mark_ink = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.uint8) * 255
        mark_box = (box[0] + int(cols[0]), box[1] + int(rows[0]), mark_ink.shape[1],
                    mark_ink.shape[0])
    else:
        mark_ink, mark_box = _cut_at_full_resolution(frame, mask, ink, box, scale)
    return (normalize_digit(mark_ink), context_view(ink.mask, mask, frame_box, scale, mark_box,
                                                    roi_size), mark_box)
