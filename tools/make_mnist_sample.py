#!/usr/bin/env python3
"""Write test/data/mnist_sample.npz: the first 50 MNIST test images of each digit.

500 official test digits are enough for the tests to measure accuracy to a few points and
small enough (~150 KB) to commit; the full set stays out of the repository.

    .venv/bin/python tools/make_mnist_sample.py [--data ../shared/data/mnist]
"""

import argparse
from pathlib import Path
import sys

import numpy as np

from digit_recognition.training.mnist import load_mnist

REPO = Path(__file__).resolve().parents[1]
PER_CLASS = 50


def sample_indices(labels, per_class):
    """Indices of the first `per_class` images of each class, in test-set order."""
    chosen = [np.flatnonzero(labels == digit)[:per_class] for digit in range(10)]
    if any(len(indices) < per_class for indices in chosen):
        raise ValueError(f'fewer than {per_class} test images of some digit')
    return np.sort(np.concatenate(chosen))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', metavar='DIR', type=Path,
                        default=REPO.parent / 'shared' / 'data' / 'mnist',
                        help='directory with the four MNIST IDX files (default: %(default)s)')
    parser.add_argument('--output', metavar='PATH', type=Path,
                        default=REPO / 'test' / 'data' / 'mnist_sample.npz',
                        help='where to write the sample (default: %(default)s)')
    options = parser.parse_args(argv)
    try:
        _, (images, labels) = load_mnist(options.data)
    except (FileNotFoundError, ValueError) as exc:
        print(f'make_mnist_sample: {exc}', file=sys.stderr)
        return 1

    indices = sample_indices(labels, PER_CLASS)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(options.output, images=images[indices], labels=labels[indices],
                        indices=indices)
    print(f'wrote {options.output}: {len(indices)} images, '
          f'{options.output.stat().st_size / 1024:.0f} KB')
    return 0


if __name__ == '__main__':
    sys.exit(main())
