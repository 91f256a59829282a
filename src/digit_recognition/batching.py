"""Collect crops into batches and turn a batch's predictions into one decision. numpy only."""

import numpy as np


class CropBatcher:
    """Accumulates crops; hands back a full [batch_size, 28, 28] batch every batch_size crops.

    Crops more than max_gap seconds apart (by their capture stamps) do not share a batch:
    the gap means the digit left the view, and a batch must show one digit.
    """

    def __init__(self, batch_size, max_gap=None):
        if batch_size < 1:
            raise ValueError(f'batch_size must be at least 1, got {batch_size}')
        self.batch_size = batch_size
        self.max_gap = max_gap
        self._crops = []
        self._last_stamp = None

    def __len__(self):
        return len(self._crops)

    def add(self, crop, stamp=None):
        """Add one crop (stamp in seconds); return the completed batch, or None while filling."""
        if (self.max_gap is not None and stamp is not None and self._last_stamp is not None
                and abs(stamp - self._last_stamp) > self.max_gap):
            self._crops = []
        self._last_stamp = stamp
        self._crops.append(crop)
        if len(self._crops) < self.batch_size:
            return None
        batch = np.stack(self._crops)
        self._crops = []
        return batch


def decide(probabilities):
    """The batch's digit and confidence: the class with the highest mean probability."""
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if probabilities.ndim != 2 or probabilities.shape[0] == 0:
        raise ValueError(f'expected probabilities [N, classes], got shape {probabilities.shape}')
    mean = probabilities.mean(axis=0)
    digit = int(np.argmax(mean))
    return digit, float(mean[digit])
