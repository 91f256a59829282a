"""The digit-free views of BLANK_KINDS (what a robot meets with nothing to read), each a few
variants made in different ways, and render_blank: one camera frame of one of them."""

from typing import Optional

import numpy as np

from digit_recognition.core.sizes import FRAME_SIZE, ROI_SIZE
from digit_recognition.simulation.covers import finger, SKINS, table_cover
from digit_recognition.simulation.everyday import (DIM, HAND, hand, PLAIN, RULED, SQUARED, TINTED,
                                                   with_shadow)
from digit_recognition.simulation.geometry import check_geometry, DOWN, LEFT, RIGHT, UP
from digit_recognition.simulation.light import (band_shadow, covering, curved_edge,
                                                gradient_light, hand_shadow, hard_edge,
                                                light_under_fingers, penumbra)
from digit_recognition.simulation.scene import baseline, choose_variant, form_frame
from digit_recognition.simulation.sheet import draw_lines, faint_writing, jitter, line_family


def _paper_edge(colour, grain):
    def make(rng, size, roi):
        alpha, table, distance = table_cover(size, roi, rng, colour, grain)
        # The sheet, held above the table, casts a soft shadow along its edge.
        light = gradient_light(size, roi, rng, rng.uniform(0.0, 0.08))
        light *= 1 - np.float32(0.4) * np.exp(-np.maximum(distance, 0) / rng.uniform(5, 25))
        return baseline(rng, size, roi, covers=((alpha, table),), light=light)
    return make


def _printed_rule(rng, size, roi):
    """One or two dark printed rules through the ROI."""
    angle = rng.uniform(0, np.pi)
    lines = line_family(size, roi, rng, rng.uniform(40, 120), angle)
    middle = len(lines) // 2
    chosen = lines[middle:middle + int(rng.integers(1, 3))]
    return baseline(rng, size, roi, marks=((draw_lines(size, chosen, rng.integers(1, 5)),
                                            (rng.uniform(0.2, 0.5),) * 3),))


def _table_grid(rng, size, roi):
    """A printed form's table: dark rules both ways, cells larger than the ROI's half."""
    angle = np.deg2rad(rng.uniform(-5, 5))
    lines = np.concatenate([line_family(size, roi, rng, rng.uniform(110, 180), a)
                            for a in (angle, angle + np.pi / 2)])
    return baseline(rng, size, roi, marks=((draw_lines(size, lines, rng.integers(1, 4)),
                                            (rng.uniform(0.25, 0.55),) * 3),))


def _heavy_ruled(rng, size, roi):
    lines = line_family(size, roi, rng, rng.uniform(30, 60), np.deg2rad(rng.uniform(-5, 5)))
    return baseline(rng, size, roi, marks=((draw_lines(size, lines, rng.integers(2, 4)),
                                            (rng.uniform(0.4, 0.6),) * 3),))


def _show_through(text_maker, mirrored):
    def make(rng, size, roi):
        level = rng.uniform(170, 230)
        marks = faint_writing(size, roi, rng, text_maker(rng), mirrored, level)
        return baseline(rng, size, roi, level=level, marks=marks)
    return make


def _digit_text(rng):
    return str(int(rng.integers(10)))


def _word_text(rng):
    return ' '.join(str(v) for v in rng.integers(0, 100, 2)) + ' = ?'


def _fingers(sides, count, widths):
    def make(rng, size, roi):
        side = sides[int(rng.integers(len(sides)))] + np.deg2rad(rng.uniform(-25, 25))
        skin = jitter(SKINS[int(rng.integers(len(SKINS)))], rng, 0.08)
        covers = []
        for _ in range(count):
            alpha, colour = finger(size, roi, rng, side, rng.uniform(*widths), skin)
            covers.append((alpha, colour))
        light = light_under_fingers(covers, size, roi, rng, 25, 0.35)
        return baseline(rng, size, roi, covers=tuple(covers), light=light)
    return make


_BLANK_SCENES = {
    'plain': dict(zip(('gradient', 'lamp', 'fibres'), PLAIN.values())),
    'ruled': RULED,
    'squared': SQUARED,
    'shadowed': {'hand': with_shadow(hand_shadow), 'arm_band': with_shadow(band_shadow),
                 'covering': with_shadow(covering)},
    'dim': DIM,
    'tinted': TINTED,
    'paper_edge': {'dark_table': _paper_edge((0.12, 0.12, 0.14), False),
                   'light_table': _paper_edge((0.62, 0.66, 0.7), False),
                   'wood_table': _paper_edge((0.15, 0.28, 0.45), True)},
    'shadow_edge': {'hard': with_shadow(hard_edge), 'soft': with_shadow(penumbra),
                    'curved': with_shadow(curved_edge)},
    'printed_lines': {'single_rule': _printed_rule, 'table_grid': _table_grid,
                      'heavy_ruled': _heavy_ruled},
    'show_through': {'mirrored_digit': _show_through(_digit_text, True),
                     'mirrored_text': _show_through(_word_text, True),
                     'erased_digit': _show_through(_digit_text, False)},
    'finger': {'thumb_bottom': _fingers((DOWN,), 1, (90, 130)),
               'finger_side': _fingers((LEFT, RIGHT), 1, (60, 95)),
               'two_fingers': _fingers((UP, DOWN), 2, (60, 90))},
    'hand_holding': {'thumb_below': HAND['thumb_below'], 'fingers_side': HAND['fingers_side'],
                     'pointing': hand((DOWN, RIGHT, LEFT), 1, (55, 85), (0, 60))},
}

BLANK_KINDS = {name: tuple(variants) for name, variants in _BLANK_SCENES.items()}


def render_blank(kind: str, rng: np.random.Generator, variant: Optional[str] = None,
                 frame_size: tuple = FRAME_SIZE, roi_size: int = ROI_SIZE,
                 camera_rng: Optional[np.random.Generator] = None) -> tuple:
    """A camera frame with no digit in it, of a kind of BLANK_KINDS: (bgr8 uint8 [H, W, 3],
    the variant's name). Same rules as render_condition."""
    frame_size = check_geometry(frame_size, roi_size)
    make, variant = choose_variant(_BLANK_SCENES, 'blank kind', kind, variant, rng)
    return form_frame(None, make(rng, frame_size, roi_size), rng, frame_size, roi_size,
                      camera_rng=camera_rng), variant
