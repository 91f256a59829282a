"""Turn a camera frame into a 28x28 MNIST-style crop. numpy/OpenCV only, no ROS.

The region of interest (ROI) says where to look, not where the digit must end:
1. Ink is looked for in the ROI plus a margin around it, and in the whole frame when ink
   runs out of that (a digit held close, printed lines), so a digit that crosses the box's
   border is read whole.
2. `flatfield` (the default) divides out the lighting first: each pixel is compared with the
   paper around it (a grey closing wider than any pen stroke), so shadows, gradients, dim
   rooms and tinted paper leave plain paper; the levels that make ink come from the frame's
   darkest marks and its noise; light blobs too wide to be a pen (the shadow of a finger)
   are not ink. `fixed`, `otsu` and `adaptive` threshold the grey image.
3. Straight lines that run across the image (ruled and squared paper, a margin line, the
   sheet's edge) are erased, even where they cross the digit.
4. Ink is grouped into blobs (pieces of one digit are close together); the digit is the
   blob with the most ink, weighted by closeness to the ROI's centre, among those whose
   centre is inside the ROI.
5. MNIST normalization, the way MNIST was made: the digit's bounding box scaled to fit
   20x20 keeping its aspect ratio, strokes thickened to MNIST's pen width where a thin pen
   would vanish at that scale, placed in 28x28 with its centre of mass at the centre.
"""

from typing import NamedTuple, Optional, Tuple

import cv2
import numpy as np

CROP_SIZE = 28
DIGIT_BOX = 20  # MNIST fits each digit's bounding box into 20x20 pixels

THRESHOLD_MODES = ('flatfield', 'fixed', 'otsu', 'adaptive')
DEFAULT_THRESHOLD_MODE = 'flatfield'
NORMALIZATIONS = ('mnist', 'resize')

# Sizes relative to the ROI's side, so they hold at any roi_size.
SEARCH_MARGIN = 0.25  # ink is looked for this far around the ROI before the whole frame
MIN_SPECK_FRACTION = 0.0005  # blobs smaller than this share of the ROI's area are dirt
MIN_DIGIT_HEIGHT = 0.14  # a digit is at least this tall (far away: ~35 px in a 200 ROI)
MAX_INK_FRACTION = 1.0  # more ink than the ROI's area is a shadow or a hand
GROUP_GAP = 0.06  # ink pieces closer than this are one digit (a broken or line-cut stroke)
WIDEST_STROKE = 0.3  # flatfield: darker marks wider than this are shadows, not ink
# flatfield: light blobs wider than this share of WIDEST_STROKE need dark ink in them to be
# ink (the shadow rule); broad felt-tips and markers in light colours stay narrower.
LIGHT_STROKE_SHARE = 0.35
# Ink broader than this (share of the ROI) over at least as long is a hand or a finger when the
# rest of the ink was written with a pen HAND_TO_PEN times narrower; it is taken out with its
# rim (RIM around it). A digit whose own strokes are that broad (a marker held close) keeps
# them all, and the junctions of broad strokes are too short to count.
BROADEST_STROKE = 0.25
HAND_TO_PEN = 3
RIM = 0.1
LINE_LENGTH = 1.5  # straight ink at least this long is a printed line or an edge, not a digit
FRAME_SPAN = 0.95  # a blob this wide or tall (share of the frame) is not a digit
LINE_ERASE_WIDTH = 9  # pixels erased along a printed line: its width and the search's error
LINE_ANGLE_STEP = np.pi / 360  # the line search's angle resolution
LINE_NEAR_WIDTH = 13  # ink wholly this close to a printed line is part of it
LINE_FIT_BAND = 2.5  # ink pixels: a line's votes place it this well; its ink is fitted there
LINE_SPAN = 0.75  # a printed line's ink spans this share of its way across the image
MAX_LINED_INK = 0.15  # paper with printed lines has less ink than this share of the frame
THICKER_THAN_A_LINE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))

# flatfield: darkness = 1 - pixel / paper, in 1/255 steps.
MIN_PAPER_LEVEL = 55  # paper darker than this shows nothing (a dark table, not paper)
MIN_INK_DARKNESS = 30  # marks fainter than this (printing through the sheet) are not ink
MAX_STRONG_DARKNESS = 90  # ink this dark is always ink, however dark the darkest mark is
STRONG_NOISE, WEAK_NOISE = 8, 4  # ink is this many noise deviations darker than the paper
DARK_INK = 165  # light blobs (see LIGHT_STROKE_SHARE) need pixels this dark...
MIN_DARK_INK = 0.5  # ...at least this many, in squares of that width, to be ink
# Otsu always splits the histogram in two, even on blank paper: demand real contrast.
MIN_OTSU_CONTRAST = 40
# Adaptive threshold: ink must be this much darker than its neighbourhood's weighted mean.
ADAPTIVE_OFFSET = 15
# Output stroke width (pixels in the 20x20 box) below which strokes are thickened.
MIN_STROKE = 2.2
WIDE_DILATION = 10  # pixels: thickening this much or more goes by the distance transform

