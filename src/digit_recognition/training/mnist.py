"""Load MNIST: from a directory of the four LeCun IDX files, or through Keras's downloader."""

import gzip
from pathlib import Path

import numpy as np

# The official file names; each may also be stored uncompressed (without .gz).
IDX_FILES = {
    'x_train': 'train-images-idx3-ubyte',
    'y_train': 'train-labels-idx1-ubyte',
    'x_test': 't10k-images-idx3-ubyte',
    'y_test': 't10k-labels-idx1-ubyte',
}

# IDX type codes (http://yann.lecun.com/exdb/mnist/); MNIST only uses unsigned bytes.
_IDX_UBYTE = 0x08


def read_idx(path):
    """Read one IDX file (optionally gzip-compressed) into a numpy array."""
    path = Path(path)
    opener = gzip.open if path.suffix == '.gz' else open
    with opener(path, 'rb') as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f'{path} is not an IDX file (bad magic number)')
    if data[2] != _IDX_UBYTE:
        raise ValueError(f'{path}: unsupported IDX element type 0x{data[2]:02x}')
    ndim = data[3]
    header_size = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
    expected = int(np.prod(shape)) if shape else 0
    if len(data) - header_size != expected:
        raise ValueError(f'{path}: expected {expected} bytes of data for shape {shape}, '
                         f'found {len(data) - header_size}')
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def _find_idx(data_dir, stem):
    for name in (stem + '.gz', stem):
        if (data_dir / name).is_file():
            return data_dir / name
    raise FileNotFoundError(f'{data_dir} has no {stem}.gz (nor {stem})')


def load_mnist(data_dir=None):
    """Return ((x_train, y_train), (x_test, y_test)) as uint8 arrays, images [N, 28, 28].

    With data_dir, read the four IDX files there; without, use Keras's downloader (it caches
    in ~/.keras/datasets and needs the internet the first time).
    """
    if data_dir is None:
        from keras.datasets import mnist  # noqa: PLC0415 - imports TensorFlow, only when needed
        return mnist.load_data()
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f'MNIST directory not found: {data_dir}')
    arrays = {key: read_idx(_find_idx(data_dir, stem)) for key, stem in IDX_FILES.items()}
    for split in ('train', 'test'):
        if len(arrays['x_' + split]) != len(arrays['y_' + split]):
            raise ValueError(f'{data_dir}: {split} images and labels differ in count')
    return (arrays['x_train'], arrays['y_train']), (arrays['x_test'], arrays['y_test'])
