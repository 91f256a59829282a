"""The camera conditions of CONDITIONS, each a few variants made in different ways (scene
makers: (rng, frame_size, roi_size) -> Scene), and render_condition: one camera frame of an
MNIST digit under one of them."""

from typing import Optional

import numpy as np

from digit_recognition.core.sizes import FRAME_SIZE, ROI_SIZE
from digit_recognition.simulation.camera import disk_kernel, path_kernel, shaky_path, straight_path
from digit_recognition.simulation.centre_line import check_digit
from digit_recognition.simulation.everyday import (DIM, HAND, PLAIN, RULED, SQUARED, TINTED,
                                                   with_shadow)
from digit_recognition.simulation.geometry import (along, check_geometry, DIAGONALS, DOWN, LEFT,
                                                   near_centre, offset_from_centre,
                                                   radial_distance, RIGHT, tilt, UP)
from digit_recognition.simulation.light import (band_shadow, glare_patch, gradient_light,
                                                hand_shadow, hard_edge, lamp_light, penumbra,
                                                per_roi)
from digit_recognition.simulation.pen import EVERYDAY_PENS, Pen, PENS, REFERENCE_HEIGHT
from digit_recognition.simulation.scene import baseline, choose_variant, form_frame, GREY_WEIGHTS

STROKES = ('pen', 'mnist')


def _held_close(low, high, offset_low, offset_high):
    def make(rng, size, roi):
        return baseline(rng, size, roi, height=rng.uniform(low, high),
                        offset=offset_from_centre(rng, offset_low, offset_high))
    return make


def _held_close_clipped(rng, size, roi):
    """Held so close the frame's top or bottom edge cuts the digit."""
    dy = rng.uniform(20, 30) * (1 if rng.random() < 0.5 else -1)
    return baseline(rng, size, roi, height=rng.uniform(330, 420),
                    offset=(rng.uniform(-10, 10), dy))


def _off_centre(directions):
    def make(rng, size, roi):
        return baseline(rng, size, roi, height=rng.uniform(80, 150),
                        offset=offset_from_centre(rng, 30, 60, directions))
    return make


def _steep_gradient(rng, size, roi):
    return baseline(rng, size, roi,
                    light=gradient_light(size, roi, rng, rng.uniform(0.2, 0.4)))


def _vignette(rng, size, roi):
    return baseline(rng, size, roi, light=lamp_light(size, roi, rng, rng.uniform(220, 380)))


def _spotlight(rng, size, roi):
    """A desk lamp's pool of light, its rim across the ROI."""
    floor, spread = rng.uniform(0.3, 0.55), rng.uniform(70, 160)
    radius = radial_distance(size, roi, near_centre(rng, 120))
    light = floor + (1 - floor) * np.exp(-(radius / np.float32(spread)) ** 2 / 2)
    return baseline(rng, size, roi, light=per_roi(light, roi))


def _glossy(rng, size, roi):
    return baseline(rng, size, roi, glare=glare_patch(size, roi, rng))


def _with_pen(name):
    def make(rng, size, roi):
        return baseline(rng, size, roi, pen=PENS[name])
    return make


def _thin_sharp(antialias, noise, sharpen):
    def make(rng, size, roi):
        return baseline(rng, size, roi, pen=PENS['black_ballpoint'] if rng.random() < 0.6
                        else PENS['blue_ballpoint'], pen_width=rng.uniform(1.5, 3.0),
                        antialias=antialias, blur=0.0, noise=rng.uniform(*noise),
                        sharpen=rng.uniform(0.8, 1.5) if sharpen else 0.0,
                        jpeg=int(rng.integers(85, 96)))
    return make


def _gaussian_defocus(rng, size, roi):
    return baseline(rng, size, roi, blur=rng.uniform(1.5, 3.5))


def _disk_defocus(rng, size, roi):
    # A disc of radius r has a standard deviation of r / 2 along each axis.
    return baseline(rng, size, roi, kernel=disk_kernel(2 * rng.uniform(1.5, 3.5)))


def _depth_of_field(rng, size, roi):
    """The sheet's far side out of focus: the blur growing across the frame."""
    ramp = along(size, roi, rng.uniform(0, 2 * np.pi)) / np.float32(rng.uniform(150, 400))
    return baseline(rng, size, roi, blur=rng.uniform(2.0, 4.0), focus=np.clip(ramp + 0.5, 0, 1))


def _motion(path_maker, weighting):
    def make(rng, size, roi):
        path = path_maker(rng, rng.uniform(5, 25))
        t = np.linspace(0, 1, len(path))
        weights = np.ones_like(t) if weighting == 'even' else 0.15 + t ** rng.uniform(1, 3)
        return baseline(rng, size, roi, kernel=path_kernel(path, weights))
    return make


def _tilted(pitch, yaw, roll):
    def make(rng, size, roi):
        angles = [rng.uniform(*span) * rng.choice([-1, 1]) for span in (pitch, yaw, roll)]
        return baseline(rng, size, roi, warp=tilt(size, roi, *angles, rng.uniform(500, 900)))
    return make


def _far_away(pens, resolution):
    def make(rng, size, roi):
        return baseline(rng, size, roi, height=rng.uniform(35, 60),
                        offset=tuple(near_centre(rng, 40)), pen=PENS[rng.choice(pens)],
                        resolution=resolution,
                        jpeg=int(rng.integers(60, 81 if resolution < 1 else 96)))
    return make


