"""MNIST digits drawn as a camera sees them: dark ink on light, unevenly lit paper.

numpy/OpenCV only. Used for the sample video and the tests; evaluate's camera conditions are
simulation/. MNIST stores white ink on black with grey, anti-aliased stroke edges; here
that grey level is the share of ink covering the pixel, so the tutorial's
threshold-and-resize gives back (nearly) the original digit.
"""

import cv2
import numpy as np

from digit_recognition.core.sizes import check_frame_size, CROP_SIZE, FRAME_SIZE, ROI_SIZE

# The sizes are core.sizes', named here too for the modules that draw frames with them.
__all__ = ['blank_frame', 'check_frame_size', 'FRAME_SIZE', 'render_frame', 'ROI_SIZE']

PAPER_LEVEL = (197.0, 213.0)  # range of the paper's mean grey level
PAPER_GRADIENT = 10.0  # most grey levels the light changes across the frame
PAPER_TINT = (-4.0, -1.0, 0.0)  # B, G, R offsets: paper under indoor light is slightly warm
INK_LEVEL = (35.0, 55.0)  # range of the ink's grey level
NOISE = 3.0  # standard deviation of the sensor noise, in grey levels


def _paper(frame_size, rng, gradient=PAPER_GRADIENT):
    """Paper grey level float32 [H, W] lit unevenly: a gradient of up to `gradient` grey levels
    in any direction."""
    width, height = frame_size
    level = rng.uniform(*PAPER_LEVEL)
    angle = rng.uniform(0, 2 * np.pi)
    # Position along the light's direction, -0.5..0.5 across the frame's diagonal.
    x = (np.arange(width, dtype=np.float32) / max(width, height) - 0.5) * np.cos(angle)
    y = (np.arange(height, dtype=np.float32) / max(width, height) - 0.5) * np.sin(angle)
    return level + gradient * rng.uniform(0.3, 1.0) * (y[:, None] + x[None, :])


def _to_bgr8(gray, rng, noise):
    """bgr8 frame from a float grey image: the paper's tint, then per-pixel sensor noise."""
    frame = gray[:, :, None] + np.asarray(PAPER_TINT, np.float32)
    if noise > 0:
        grain = rng.standard_normal(frame.shape, dtype=np.float32)
        grain *= noise
        frame += grain
    # In place and rounded by +0.5: a frame is 1M values, and numpy temporaries cost here.
    frame += 0.5
    np.clip(frame, 0, 255, out=frame)
    return frame.astype(np.uint8)


def blank_frame(frame_size=FRAME_SIZE, rng=None, noise=NOISE):
    """A bgr8 [H, W, 3] frame of empty paper, lit and noisy as render_frame()'s paper."""
    frame_size = check_frame_size(*frame_size)
    rng = np.random.default_rng() if rng is None else rng
    return _to_bgr8(_paper(frame_size, rng), rng, noise)


def render_frame(digit, frame_size=FRAME_SIZE, digit_size=200, center=None, rng=None,
                 noise=NOISE, contrast=1.0):
    """A bgr8 [H, W, 3] frame showing an MNIST digit as dark ink on paper.

    digit: uint8 [28, 28], white on black. The whole 28x28 image is scaled to digit_size x
    digit_size pixels and centred at center = (x, y) (default: the frame's centre, so it fills
    exactly the centred digit_size ROI). rng: numpy Generator for the light, ink level and
    noise; the same seed gives the same frame. noise: sensor noise sigma in grey levels.
    contrast: the ink's darkness against the paper, times this (0.25: faint pencil).
    """
    digit = np.asarray(digit)
    if digit.dtype != np.uint8 or digit.shape != (CROP_SIZE, CROP_SIZE):
        raise ValueError(f'expected a uint8 28x28 MNIST digit, got {digit.dtype} {digit.shape}')
    if digit_size < 1:
        raise ValueError(f'digit_size must be positive, got {digit_size}')
    width, height = check_frame_size(*frame_size)
    rng = np.random.default_rng() if rng is None else rng
    center_x, center_y = (width / 2, height / 2) if center is None else center

    # One warp scales and places the digit with sub-pixel accuracy and clips it to the frame.
    # Same pixel-centre convention as cv2.resize, so at the frame centre the digit lands
    # exactly on the centred ROI the tutorial crops.
    scale = digit_size / CROP_SIZE
    shift_x = center_x - digit_size / 2 + 0.5 * scale - 0.5
    shift_y = center_y - digit_size / 2 + 0.5 * scale - 0.5
    matrix = np.float32([[scale, 0, shift_x], [0, scale, shift_y]])
    coverage = cv2.warpAffine(digit.astype(np.float32) / 255.0, matrix, (width, height),
                              flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=0)
    coverage = np.clip(coverage, 0.0, 1.0)  # cubic interpolation overshoots at stroke edges

    paper = _paper((width, height), rng)
    ink = rng.uniform(*INK_LEVEL)
    return _to_bgr8(paper + coverage * ((ink - paper) * contrast), rng, noise)
