"""mnist.py: the IDX reader on files written here, load_mnist on a directory of them."""

import gzip

import numpy as np
import pytest

from digit_recognition.training.mnist import IDX_FILES, load_mnist, read_idx
from helpers_mnist import idx_bytes, split_sample, write_idx, write_mnist_dir


@pytest.mark.parametrize('name', ['images-idx3-ubyte', 'images-idx3-ubyte.gz'])
def test_read_idx_gives_back_images_plain_and_gzipped(tmp_path, name):
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    result = read_idx(write_idx(tmp_path / name, images))
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, images)


def test_read_idx_gives_back_labels(tmp_path):
    labels = np.array([7, 2, 1, 0, 4], np.uint8)
    result = read_idx(write_idx(tmp_path / 'labels-idx1-ubyte.gz', labels))
    assert result.shape == (5,)
    np.testing.assert_array_equal(result, labels)


def test_gzipped_file_is_really_compressed(tmp_path):
    # Guards the helper: a .gz name must hold gzip data, or the test above proves nothing.
    path = write_idx(tmp_path / 'labels.gz', np.zeros(4, np.uint8))
    assert gzip.decompress(path.read_bytes()) == idx_bytes(np.zeros(4, np.uint8))


@pytest.mark.parametrize('payload, message', [
    (b'\x08\x03\x00\x00' + bytes(16), 'magic'),  # bytes 0-1 must be zero
    (b'PK\x03\x04' + bytes(16), 'magic'),  # a zip file
    (b'\x00\x00', 'magic'),  # too short for a magic number
    (b'\x00\x00\x0d\x01' + (2).to_bytes(4, 'big') + bytes(8), 'type'),  # float32 elements
    (idx_bytes(np.zeros((2, 28, 28), np.uint8))[:-1], 'bytes'),  # truncated data
    (idx_bytes(np.zeros((2, 28, 28), np.uint8)) + b'\x00', 'bytes'),  # trailing data
], ids=['bad-magic', 'zip', 'short', 'float-type', 'truncated', 'trailing'])
def test_broken_idx_files_raise_value_error(tmp_path, payload, message):
    for path in (tmp_path / 'broken', tmp_path / 'broken.gz'):
        write_idx(path, payload)
        with pytest.raises(ValueError, match=message):
            read_idx(path)


@pytest.mark.parametrize('compress', [True, False], ids=['gz', 'plain'])
def test_load_mnist_reads_a_directory_of_idx_files(tmp_path, compress):
    train, test = split_sample()
    folder = write_mnist_dir(tmp_path / 'mnist', train, test, compress=compress)
    (x_train, y_train), (x_test, y_test) = load_mnist(folder)
    assert x_train.shape == (400, 28, 28) and y_train.shape == (400,)
    assert x_test.shape == (100, 28, 28) and y_test.shape == (100,)
    assert x_train.dtype == y_train.dtype == np.uint8
    np.testing.assert_array_equal(y_train, train[1])
    np.testing.assert_array_equal(y_test, test[1])
    np.testing.assert_array_equal(x_test, test[0])
    assert np.bincount(y_test).tolist() == [10] * 10


def test_load_mnist_accepts_a_string_path(tmp_path):
    train, test = split_sample()
    write_mnist_dir(tmp_path, train, test)
    (_, y_train), _ = load_mnist(str(tmp_path))
    np.testing.assert_array_equal(y_train, train[1])


def test_missing_directory_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match='not found'):
        load_mnist(tmp_path / 'no_such_dir')


def test_missing_file_raises_file_not_found(tmp_path):
    train, test = split_sample()
    folder = write_mnist_dir(tmp_path, train, test)
    (folder / (IDX_FILES['y_test'] + '.gz')).unlink()
    with pytest.raises(FileNotFoundError, match=IDX_FILES['y_test']):
        load_mnist(folder)


def test_images_and_labels_of_different_counts_raise_value_error(tmp_path):
    train, (x_test, y_test) = split_sample()
    folder = write_mnist_dir(tmp_path, train, (x_test, y_test[:-1]))
    with pytest.raises(ValueError, match='differ'):
        load_mnist(folder)