# The digit is found at half resolution (a quarter of the pixels: every rule above is
# relative to the ROI's side) and cut from the full-resolution frame, so thin and far-away
# strokes keep their detail.
FIND_SCALE = 2
MIN_SCALED_FRAME = 64  # smaller frames are searched at full resolution
DARKEST_MARKS = 30  # full-resolution pixels: the darkest marks are the 30th darkest pixel

Box = Tuple[int, int, int, int]  # left, top, width, height, in frame pixels


class PreprocessSettings(NamedTuple):
    """How frames are read, as the preprocess node's parameters set it (see preprocess_steps)."""

    threshold: int = 100
    roi_size: int = 200
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

    def binary_view(self) -> np.ndarray:
        """uint8 image of the searched area (frame pixels) for ~/debug/binary: the chosen
        digit white, the other ink grey."""
        view = self.ink // 255 * np.uint8(96)
        if self.digit is not None:
            view[self.digit] = 255
        if self.scale == 1:
            return view
        return cv2.resize(view, self.search_box[2:], interpolation=cv2.INTER_NEAREST)


def check_frame(frame) -> np.ndarray:
    """The frame as an array if it is a non-empty uint8 bgr8 [H, W, 3] or mono8 [H, W] image;
    ValueError saying what is wrong otherwise."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise ValueError(f'expected a uint8 image, got {frame.dtype}')
    if frame.size == 0:
        raise ValueError(f'empty image of shape {frame.shape}')
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3):
        return frame
    raise ValueError(f'expected a bgr8 [H, W, 3] or mono8 [H, W] image, got shape {frame.shape}')


def to_gray(frame: np.ndarray) -> np.ndarray:
    """Grayscale view uint8 [H, W] of a bgr8 [H, W, 3] or mono8 [H, W] frame."""
    frame = check_frame(frame)
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def roi_box(frame_shape: Tuple[int, ...], roi_size: int) -> Tuple[int, int, int]:
    """(left, top, size) of the centred ROI in a frame of frame_shape, clipped to the frame."""
    if roi_size < 1:
        raise ValueError(f'roi_size must be positive, got {roi_size}')
    height, width = frame_shape[:2]
    size = min(roi_size, height, width)
    return (width - size) // 2, (height - size) // 2, size


def centre_roi(image: np.ndarray, roi_size: int) -> np.ndarray:
    """The centred roi_size x roi_size square; clipped to the image if the image is smaller."""
    left, top, size = roi_box(image.shape, roi_size)
    return image[top:top + size, left:left + size]


def search_box(frame_shape: Tuple[int, ...], roi_size: int, margin: float = SEARCH_MARGIN) -> Box:
    """The ROI grown by `margin` of its side on every side, clipped to the frame."""
    left, top, size = roi_box(frame_shape, roi_size)
    height, width = frame_shape[:2]
    grow = int(round(margin * size))
    x0, y0 = max(0, left - grow), max(0, top - grow)
    x1, y1 = min(width, left + size + grow), min(height, top + size + grow)
    return x0, y0, x1 - x0, y1 - y0


def paper_brightness(smooth: np.ndarray, widest_stroke: int) -> np.ndarray:
    """The paper's brightness under each pixel: the grey closing with a square wider than any
    stroke, which removes narrower dark marks and keeps shadow edges and gradients."""
    side = max(3, widest_stroke | 1)
    return cv2.morphologyEx(smooth, cv2.MORPH_CLOSE,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)))


def darkness_against(smooth: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """uint8 darkness 0-255 of each pixel against the paper's brightness (255 = black)."""
    darkness = cv2.subtract(255, cv2.divide(smooth, paper, scale=255))
    darkness[paper < MIN_PAPER_LEVEL] = 0
    return darkness


def flatfield_darkness(gray: np.ndarray, widest_stroke: int) -> np.ndarray:
    """uint8 darkness 0-255 of each pixel against the paper around it (255 = black)."""
    smooth = cv2.blur(gray, (3, 3))  # keeps single noisy pixels out of the closing's maximum
    return darkness_against(smooth, paper_brightness(smooth, widest_stroke))


