"""The sheet's reflectance: paper colours and fibres, the lines printed on it, faint writing
seen through it, and ink filtering the light. Marks are (coverage float32 [H, W], B G R
transmittance) pairs."""

import cv2
import numpy as np

from digit_recognition.simulation.geometry import near_centre, roi_centre


# Paper reflectance, B, G, R.
PAPERS = {
    'white': (0.93, 0.94, 0.94),
    'grey': (0.62, 0.63, 0.63),
    'cream': (0.74, 0.88, 0.94),
    'yellow': (0.5, 0.86, 0.94),
    'blue': (0.93, 0.84, 0.74),
    'green': (0.72, 0.9, 0.76),
}


def jitter(colour, rng, amount=0.04) -> tuple:
    return tuple(np.clip(np.asarray(colour) * rng.uniform(1 - amount, 1 + amount, 3), 0.02, 1))


def smooth_field(shape: tuple, rng, cell: float) -> np.ndarray:
    """Random values in [0, 1], float32 [h, w], varying smoothly over about `cell` px."""
    h, w = shape
    coarse = rng.random((int(h / cell) + 2, int(w / cell) + 2), dtype=np.float32)
    return np.clip(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC), 0, 1)


def apply_ink(sheet: np.ndarray, coverage: np.ndarray, colour) -> None:
    """Ink filters the light: the sheet (float32 [3, h, w]) is multiplied by the ink's
    transmittance, in place."""
    for plane, transmittance in zip(sheet, colour):
        plane *= 1 - coverage * np.float32(1 - transmittance)


def line_family(frame_size, roi_size, rng, spacing, angle) -> np.ndarray:
    """Parallel lines float32 [L, 2, 2] ((x, y) ends) `spacing` px apart, running at `angle`
    radians, at a random phase, spanning the frame."""
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    reach = float(np.hypot(*frame_size))
    count = int(reach / spacing) + 1
    offsets = (np.arange(-count, count + 1) + rng.random()) * spacing
    middles = roi_centre(frame_size, roi_size) + offsets[:, None] * normal
    return np.stack([middles - reach * direction, middles + reach * direction], axis=1)


def draw_lines(frame_size, lines: np.ndarray, thickness: int) -> np.ndarray:
    """Coverage float32 [H, W] of anti-aliased lines [L, 2, 2] of `thickness` px."""
    width, height = frame_size
    canvas = np.zeros((height, width), np.uint8)
    cv2.polylines(canvas, list(np.round(lines * 16).astype(np.int32)), False, 255,
                  int(thickness), cv2.LINE_AA, shift=4)
    return canvas.astype(np.float32) / 255


def light_blue_line(rng):
    return jitter((0.95, 0.78, 0.6), rng, 0.06)


def grey_line(rng):
    return (rng.uniform(0.7, 0.85),) * 3


def ruled_marks(frame_size, roi_size, rng, height, colour, margin=False) -> tuple:
    """Notebook lines every 40-80 % of the digit's height, 1-3 px, the sheet turned a few
    degrees; with a red margin line through or beside the ROI."""
    angle = np.deg2rad(rng.uniform(-4, 4))
    lines = line_family(frame_size, roi_size, rng, height * rng.uniform(0.4, 0.8), angle)
    marks = [(draw_lines(frame_size, lines, rng.integers(1, 4)), colour)]
    if margin:
        offset = rng.uniform(-90, 90)
        across = np.array([np.cos(angle), np.sin(angle)])
        centre = roi_centre(frame_size, roi_size) + offset * across
        up = np.array([-across[1], across[0]]) * 1000
        marks.append((draw_lines(frame_size, np.array([[centre - up, centre + up]]),
                                 rng.integers(1, 4)), jitter((0.6, 0.58, 0.95), rng)))
    return tuple(marks)


def squared_marks(frame_size, roi_size, rng, height, colour, major=False) -> tuple:
    """5 mm squares for a digit written 6-12 mm tall; `major`: every second line darker."""
    spacing = height * 5 / rng.uniform(6, 12)
    angle = np.deg2rad(rng.uniform(-4, 4))
    lines = np.concatenate([line_family(frame_size, roi_size, rng, spacing, angle),
                            line_family(frame_size, roi_size, rng, spacing, angle + np.pi / 2)])
    if not major:
        return ((draw_lines(frame_size, lines, rng.integers(1, 3)), colour),)
    minor = draw_lines(frame_size, lines[1::2], 1)
    strong = np.clip(np.asarray(colour) - 0.12, 0.3, 1)
    return ((minor, colour), (draw_lines(frame_size, lines[::2], 2), tuple(strong)))


def fibres(frame_size, rng) -> tuple:
    """Paper's mottled texture: its reflectance varying by a few per cent."""
    width, height = frame_size
    return ((smooth_field((height, width), rng, 5), (1 - rng.uniform(0.03, 0.07),) * 3),)


def faint_writing(frame_size, roi_size, rng, text, mirrored, level) -> tuple:
    """Writing seen through the sheet or left after erasing: blurred strokes that darken the
    paper by only 5-15 grey levels (a real stroke darkens it by a hundred or more)."""
    width, height = frame_size
    canvas = np.zeros((height, width), np.uint8)
    font = (cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SIMPLEX)[int(rng.integers(2))]
    scale = rng.uniform(2.5, 5.5) / max(1, len(text) ** 0.5)
    thickness = int(rng.integers(3, 10))
    (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
    cx, cy = roi_centre(frame_size, roi_size) + near_centre(rng, 40)
    cv2.putText(canvas, text, (int(cx - w / 2), int(cy + h / 2)), font, scale, 255, thickness,
                cv2.LINE_AA)
    if mirrored:
        canvas = cv2.flip(canvas, 1)
        canvas = np.roll(canvas, int(2 * cx - width + 1), axis=1)  # keep it over the ROI
    coverage = cv2.GaussianBlur(canvas.astype(np.float32), (0, 0), rng.uniform(1.2, 3.0))
    coverage /= max(float(coverage.max()), 1e-6)
    return ((coverage, (1 - rng.uniform(5, 15) / level,) * 3),)
