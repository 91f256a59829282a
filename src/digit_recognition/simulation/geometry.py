"""Where things are in a frame: the frame and ROI sizes checked, coordinates and distances
relative to the ROI's centre, directions, and the homography of a tilted sheet."""

import cv2
import numpy as np

from digit_recognition.core.sizes import check_frame_size

# Directions from the ROI's centre, radians (image y points down).
LEFT, RIGHT, UP, DOWN = np.pi, 0.0, -np.pi / 2, np.pi / 2
DIAGONALS = (np.pi / 4, 3 * np.pi / 4, 5 * np.pi / 4, 7 * np.pi / 4)


def check_geometry(frame_size, roi_size) -> tuple:
    """(width, height) of a valid frame size; ValueError unless the ROI fits in it."""
    width, height = check_frame_size(*frame_size)
    if not 0 < roi_size <= min(width, height):
        raise ValueError(f'roi_size must be 1 to {min(width, height)}, got {roi_size}')
    return width, height


def roi_centre(frame_size: tuple, roi_size: int) -> np.ndarray:
    """(x, y) of the ROI's centre in pixel coordinates: the ROI is centred as the
    preprocessing crops it, from (W - roi) // 2."""
    width, height = frame_size
    return np.array([(width - roi_size) // 2, (height - roi_size) // 2]) + (roi_size - 1) / 2


def _grid(frame_size, roi_size):
    """x float32 [1, W] and y float32 [H, 1], relative to the ROI's centre."""
    cx, cy = roi_centre(frame_size, roi_size)
    width, height = frame_size
    return (np.arange(width, dtype=np.float32)[None, :] - np.float32(cx),
            np.arange(height, dtype=np.float32)[:, None] - np.float32(cy))


def along(frame_size, roi_size, angle, point=(0.0, 0.0)) -> np.ndarray:
    """Signed distance float32 [H, W] from the line through `point` (relative to the ROI's
    centre) whose normal points at `angle` radians."""
    x, y = _grid(frame_size, roi_size)
    return ((x - np.float32(point[0])) * np.float32(np.cos(angle))
            + (y - np.float32(point[1])) * np.float32(np.sin(angle)))


def radial_distance(frame_size, roi_size, centre=(0.0, 0.0)) -> np.ndarray:
    x, y = _grid(frame_size, roi_size)
    return np.sqrt((x - np.float32(centre[0])) ** 2 + (y - np.float32(centre[1])) ** 2)


def near_centre(rng, reach) -> np.ndarray:
    """A point (dx, dy) within `reach` px of the ROI's centre, uniform over the disc."""
    angle, radius = rng.uniform(0, 2 * np.pi), reach * np.sqrt(rng.random())
    return radius * np.array([np.cos(angle), np.sin(angle)])


def offset_from_centre(rng, low, high, directions=None) -> tuple:
    """(dx, dy) low-high px from the ROI's centre, towards one of `directions` (radians,
    +-15 degrees) or anywhere."""
    if directions is None:
        angle = rng.uniform(0, 2 * np.pi)
    else:
        angle = directions[int(rng.integers(len(directions)))] + np.deg2rad(rng.uniform(-15, 15))
    radius = rng.uniform(low, high)
    return radius * np.cos(angle), radius * np.sin(angle)


def segment_distance(frame_size, roi_size, start, end) -> tuple:
    """Distance float32 [H, W] of each pixel from the segment start-end (relative to the ROI's
    centre), and the position along it (0 at start, 1 at end)."""
    x, y = _grid(frame_size, roi_size)
    axis = np.asarray(end, np.float32) - np.asarray(start, np.float32)
    dx, dy = x - np.float32(start[0]), y - np.float32(start[1])
    along = np.clip((dx * axis[0] + dy * axis[1]) / np.float32(axis @ axis), 0, 1)
    return np.sqrt((dx - along * axis[0]) ** 2 + (dy - along * axis[1]) ** 2), along


def tilt(frame_size, roi_size, pitch, yaw, roll, focal) -> np.ndarray:
    """Homography of the sheet turned by pitch (about the horizontal axis), yaw (vertical) and
    roll (in plane), degrees, about the ROI's centre, seen through a lens of `focal` px."""
    a, b, c = np.deg2rad([pitch, yaw, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    width, height = frame_size
    centre = roi_centre(frame_size, roi_size)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64) - centre
    points = np.column_stack([corners, np.zeros(4)]) @ (rz @ ry @ rx).T + [0, 0, focal]
    seen = focal * points[:, :2] / points[:, 2:] + centre
    return cv2.getPerspectiveTransform((corners + centre).astype(np.float32),
                                       seen.astype(np.float32))
