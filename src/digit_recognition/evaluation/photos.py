"""Labelled photos of real handwriting: read (PNG transparency on white), placed in a frame as
the robot would see them, and read by each pipeline at each of PHOTO_SIZES."""

import csv
from pathlib import Path

import cv2
import numpy as np

from digit_recognition.core.sizes import check_frame_size, FRAME_SIZE
from digit_recognition.evaluation.pipelines import Collector, default_index
from digit_recognition.evaluation.scoring import BATCH, score_batches

PHOTO_SIZES = {190: 'inside the box', 260: 'held closer'}  # the photo's longer side, px
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def load_photo(path) -> np.ndarray:
    """A photo as bgr8 uint8 [H, W, 3]: read as cv2.imread(path, IMREAD_COLOR) does, which
    applies a JPEG's EXIF rotation, except that a PNG's transparency is composited on white.
    ValueError if the file cannot be read as an image."""
    try:
        with open(path, 'rb') as f:
            is_png = f.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE
    except OSError as exc:
        raise ValueError(f'cannot read an image from {path}: {exc.strerror}') from exc
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED if is_png else cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f'cannot read an image from {path}')
    if is_png:
        image = _composite_on_white(image)
    return image


def _composite_on_white(image: np.ndarray) -> np.ndarray:
    """bgr8 from a PNG as read unchanged: grey or colour, 8 or 16 bits, with or without alpha."""
    pixels = np.atleast_3d(image).astype(np.float32) / (
        65535.0 if image.dtype == np.uint16 else 255.0)
    has_alpha = pixels.shape[2] in (2, 4)
    colour = pixels[:, :, :-1] if has_alpha else pixels
    alpha = pixels[:, :, -1:] if has_alpha else 1.0
    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    return np.round((colour * alpha + (1 - alpha)) * 255).astype(np.uint8)


def border_colour(image: np.ndarray) -> np.ndarray:
    """Per-channel median of an image's outermost pixels: its paper's colour. uint8 [3]."""
    ring = np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])
    return np.median(ring, axis=0).astype(np.uint8)


def photo_frame(photo_bgr: np.ndarray, longer_side: int,
                frame_size: tuple = FRAME_SIZE) -> np.ndarray:
    """A photo as the robot would see it: bgr8 uint8 [H, W, 3] filled with the photo's paper
    colour (border_colour), the photo scaled so its longer side is `longer_side` px, centred
    (cropped where it is larger than the frame)."""
    photo = np.asarray(photo_bgr)
    if photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3 or min(photo.shape) < 1:
        raise ValueError(f'expected a bgr8 image, got {photo.dtype} {photo.shape}')
    if longer_side < 1:
        raise ValueError(f'longer_side must be positive, got {longer_side}')
    width, height = check_frame_size(*frame_size)
    scale = longer_side / max(photo.shape[:2])
    size = (max(1, round(photo.shape[1] * scale)), max(1, round(photo.shape[0] * scale)))
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(photo, size, interpolation=shrink)
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = border_colour(photo)
    top, left = (height - size[1]) // 2, (width - size[0]) // 2
    # Where the scaled photo overlaps the frame, in frame and in photo coordinates.
    y0, y1 = max(top, 0), min(top + size[1], height)
    x0, x1 = max(left, 0), min(left + size[0], width)
    frame[y0:y1, x0:x1] = scaled[y0 - top:y1 - top, x0 - left:x1 - left]
    return frame


def read_labels(directory):
    """(path, label, writer) of each photo listed in directory/labels.csv."""
    directory = Path(directory)
    with open(directory / 'labels.csv', newline='') as f:
        return [(directory / row['path'], int(row['label']), row.get('writer', ''))
                for row in csv.DictReader(f)]


def evaluate_photos(directory, pipelines, classifiers, settings):
    """Each pipeline on the labelled photos at each of PHOTO_SIZES: a photo is one still
    frame, so its batch is five copies of one crop; published right / wrong / silent, and
    the default pipeline's published-right share per writer."""
    photos = read_labels(directory)
    labels = np.array([label for _, label, _ in photos])
    writers = np.array([writer for _, _, writer in photos])
    images = [load_photo(path) for path, _, _ in photos]
    default = pipelines[default_index(pipelines)].name
    sizes, per_writer = {}, {}
    for side in PHOTO_SIZES:
        collector = Collector(pipelines, len(images) * BATCH)
        for i, image in enumerate(images):
            frame = photo_frame(image, side)
            collector.add(i * BATCH, frame, '', pipelines)
            for p in range(len(pipelines)):  # the same still frame four more times
                collector.crops[p, i * BATCH + 1:(i + 1) * BATCH] = collector.crops[p, i * BATCH]
                collector.found[p, i * BATCH + 1:(i + 1) * BATCH] = collector.found[p, i * BATCH]
        result, decisions = score_batches(pipelines, classifiers, collector, labels,
                                          [''] * len(labels), settings)
        sizes[str(side)] = {name: {k: v for k, v in r.items() if k != 'variants'}
                            for name, r in result.items()}
        right = decisions[default]['published'] & (decisions[default]['digit'] == labels)
        per_writer[str(side)] = {w: float(right[writers == w].mean())
                                 for w in sorted(set(writers))}
    return dict(directory=str(directory), photos=len(images), sizes=sizes, writers=per_writer)
