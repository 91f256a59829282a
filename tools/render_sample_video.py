#!/usr/bin/env python3
"""Write samples/digits.mp4 and samples/digits.txt: ten MNIST test digits as a camera sees them.

One digit of each class, in a shuffled but fixed order, each held for 10 frames (two batches
of five for the classifier) at 640x480 and 20 fps, with a few pixels of hand jitter and fresh
sensor noise in every frame. Only test digits that the bundled model reads in every frame,
through the tutorial's preprocessing and every mode of the package's, are used, so the demo
shows the pipeline working rather than the model's few mistakes. digits.txt lists the digits
written, one per line.

    .venv/bin/python tools/render_sample_video.py [--data ../shared/data/mnist] [--seed 0]
"""

import argparse
import itertools
from pathlib import Path
import sys

import cv2
import numpy as np

from digit_recognition.core.model import load_classifier
from digit_recognition.core.preprocessing import (
    NORMALIZATIONS, PreprocessSettings, read_frame, THRESHOLD_MODES)
from digit_recognition.core.sizes import CROP_SIZE, FRAME_SIZE
from digit_recognition.core.sources import read_video_frames
from digit_recognition.training.mnist import load_mnist
from digit_recognition.simulation.synthetic_frames import render_frame, ROI_SIZE

REPO = Path(__file__).resolve().parents[1]
FPS = 20
FRAMES_PER_DIGIT = 10
DIGIT_SIZE = 200
JITTER = 3  # pixels the digit moves between frames, each way
THRESHOLD = 100


def tutorial_crop(frame):
    """The tutorial's preprocessing: grey, inverse threshold, centre ROI, INTER_AREA to 28x28."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    _, binary = cv2.threshold(gray, THRESHOLD, 255, cv2.THRESH_BINARY_INV)
    top, left = (gray.shape[0] - ROI_SIZE) // 2, (gray.shape[1] - ROI_SIZE) // 2
    return cv2.resize(binary[top:top + ROI_SIZE, left:left + ROI_SIZE], (CROP_SIZE, CROP_SIZE),
                      interpolation=cv2.INTER_AREA)


def all_crops(frame):
    """Crops of one frame by the tutorial and by every preprocessing mode; None: no digit."""
    return [tutorial_crop(frame)] + [
        read_frame(frame, PreprocessSettings(THRESHOLD, ROI_SIZE, mode, normalization)).crop
        for mode, normalization in itertools.product(THRESHOLD_MODES, NORMALIZATIONS)]


def render_clip(digit, rng):
    """FRAMES_PER_DIGIT frames of one digit, each moved by up to JITTER pixels."""
    width, height = FRAME_SIZE
    frames = []
    for _ in range(FRAMES_PER_DIGIT):
        dx, dy = rng.integers(-JITTER, JITTER + 1, 2)
        frames.append(render_frame(digit, FRAME_SIZE, DIGIT_SIZE,
                                   center=(width / 2 + dx, height / 2 + dy), rng=rng))
    return frames


def read_correctly(classifier, frames, label):
    crops = [crop for frame in frames for crop in all_crops(frame)]
    if any(crop is None for crop in crops):
        return False
    return bool((classifier.predict_batch(np.stack(crops)).argmax(axis=1) == label).all())


def choose_clips(images, labels, order, classifier, seed):
    """For each digit in `order`: (test index, frames) of a random test image read right."""
    rng = np.random.default_rng(seed)
    chosen = []
    for digit in order:
        for index in rng.permutation(np.flatnonzero(labels == digit)):
            # Frames depend on the image only, not on how many candidates were tried before.
            frames = render_clip(images[index], np.random.default_rng([seed, int(index)]))
            if read_correctly(classifier, frames, digit):
                chosen.append((int(index), frames))
                break
    return chosen


def write_video(path, frames):
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), FPS, FRAME_SIZE)
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write mp4v video to {path}')
    for frame in frames:
        writer.write(frame)
    writer.release()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', metavar='DIR', type=Path,
                        default=REPO.parent / 'shared' / 'data' / 'mnist',
                        help='directory with the four MNIST IDX files (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='order of the digits, choice of images, jitter, noise '
                             '(default: %(default)s)')
    parser.add_argument('--output', metavar='PATH', type=Path,
                        default=REPO / 'samples' / 'digits.mp4',
                        help='video to write; the digits go next to it as .txt '
                             '(default: %(default)s)')
    options = parser.parse_args(argv)
    try:
        _, (images, labels) = load_mnist(options.data)
    except (FileNotFoundError, ValueError) as exc:
        print(f'render_sample_video: {exc}', file=sys.stderr)
        return 1

    order = np.random.default_rng(options.seed).permutation(10)
    classifier = load_classifier()
    chosen = choose_clips(images, labels, order, classifier, options.seed)
    if len(chosen) != len(order):
        print('render_sample_video: no test image of some digit is read right', file=sys.stderr)
        return 1
    write_video(options.output, [frame for _, frames in chosen for frame in frames])
    text_path = options.output.with_suffix('.txt')
    text_path.write_text(''.join(f'{digit}\n' for digit in order))

    # The codec blurs and blocks the frames: check the video as a reader will decode it.
    decoded = read_video_frames(options.output)
    expected = np.repeat(order, FRAMES_PER_DIGIT)
    if len(decoded) != len(expected):
        print(f'render_sample_video: read back {len(decoded)} frames, wrote {len(expected)}',
              file=sys.stderr)
        return 1
    misread = [i for i, (frame, digit) in enumerate(zip(decoded, expected))
               if not read_correctly(classifier, [frame], digit)]
    for digit, (index, _) in zip(order, chosen):
        print(f'digit {digit}: MNIST test image {index}')
    print(f'wrote {options.output} ({len(decoded)} frames, '
          f'{options.output.stat().st_size / 1024:.0f} KB) and {text_path}')
    if misread:
        print(f'render_sample_video: decoded frames {misread} are misread', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
