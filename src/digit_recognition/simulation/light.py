"""The light falling on the sheet: gradients, lamps, shadows (edges, bands, a hand, fingers)
and glare, as fields float32 [H, W]. A shadow maker is (frame_size, roi_size, rng) ->
shadow share [0, 1] for shadowed()."""

import cv2
import numpy as np

from digit_recognition.simulation.geometry import along, near_centre, radial_distance, roi_centre


def per_roi(field: np.ndarray, roi_size: int) -> np.ndarray:
    """The light field scaled to a mean of 1 over the ROI, so scene.level is the ROI's paper."""
    top, left = (field.shape[0] - roi_size) // 2, (field.shape[1] - roi_size) // 2
    return (field / field[top:top + roi_size, left:left + roi_size].mean()).astype(np.float32)


def gradient_light(frame_size, roi_size, rng, strength) -> np.ndarray:
    """Light changing linearly in a random direction by `strength` (share) per half ROI."""
    ramp = along(frame_size, roi_size, rng.uniform(0, 2 * np.pi)) / (roi_size / 2)
    return per_roi(np.maximum(1 + strength * ramp, 0.15), roi_size)


def lamp_light(frame_size, roi_size, rng, reach) -> np.ndarray:
    """A lamp's light falling off as 1 / (1 + (r / reach)^2)^2 from a point near the ROI."""
    centre = rng.uniform(-120, 120, 2)
    return per_roi(1 / (1 + (radial_distance(frame_size, roi_size, centre) / reach) ** 2) ** 2,
                   roi_size)


def _edge_shadow(frame_size, roi_size, rng, softness, curve=0.0) -> np.ndarray:
    """Shadow share [0, 1] beyond an edge through a point near the ROI's centre; softness
    is the width of the penumbra in px, curve bends the edge (per px of its length)."""
    angle = rng.uniform(0, 2 * np.pi)
    distance = along(frame_size, roi_size, angle, near_centre(rng, 40))
    if curve:
        distance += np.float32(curve) * along(frame_size, roi_size, angle + np.pi / 2) ** 2
    return np.clip(0.5 - distance / np.float32(softness), 0, 1)


def hard_edge(size, roi, rng):
    return _edge_shadow(size, roi, rng, rng.uniform(1, 3))


def penumbra(size, roi, rng):
    return _edge_shadow(size, roi, rng, rng.uniform(15, 60), rng.uniform(-1, 1) * 1.5e-3)


def curved_edge(size, roi, rng):
    return _edge_shadow(size, roi, rng, rng.uniform(3, 25), rng.choice([-1, 1]) * 3e-3)


def covering(size, roi, rng):
    """A shadow over the whole ROI, its edge outside the ROI."""
    angle = rng.uniform(0, 2 * np.pi)
    edge = rng.uniform(roi / 2 * 1.5, roi / 2 * 1.5 + 60)
    distance = along(size, roi, angle) - np.float32(edge)
    return np.clip(0.5 - distance / np.float32(rng.uniform(5, 40)), 0, 1)


def band_shadow(frame_size, roi_size, rng) -> np.ndarray:
    """An arm's shadow: a band 50-140 px wide through a point near the ROI's centre."""
    distance = np.abs(along(frame_size, roi_size, rng.uniform(0, np.pi), near_centre(rng, 50)))
    half, softness = rng.uniform(25, 70), rng.uniform(4, 24)
    return np.clip((half - distance) / np.float32(softness) + 0.5, 0, 1)


def hand_shadow(frame_size, roi_size, rng) -> np.ndarray:
    """A hand's shadow: palm, arm and fingers reaching over the ROI from one side, drawn at a
    quarter of the frame's resolution and softened by a penumbra. Sized for a digit written
    about 4 cm tall filling the ROI: a finger is 1.5-2 cm wide, its shadow wider."""
    width, height = frame_size
    quarter = 4
    small = np.zeros((height // quarter, width // quarter), np.uint8)
    centre = roi_centre(frame_size, roi_size)
    direction = rng.uniform(0, 2 * np.pi)
    towards = -np.array([np.cos(direction), np.sin(direction)])
    palm = centre - towards * rng.uniform(200, 280)

    def at(point):
        return tuple(int(v) for v in np.round(point * 16 / quarter))

    axes = tuple(int(v * 16 / quarter) for v in rng.uniform((110, 90), (150, 120)))
    cv2.ellipse(small, at(palm), axes, np.rad2deg(direction), 0, 360, 255, -1, cv2.LINE_AA, 4)
    cv2.line(small, at(palm), at(palm - towards * 600), 255, int(rng.uniform(150, 220) / quarter),
             cv2.LINE_AA, 4)
    for spread in np.linspace(-0.5, 0.5, int(rng.integers(3, 5))) + rng.normal(0, 0.08):
        finger = np.array([[np.cos(spread), -np.sin(spread)], [np.sin(spread), np.cos(spread)]])
        tip = palm + (finger @ towards) * rng.uniform(200, 320)
        cv2.line(small, at(palm), at(tip), 255, int(rng.uniform(60, 90) / quarter), cv2.LINE_AA, 4)
    small = cv2.GaussianBlur(small.astype(np.float32) / 255, (0, 0), rng.uniform(1, 5))
    return cv2.resize(small, frame_size, interpolation=cv2.INTER_LINEAR)


def shadowed(frame_size, roi_size, rng, shadow) -> np.ndarray:
    """Even-ish light darkened by 30-60 % under the shadow share `shadow`."""
    light = gradient_light(frame_size, roi_size, rng, rng.uniform(0.0, 0.06))
    return light * (1 - np.float32(rng.uniform(0.3, 0.6)) * shadow)


def light_under_fingers(covers, size, roi, rng, drift, depth) -> np.ndarray:
    """Even-ish light darkened by up to `depth` under the soft shadow the fingers (covers)
    cast, offset by up to `drift` px."""
    shadow = sum(cv2.GaussianBlur(alpha, (0, 0), 8) for alpha, _ in covers)
    shift = np.float32([[1, 0, rng.uniform(-drift, drift)], [0, 1, rng.uniform(5, drift)]])
    shadow = cv2.warpAffine(np.minimum(shadow, 1), shift, size)
    return gradient_light(size, roi, rng, rng.uniform(0.0, 0.08)) * (1 - depth * shadow)


def glare_patch(frame_size, roi_size, rng) -> np.ndarray:
    """Light reflected off glossy paper: an elongated bright patch over part of the ROI."""
    angle = rng.uniform(0, np.pi)
    point = near_centre(rng, 70)
    u = along(frame_size, roi_size, angle, point) / np.float32(rng.uniform(15, 45))
    v = along(frame_size, roi_size, angle + np.pi / 2, point) / np.float32(rng.uniform(30, 90))
    return np.float32(rng.uniform(60, 150)) * np.exp(-(u * u + v * v) / 2)