def flatfield_levels(darkness: np.ndarray, centre: np.ndarray, scale: int = 1) -> Tuple[int, int]:
    """(strong, weak) darkness levels of ink in a flatfield darkness image.

    Strong ink is at least half as dark as the darkest marks in `centre` (the ROI), so faint
    pencil counts when it is all there is; weak ink (half that) counts where it touches strong
    ink, so thin and blurred strokes stay whole. `scale`: frame pixels per pixel.
    """
    counts = cv2.calcHist([np.ascontiguousarray(centre)], [0], None, [256], [0, 256]).ravel()
    # The darkest marks: so that a dark speck decides nothing, not the very darkest pixel.
    darkest_rank = max(1, DARKEST_MARKS // scale ** 2)
    darkest = 255 - int(np.searchsorted(np.cumsum(counts[::-1]), darkest_rank))
    # The paper's own noise, from the lighter half of the whole searched area (a digit held
    # close may cover most of the ROI): a dim room's grain must not pass for faint pencil.
    counts = cv2.calcHist([darkness], [0], None, [256], [0, 256]).ravel()
    median, lighter = np.searchsorted(np.cumsum(counts), np.array([0.5, 0.16]) * darkness.size)
    noise = max(1, int(median - lighter))
    strong_level = max(MIN_INK_DARKNESS, median + STRONG_NOISE * noise,
                       min(MAX_STRONG_DARKNESS, darkest // 2))
    weak_level = max(MIN_INK_DARKNESS * 2 // 3, median + WEAK_NOISE * noise, strong_level // 2)
    return int(strong_level), int(weak_level)


def flatfield_ink(darkness: np.ndarray, levels: Tuple[int, int], widest_light_stroke: int,
                  min_line_length: Optional[int] = None, scale: int = 1) -> np.ndarray:
    """Ink mask 0/255 from flatfield darkness, with hysteresis between the (strong, weak)
    levels (flatfield_levels). Shadows are taken out (_without_shadows). Printed lines are
    erased from the weak ink, where they are still whole, when min_line_length is given."""
    strong_level, weak_level = levels
    _, weak = cv2.threshold(darkness, weak_level - 1, 255, cv2.THRESH_BINARY)
    if min_line_length:
        weak = erase_printed_lines(weak, min_line_length, scale)
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    keep = np.zeros(count, bool)
    keep[labels[(darkness >= strong_level) & (weak > 0)]] = True
    keep[0] = False
    ink = keep.astype(np.uint8)[labels] * np.uint8(255)
    return _without_shadows(ink, labels, count, darkness, widest_light_stroke)


def _without_shadows(ink, labels, count, darkness, widest_light_stroke):
    """The ink without the shadows of fingers, hands or an arm narrower than the flatfield's
    closing: blobs wider than widest_light_stroke (twice their area over their outline) with
    next to no dark pixels (DARK_INK). A wide blob with dark ink in it (a digit crossing a
    shadow) loses only its broad light parts away from the dark ink."""
    is_ink = ink > 0
    area = np.bincount(labels[is_ink], minlength=count)
    outline = cv2.subtract(ink, cv2.erode(ink, None))
    width = 2 * area / np.maximum(np.bincount(labels[outline > 0], minlength=count), 1)
    wide = width > widest_light_stroke
    if not wide.any():
        return ink
    is_dark = darkness >= DARK_INK
    dark = np.bincount(labels[is_dark & is_ink], minlength=count)
    shadow = wide & (dark < MIN_DARK_INK * widest_light_stroke ** 2)
    ink[shadow[labels]] = 0
    mixed = wide & ~shadow
    if mixed.any():
        # Light, broad and away from dark ink: the shadow, not the soft edge of a stroke.
        square = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, widest_light_stroke),) * 2)
        broad = cv2.morphologyEx(ink, cv2.MORPH_OPEN, square) > 0
        near_dark = cv2.dilate(is_dark.astype(np.uint8), square) > 0
        ink[broad & ~near_dark & mixed[labels]] = 0
    return ink


class Ink(NamedTuple):
    """Ink found in a grey image, and how to find the same ink in the same place at another
    resolution (cut_ink)."""

    mask: np.ndarray  # uint8 0/255, white ink on black
    mode: str  # the threshold mode
    level: int  # flatfield: the weak darkness level; fixed, otsu: the grey threshold
    reference: Optional[np.ndarray] = None  # flatfield: the paper; adaptive: the local mean


def binarize(gray: np.ndarray, threshold: int, mode: str = 'fixed',
             roi: Optional[Box] = None, widest_stroke: int = 60,
             min_line_length: Optional[int] = None) -> np.ndarray:
    """Dark ink on light paper -> uint8 mask, white ink (255) on black, as MNIST is; without
    straight lines at least min_line_length long, if given (erase_printed_lines).

    flatfield: darker than the paper around it (see flatfield_darkness); `roi` (left, top,
    width, height inside `gray`, default all) is where the darkest marks are measured.
    fixed: pixels darker than `threshold`. otsu: the threshold that best splits the histogram
    (blank paper gives no ink). adaptive: darker than the neighbourhood's weighted mean.
    """
    return find_ink(gray, threshold, mode, roi, widest_stroke, min_line_length).mask


def find_ink(gray: np.ndarray, threshold: int, mode: str = 'fixed',
             roi: Optional[Box] = None, widest_stroke: int = 60,
             min_line_length: Optional[int] = None, scale: int = 1) -> Ink:
    """binarize() with what cut_ink needs; `scale`: frame pixels per pixel of `gray`, which
    is not smoothed further when above 1 (its downscaling averaged the noise)."""
    if not 0 <= threshold <= 255:
        raise ValueError(f'threshold must be in [0, 255], got {threshold}')
    if mode == 'flatfield':
        smooth = cv2.blur(gray, (3, 3)) if scale == 1 else gray
        paper = paper_brightness(smooth, widest_stroke)
        darkness = darkness_against(smooth, paper)
        x, y, w, h = roi or (0, 0, gray.shape[1], gray.shape[0])
        levels = flatfield_levels(darkness, darkness[y:y + h, x:x + w], scale)
        ink = flatfield_ink(darkness, levels, int(widest_stroke * LIGHT_STROKE_SHARE),
                            min_line_length, scale)
        return Ink(ink, mode, levels[1], paper)
    reference = None
    if mode == 'fixed':
        level = threshold
        _, binary = cv2.threshold(gray, threshold, 255, cv2.THRESH_BINARY_INV)
    elif mode == 'otsu':
        level, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
        ink = gray[binary > 0]
        paper = gray[binary == 0]
        if ink.size == 0 or paper.size == 0 or paper.mean() - ink.mean() < MIN_OTSU_CONTRAST:
            binary[:] = 0
            level = -1
    elif mode == 'adaptive':
        # A neighbourhood wider than any stroke, so thick strokes are not hollowed out; its
        # Gaussian-weighted mean, as cv2.adaptiveThreshold takes it.
        block = max(3, (min(gray.shape[:2]) // 4) | 1)
        reference = cv2.GaussianBlur(gray, (block, block), 0, borderType=cv2.BORDER_REPLICATE)
        level = ADAPTIVE_OFFSET
        _, binary = cv2.threshold(cv2.subtract(reference, gray), level - 1, 255,
                                  cv2.THRESH_BINARY)
    else:
        raise ValueError(f'threshold mode must be one of {THRESHOLD_MODES}, got {mode!r}')
    if min_line_length:
        binary = erase_printed_lines(binary, min_line_length, scale)
    return Ink(binary, mode, int(level), reference)


def cut_ink(gray: np.ndarray, ink: Ink, reference: Optional[np.ndarray]) -> np.ndarray:
    """Bool mask of the ink in `gray` (full resolution), found as `ink` found it at its own;
    `reference`: ink.reference's part under `gray`, resized to it."""
    if ink.mode == 'flatfield':
        return darkness_against(cv2.blur(gray, (3, 3)), reference) >= ink.level
    if ink.mode == 'adaptive':
        return cv2.subtract(reference, gray) >= ink.level
    return gray <= ink.level


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


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels of a 0/255 mask: twice its area over its outline's length."""
    area = np.count_nonzero(ink)
    outline = area - np.count_nonzero(cv2.erode(ink, None, borderType=cv2.BORDER_CONSTANT,
                                                borderValue=0))
    return 2.0 * area / max(outline, 1)


def normalize_digit(ink: np.ndarray) -> np.ndarray:
    """uint8 0/255 mask of one digit -> uint8 [28, 28] as MNIST: bounding box fit 20x20
    keeping aspect, strokes at least MIN_STROKE wide, centred on the centre of mass."""
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    box = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = DIGIT_BOX / max(box.shape)
    # A ballpoint line on a large digit would shrink to a faint grey trace: thicken it to
    # the pen width MNIST's digits have at 20x20.
    grow = int(np.ceil((MIN_STROKE / scale - stroke_width(box)) / 2))
    if grow > 0:
        box = cv2.copyMakeBorder(box, grow, grow, grow, grow, cv2.BORDER_CONSTANT, value=0)
        if grow < WIDE_DILATION:
            disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
            box = cv2.dilate(box, disc)
        else:  # the same disc, from the distance to the ink: its cost does not grow with it
            box = (cv2.distanceTransform(cv2.bitwise_not(box), cv2.DIST_L2, 5) <= grow
                   ).astype(np.uint8) * np.uint8(255)
        scale = DIGIT_BOX / max(box.shape)
    height = max(1, round(box.shape[0] * scale))
    width = max(1, round(box.shape[1] * scale))
    # INTER_AREA averages the binary pixels into grey edges, like MNIST's anti-aliasing.
    digit = cv2.resize(box, (width, height), interpolation=cv2.INTER_AREA)
    moments = cv2.moments(digit)
    if moments['m00'] == 0:
        centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
    else:
        centre_x, centre_y = moments['m10'] / moments['m00'], moments['m01'] / moments['m00']
    # MNIST's centres of mass sit at pixel (14.0, 14.0). A whole-pixel shift keeps the
    # strokes sharp.
    shift = np.float32([[1, 0, round(CROP_SIZE / 2 - centre_x)],
                        [0, 1, round(CROP_SIZE / 2 - centre_y)]])
    return cv2.warpAffine(digit, shift, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_NEAREST,
                          borderValue=0)


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
    ink = ink._replace(mask=_without_hands(ink.mask, roi_size, scale))
    return ink, choose_digit(ink.mask, roi_here, roi_size, frame_shape, frame_edges)


def _without_hands(ink, roi_size, scale=1):
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


def preprocess_steps(frame_bgr: np.ndarray, threshold: int, roi_size: int,
                     threshold_mode: str = DEFAULT_THRESHOLD_MODE,
                     normalization: str = 'mnist') -> Reading:
    """preprocess_frame() with what the debug views show: the searched area's ink, the
    chosen digit, and where both are in the frame."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(f'normalization must be one of {NORMALIZATIONS}, got {normalization!r}')
    if threshold_mode not in THRESHOLD_MODES:
        raise ValueError(f'threshold mode must be one of {THRESHOLD_MODES}, '
                         f'got {threshold_mode!r}')
    frame = check_frame(frame_bgr)
    left, top, roi_size = roi_box(frame.shape, roi_size)  # clipped to the frame
    roi = (left, top, roi_size, roi_size)
    if normalization == 'resize':  # the tutorial's squeeze of the whole ROI
        ink = binarize(to_gray(centre_roi(frame, roi_size)), threshold, threshold_mode,
                       widest_stroke=int(WIDEST_STROKE * roi_size))
        crop = cv2.resize(ink, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
        return Reading(crop, ink, None, roi, None, roi[:3])

    height, width = frame.shape[:2]
    scale = FIND_SCALE if min(height, width) >= MIN_SCALED_FRAME else 1
    gray = frame if frame.ndim == 2 else None
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
        return Reading(None, ink.mask, None, frame_box, None, roi[:3], scale)
    if scale == 1:
        rows = np.flatnonzero(digit.any(axis=1))
        cols = np.flatnonzero(digit.any(axis=0))
        digit_ink = digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.uint8) * 255
        digit_box = (box[0] + int(cols[0]), box[1] + int(rows[0]), digit_ink.shape[1],
                     digit_ink.shape[0])
    else:
        digit_ink, digit_box = _cut_at_full_resolution(frame, digit, ink, box, scale)
    return Reading(normalize_digit(digit_ink), ink.mask, digit, frame_box, digit_box, roi[:3],
                   scale)


def read_frame(frame: np.ndarray, settings: PreprocessSettings) -> Reading:
    """Everything the preprocess node needs from one frame: the crop, the ROI box, the ink
    found and the chosen digit (preprocess_steps with the node's settings)."""
    return preprocess_steps(frame, *settings)


def preprocess_frame(frame_bgr: np.ndarray, threshold: int, roi_size: int,
                     threshold_mode: str = DEFAULT_THRESHOLD_MODE,
                     normalization: str = 'mnist') -> Optional[np.ndarray]:
    """The uint8 [28, 28] crop the classifier sees, or None when no digit is in view.

    `mnist`: the digit found around the ROI, normalized as MNIST (see the module's
    docstring); `resize`, the tutorial's way, squeezes the whole binarized ROI into 28x28 and
    always returns a crop.
    """
    return preprocess_steps(frame_bgr, threshold, roi_size, threshold_mode, normalization).crop
