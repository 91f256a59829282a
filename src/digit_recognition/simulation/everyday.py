"""The scenes of everyday use, with a digit or without: plain, ruled, squared and tinted
paper, dim light, shadows and a hand holding the sheet. Both the conditions and the blank
kinds draw their variants from these tables."""

import numpy as np

from digit_recognition.simulation.covers import finger, SKINS
from digit_recognition.simulation.geometry import DOWN, LEFT, RIGHT
from digit_recognition.simulation.light import lamp_light, light_under_fingers, shadowed
from digit_recognition.simulation.pen import PENS
from digit_recognition.simulation.scene import baseline, GREY_WEIGHTS
from digit_recognition.simulation.sheet import (fibres, grey_line, jitter, light_blue_line, PAPERS,
                                                ruled_marks, squared_marks)

WARM_LIGHT = (0.72, 0.88, 1.0)  # a tungsten lamp's B, G, R relative to daylight

# Each maker: (rng, frame_size, roi_size) -> Scene.


def _plain_gradient(rng, size, roi):
    pen = PENS[('black_ballpoint', 'blue_ballpoint')[int(rng.integers(2))]]
    return baseline(rng, size, roi, pen=pen)


def _plain_lamp(rng, size, roi):
    return baseline(rng, size, roi, pen=PENS['felt_pen'],
                    light=lamp_light(size, roi, rng, rng.uniform(600, 1000)))


def _plain_fibres(rng, size, roi):
    return baseline(rng, size, roi, pen=PENS['blue_ballpoint'], marks=fibres(size, rng))


def with_shadow(shadow_maker):
    def make(rng, size, roi):
        return baseline(rng, size, roi, light=shadowed(size, roi, rng,
                                                       shadow_maker(size, roi, rng)))
    return make


def _dim_neutral(rng, size, roi):
    return baseline(rng, size, roi, level=rng.uniform(75, 105), noise=rng.uniform(4, 10))


def _dim_warm(rng, size, roi):
    return baseline(rng, size, roi, level=rng.uniform(75, 105), tint=jitter(WARM_LIGHT, rng),
                    light=lamp_light(size, roi, rng, rng.uniform(700, 1100)),
                    noise=rng.uniform(4, 8))


def _dim_colour_noise(rng, size, roi):
    return baseline(rng, size, roi, level=rng.uniform(75, 105), noise=rng.uniform(4, 8),
                    chroma_noise=rng.uniform(3, 6))


def _dim_denoised(rng, size, roi):
    """A phone's noise reduction smearing a noisy dark frame, then strong compression."""
    return baseline(rng, size, roi, level=rng.uniform(75, 105), noise=rng.uniform(6, 10),
                    denoise=int(rng.choice([3, 5])), jpeg=int(rng.integers(60, 76)))


def _tinted(paper):
    def make(rng, size, roi):
        colour = jitter(PAPERS[paper], rng, 0.04)
        # Exposed for the room, not the sheet: tinted paper stays darker than white.
        level = min(float(GREY_WEIGHTS @ colour) * rng.uniform(200, 250), 235.0)
        return baseline(rng, size, roi, paper=colour, level=level)
    return make


def _lined(draw_marks, colour_maker, option):
    """A scene on printed paper: draw_marks is ruled_marks (option: the margin line) or
    squared_marks (option: major lines)."""
    def make(rng, size, roi):
        height = rng.uniform(80, 170)
        marks = draw_marks(size, roi, rng, height, colour_maker(rng), option)
        return baseline(rng, size, roi, height=height, marks=marks)
    return make


def hand(sides, count, widths, reach):
    """Fingers holding the sheet or pointing: from outside the frame on one of `sides`,
    their tips `reach` (low, high) px from the ROI's centre, beside or at the digit."""
    def make(rng, size, roi):
        side = sides[int(rng.integers(len(sides)))] + np.deg2rad(rng.uniform(-20, 20))
        skin = jitter(SKINS[int(rng.integers(len(SKINS)))], rng, 0.08)
        covers = []
        for _ in range(count):
            spread = side + np.deg2rad(rng.uniform(-15, 15))
            tip = rng.uniform(*reach) * np.array([np.cos(spread), np.sin(spread)])
            covers.append(finger(size, roi, rng, side, rng.uniform(*widths), skin, tip))
        light = light_under_fingers(covers, size, roi, rng, 20, 0.3)
        return baseline(rng, size, roi, covers=tuple(covers), light=light,
                        height=rng.uniform(80, 140))
    return make


PLAIN = {'ballpoint_gradient': _plain_gradient, 'felt_pen_lamp': _plain_lamp,
         'blue_pen_fibres': _plain_fibres}

RULED = {'blue_lines': _lined(ruled_marks, light_blue_line, False),
         'grey_lines': _lined(ruled_marks, grey_line, False),
         'red_margin': _lined(ruled_marks, light_blue_line, True)}

SQUARED = {'grey_grid': _lined(squared_marks, grey_line, False),
           'blue_grid': _lined(squared_marks, light_blue_line, False),
           'major_minor': _lined(squared_marks, grey_line, True)}

DIM = {'neutral': _dim_neutral, 'warm_lamp': _dim_warm, 'colour_noise': _dim_colour_noise,
       'denoised': _dim_denoised}

TINTED = {paper: _tinted(paper) for paper in ('grey', 'cream', 'yellow', 'blue', 'green')}

# Fingers at the sheet's edges (tips outside the digit) and a finger pointing at the digit.
HAND = {'thumb_below': hand((DOWN,), 1, (80, 120), (105, 150)),
        'fingers_side': hand((LEFT, RIGHT), 2, (55, 85), (100, 140)),
        'pointing': hand((DOWN, RIGHT, LEFT), 1, (55, 85), (70, 100))}
