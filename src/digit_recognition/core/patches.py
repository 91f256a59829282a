"""What the classifier reads of one frame: the 28x28 crop and, behind it, its context (the ink
around the digit at the ROI's scale, core.preprocessing.context), as one uint8 [28, 28, 3]
array, the `8UC3` image the preprocess node publishes on `digit_crop`. numpy only: the
classifier node never imports OpenCV.
"""

import numpy as np

from digit_recognition.core.sizes import CROP_SIZE

CONTEXT_CHANNELS = 2  # the digit's ink, the other ink
PATCH_CHANNELS = 1 + CONTEXT_CHANNELS  # the crop, then its context


def crop_with_context(crop: np.ndarray, context=None) -> np.ndarray:
    """uint8 [28, 28, 3]: the crop, then its context (zeros when None: the crop alone, as
    another node's plain crop arrives; the gate then judges the crop alone)."""
    patch = np.zeros((CROP_SIZE, CROP_SIZE, PATCH_CHANNELS), np.uint8)
    patch[..., 0] = crop
    if context is not None:
        patch[..., 1:] = context
    return patch


def as_patches(crops: np.ndarray) -> np.ndarray:
    """uint8 [N, 28, 28, 3] of crops [N, 28, 28] (no context) or patches [N, 28, 28, 3];
    ValueError for anything else."""
    crops = np.asarray(crops)
    if crops.dtype != np.uint8 or crops.ndim not in (3, 4) or crops.shape[1:3] != (
            CROP_SIZE, CROP_SIZE) or (crops.ndim == 4 and crops.shape[3] != PATCH_CHANNELS):
        raise ValueError(f'expected uint8 crops [N, 28, 28] or crops with context '
                         f'[N, 28, 28, {PATCH_CHANNELS}], got {crops.dtype} {crops.shape}')
    if crops.ndim == 4:
        return crops
    patches = np.zeros((*crops.shape, PATCH_CHANNELS), np.uint8)
    patches[..., 0] = crops
    return patches
