"""negatives.py: the not-a-digit glyphs are drawn as MNIST draws digits, reproducibly."""

import numpy as np
import pytest

from digit_recognition.simulation import negatives
from digit_recognition.training.mined_crops import mine_blank_crops

GENERATORS = {**negatives.SYMBOLS, 'hershey_letter': negatives.hershey_letter,
              'truetype_letter': negatives.truetype_letter,
              'printed_word': negatives.printed_word, 'scribble': negatives.scribble}
CENTRE = 14.0  # MNIST's centre of mass, pixel (14, 14)
DIGIT_BOX = 20  # MNIST fits a digit's bounding box in 20x20


def centre_of_mass(glyph):
    """(x, y) of the glyph's intensity-weighted centre."""
    weights = glyph.astype(np.float64)
    rows, cols = np.mgrid[:glyph.shape[0], :glyph.shape[1]]
    return (weights * cols).sum() / weights.sum(), (weights * rows).sum() / weights.sum()


def longer_side(glyph):
    rows, cols = np.flatnonzero(glyph.any(axis=1)), np.flatnonzero(glyph.any(axis=0))
    return max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)


def test_the_symbols_include_the_arrow():
    assert 'arrow' in negatives.SYMBOLS


@pytest.mark.parametrize('name', sorted(GENERATORS))
def test_glyphs_are_mnist_shaped_centred_and_fitted(name):
    for seed in range(10):
        glyph = GENERATORS[name](np.random.default_rng(seed))
        assert glyph.dtype == np.uint8 and glyph.shape == (28, 28), (seed, glyph.shape)
        # Ink, white on black, with strokes at full intensity (not a faint grey trace).
        assert (glyph > 0).sum() >= 30 and glyph.max() >= 200, seed
        x, y = centre_of_mass(glyph)
        assert np.hypot(x - CENTRE, y - CENTRE) <= 2.0, (seed, x, y)
        assert DIGIT_BOX - 2 <= longer_side(glyph) <= DIGIT_BOX + 1, seed


@pytest.mark.parametrize('name', sorted(GENERATORS))
def test_glyphs_are_reproducible_by_seed(name):
    generate = GENERATORS[name]
    glyph = generate(np.random.default_rng(3))
    np.testing.assert_array_equal(glyph, generate(np.random.default_rng(3)))


def test_the_training_mix_is_reproducible_by_seed():
    mixed = negatives.glyphs('mixed', 50, 0)
    assert mixed.shape == (50, 28, 28) and mixed.dtype == np.uint8
    np.testing.assert_array_equal(mixed, negatives.glyphs('mixed', 50, 0))
    assert not np.array_equal(mixed, negatives.glyphs('mixed', 50, 1))
    # A mix, not one glyph over and over.
    assert len({glyph.tobytes() for glyph in mixed}) == 50


def test_mined_crops_are_what_preprocessing_cuts_from_digit_free_frames():
    crops = mine_blank_crops(seed=0, scale=0.02)
    assert crops.dtype == np.uint8 and crops.shape[1:] == (28, 28, 3)  # crops with context
    assert len(crops) > 0 and crops[..., 0].max() == 255  # finger rims and edges give crops
    assert crops[..., 1].max() == 255  # and the context shows the rim at the ROI's scale
    np.testing.assert_array_equal(crops, mine_blank_crops(seed=0, scale=0.02))
