"""Turn a camera frame into a 28x28 MNIST-style crop. numpy/OpenCV only, no ROS.

The region of interest (ROI) says where to look, not where the digit must end:
1. Ink is looked for in the ROI plus a margin around it, and in the whole frame when ink
   runs out of that (a digit held close, printed lines), so a digit that crosses the box's
   border is read whole.
2. `flatfield` (the default) divides out the lighting first: each pixel is compared with the
   paper around it (a grey closing wider than any pen stroke), so shadows, gradients, dim
   rooms and tinted paper leave plain paper; the levels that make ink come from the frame's
   darkest marks and its noise; light blobs too wide to be a pen (the shadow of a finger)
   are not ink. `fixed`, `otsu` and `adaptive` threshold the grey image.
3. Straight lines that run across the image (ruled and squared paper, a margin line, the
   sheet's edge) are erased, even where they cross the digit.
4. Ink is grouped into blobs (pieces of one digit are close together); the digit is the
   blob with the most ink, weighted by closeness to the ROI's centre, among those whose
   centre is inside the ROI.
5. MNIST normalization, the way MNIST was made: the digit's bounding box scaled to fit
   20x20 keeping its aspect ratio, strokes thickened to MNIST's pen width where a thin pen
   would vanish at that scale, placed in 28x28 with its centre of mass at the centre.

`threshold` acts in every mode: in fixed, the tutorial's grey level; in the others, how dark
ink must be in percent of the levels the mode finds on the frame (ink.THRESHOLD_MEANINGS;
the default, 100, keeps them as found).

One module per stage: frame (the image, the ROI, the searched area), ink (step 2), lines
(3), blobs (4), normalize (5) and reader, which runs them on a frame: read_frame(frame,
settings) is the one entry point. Each stage keeps its own constants.
"""

from .frame import Box, centre_roi, check_frame, roi_box, to_gray
from .ink import (binarize, DEFAULT_THRESHOLD, DEFAULT_THRESHOLD_MODE, THRESHOLD_LIMITS,
                  THRESHOLD_MEANINGS, THRESHOLD_MODES)
from .normalize import normalize_digit, stroke_width
from .reader import find_digit_ink, NORMALIZATIONS, PreprocessSettings, read_frame, Reading

__all__ = [
    'binarize', 'Box', 'centre_roi', 'check_frame', 'DEFAULT_THRESHOLD', 'DEFAULT_THRESHOLD_MODE',
    'find_digit_ink', 'normalize_digit', 'NORMALIZATIONS', 'PreprocessSettings', 'read_frame',
    'Reading', 'roi_box', 'stroke_width', 'THRESHOLD_LIMITS', 'THRESHOLD_MEANINGS',
    'THRESHOLD_MODES', 'to_gray',
]
