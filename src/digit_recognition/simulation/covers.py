"""Objects in front of the sheet: fingers and the table beyond the sheet's edge, as (alpha
float32 [H, W], colour float32 [3, H, W]) layers over it."""

import numpy as np

from digit_recognition.simulation.geometry import along, near_centre, segment_distance
from digit_recognition.simulation.sheet import jitter, smooth_field


SKINS = ((0.6, 0.7, 0.92), (0.43, 0.55, 0.78), (0.18, 0.25, 0.39))  # light, medium, dark; B, G, R


def finger(frame_size, roi_size, rng, side, width, skin, tip=None) -> tuple:
    """A finger from outside the frame on `side` (angle in radians from the ROI's centre)
    to a tip (dx, dy from the ROI's centre; default: in the ROI): a rounded cylinder, shaded,
    slightly out of focus, maybe a nail."""
    tip = near_centre(rng, 55) if tip is None else np.asarray(tip, np.float64)
    base = tip + 900 * np.array([np.cos(side), np.sin(side)])
    distance, along = segment_distance(frame_size, roi_size, base, tip)
    radius = np.float32(width / 2)
    alpha = np.clip((radius - distance) / np.float32(rng.uniform(1.5, 4)) + 0.5, 0, 1)
    roundness = np.sqrt(np.clip(1 - (distance / radius) ** 2, 0, 1))
    colour = np.asarray(skin, np.float32)[:, None, None] * (0.55 + 0.45 * roundness)
    if rng.random() < 0.5:  # the nail, where the back of the finger faces the camera
        from_nail = ((1 - along) * 900 - width * 0.45) / (width * 0.4)
        nail = from_nail ** 2 + (distance / (radius * 0.6)) ** 2 < 1
        for plane, pale in zip(colour, (0.8, 0.8, 0.9)):
            plane[nail] = plane[nail] * 0.4 + 0.6 * pale
    return alpha, colour


def table_cover(frame_size, roi_size, rng, colour, grain) -> tuple:
    """The table beyond the sheet's edge, which runs through a point near the ROI's centre."""
    angle = rng.uniform(0, 2 * np.pi)
    distance = along(frame_size, roi_size, angle, near_centre(rng, 60))
    alpha = np.clip(distance + 0.5, 0, 1)
    table = np.empty((3, *alpha.shape), np.float32)
    table[:] = np.asarray(jitter(colour, rng, 0.1), np.float32)[:, None, None]
    if grain:  # wood: stripes along the grain
        stripes = np.sin(along(frame_size, roi_size, rng.uniform(0, np.pi)) / 3.0
                         + 3 * smooth_field(alpha.shape, rng, 40))
        table *= 1 + np.float32(0.15) * stripes
    return alpha, table, distance
