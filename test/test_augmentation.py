"""augmentation.py: the training copies stay the digit they were, reproducibly."""

import numpy as np
import pytest

from digit_recognition.core.model import load_classifier
from digit_recognition.training.augmentation import AUGMENTATIONS, augment_batch


# How much of each kind the bundled model must read: camera-like copies include digits drawn
# 35 px tall with a hairline pen and heavy blur, some of which a person would misread too.
READ_AT_LEAST = {'camera-like': 0.92, 'jittered': 0.97, 'simulated': 0.9}


@pytest.mark.parametrize('name', sorted(AUGMENTATIONS))
def test_augmented_copies_are_new_images_of_the_same_digit(name, mnist_sample):
    images, labels = mnist_sample
    copies = augment_batch(images, name, seed=5)
    assert copies.shape == images.shape and copies.dtype == np.uint8
    # Changed (camera_like gives the original back where preprocessing's no-digit rule
    # rejects its noisy binarization: 9% of this sample)...
    assert np.mean(np.all(copies == images, axis=(1, 2))) <= 0.15
    # ...yet still the same digit: the bundled model, which trained on others like them,
    # reads them almost as well as the originals (a label-changing warp would fall far below).
    predictions = load_classifier(backend='tflite').predict_batch(copies).argmax(axis=1)
    assert (predictions == labels).mean() >= READ_AT_LEAST[name]


@pytest.mark.parametrize('name', sorted(AUGMENTATIONS))
def test_augmentation_is_reproducible_by_seed(name, mnist_sample):
    images, _ = mnist_sample
    first = augment_batch(images[:50], name, seed=1)
    np.testing.assert_array_equal(first, augment_batch(images[:50], name, seed=1))
    assert not np.array_equal(first, augment_batch(images[:50], name, seed=2))
