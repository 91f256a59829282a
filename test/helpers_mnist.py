"""Helpers for the MNIST tests: write LeCun IDX files, build an MNIST directory from the sample.

Kept out of conftest.py so the tests that need them import them by name
(`from helpers_mnist import ...`; pytest puts test/ on sys.path).
"""

import gzip
from pathlib import Path

import numpy as np

from digit_recognition.training.mnist import IDX_FILES

SAMPLE_FILE = Path(__file__).resolve().parent / 'data' / 'mnist_sample.npz'


def idx_bytes(array):
    """The IDX encoding of a uint8 array: magic (0, 0, type 0x08, ndim), big-endian sizes, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim])
    header += b''.join(int(size).to_bytes(4, 'big') for size in array.shape)
    return header + array.tobytes()


def write_idx(path, data, compress=None):
    """Write an array (or raw bytes) as an IDX file, gzip-compressed when the name ends in .gz."""
    path = Path(path)
    payload = data if isinstance(data, bytes) else idx_bytes(data)
    compress = path.suffix == '.gz' if compress is None else compress
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def load_sample():
    """The committed 500-digit sample: images uint8 [500, 28, 28], labels uint8 [500]."""
    with np.load(SAMPLE_FILE) as data:
        return data['images'], data['labels']


def split_sample():
    """The sample split as MNIST is: 400 'training' and 100 'test' digits, 10 of each class."""
    images, labels = load_sample()
    # Every fifth image of each class, so both parts hold all ten digits.
    rank_in_class = np.zeros(len(labels), int)
    for digit in range(10):
        rank_in_class[labels == digit] = np.arange((labels == digit).sum())
    test = rank_in_class % 5 == 0
    return (images[~test], labels[~test]), (images[test], labels[test])


def write_mnist_dir(folder, train, test, compress=True):
    """The four official IDX files for (images, labels) pairs train and test, in folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {'x_train': train[0], 'y_train': train[1], 'x_test': test[0], 'y_test': test[1]}
    for key, stem in IDX_FILES.items():
        write_idx(folder / (stem + '.gz' if compress else stem), arrays[key])
    return folder
