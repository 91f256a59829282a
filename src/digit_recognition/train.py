"""train: fit the digit classifier on MNIST, report its test accuracy and save it.

    train --data ../shared/data/mnist --output my_model.keras

The model definitions live in model.py; this is only the command line around model.fit().
"""

import argparse
import os
from pathlib import Path
import sys

from digit_recognition import model as models
from digit_recognition.mnist import load_mnist

# Model name -> builder returning a compiled Keras model that takes uint8 [N, 28, 28].
BUILDERS = {
    'mlp': models.build_mlp,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='train',
        description="Train the MNIST digit classifier (the tutorial's MLP: Flatten -> Dense 128 "
                    'relu -> Dense 128 relu -> Dense 10 softmax), print its accuracy on the '
                    '10,000 MNIST test images and save it as a .keras file for the classifier '
                    'node (parameter model_path).')
    parser.add_argument('--data', metavar='DIR',
                        help='directory with the four LeCun IDX files (train-images-idx3-ubyte'
                             '[.gz], ...); default: download through Keras (needs the internet)')
    parser.add_argument('--epochs', type=positive_int, default=5,
                        help='passes over the 60,000 training images (default: %(default)s)')
    parser.add_argument('--batch-size', type=positive_int, default=32,
                        help='images per gradient step (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed for weight initialisation and shuffling (default: %(default)s)')
    parser.add_argument('--output', metavar='PATH', type=Path, default=Path('mnist_mlp.keras'),
                        help='where to save the trained model (default: %(default)s)')
    return parser.parse_args(argv)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {value}')
    return value


def set_random_seed(seed):
    """Seed Python, numpy and TensorFlow (imported only here, once the data has loaded)."""
    import keras  # noqa: PLC0415 - seconds to import
    keras.utils.set_random_seed(seed)


def save_for_inference(model, path):
    """Save the weights without the optimizer's state, which would triple the file."""
    # Rebuilt from its config, the copy is not compiled (clone_model() would compile it).
    inference = type(model).from_config(model.get_config())
    inference.set_weights(model.get_weights())
    inference.save(path)


def main(argv=None):
    options = parse_args(argv)
    # As model.py: hide TensorFlow's start-up chatter (Keras's downloader imports it too).
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    # Check the output before training, not after minutes of it.
    if options.output.suffix != '.keras':
        print(f'train: --output must end in .keras (Keras 3 saves nothing else), '
              f'got {options.output}', file=sys.stderr)
        return 1
    try:
        options.output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f'train: cannot create the folder for --output: {exc}', file=sys.stderr)
        return 1
    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(options.data)
    except (FileNotFoundError, ValueError) as exc:
        print(f'train: cannot load MNIST: {exc}', file=sys.stderr)
        return 1
    except Exception as exc:  # Keras's downloader raises a bare Exception when offline
        if options.data is not None:
            raise
        print(f'train: cannot download MNIST ({exc}); give the IDX files with --data DIR',
              file=sys.stderr)
        return 1

    set_random_seed(options.seed)  # before building: the initial weights come from it
    model = BUILDERS['mlp']()

    model.fit(x_train, y_train, epochs=options.epochs, batch_size=options.batch_size, verbose=1)
    _, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    print(f'MNIST test accuracy: {100 * accuracy:.2f}% ({len(x_test)} images)')

    try:
        save_for_inference(model, options.output)
    except OSError as exc:
        print(f'train: cannot save the model: {exc}', file=sys.stderr)
        return 1
    print(f'saved {options.output}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
