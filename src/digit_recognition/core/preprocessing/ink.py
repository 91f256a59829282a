"""Ink from a grey image: the threshold modes, flatfield's division by the paper, the
shadows it leaves out, and finding the same ink again at full resolution (cut_ink)."""

from typing import NamedTuple, Optional, Tuple

import cv2
import numpy as np

from .frame import Box
from .lines import erase_printed_lines

THRESHOLD_MODES = ('flatfield', 'fixed', 'otsu', 'adaptive')
DEFAULT_THRESHOLD_MODE = 'flatfield'

# `threshold`, 0-255, in every mode. fixed: the tutorial's grey level, pixels darker than it
# are ink. The other modes find their own levels on each frame; there it says how dark ink
# must be, in percent of the level the mode finds (DEFAULT_THRESHOLD: as found): lower takes
# fainter ink (and, far lower, the paper's grain), higher only darker ink.
DEFAULT_THRESHOLD = 100
THRESHOLD_LIMITS = (0, 255)

WIDEST_STROKE = 0.3  # flatfield: darker marks wider than this are shadows, not ink
# flatfield: light blobs wider than this share of WIDEST_STROKE need dark ink in them to be
# ink (the shadow rule); broad felt-tips and markers in light colours stay narrower.
LIGHT_STROKE_SHARE = 0.35

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
DARKEST_MARKS = 30  # full-resolution pixels: the darkest marks are the 30th darkest pixel
# What `threshold` means in each mode, as the preprocess node describes its parameter and the
# viewer shows it.
THRESHOLD_MEANINGS = {
    'flatfield': 'how dark ink must be against the paper around it, in % of the levels '
                 'measured on each frame (100: as measured); lower takes fainter ink',
    'fixed': 'the grey level under which pixels are ink; higher takes fainter ink',
    'otsu': 'how much darker than the paper ink must be, in % of the split Otsu finds and of '
            f'the {MIN_OTSU_CONTRAST} grey levels of contrast it needs (100: as found); lower '
            'takes fainter ink',
    'adaptive': "how much darker than its neighbourhood's mean ink must be, in % of "
                f'{ADAPTIVE_OFFSET} grey levels (100: {ADAPTIVE_OFFSET}); lower takes fainter ink',
}


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


def percent_of(level: int, threshold: int) -> int:
    """`threshold` % of an integer level, rounded; `level` itself at DEFAULT_THRESHOLD."""
    return (level * threshold + DEFAULT_THRESHOLD // 2) // DEFAULT_THRESHOLD


def flatfield_levels(darkness: np.ndarray, centre: np.ndarray, scale: int = 1,
                     threshold: int = DEFAULT_THRESHOLD) -> Tuple[int, int]:
    """(strong, weak) darkness levels of ink in a flatfield darkness image.

    Strong ink is at least half as dark as the darkest marks in `centre` (the ROI), so faint
    pencil counts when it is all there is; weak ink (half that) counts where it touches strong
    ink, so thin and blurred strokes stay whole. `scale`: frame pixels per pixel. Both are
    then taken at `threshold` % (at least 1: darkness 0, the paper itself, is never ink).
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
    return tuple(max(1, percent_of(int(level), threshold)) for level in (strong_level, weak_level))


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
    `threshold` in the modes other than fixed: THRESHOLD_MEANINGS.
    """
    return find_ink(gray, threshold, mode, roi, widest_stroke, min_line_length).mask


def find_ink(gray: np.ndarray, threshold: int, mode: str = 'fixed',
             roi: Optional[Box] = None, widest_stroke: int = 60,
             min_line_length: Optional[int] = None, scale: int = 1) -> Ink:
    """binarize() with what cut_ink needs; `scale`: frame pixels per pixel of `gray`, which
    is not smoothed further when above 1 (its downscaling averaged the noise)."""
    if not THRESHOLD_LIMITS[0] <= threshold <= THRESHOLD_LIMITS[1]:
        raise ValueError(f'threshold must be in [{THRESHOLD_LIMITS[0]}, {THRESHOLD_LIMITS[1]}], '
                         f'got {threshold}')
    if mode == 'flatfield':
        smooth = cv2.blur(gray, (3, 3)) if scale == 1 else gray
        paper = paper_brightness(smooth, widest_stroke)
        darkness = darkness_against(smooth, paper)
        x, y, w, h = roi or (0, 0, gray.shape[1], gray.shape[0])
        levels = flatfield_levels(darkness, darkness[y:y + h, x:x + w], scale, threshold)
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
        if ink.size == 0 or paper.size == 0 or (
                paper.mean() - ink.mean() < percent_of(MIN_OTSU_CONTRAST, threshold)):
            binary[:] = 0
            level = -1
        elif threshold != DEFAULT_THRESHOLD:
            # The split moved toward the paper's mean (lower threshold) or away from it.
            gap = paper.mean() - level
            level = min(255, max(-1, int(round(
                level + (DEFAULT_THRESHOLD - threshold) * gap / DEFAULT_THRESHOLD))))
            _, binary = cv2.threshold(gray, level, 255, cv2.THRESH_BINARY_INV)
    elif mode == 'adaptive':
        # A neighbourhood wider than any stroke, so thick strokes are not hollowed out; its
        # Gaussian-weighted mean, as cv2.adaptiveThreshold takes it.
        block = max(3, (min(gray.shape[:2]) // 4) | 1)
        reference = cv2.GaussianBlur(gray, (block, block), 0, borderType=cv2.BORDER_REPLICATE)
        level = max(1, percent_of(ADAPTIVE_OFFSET, threshold))
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
