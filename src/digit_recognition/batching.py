"""Collect crops into batches and turn a batch's predictions into one decision. numpy only."""

import numpy as np


class CropBatcher:
    """Accumulates crops; hands back a full [batch_size, 28, 28] batch every batch_size crops."""

    def __init__(self, batch_size):
        if batch_size < 1:
            raise ValueError(f'batch_size must be at least 1, got {batch_size}')
        self.batch_size = batch_size
        self._crops = []

    def __len__(self):
        return len(self._crops)

    def add(self, crop):
        """Add one crop; return the completed batch, or None while it is still filling."""
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
