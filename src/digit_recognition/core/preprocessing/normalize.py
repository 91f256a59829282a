"""MNIST normalization of one digit's ink, the way MNIST was made."""

import cv2
import numpy as np

from digit_recognition.core.sizes import CROP_SIZE

DIGIT_BOX = 20  # MNIST fits each digit's bounding box into 20x20 pixels
# Output stroke width (pixels in the 20x20 box) below which strokes are thickened.
MIN_STROKE = 2.2
WIDE_DILATION = 10  # pixels: thickening this much or more goes by the distance transform


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
