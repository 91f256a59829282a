"""Things that are not digits, drawn as MNIST draws digits: the model's not-a-digit class.

Every generator returns a uint8 [28, 28] glyph, white on black, its bounding box fitted in
20x20 and its centre of mass at the centre, as MNIST's digits are. The same glyphs serve
training (through augmentation.camera_like, as the camera and preprocessing see them) and
evaluation (drawn into whole camera frames by simulation.conditions.render_condition, which
redraws them with a pen as it redraws digits). numpy/OpenCV only; Pillow for TrueType fonts.

What training sees and what evaluation holds out (FONT_SOURCES): letters come from OpenCV's
Hershey fonts in training and from TrueType fonts (DejaVu, STIX, Computer Modern, shipped
with matplotlib) in evaluation; printed words are never trained on.
"""

from pathlib import Path
from typing import Callable, Dict

import cv2
import numpy as np

from digit_recognition.core.preprocessing import normalize_digit

# Letters that nobody reads as a digit (O, I, l, S, Z, B, G, g, q, b, T, A, s, z, o, i, t
# and their like are left out: a robot may well be shown them as digits).
NON_DIGIT_LETTERS = 'CEFHKMNPRUVWXYacehkmnpruvwxy'
CANVAS = 112  # px: glyphs are drawn this large, then normalized to 28x28
HERSHEY_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX,
                 cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
                 cv2.FONT_HERSHEY_COMPLEX_SMALL, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
                 cv2.FONT_HERSHEY_SCRIPT_COMPLEX)
WORDS = ('EXIT', 'STOP', 'Hello', 'name', 'Max', 'WARNING', 'www', 'Kevin', 'page', 'MENU',
         'yes', 'ok', 'PUSH', 'Room', 'Lab', 'cm', 'Hz', 'km/h', 'vs', 'YUM')


def _finish(canvas: np.ndarray) -> np.ndarray:
    """A drawn canvas (uint8, ink > 0) as an MNIST-style 28x28 glyph."""
    mask = np.where(canvas > 127, np.uint8(255), np.uint8(0))
    if not mask.any():
        raise ValueError('nothing was drawn')
    return normalize_digit(mask)


def _hand_warp(canvas: np.ndarray, rng) -> np.ndarray:
    """The drawing rotated, slanted and stretched as hands do, and bent by a smooth field."""
    size = canvas.shape[0]
    angle = np.deg2rad(rng.uniform(-20, 20))
    slant, stretch = rng.uniform(-0.3, 0.3), rng.uniform(0.75, 1.3)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    linear = rotation @ np.array([[stretch, slant], [0.0, 1.0]])
    centre = np.array([size / 2, size / 2])
    matrix = np.hstack([linear, (centre - linear @ centre)[:, None]]).astype(np.float32)
    moved = cv2.warpAffine(canvas, matrix, (size, size), flags=cv2.INTER_LINEAR)
    field = [6 * cv2.GaussianBlur(rng.uniform(-1, 1, (size, size)).astype(np.float32), (0, 0),
                                  12) * rng.uniform(0, 3) for _ in range(2)]
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    return cv2.remap(moved, cols + field[0], rows + field[1], cv2.INTER_LINEAR)


def _pen_size(rng) -> int:
    return int(rng.integers(3, 11))


def _wobbly(points, rng, amount=2.0) -> np.ndarray:
    """A polyline sampled densely with a hand's small smooth wobble, int32 [N, 1, 2]."""
    points = np.asarray(points, np.float32)
    steps = max(2, int(np.linalg.norm(np.diff(points, axis=0), axis=1).sum() / 3))
    t = np.linspace(0, len(points) - 1, steps)
    dense = np.stack([np.interp(t, np.arange(len(points)), points[:, k]) for k in (0, 1)], 1)
    drift = np.cumsum(rng.normal(0, 1, dense.shape), axis=0)
    drift = cv2.GaussianBlur(drift.astype(np.float32), (1, 0), 3) if len(dense) > 6 else drift
    drift -= np.linspace(drift[0], drift[-1], len(drift))  # the ends stay where they were
    dense += amount * drift / max(np.abs(drift).max(), 1e-6)
    return np.round(dense).astype(np.int32)[:, None]


