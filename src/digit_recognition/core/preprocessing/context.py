"""What the 28x28 crop no longer shows: the ink around the chosen digit at the ROI's scale.

MNIST normalization scales every digit into the same 20x20 box, so a paper edge, a line
fragment or a finger's rim becomes the same picture as a "1" or a "0". The context view keeps
what tells them apart, for the gate (core.models) to learn from: a window of CONTEXT_SPAN ROI
sides centred on the digit, at a fixed scale against the ROI, in two channels:
- the digit's own ink (its size against the ROI, how long its strokes are, how broad);
- the other ink found around it (a row of marks, the rest of a ruled line, a hand), with the
  part of the window preprocessing never searched (off the frame, or outside the searched
  area) at half level, so ink running out of view shows as ink meeting that region.
numpy/OpenCV only.
"""

from typing import Tuple

import cv2
import numpy as np

from digit_recognition.core.sizes import CROP_SIZE

CONTEXT_SPAN = 1.5  # the window's side, in ROI sides: the searched area's
# A cell's ink share is scaled by this before clipping: a pen stroke of a tenth of a cell
# still shows, as in the debug binary view.
INK_GAIN = 4.0
UNSEARCHED_LEVEL = 0.5  # the unsearched part of the window, in the other ink's channel


def context_view(ink: np.ndarray, digit: np.ndarray, search_box: Tuple[int, int, int, int],
                 scale: int, digit_box: Tuple[int, int, int, int], roi_size: int
                 ) -> np.ndarray:
    """uint8 [28, 28, 2]: the digit's ink and the other ink in a window of CONTEXT_SPAN x
    roi_size frame pixels centred on digit_box (left, top, width, height, frame pixels).

    ink: uint8 0/255 mask of the searched area at 1/scale resolution (Reading.ink); digit:
    bool mask of the chosen digit, same shape; search_box: where `ink` lies in the frame.
    """
    side = max(CROP_SIZE, int(round(CONTEXT_SPAN * roi_size / scale)))  # in ink pixels
    centre_x = (digit_box[0] + digit_box[2] / 2 - search_box[0]) / scale
    centre_y = (digit_box[1] + digit_box[3] / 2 - search_box[1]) / scale
    left, top = int(round(centre_x - side / 2)), int(round(centre_y - side / 2))
    height, width = ink.shape
    # The window's part inside the searched area, and where it lands in the window.
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(width, left + side), min(height, top + side)
    planes = np.zeros((3, side, side), np.float32)  # digit, other ink, unsearched
    planes[2] = 1.0
    if x1 > x0 and y1 > y0:
        inside = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
        chosen = digit[y0:y1, x0:x1]
        planes[0][inside] = chosen
        planes[1][inside] = (ink[y0:y1, x0:x1] > 0) & ~chosen
        planes[2][inside] = 0.0
    small = [cv2.resize(plane, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
             for plane in planes]
    digit_level = np.minimum(1.0, INK_GAIN * small[0])
    other_level = np.maximum(np.minimum(1.0, INK_GAIN * small[1]),
                             UNSEARCHED_LEVEL * small[2])
    view = np.stack([digit_level, other_level], axis=-1)
    return (view * 255 + 0.5).astype(np.uint8)
