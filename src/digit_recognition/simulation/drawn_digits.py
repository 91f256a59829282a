"""Digits MNIST has too few of: printed ones (doors, shelves, boxes, labels) and the plain
hand-drawn shapes a person writes on a card (a lone stroke "1", a "1" with a base, a "7" with
a bar, an open "4", a "9" with a straight tail).

Both return uint8 [28, 28] glyphs drawn as MNIST draws digits (white on black, the box fitted
in 20x20, centred on the centre of mass), like negatives.py's glyphs, so the same
augmentations and simulated frames take them. Printed faces are split by family
(TRAINING_FACES, HELD_OUT_FACES): training never sees a held-out face, and the evaluation's
printed-digit row draws only those. numpy/OpenCV; Pillow and matplotlib's fonts for TrueType.
"""

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from digit_recognition.simulation.negatives import (_arc, _draw, _finish, _hand_warp, CANVAS,
                                                    hershey_text)

DIGITS = '0123456789'
# TrueType faces that ship with matplotlib (mpl-data/fonts/ttf). Training: OpenCV's Hershey
# faces and the DejaVu family (sans, serif, mono; regular, bold, oblique). Held out: the
# Computer Modern and STIX families, never drawn in training: serif, sans, mono, bold and
# italic faces of other designs.
TRAINING_FACES = ('DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf',
                  'DejaVuSans-BoldOblique.ttf', 'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf',
                  'DejaVuSerif-Italic.ttf', 'DejaVuSerif-BoldItalic.ttf', 'DejaVuSansMono.ttf',
                  'DejaVuSansMono-Bold.ttf', 'DejaVuSansMono-Oblique.ttf',
                  'DejaVuSansMono-BoldOblique.ttf')
HELD_OUT_FACES = ('cmr10.ttf', 'cmss10.ttf', 'cmtt10.ttf', 'cmb10.ttf', 'cmti10.ttf',
                  'STIXGeneral.ttf', 'STIXGeneralBol.ttf', 'STIXGeneralItalic.ttf',
                  'STIXGeneralBolIta.ttf')
HERSHEY_SHARE = 0.4  # of the training faces' digits: OpenCV's stroke fonts


@lru_cache(maxsize=None)
def _font(face: str):
    import matplotlib  # noqa: PLC0415 - the fonts ship with matplotlib
    from PIL import ImageFont  # noqa: PLC0415
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / 'fonts' / 'ttf' / face),
                              CANVAS)


def truetype_digit(digit: int, face: str) -> np.ndarray:
    """`digit` printed in the TrueType `face` (a file of mpl-data/fonts/ttf), as a glyph."""
    from PIL import Image, ImageDraw  # noqa: PLC0415
    image = Image.new('L', (CANVAS * 2, CANVAS * 2), 0)
    ImageDraw.Draw(image).text((CANVAS // 2, CANVAS // 4), DIGITS[digit], fill=255,
                               font=_font(face))
    return _finish(np.asarray(image))


def hershey_digit(digit: int, rng) -> np.ndarray:
    """`digit` in one of OpenCV's Hershey faces (script ones included), maybe italic."""
    return _finish(hershey_text(DIGITS[digit], rng))


def printed_digit(digit: int, rng, faces=TRAINING_FACES, hershey_share=HERSHEY_SHARE):
    """`digit` printed in a face drawn at random: a Hershey face (hershey_share of them) or
    one of the TrueType `faces`."""
    if rng.random() < hershey_share:
        return hershey_digit(digit, rng)
    return truetype_digit(digit, faces[int(rng.integers(len(faces)))])


def held_out_printed_digit(digit: int, rng) -> np.ndarray:
    """`digit` in a TrueType face training never sees (HELD_OUT_FACES)."""
    return printed_digit(digit, rng, HELD_OUT_FACES, hershey_share=0.0)


# The plain shapes, as polylines on a 0-1 square (negatives._draw adds a hand's wobble,
# slant and bend); each digit has the variants people write.
def _one(rng):
    x = rng.uniform(0.45, 0.55)
    kind = int(rng.choice(3, p=[0.5, 0.25, 0.25]))
    stem = [(x + rng.uniform(-0.08, 0.08), 0.0), (x, 1.0)]
    if kind == 0:  # a lone stroke
        return [stem]
    flag = [(x - rng.uniform(0.15, 0.3), rng.uniform(0.15, 0.3)), stem[0]]
    if kind == 1:  # with a flag
        return [flag + [stem[1]]]
    return [flag + [stem[1]], [(x - 0.22, 1.0), (x + 0.22, 1.0)]]  # flag and base


def _seven(rng):
    top = rng.uniform(0.0, 0.08)
    foot = rng.uniform(0.3, 0.55)
    strokes = [[(0.1, top), (0.9, top), (foot, 1.0)]]
    if rng.random() < 0.5:  # the continental bar
        strokes.append([(foot + 0.05, 0.55), (foot + 0.45, 0.55)])
    return strokes


def _four(rng):
    cross = rng.uniform(0.55, 0.7)
    stem = rng.uniform(0.6, 0.75)
    if rng.random() < 0.5:  # open: two strokes
        return [[(0.2, 0.0), (0.08, cross), (0.95, cross)], [(stem, 0.1), (stem, 1.0)]]
    return [[(stem, 1.0), (stem, 0.0), (0.05, cross), (0.95, cross)]]  # closed


def _nine(rng):
    loop = _arc(0.5, 0.28, 0.32, 0.28, 0, 360)
    tail_x = 0.82 - rng.uniform(0.0, 0.25)
    return [loop.tolist(), [(0.82, 0.28), (tail_x, 1.0)]]  # a straight tail


def _zero(rng):
    # From a narrow oval to a round circle: MNIST's zeros are mostly narrow ovals.
    return [_arc(0.5, 0.5, rng.uniform(0.25, 0.6), 0.5, -90, 275).tolist()]


PLAIN_SHAPES = {0: _zero, 1: _one, 4: _four, 7: _seven, 9: _nine}


def plain_digit(rng) -> tuple:
    """(glyph, digit): one of PLAIN_SHAPES drawn by a hand with a random pen."""
    digits = sorted(PLAIN_SHAPES)
    digit = digits[int(rng.integers(len(digits)))]
    return _draw(PLAIN_SHAPES[digit](rng), rng), digit


def drawn_digits(count: int, seed: int, plain_share: float = 0.5) -> tuple:
    """(glyphs uint8 [count, 28, 28], labels int64 [count]): printed digits in the training
    faces and, plain_share of them, plain hand shapes; reproducible by seed."""
    rng = np.random.default_rng(seed)
    glyphs, labels = [], []
    for _ in range(count):
        if rng.random() < plain_share:
            glyph, digit = plain_digit(rng)
        else:
            digit = int(rng.integers(10))
            glyph = printed_digit(digit, rng)
            if rng.random() < 0.3:  # a card held a little skewed
                glyph = _finish(_hand_warp(cv2.resize(glyph, (CANVAS, CANVAS)), rng))
        glyphs.append(glyph)
        labels.append(digit)
    return np.stack(glyphs), np.array(labels, np.int64)
