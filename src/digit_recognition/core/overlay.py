"""The operator's view of a frame: ROI box, the digit chosen, latest digit and confidence.
numpy/OpenCV only."""

from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np

FOUND = (0, 200, 0)  # BGR: a digit is in the ROI
EMPTY = (0, 165, 255)  # no digit found
CHOSEN = (255, 0, 255)  # the ink read as the digit, which may reach beyond the ROI


def draw_overlay(frame_bgr: np.ndarray, box: Tuple[int, int, int], digit_found: bool,
                 digit: Optional[Union[int, str]] = None, confidence: Optional[float] = None,
                 digit_box: Optional[Tuple[int, int, int, int]] = None,
                 number_boxes: Sequence[Tuple[int, int, int, int]] = ()) -> np.ndarray:
    """A copy of the frame with the ROI box (green: digit found), the chosen digit's box
    (left, top, width, height; magenta) or the boxes of a number's digits, and the latest
    reading (a digit, or a number's text)."""
    left, top, size = box
    overlay = frame_bgr.copy()
    for x, y, width, height in (number_boxes or ([digit_box] if digit_box else [])):
        cv2.rectangle(overlay, (x, y), (x + width - 1, y + height - 1), CHOSEN, 1)
    colour = FOUND if digit_found else EMPTY
    cv2.rectangle(overlay, (left, top), (left + size - 1, top + size - 1), colour, 2)
    label = 'no digit' if digit is None else f'{digit}  ({confidence:.2f})'
    scale = max(0.5, frame_bgr.shape[0] / 480)
    cv2.putText(overlay, label, (left, max(20, top - 10)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                colour, 2, cv2.LINE_AA)
    return overlay
