"""Turn a camera frame into a 28x28 MNIST-style crop. numpy/OpenCV only, no ROS.

MNIST digits were made by scaling each digit's bounding box to fit 20x20 pixels, keeping its
aspect ratio, and placing it in a 28x28 image with its centre of mass at the centre. The
default `mnist` normalization does the same to the ink found in the region of interest, so
the classifier sees what it was trained on whatever the digit's size and position.
"""

import cv2
import numpy as np

CROP_SIZE = 28
DIGIT_BOX = 20  # MNIST fits each digit's bounding box into 20x20 pixels

THRESHOLD_MODES = ('fixed', 'otsu', 'adaptive')
NORMALIZATIONS = ('mnist', 'resize')

# What counts as a digit, relative to the region of interest so they hold at any roi_size.
MIN_SPECK_FRACTION = 0.001  # components smaller than this share of the ROI are dirt or noise
MIN_DIGIT_HEIGHT = 0.15  # ink shorter than this share of the ROI side is not a digit
MAX_INK_FRACTION = 0.4  # more ink than this is a shadow, a hand or a wrong threshold
# Otsu always splits the histogram in two, even on blank paper: demand real contrast.
MIN_OTSU_CONTRAST = 40
# Adaptive threshold: ink must be this much darker than its neighbourhood's weighted mean.
ADAPTIVE_OFFSET = 15


def to_gray(frame):
    """Grayscale view of a bgr8 [H, W, 3] or mono8 [H, W] frame."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise ValueError(f'expected a uint8 image, got {frame.dtype}')
    if frame.size == 0:
        raise ValueError(f'empty image of shape {frame.shape}')
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    raise ValueError(f'expected a bgr8 [H, W, 3] or mono8 [H, W] image, got shape {frame.shape}')


def centre_roi(image, roi_size):
    """The centred roi_size x roi_size square; clipped to the image if the image is smaller."""
    if roi_size < 1:
        raise ValueError(f'roi_size must be positive, got {roi_size}')
    left, top, size = roi_box(image.shape, roi_size)
    return image[top:top + size, left:left + size]


def binarize(gray, threshold, mode='fixed'):
    """Dark ink on light paper -> white ink on black, as MNIST is.

    fixed: pixels darker than `threshold` are ink. otsu: the threshold that best splits the
    histogram (blank paper gives no ink). adaptive: pixels darker than their neighbourhood,
    which survives uneven light.
    """
    if not 0 <= threshold <= 255:
        raise ValueError(f'threshold must be in [0, 255], got {threshold}')
    if mode == 'fixed':
        _, binary = cv2.threshold(gray, threshold, 255, cv2.THRESH_BINARY_INV)
    elif mode == 'otsu':
        level, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
        ink = gray[binary > 0]
        paper = gray[binary == 0]
        if ink.size == 0 or paper.size == 0 or paper.mean() - ink.mean() < MIN_OTSU_CONTRAST:
            binary[:] = 0
    elif mode == 'adaptive':
        # A neighbourhood wider than any stroke, so thick strokes are not hollowed out.
        block = max(3, (min(gray.shape[:2]) // 4) | 1)
        binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                       cv2.THRESH_BINARY_INV, block, ADAPTIVE_OFFSET)
    else:
        raise ValueError(f'threshold mode must be one of {THRESHOLD_MODES}, got {mode!r}')
    return binary


def find_digit_ink(binary):
    """The binary image with only the digit's ink kept, or None when there is no digit.

    Ink is the connected components that are not specks and do not touch the region's
    edge (paper edges, shadows and fingers come in from outside). No digit: no such ink, ink
    too short to be a digit, or so much ink that it is not writing.
    """
    side = min(binary.shape)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    x, y, w, h, area = (stats[:, i] for i in range(5))
    height, width = binary.shape
    touches_edge = (x == 0) | (y == 0) | (x + w >= width) | (y + h >= height)
    keep = (area >= MIN_SPECK_FRACTION * binary.size) & ~touches_edge
    keep[0] = False  # label 0 is the background
    if not keep.any() or area[keep].sum() > MAX_INK_FRACTION * binary.size:
        return None
    top, bottom = y[keep].min(), (y + h)[keep].max()
    if bottom - top < MIN_DIGIT_HEIGHT * side:
        return None
    return np.where(np.isin(labels, np.flatnonzero(keep)), np.uint8(255), np.uint8(0))


def normalize_digit(ink):
    """Bounding box -> fit 20x20 keeping aspect -> 28x28 centred on the centre of mass."""
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    box = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
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


def roi_box(frame_shape, roi_size):
    """(left, top, size) of the centred ROI in a frame of frame_shape, as centre_roi() cuts it."""
    height, width = frame_shape[:2]
    size = min(roi_size, height, width)
    return (width - size) // 2, (height - size) // 2, size


def preprocess_steps(frame_bgr, threshold, roi_size, threshold_mode='fixed',
                     normalization='mnist'):
    """preprocess_frame() with its intermediate result: (binary ROI, crop or None).

    The binary ROI is what the debug view shows; the crop is what the classifier sees.
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f'normalization must be one of {NORMALIZATIONS}, got {normalization!r}')
    # Crop first: only the ROI's pixels (a tenth of a 640x480 frame) need converting.
    frame = np.asarray(frame_bgr)
    roi = centre_roi(frame, roi_size) if frame.ndim >= 2 else frame
    binary = binarize(to_gray(roi), threshold, threshold_mode)
    if normalization == 'resize':
        return binary, cv2.resize(binary, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
    ink = find_digit_ink(binary)
    return binary, None if ink is None else normalize_digit(ink)


def preprocess_frame(frame_bgr, threshold, roi_size, threshold_mode='fixed',
                     normalization='mnist'):
    """The 28x28 uint8 crop the classifier sees, or None when no digit is in view.

    Crops the centred ROI, binarizes it (white ink on black) and normalizes it: `mnist` as
    described above; `resize`, the tutorial's way, squeezes the whole ROI into 28x28 and
    always returns a crop.
    """
    return preprocess_steps(frame_bgr, threshold, roi_size, threshold_mode, normalization)[1]
