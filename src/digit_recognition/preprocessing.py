"""Turn a camera frame into a 28x28 MNIST-style crop. numpy/OpenCV only, no ROS."""

import cv2
import numpy as np

CROP_SIZE = 28


def to_gray(frame):
    """Grayscale view of a bgr8 [H, W, 3] or mono8 [H, W] frame."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise ValueError(f'expected a uint8 image, got {frame.dtype}')
    if frame.size == 0:
        raise ValueError(f'empty image of shape {frame.shape}')
    if frame.ndim == 2:
        gray = frame
    elif frame.ndim == 3 and frame.shape[2] == 3:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    else:
        raise ValueError(f'expected a bgr8 [H, W, 3] or mono8 [H, W] image, got shape {frame.shape}')
    return gray


def centre_roi(image, roi_size):
    """The centred roi_size x roi_size square; clipped to the image if the image is smaller."""
    if roi_size < 1:
        raise ValueError(f'roi_size must be positive, got {roi_size}')
    height, width = image.shape[:2]
    size = min(roi_size, height, width)
    top = (height - size) // 2
    left = (width - size) // 2
    return image[top:top + size, left:left + size]


def binarize(gray, threshold):
    """Dark ink on light paper -> white digit on black, as MNIST is (inverse binary threshold)."""
    if not 0 <= threshold <= 255:
        raise ValueError(f'threshold must be in [0, 255], got {threshold}')
    _, binary = cv2.threshold(gray, threshold, 255, cv2.THRESH_BINARY_INV)
    return binary


def preprocess_frame(frame_bgr, threshold, roi_size):
    """The 28x28 uint8 crop the classifier sees: gray -> inverse threshold -> centre ROI -> resize.

    Cropping before thresholding gives the same pixels and touches far fewer of them.
    """
    roi = centre_roi(to_gray(frame_bgr), roi_size)
    binary = binarize(roi, threshold)
    # INTER_AREA averages the ROI's pixels, so thin strokes survive the downscale as grey.
    return cv2.resize(binary, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