# Broad strokes of light or coloured ink: felt-tips and markers whose ink is 25-60 % darker
# than the paper (B, G, R transmittance), 10-18 px wide on a digit 200 px tall.
BROAD_LIGHT_PENS = {
    'red_felt_tip': Pen((0.55, 0.5, 0.95), (10.0, 18.0), 'felt'),
    'green_felt_tip': Pen((0.6, 0.8, 0.55), (10.0, 18.0), 'felt'),
    'orange_marker': Pen((0.35, 0.7, 0.98), (10.0, 18.0), 'felt'),
    'soft_pencil': Pen((0.6, 0.6, 0.6), (10.0, 16.0), 'felt'),  # laid on heavily: no grain
    'drying_marker': Pen((0.62, 0.6, 0.58), (10.0, 18.0), 'ballpoint'),
}


def _broad_light(name):
    def make(rng, size, roi):
        pen = BROAD_LIGHT_PENS[name]
        height = rng.uniform(80, 140)
        # The ink's darkness (1 - grey transmittance) is drawn from 25-60 %, before the
        # pen's texture (graphite's grain lightens a soft pencil further).
        darkness = rng.uniform(0.25, 0.6)
        grey = float(GREY_WEIGHTS @ np.asarray(pen.colour))
        ink = tuple(float(np.clip(1 - (1 - c) * darkness / (1 - grey), 0, 1))
                    for c in pen.colour)
        width = rng.uniform(*pen.width) * height / REFERENCE_HEIGHT * 1.6
        return baseline(rng, size, roi, pen=pen, ink=ink, height=height,
                        pen_width=float(np.clip(width, 10, 18)))
    return make


_CONDITION_SCENES = {
    'plain': PLAIN,
    'held_close': {'centred': _held_close(200, 260, 0, 8),
                   'shifted': _held_close(220, 320, 10, 30),
                   'clipped': _held_close_clipped},
    'shadow': {'hard_edge': with_shadow(hard_edge), 'penumbra': with_shadow(penumbra),
               'hand': with_shadow(hand_shadow), 'arm_band': with_shadow(band_shadow)},
    'off_centre': {'sideways': _off_centre((LEFT, RIGHT)),
                   'vertical': _off_centre((UP, DOWN)),
                   'diagonal': _off_centre(DIAGONALS)},
    'dim': DIM,
    'uneven_light': {'steep_gradient': _steep_gradient, 'vignette': _vignette,
                     'spotlight': _spotlight, 'glare': _glossy},
    'tinted_paper': TINTED,
    'pens': {name: _with_pen(name) for name in ('pencil', 'blue_ballpoint', 'red_ballpoint',
                                                'green_ballpoint', 'felt_pen', 'marker')},
    'thin_sharp': {'aliased': _thin_sharp(False, (1.5, 3.0), False),
                   'downscaled': _thin_sharp(True, (1.0, 2.0), False),
                   'oversharpened': _thin_sharp(True, (1.5, 3.0), True)},
    'blurred': {'gaussian': _gaussian_defocus, 'disk': _disk_defocus,
                'depth_of_field': _depth_of_field},
    'motion_blur': {'straight': _motion(straight_path, 'even'),
                    'shaky': _motion(shaky_path, 'even'),
                    'slowing': _motion(straight_path, 'ramp')},
    'ruled_paper': RULED,
    'squared_paper': SQUARED,
    'tilted': {'pitch': _tilted((15, 30), (0, 0), (0, 0)),
               'yaw': _tilted((0, 0), (15, 30), (0, 0)),
               'compound': _tilted((5, 25), (5, 25), (0, 20))},
    'far_away': {'ballpoint': _far_away(('black_ballpoint', 'blue_ballpoint'), 1.0),
                 'felt_pen': _far_away(('felt_pen', 'marker'), 1.0),
                 'low_resolution': _far_away(EVERYDAY_PENS, 0.5)},
    'broad_light_ink': {name: _broad_light(name) for name in BROAD_LIGHT_PENS},
    'hand_holding': HAND,
}

CONDITIONS = {name: tuple(variants) for name, variants in _CONDITION_SCENES.items()}


def render_condition(condition: str, digit: np.ndarray, rng: np.random.Generator,
                     variant: Optional[str] = None, frame_size: tuple = FRAME_SIZE,
                     roi_size: int = ROI_SIZE, strokes: str = 'pen',
                     camera_rng: Optional[np.random.Generator] = None) -> tuple:
    """One camera frame of an MNIST digit (or a number) under a condition of CONDITIONS.

    digit: uint8 [28, 28], white on black; [k, 28, 28]: the digits of a number, drawn side
    by side (scene.draw_number). variant: one of CONDITIONS[condition], or None to
    let rng choose. strokes: 'pen' redraws the digit's centre line with the scene's pen;
    'mnist' draws MNIST's own strokes scaled up (the writer's own stroke shapes and widths,
    so the redrawing's cost does not cap the measure). camera_rng: the frame's own sensor
    noise and the small movement of the held sheet; frames drawn from generators in the same
    state (the same scene) with different camera_rngs are consecutive frames of a video.
    Returns (frame bgr8 uint8 [H, W, 3], the variant's name); the same rng state (and
    camera_rng state) gives the same frame. ValueError for an unknown
    condition or variant, or a digit that is not a uint8 28x28 image with ink.
    """
    digit = (np.stack([check_digit(glyph) for glyph in digit]) if np.ndim(digit) == 3
             else check_digit(digit))
    frame_size = check_geometry(frame_size, roi_size)
    if strokes not in STROKES:
        raise ValueError(f'strokes must be one of {STROKES}, got {strokes!r}')
    make, variant = choose_variant(_CONDITION_SCENES, 'condition', condition, variant, rng)
    scene = make(rng, frame_size, roi_size)
    return form_frame(digit, scene, rng, frame_size, roi_size, strokes, camera_rng), variant
