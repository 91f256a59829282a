"""What the classifier reads of one frame: the 28x28 crop and, behind it, its context (the ink
around the digit at the ROI's scale, core.preprocessing.context), as one uint8 [28, 28, 3]
array, the `8UC3` image the preprocess node publishes on `digit_crop`. numpy only: the
classifier node never imports OpenCV.
"""

import numpy as np

from digit_recognition.core.sizes import CROP_SIZE

CONTEXT_CHANNELS = 2  # the digit's ink, the other ink
PATCH_CHANNELS = 1 + CONTEXT_CHANNELS  # the crop, then its context
MAX_ROW = 16  # crops side by side in one image at most: the marks of a number


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


def crops_of_row(image: np.ndarray) -> np.ndarray:
    """The k crops of a 28 x 28k image (mono8 [28, 28k] or with context [28, 28k, 3]), left
    to right: [k, 28, 28] or [k, 28, 28, 3]. One crop for 28x28. ValueError otherwise."""
    image = np.asarray(image)
    width = image.shape[1] if image.ndim >= 2 else 0
    if (image.ndim not in (2, 3) or image.shape[0] != CROP_SIZE or width % CROP_SIZE
            or not 1 <= width // CROP_SIZE <= MAX_ROW
            or (image.ndim == 3 and image.shape[2] != PATCH_CHANNELS)):
        raise ValueError(f'crop of shape {image.shape}, expected {CROP_SIZE}x{CROP_SIZE} '
                         f'(or {CROP_SIZE} x {CROP_SIZE}k: a number of k marks, k at most '
                         f'{MAX_ROW})')
    count = width // CROP_SIZE
    return np.stack([image[:, k * CROP_SIZE:(k + 1) * CROP_SIZE] for k in range(count)])


def row_image(patches: np.ndarray) -> np.ndarray:
    """uint8 [28, 28k, 3]: k crops with their context [k, 28, 28, 3] side by side, as the
    preprocess node publishes them (crops_of_row's inverse)."""
    return np.concatenate(list(patches), axis=1)
