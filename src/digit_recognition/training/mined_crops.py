"""Hard negatives for the gate: what the default preprocessing cuts out of digit-free camera
frames (finger and hand rims, shadow and paper edges, line fragments), as the classifier
would receive it, crop and context. The drawn non-digits are negatives.py's."""

import numpy as np

from digit_recognition.core.patches import PATCH_CHANNELS
from digit_recognition.core.sizes import CROP_SIZE

# Digit-free camera frames mined for what preprocessing cuts out of them (finger and hand
# rims, shadow and paper edges, line fragments): frames per blank kind of
# simulation.blanks.BLANK_KINDS; kinds that rarely give a crop get fewer frames.
MINED_FRAMES = {'finger': 2400, 'hand_holding': 2400, 'shadowed': 1200, 'shadow_edge': 1200,
                'paper_edge': 1500, 'printed_lines': 600, 'squared': 600}
OTHER_MINED_FRAMES = 200


def _mine_kind(kind: str, frames: int, seed: int) -> np.ndarray:
    from digit_recognition.core.preprocessing import PreprocessSettings, read_frame  # noqa: PLC0415
    from digit_recognition.simulation.blanks import render_blank  # noqa: PLC0415

    patches = []
    for index in range(frames):
        frame, _ = render_blank(kind, np.random.default_rng([seed, index, len(kind)]))
        patch = read_frame(frame, PreprocessSettings()).patch()
        if patch is not None:
            patches.append(patch)
    return np.stack(patches) if patches else np.zeros(
        (0, CROP_SIZE, CROP_SIZE, PATCH_CHANNELS), np.uint8)


def mine_blank_crops(seed: int, scale: float = 1.0, workers: int = 1) -> np.ndarray:
    """uint8 [N, 28, 28, 3]: the crops, with their context, that the default preprocessing
    finds in digit-free frames of every blank kind (hard negatives), `scale` times
    MINED_FRAMES frames, seeded."""
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415
    from digit_recognition.simulation.blanks import BLANK_KINDS  # noqa: PLC0415

    kinds = list(BLANK_KINDS)
    frames = [max(1, int(scale * MINED_FRAMES.get(k, OTHER_MINED_FRAMES))) for k in kinds]
    with ProcessPoolExecutor(workers) as pool:
        found = list(pool.map(_mine_kind, kinds, frames, [seed] * len(kinds)))
    return np.concatenate(found)
