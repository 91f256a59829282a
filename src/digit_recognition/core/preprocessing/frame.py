"""The frame and the boxes in it: checking an image, its grey view, the ROI and the area
searched around it."""

from typing import Tuple

import cv2
import numpy as np

# Sizes relative to the ROI's side, so they hold at any roi_size.
SEARCH_MARGIN = 0.25  # ink is looked for this far around the ROI before the whole frame

Box = Tuple[int, int, int, int]  # left, top, width, height, in frame pixels


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
