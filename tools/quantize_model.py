#!/usr/bin/env python3
"""Write the fully integer-quantized twin of a trained model: name.keras -> name_int8.tflite.

What `train --quantize` does after training, for a model already trained (the bundled one):
500 training digits, drawn and augmented as `train` draws them, calibrate the activations'
ranges; then the float .tflite twin and the quantized one are read on the 10,000 MNIST test
digits with the tflite backend. The .keras and .tflite files are left as they are.

    .venv/bin/python tools/quantize_model.py [--model PATH.keras] [--data DIR] [--seed 0]

(default: the bundled src/digit_recognition/models/mnist_cnn.keras, ../shared/data/mnist)
"""

import argparse
import contextlib
import io
from pathlib import Path
import sys
import warnings

from digit_recognition.core import model as models
from digit_recognition.training.export import save_tflite
from digit_recognition.training.mnist import load_mnist
from digit_recognition.training.train import (
    add_augmented_copies, RECIPES, representative_digits, tflite_accuracy)

REPO = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', type=Path, default=models.BUNDLED_MODEL,
                        help='the .keras model to quantize (default: %(default)s)')
    parser.add_argument('--data', metavar='DIR', type=Path,
                        default=REPO.parent / 'shared' / 'data' / 'mnist',
                        help='directory with the four MNIST IDX files (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed for drawing and augmenting the digits (default: %(default)s)')
    options = parser.parse_args(argv)
    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(options.data)
        classifier = models.load_classifier(options.model, 'keras')
    except (FileNotFoundError, ValueError, models.ModelLoadError) as exc:
        print(f'quantize_model: {exc}', file=sys.stderr)
        return 1

    # As train --quantize: drawn from the training set with its augmented copies (a quarter
    # of the digits originals, the rest copies), here made for the drawn digits only.
    augmentations = RECIPES['cnn']['augmentations'] if 'cnn' in classifier.model.name else ()
    digits = representative_digits(x_train, options.seed)
    if augmentations:
        digits, _ = add_augmented_copies(digits, y_train[:len(digits)], augmentations,
                                         options.seed)
    quantized = models.quantized_twin(options.model)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the converter's traced signature, calibration notes
        save_tflite(classifier.model, quantized, representative_digits(digits, options.seed))
    for path in (options.model.with_suffix('.tflite'), quantized):
        if not path.is_file():
            continue  # a .keras without its float twin
        accuracy = tflite_accuracy(path, x_test, y_test)
        print(f'{path.name}: {100 * accuracy:.2f}% of {len(x_test)} MNIST test digits, '
              f'{path.stat().st_size / 1024:.0f} KB')
    return 0


if __name__ == '__main__':
    sys.exit(main())