def _draw(strokes, rng, dots=(), turn=0) -> np.ndarray:
    """Polylines (each a list of (x, y) on a 0-1 square) and dots drawn by one pen, turned
    `turn` quarter turns."""
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    pen = _pen_size(rng)
    to_px = lambda points: np.asarray(points, np.float32) * (CANVAS - 24) + 12  # noqa: E731
    for stroke in strokes:
        cv2.polylines(canvas, [_wobbly(to_px(stroke), rng)], False, 255, pen, cv2.LINE_AA)
    for dot in dots:
        x, y = to_px([dot])[0]
        cv2.circle(canvas, (int(x), int(y)), max(2, pen // 2 + 1), 255, -1, cv2.LINE_AA)
    return _finish(_hand_warp(np.ascontiguousarray(np.rot90(canvas, turn)), rng))


def _arc(cx, cy, rx, ry, start, end, steps=24):
    t = np.deg2rad(np.linspace(start, end, steps))
    return np.column_stack([cx + rx * np.cos(t), cy + ry * np.sin(t)])


def plus(rng):
    j = rng.uniform(-0.08, 0.08, 4)
    return _draw([[(0.5 + j[0], 0.05), (0.5 + j[1], 0.95)],
                  [(0.05, 0.5 + j[2]), (0.95, 0.5 + j[3])]], rng)


def cross(rng):
    return _draw([[(0.1, 0.1), (0.9, 0.9)], [(0.9, 0.1), (0.1, 0.9)]], rng)


def star(rng):
    arms = int(rng.choice([3, 4, 5]))
    start = rng.uniform(0, np.pi)
    return _draw([[(0.5 - 0.45 * np.cos(a), 0.5 - 0.45 * np.sin(a)),
                   (0.5 + 0.45 * np.cos(a), 0.5 + 0.45 * np.sin(a))]
                  for a in start + np.arange(arms) * np.pi / arms], rng)


def five_point_star(rng):
    angles = -np.pi / 2 + np.arange(6) * 4 * np.pi / 5
    return _draw([np.column_stack([0.5 + 0.48 * np.cos(angles), 0.5 + 0.48 * np.sin(angles)])],
                 rng)


def arrow(rng):
    head = rng.uniform(0.2, 0.4)
    spread = rng.uniform(0.5, 0.9)
    shaft = [(0.05, 0.5), (0.95, 0.5)]
    barbs = [(0.95 - head * np.cos(s * spread), 0.5 + head * np.sin(s * spread))
             for s in (-1, 1)]
    # Pointing right, up, left or down (and the hand's tilt on top).
    return _draw([shaft, [barbs[0], (0.95, 0.5), barbs[1]]], rng, turn=int(rng.integers(4)))


def hash_sign(rng):
    return _draw([[(0.35, 0.05), (0.3, 0.95)], [(0.7, 0.05), (0.65, 0.95)],
                  [(0.05, 0.35), (0.95, 0.33)], [(0.05, 0.68), (0.95, 0.66)]], rng)


def tick(rng):
    corner = (rng.uniform(0.3, 0.45), rng.uniform(0.8, 0.95))
    return _draw([[(0.05, rng.uniform(0.45, 0.65)), corner, (0.95, rng.uniform(0.0, 0.15))]],
                 rng)


def smiley(rng):
    face = _arc(0.5, 0.5, 0.45, 0.45, 0, 360, 40)
    mouth = _arc(0.5, 0.55, 0.25, rng.uniform(0.1, 0.22), 20, 160)
    return _draw([face, mouth], rng, dots=[(0.35, 0.38), (0.65, 0.38)])


def heart(rng):
    t = np.linspace(0, 2 * np.pi, 60)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return _draw([np.column_stack([0.5 + x / 36, 0.45 + y / 36])], rng)


def question_mark(rng):
    hook = np.vstack([_arc(0.5, 0.28, 0.25, 0.22, 180, 405), [(0.52, 0.55), (0.5, 0.72)]])
    return _draw([hook], rng, dots=[(0.5, 0.92)])


def triangle(rng):
    return _draw([[(0.5, 0.05), (0.95, 0.9), (0.05, 0.9), (0.5, 0.05)]], rng)


def square(rng):
    return _draw([[(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9), (0.1, 0.1)]], rng)


def zigzag(rng):
    teeth = int(rng.integers(3, 7))
    x = np.linspace(0.05, 0.95, teeth + 1)
    y = np.where(np.arange(teeth + 1) % 2, 0.2, 0.8)
    return _draw([np.column_stack([x, y])], rng)


def wave(rng):
    t = np.linspace(0, 1, 50)
    return _draw([np.column_stack([t, 0.5 + 0.3 * np.sin(t * 2 * np.pi * rng.uniform(1.5, 3))])],
                 rng)


def spiral(rng):
    t = np.linspace(0, rng.uniform(5, 8) * np.pi, 120)
    r = 0.45 * t / t[-1]
    return _draw([np.column_stack([0.5 + r * np.cos(t), 0.5 + r * np.sin(t)])], rng)


def scribble(rng):
    """A tangle: a smooth random walk that turns and doubles back, or a shading zigzag."""
    if rng.random() < 0.3:  # shading: dense strokes back and forth, leaning
        rows = int(rng.integers(4, 9))
        y = np.linspace(0.1, 0.9, rows * 2)
        x = np.tile([0.1, 0.9], rows) + rng.uniform(-0.08, 0.08, rows * 2)
        return _draw([np.column_stack([x, y + rng.uniform(-0.05, 0.05, rows * 2)])], rng)
    # Turning at least twice round on the whole: a short walk with few turns is a 2 or a 7.
    steps = int(rng.integers(120, 260))
    turning = rng.choice([-1, 1]) * rng.uniform(4, 9) * np.pi / steps
    heading = np.cumsum(turning + rng.normal(0, rng.uniform(0.2, 0.5), steps))
    path = np.cumsum(np.column_stack([np.cos(heading), np.sin(heading)]), axis=0)
    path = (path - path.min(axis=0)) / max(np.ptp(path, axis=0).max(), 1e-6)
    return _draw([path], rng)


def hershey_text(text: str, rng) -> np.ndarray:
    """`text` drawn on a canvas (uint8, ink 255) in one of OpenCV's Hershey fonts (script ones
    included), maybe italic, with a random stroke weight."""
    font = HERSHEY_FONTS[int(rng.integers(len(HERSHEY_FONTS)))]
    if rng.random() < 0.3:
        font |= cv2.FONT_ITALIC
    canvas = np.zeros((CANVAS * 2, CANVAS * 2), np.uint8)
    thickness = _pen_size(rng)
    scale = cv2.getFontScaleFromHeight(font, CANVAS, thickness)
    (width, height), _ = cv2.getTextSize(text, font, scale, thickness)
    cv2.putText(canvas, text, ((2 * CANVAS - width) // 2, (2 * CANVAS + height) // 2), font,
                scale, 255, thickness, cv2.LINE_AA)
    return canvas


def hershey_letter(rng, letters: str = NON_DIGIT_LETTERS):
    """A letter in one of OpenCV's Hershey fonts, slanted and bent as hands do."""
    letter = letters[int(rng.integers(len(letters)))]
    return _finish(_hand_warp(hershey_text(letter, rng), rng))


def _truetype_fonts():
    import matplotlib  # noqa: PLC0415 - the fonts ship with matplotlib, an evaluate dependency
    folder = Path(matplotlib.get_data_path()) / 'fonts' / 'ttf'
    return sorted(p for p in folder.glob('*.ttf')
                  if 'Display' not in p.name and p.name.startswith(
                      ('DejaVuSans', 'DejaVuSerif', 'STIXGeneral', 'cmr', 'cmss', 'cmtt',
                       'cmti')))


def _truetype_text(text: str, rng, face=None) -> np.ndarray:
    """`text` in the TrueType `face` (a file of mpl-data/fonts/ttf; None: one of
    _truetype_fonts() at random), a single letter slanted and bent as hands do."""
    from PIL import Image, ImageDraw, ImageFont  # noqa: PLC0415

    fonts = _truetype_fonts()
    path = (fonts[int(rng.integers(len(fonts)))] if face is None
            else fonts[0].parent / face)
    font = ImageFont.truetype(str(path), CANVAS)
    image = Image.new('L', (CANVAS * (len(text) + 2), CANVAS * 2), 0)
    ImageDraw.Draw(image).text((CANVAS // 2, CANVAS // 4), text, fill=255, font=font)
    canvas = np.asarray(image)
    if len(text) == 1:
        return _finish(_hand_warp(canvas[:, :CANVAS * 2].copy(), rng))
    return _finish(canvas)


def truetype_letter(rng, letters: str = NON_DIGIT_LETTERS):
    """A letter in a TrueType font that training never sees (DejaVu, STIX, Computer Modern)."""
    return _truetype_text(letters[int(rng.integers(len(letters)))], rng)


# Letters of alphabets training never draws, none shaped like a digit (no theta, zeta, ze,
# che, dalet, resh, nun, vav, ...), with the faces of matplotlib that have them.
UNSEEN_ALPHABETS = {
    'greek': ('ΓΔΛΞΠΣΦΨΩβγεκλμξπφψω', ('DejaVuSans.ttf', 'DejaVuSans-Bold.ttf',
                                       'DejaVuSerif.ttf', 'DejaVuSansMono.ttf',
                                       'STIXGeneral.ttf')),
    'cyrillic': ('ЖИЛПФЦШЩЫЮЯджилпфцшщыюя', ('DejaVuSans.ttf', 'DejaVuSans-Bold.ttf',
                                             'DejaVuSerif.ttf', 'DejaVuSansMono.ttf')),
    'hebrew': ('אבגהחטכלמעפצקשת', ('DejaVuSans.ttf', 'DejaVuSans-Bold.ttf')),
}


def unseen_alphabet_letter(rng):
    """A Greek, Cyrillic or Hebrew letter (UNSEEN_ALPHABETS), as a hand would copy it."""
    letters, faces = list(UNSEEN_ALPHABETS.values())[int(rng.integers(len(UNSEEN_ALPHABETS)))]
    return _truetype_text(letters[int(rng.integers(len(letters)))], rng,
                          faces[int(rng.integers(len(faces)))])


def printed_word(rng):
    """A short printed word or label, as on a sign or a page held up."""
    return _truetype_text(WORDS[int(rng.integers(len(WORDS)))], rng)


Generator = Callable[[np.random.Generator], np.ndarray]
# The symbols a person might show the robot instead of a digit.
SYMBOLS: Dict[str, Generator] = {
    'plus': plus, 'cross': cross, 'star': star, 'five_point_star': five_point_star,
    'arrow': arrow, 'hash': hash_sign, 'tick': tick, 'smiley': smiley, 'heart': heart,
    'question_mark': question_mark, 'triangle': triangle, 'square': square}
# Glyph kinds the not-a-digit class is trained on, and their shares of the negatives.
TRAINING_GLYPHS: Dict[str, Generator] = {
    'letter': hershey_letter, 'scribble': scribble,
    **{name: SYMBOLS[name] for name in SYMBOLS},
    'zigzag': zigzag, 'wave': wave, 'spiral': spiral}
TRAINING_SHARES = {'letter': 0.4, 'scribble': 0.2}  # symbols share the rest evenly


def training_kinds(count: int, rng) -> list:
    """`count` glyph kind names in TRAINING_GLYPHS drawn with TRAINING_SHARES."""
    names = list(TRAINING_GLYPHS)
    rest = 1 - sum(TRAINING_SHARES.values())
    others = [n for n in names if n not in TRAINING_SHARES]
    shares = np.array([TRAINING_SHARES.get(n, rest / len(others)) for n in names])
    return [names[i] for i in rng.choice(len(names), count, p=shares / shares.sum())]


def random_symbol(rng) -> np.ndarray:
    names = list(SYMBOLS)
    return SYMBOLS[names[int(rng.integers(len(names)))]](rng)


def glyphs(kind: str, count: int, seed: int) -> np.ndarray:
    """uint8 [count, 28, 28]: `count` glyphs of TRAINING_GLYPHS[kind] (or 'mixed': the
    training mix), reproducible by seed."""
    rng = np.random.default_rng(seed)
    kinds = training_kinds(count, rng) if kind == 'mixed' else [kind] * count
    return np.stack([TRAINING_GLYPHS[name](rng) for name in kinds])
