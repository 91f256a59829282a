"""The sizes every layer shares, each written once: the crop the classifier reads, the frame
and ROI a camera and the preprocess node use by default, the largest frame accepted, and the
one check of a frame size. No imports from this package: every other module may use it."""

from typing import Tuple

CROP_SIZE = 28  # side of the crop the classifier reads, in pixels: MNIST's 28x28
FRAME_SIZE = (640, 480)  # width, height of the camera's frames by default (OpenCV's order)
ROI_SIZE = 200  # side of the preprocess node's centred ROI by default, in frame pixels
# The largest frame preprocess accepts (a 4096x4096 image is 48 MB as bgr8); the camera
# refuses a larger requested size and scales larger native frames down to fit.
MAX_PIXELS = 4096 * 4096


def check_frame_size(width: int, height: int, native: bool = False) -> Tuple[int, int]:
    """(width, height) as ints; ValueError unless both are at least 1 (or 0 where `native`:
    the source's own size) and width x height is at most MAX_PIXELS."""
    lowest = 0 if native else 1
    if width < lowest or height < lowest:
        raise ValueError(f'frame size must be at least {lowest} x {lowest} (width, height), '
                         f'got {width} x {height}')
    if width * height > MAX_PIXELS:
        raise ValueError(f'{width}x{height} is more than the {MAX_PIXELS} pixels preprocess '
                         'accepts')
    return int(width), int(height)
