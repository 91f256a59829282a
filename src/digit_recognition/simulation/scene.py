"""A scene (scene_types.Scene), everything one frame is made of; the baseline scene each
condition changes; and the frame the camera forms of it: the sheet, its marks and ink, tilt,
objects before it, light, camera."""

from dataclasses import replace
from typing import Optional

import cv2
import numpy as np

from digit_recognition.simulation.camera import photograph, shaken
from digit_recognition.simulation.light import gradient_light
from digit_recognition.simulation.pen import draw_digit, EVERYDAY_PENS, frame_ink, PENS, seen_width
from digit_recognition.simulation.scene_types import Scene
from digit_recognition.simulation.sheet import apply_ink, jitter, PAPERS

GREY_WEIGHTS = np.array([0.114, 0.587, 0.299], np.float32)  # B, G, R, as cv2's BGR2GRAY
NUMBER_PITCH = (0.8, 1.1)  # a number's digits this many digit heights apart, centre to centre


def baseline(rng, frame_size, roi_size, **changes) -> Scene:
    """The baseline, with `changes`: white paper, even-ish light, a dark everyday pen, the
    digit 80-170 px tall inside the ROI, mild blur, sensor noise and JPEG 60-95. Only what is
    not changed is drawn from rng."""
    defaults = dict(
        paper=lambda: jitter(PAPERS['white'], rng, 0.03),
        level=lambda: rng.uniform(170, 230),
        tint=lambda: tuple(rng.uniform(0.97, 1.03, 3)),
        pen=lambda: PENS[EVERYDAY_PENS[int(rng.integers(len(EVERYDAY_PENS)))]],
        height=lambda: rng.uniform(80, 170),
        offset=lambda: None,
        angle=lambda: rng.uniform(-10, 10),
        slant=lambda: rng.uniform(-0.2, 0.2),
        aspect=lambda: rng.uniform(0.85, 1.15),
        antialias=lambda: True,
        marks=lambda: (),
        covers=lambda: (),
        light=lambda: gradient_light(frame_size, roi_size, rng, rng.uniform(0.0, 0.05)),
        glare=lambda: None,
        warp=lambda: None,
        blur=lambda: rng.uniform(0.4, 1.0),
        kernel=lambda: None,
        focus=lambda: None,
        resolution=lambda: 1.0,
        noise=lambda: rng.uniform(1.5, 4.0),
        chroma_noise=lambda: 0.0,
        denoise=lambda: 0,
        sharpen=lambda: 0.0,
        jpeg=lambda: int(rng.integers(60, 96)),
    )
    values = {key: changes[key] if key in changes else make() for key, make in defaults.items()}
    values['ink'] = changes.get('ink') or frame_ink(values['pen'], rng)
    values['pen_width'] = changes.get('pen_width') or seen_width(values['pen'], values['height'],
                                                                 rng)
    return Scene(**values)


def draw_number(sheet: np.ndarray, glyphs: np.ndarray, scene: Scene, rng, roi_size,
                strokes: str = 'pen') -> None:
    """The glyphs [k, 28, 28] of a number side by side on one line, each scene.height tall,
    NUMBER_PITCH heights apart; the row centred where the scene puts the digit (near the
    ROI's centre when it says anywhere), so a long number runs out of the ROI."""
    pitch = scene.height * rng.uniform(*NUMBER_PITCH)
    centre = (np.asarray(scene.offset, float) if scene.offset is not None
              else rng.uniform(-0.1, 0.1, 2) * roi_size)
    for k, glyph in enumerate(glyphs):
        shift = (k - (len(glyphs) - 1) / 2) * pitch
        draw_digit(sheet, glyph, replace(scene, offset=(centre[0] + shift, centre[1])), rng,
                   roi_size, strokes)


def form_frame(digit: Optional[np.ndarray], scene: Scene, rng, frame_size, roi_size,
               strokes: str = 'pen', camera_rng=None) -> np.ndarray:
    """The frame of a scene: the sheet, its marks and ink, tilt, objects before it, light,
    camera. digit None: an empty sheet; [k, 28, 28]: a number (draw_number). strokes,
    camera_rng: see render_condition."""
    width, height = frame_size
    # Planes [3, H, W]: numpy works fast along whole planes, slowly across a last axis of 3.
    sheet = np.empty((3, height, width), np.float32)
    sheet[:] = np.asarray(scene.paper, np.float32)[:, None, None]
    for coverage, colour in scene.marks:
        apply_ink(sheet, coverage, colour)
    if digit is not None and digit.ndim == 3:
        draw_number(sheet, digit, scene, rng, roi_size, strokes)
    elif digit is not None:
        draw_digit(sheet, digit, scene, rng, roi_size, strokes)
    if scene.warp is not None:
        sheet = np.stack([cv2.warpPerspective(plane, scene.warp, frame_size,
                                              flags=cv2.INTER_LINEAR,
                                              borderMode=cv2.BORDER_REFLECT_101)
                          for plane in sheet])
    for alpha, colour in scene.covers:
        sheet += alpha * (colour - sheet)
    lit_paper = float(GREY_WEIGHTS @ (np.asarray(scene.paper) * scene.tint))
    exposure = scene.level / lit_paper
    for plane, tint in zip(sheet, scene.tint):
        plane *= np.float32(exposure * tint) if scene.light is None else (
            scene.light * np.float32(exposure * tint))
        if scene.glare is not None:
            plane += scene.glare
    if camera_rng is None:
        return photograph(sheet, scene, rng)
    return photograph(shaken(sheet, camera_rng), scene, camera_rng)


def choose_variant(table: dict, what: str, name: str, variant: Optional[str], rng) -> tuple:
    """The scene maker and variant name for `name` (a condition or blank kind)."""
    if name not in table:
        raise ValueError(f'unknown {what} {name!r}; choose from {", ".join(table)}')
    variants = table[name]
    if variant is None:
        variant = list(variants)[int(rng.integers(len(variants)))]
    elif variant not in variants:
        raise ValueError(f'{what} {name!r} has no variant {variant!r}; '
                         f'choose from {", ".join(variants)}')
    return variants[variant], variant
