import numpy as np
import pytest

from digit_recognition.batching import CropBatcher, decide


def test_batcher_hands_back_every_batch_size_crops_in_order():
    batcher = CropBatcher(3)
    crops = [np.full((28, 28), i, np.uint8) for i in range(7)]
    batches = [b for b in map(batcher.add, crops) if b is not None]
    assert len(batches) == 2
    assert batches[0].shape == (3, 28, 28)
    assert [int(b[0, 0]) for b in batches[1]] == [3, 4, 5]
    assert len(batcher) == 1  # the seventh crop waits for the next batch


def test_batcher_rejects_empty_batches():
    with pytest.raises(ValueError):
        CropBatcher(0)


def test_decide_uses_mean_probability_not_majority_vote():
    # Three weak votes for 1, two sure votes for 7: the mean says 7.
    probabilities = np.zeros((5, 10), np.float32)
    probabilities[:3, 1], probabilities[:3, 7] = 0.5, 0.4
    probabilities[3:, 7] = 1.0
    digit, confidence = decide(probabilities)
    assert digit == 7
    assert confidence == pytest.approx((3 * 0.4 + 2 * 1.0) / 5)


def test_decide_rejects_empty_input():
    with pytest.raises(ValueError):
        decide(np.zeros((0, 10)))


def test_a_gap_between_crops_starts_a_new_batch():
    # Two crops of one digit, a pause (no digit in view), then three of the next: the first
    # two must not be classified together with the next digit.
    batcher = CropBatcher(3, max_gap=0.5)
    assert batcher.add(np.zeros((28, 28), np.uint8), stamp=10.0) is None
    assert batcher.add(np.zeros((28, 28), np.uint8), stamp=10.1) is None
    next_digit = [np.full((28, 28), 7, np.uint8)] * 3
    assert batcher.add(next_digit[0], stamp=12.0) is None
    assert batcher.add(next_digit[1], stamp=12.1) is None
    batch = batcher.add(next_digit[2], stamp=12.2)
    assert batch is not None and (batch == 7).all()


def test_without_max_gap_stamps_do_not_matter():
    batcher = CropBatcher(2)
    assert batcher.add(np.zeros((28, 28), np.uint8), stamp=0.0) is None
    assert batcher.add(np.zeros((28, 28), np.uint8), stamp=100.0) is not None
