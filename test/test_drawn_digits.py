"""Printed digits and plain hand shapes for training, and the typefaces evaluation holds out."""

from pathlib import Path

import matplotlib
import numpy as np
import pytest

from digit_recognition.simulation import drawn_digits

FONT_FOLDER = Path(matplotlib.get_data_path()) / 'fonts' / 'ttf'


def family(face):
    return face[:2] if face.startswith('cm') else face[:4]


def test_training_never_sees_a_held_out_typeface_family():
    training = {family(f) for f in drawn_digits.TRAINING_FACES}
    held_out = {family(f) for f in drawn_digits.HELD_OUT_FACES}
    assert training == {'Deja'} and held_out == {'cm', 'STIX'}


@pytest.mark.parametrize('face', drawn_digits.TRAINING_FACES + drawn_digits.HELD_OUT_FACES)
def test_every_face_prints_each_digit_as_an_mnist_shaped_glyph(face):
    assert (FONT_FOLDER / face).is_file()
    glyphs = [drawn_digits.truetype_digit(d, face) for d in range(10)]
    for glyph in glyphs:
        rows, cols = np.flatnonzero(glyph.any(axis=1)), np.flatnonzero(glyph.any(axis=0))
        assert glyph.shape == (28, 28) and glyph.dtype == np.uint8
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 21
    # Ten different shapes, not one missing-glyph box ten times.
    assert len({g.tobytes() for g in glyphs}) == 10


def test_drawn_digits_are_reproducible_and_mix_printed_and_plain_shapes():
    glyphs, labels = drawn_digits.drawn_digits(200, seed=5)
    again, same_labels = drawn_digits.drawn_digits(200, seed=5)
    assert np.array_equal(glyphs, again) and np.array_equal(labels, same_labels)
    assert glyphs.shape == (200, 28, 28) and set(labels) == set(range(10))
    other, _ = drawn_digits.drawn_digits(200, seed=6)
    assert not np.array_equal(glyphs, other)


@pytest.mark.parametrize('digit', sorted(drawn_digits.PLAIN_SHAPES))
def test_plain_shapes_have_ink_and_vary(digit):
    rng = np.random.default_rng(0)
    shapes = [drawn_digits._draw(drawn_digits.PLAIN_SHAPES[digit](rng), rng) for _ in range(5)]
    assert all(s.any() for s in shapes) and len({s.tobytes() for s in shapes}) == 5
