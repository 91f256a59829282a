"""The camera: the lens's blur (Gaussian, defocus disc, motion along a path), sensor
sampling and noise, the phone's processing and JPEG, and the held sheet's movement between
the frames of a video."""

import functools
from statistics import NormalDist
import cv2
import numpy as np

from digit_recognition.simulation.scene_types import Scene


@functools.cache
def _normal_table() -> np.ndarray:
    """The 256 quantiles of a standard normal: byte noise through it is Gaussian enough and
    several times faster to draw than rng.standard_normal."""
    return np.array([NormalDist().inv_cdf((i + 0.5) / 256) for i in range(256)], np.float32)


def _gaussian_noise(rng, shape: tuple) -> np.ndarray:
    """Standard normal noise, float32 of `shape`."""
    raw = np.frombuffer(rng.bytes(int(np.prod(shape))), np.uint8)
    # As a 2-D image: OpenCV reads a 3-D array's last axis as channels, at most 512 of them.
    return cv2.LUT(raw.reshape(-1, shape[-1]), _normal_table()).reshape(shape)


def _optics(sheet: np.ndarray, scene: Scene) -> np.ndarray:
    """The lens's blur of the light, float32 [3, H, W] -> float32 [3, H, W]."""
    if scene.kernel is None and scene.blur <= 0:
        return sheet
    blurred = np.empty_like(sheet)
    for plane, out in zip(sheet, blurred):
        if scene.kernel is not None:
            cv2.filter2D(plane, -1, scene.kernel, dst=out, borderType=cv2.BORDER_REFLECT)
        else:
            cv2.GaussianBlur(plane, (0, 0), scene.blur, dst=out)
        if scene.focus is not None:  # in focus where focus is 0
            sharp = cv2.GaussianBlur(plane, (0, 0), 0.5)
            out[:] = sharp + scene.focus * (out - sharp)
    return blurred


def _sensor(image: np.ndarray, scene: Scene, rng) -> np.ndarray:
    """Sampling and noise: float32 [3, H, W] of light -> uint8 [3, h, w], in place."""
    if scene.resolution < 1:
        image = np.stack([cv2.resize(plane, None, fx=scene.resolution, fy=scene.resolution,
                                     interpolation=cv2.INTER_AREA) for plane in image])
    noise = _gaussian_noise(rng, image.shape)
    noise *= np.float32(scene.noise)
    image += noise
    if scene.chroma_noise:
        size = image.shape[2] // 4, image.shape[1] // 4
        for plane, blotches in zip(image, _gaussian_noise(rng, (3, size[1], size[0]))):
            plane += cv2.resize(blotches * np.float32(scene.chroma_noise), plane.shape[::-1])
    image += 0.5
    return np.clip(image, 0, 255, out=image).astype(np.uint8)


def photograph(sheet: np.ndarray, scene: Scene, rng) -> np.ndarray:
    """Lens blur, sensor noise, the phone's processing and JPEG: float32 [3, H, W] -> bgr8."""
    frame = cv2.merge(list(_sensor(_optics(sheet, scene), scene, rng)))
    if scene.denoise:
        frame = cv2.medianBlur(frame, scene.denoise)
    if scene.sharpen:
        soft = cv2.GaussianBlur(frame, (0, 0), 1.5)
        frame = cv2.addWeighted(frame, 1 + scene.sharpen, soft, -scene.sharpen, 0)
    if scene.resolution < 1:
        frame = cv2.resize(frame, sheet.shape[:0:-1], interpolation=cv2.INTER_LINEAR)
    _, jpeg = cv2.imencode('.jpg', frame, [cv2.IMWRITE_JPEG_QUALITY, int(scene.jpeg)])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


SHAKE_PIXELS, SHAKE_DEGREES = 2.0, 0.5  # a held sheet's movement from one frame to the next


def shaken(sheet: np.ndarray, rng) -> np.ndarray:
    """The lit scene float32 [3, H, W] moved as a hand-held sheet moves between two frames
    of a video: up to SHAKE_PIXELS across and SHAKE_DEGREES round."""
    height, width = sheet.shape[1:]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2),
                                     rng.uniform(-SHAKE_DEGREES, SHAKE_DEGREES), 1.0)
    matrix[:, 2] += rng.uniform(-SHAKE_PIXELS, SHAKE_PIXELS, 2)
    return np.stack([cv2.warpAffine(plane, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT_101) for plane in sheet])


def path_kernel(path: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Blur kernel float32 [K, K] of a camera moving along `path` float [N, 2] (densely
    sampled), spending `weights` [N] of the exposure at each point; splatted bilinearly."""
    path = path - (path.min(axis=0) + path.max(axis=0)) / 2
    size = 2 * int(np.ceil(np.abs(path).max())) + 3
    position = path + size // 2
    corner = np.floor(position).astype(int)
    fraction = position - corner
    kernel = np.zeros((size, size), np.float64)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        share = np.abs(1 - dx - fraction[:, 0]) * np.abs(1 - dy - fraction[:, 1])
        np.add.at(kernel, (corner[:, 1] + dy, corner[:, 0] + dx), weights * share)
    return (kernel / kernel.sum()).astype(np.float32)


def straight_path(rng, length) -> np.ndarray:
    angle = rng.uniform(0, np.pi)
    t = np.linspace(-0.5, 0.5, int(length * 4) + 2)[:, None]
    return t * length * np.array([np.cos(angle), np.sin(angle)])


def shaky_path(rng, length) -> np.ndarray:
    """A hand's shake: the direction turning smoothly and randomly along the way."""
    steps = int(length * 4) + 2
    turns = np.cumsum(rng.normal(0, 1, steps))
    heading = rng.uniform(0, 2 * np.pi) + 2.5 * (turns - turns.mean()) / max(np.ptp(turns), 1e-6)
    moves = np.column_stack([np.cos(heading), np.sin(heading)]) * (length / steps)
    return np.cumsum(moves, axis=0)


def disk_kernel(radius: float) -> np.ndarray:
    """A defocused lens's kernel: a uniform disc of `radius` px, anti-aliased."""
    size = 2 * int(np.ceil(radius)) + 1
    fine = (np.arange(size * 4) + 0.5) / 4 - size / 2
    inside = (fine[:, None] ** 2 + fine[None, :] ** 2 <= radius ** 2).astype(np.float32)
    kernel = inside.reshape(size, 4, size, 4).mean(axis=(1, 3))
    return kernel / kernel.sum()
