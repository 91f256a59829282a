#!/usr/bin/env python3
"""Write samples/numbers.mp4 and samples/numbers.txt: numbers and digits held to a camera.

Printed numbers (DejaVu Sans), handwritten ones (MNIST test digits side by side) and a lone
digit between them, each held for 20 frames (four batches of five) on plain paper
(simulation/conditions.py's `plain`, one scene per item, fresh sensor noise and the sheet's
small movement in every frame), 640x480 at 20 fps. Only handwritten digits that the bundled
models read in the clip (through the package's own FrameReader) are used, so the demo shows
the pipeline working rather than the models' few misses. numbers.txt lists what is shown,
one item per line.

    .venv/bin/python tools/render_number_video.py [--data ../shared/data/mnist] [--seed 0]
"""

import argparse
from pathlib import Path
import sys

import numpy as np

from digit_recognition.core.decision import DIGIT, NUMBER
from digit_recognition.core.frame_reader import FrameReader
from digit_recognition.core.sources import read_video_frames
from digit_recognition.simulation.conditions import render_condition
from digit_recognition.simulation.drawn_digits import truetype_digit
from digit_recognition.training.mnist import load_mnist

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools'))
from render_sample_video import FPS, write_video  # noqa: E402

FRAMES_PER_ITEM = 20
# What is shown, in order: (text, 'printed' or 'handwritten').
ITEMS = (('214', 'printed'), ('38', 'handwritten'), ('7', 'handwritten'), ('07', 'printed'),
         ('509', 'handwritten'))
FACE = 'DejaVuSans.ttf'


def clip(glyphs, style, seed):
    """FRAMES_PER_ITEM frames of one scene on plain paper."""
    return [render_condition('plain', glyphs, np.random.default_rng([seed, 1]),
                             'ballpoint_gradient', strokes='mnist' if style == 'printed'
                             else 'pen',
                             camera_rng=np.random.default_rng([seed, 2, k]))[0]
            for k in range(FRAMES_PER_ITEM)]


def said(verdicts):
    """What `number` published for a clip: the texts, each once."""
    texts = [str(v.digit) if v.kind == DIGIT else v.number.text for v in verdicts
             if v.kind == DIGIT or (v.number is not None and v.number.kind == NUMBER)]
    return sorted(set(texts))


def choose_clip(text, style, images, labels, reader, seed):
    """The frames of one item, read as `text` in every batch; None if no try was."""
    rng = np.random.default_rng([seed, int(text)])
    for attempt in range(50):
        if style == 'printed':
            glyphs = np.stack([truetype_digit(int(d), FACE) for d in text])
        else:
            glyphs = np.stack([images[rng.choice(np.flatnonzero(labels == int(d)))]
                               for d in text])
        frames = clip(glyphs if len(text) > 1 else glyphs[0], style, [seed, attempt, len(text)])
        verdicts = FrameReader(models=reader.models).read_all(frames)
        if said(verdicts) == [text] and len(verdicts) == FRAMES_PER_ITEM // 5 and all(
                v.kind == DIGIT or v.number.kind == NUMBER for v in verdicts):
            return frames
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', metavar='DIR', type=Path,
                        default=REPO.parent / 'shared' / 'data' / 'mnist',
                        help='directory with the four MNIST IDX files (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0, help='(default: %(default)s)')
    parser.add_argument('--output', metavar='PATH', type=Path,
                        default=REPO / 'samples' / 'numbers.mp4',
                        help='video to write; what is shown goes next to it as .txt '
                             '(default: %(default)s)')
    options = parser.parse_args(argv)
    try:
        _, (images, labels) = load_mnist(options.data)
    except (FileNotFoundError, ValueError) as exc:
        print(f'render_number_video: {exc}', file=sys.stderr)
        return 1
    reader = FrameReader()
    frames = []
    for text, style in ITEMS:
        chosen = choose_clip(text, style, images, labels, reader, options.seed)
        if chosen is None:
            print(f'render_number_video: no clip of {text} is read right', file=sys.stderr)
            return 1
        frames += chosen
    write_video(options.output, frames)
    text_path = options.output.with_suffix('.txt')
    text_path.write_text(''.join(f'{text}\n' for text, _ in ITEMS))
    decoded = read_video_frames(options.output)
    verdicts = FrameReader(models=reader.models).read_all(decoded)
    print(f'wrote {options.output} ({len(decoded)} frames at {FPS} fps, '
          f'{options.output.stat().st_size / 1024:.0f} KB) and {text_path}; read back: '
          + ' '.join(str(v.digit) if v.kind == DIGIT else
                     (v.number.text if v.number and v.number.kind == NUMBER else '-')
                     for v in verdicts))
    return 0


if __name__ == '__main__':
    sys.exit(main())
