"""train: fit the digit classifier on MNIST, report its test accuracy and save it.

    train --data ../shared/data/mnist --output my_model.keras            # the CNN
    train --model mlp --data ../shared/data/mnist --output mlp.keras     # the tutorial's MLP
    train --data ../shared/data/mnist --quantize   # also mnist_cnn_int8.tflite (uint8 in/out)

The model definitions live in architectures.py, the .tflite export in export.py; this is
only the command line around model.fit().
"""

import argparse
from concurrent.futures import ProcessPoolExecutor
import os
from pathlib import Path
import sys

import numpy as np

from digit_recognition.core.model import load_classifier, quantized_twin
from digit_recognition.training import calibrate
from digit_recognition.training.architectures import (build_cnn, build_mlp, set_random_seed,
                                                      use_cosine_learning_rate)
# representative_digits: tools/quantize_model.py takes it from here too.
from digit_recognition.training.export import representative_digits, save_for_inference
from digit_recognition.training.mnist import load_mnist

# How each model is trained. The MLP exactly as the tutorial. The CNN is the reader of the
# two-model design (docs/model.md): it learns the ten digits only, never "not a digit"; beside
# each original digit it sees a camera-like copy (held anywhere from far to close, any pen,
# tilted, blurred, cut by erased lines) and two jittered ones (the variation between
# writers), with a cosine-decaying learning rate. The gate (gate.py), which learns whether a
# crop and the ink around it are a digit at all, is trained after it by the same command.
RECIPES = {
    'mlp': dict(build=build_mlp, epochs=5, batch_size=32, augmentations=(),
                learning_rate=None),
    'cnn': dict(build=build_cnn, epochs=8, batch_size=128,
                augmentations=('camera-like', 'jittered', 'jittered'), learning_rate=3e-3,
                simulated=20000, drawn=16000, gate=True),
}
# The CNN also sees `simulated` training digits in whole camera frames of simulation/, read
# by the default preprocessing, and `drawn` digits MNIST has too few of (drawn_digits.py):
# printed in the training faces and plain hand shapes, each as the camera sees it and
# jittered, a quarter in camera frames.
# Digits held out of fitting (calibrate.CALIBRATION_DIGITS), to calibrate the confidence on
# digits the weights never saw: CALIBRATION_BATCHES of them as batches of camera frames.
CALIBRATION_BATCHES = 1200
MNIST_TRAINING_DIGITS = 60000


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='train',
        description='Train a digit classifier on MNIST, print its accuracy on the 10,000 MNIST '
                    'test images and save it as a .keras file for the classifier node (parameter '
                    'model_path), with its training curves as a PNG beside it.')
    parser.add_argument('--model', choices=sorted(RECIPES), default='cnn',
                        help='cnn: small convnet with camera-like augmentation (the bundled '
                             "model); mlp: the tutorial's Flatten -> Dense 128 -> Dense 128 -> "
                             'Dense 10 (default: %(default)s)')
    parser.add_argument('--data', metavar='DIR',
                        help='directory with the four LeCun IDX files (train-images-idx3-ubyte'
                             '[.gz], ...); default: download through Keras (needs the internet)')
    parser.add_argument('--epochs', type=positive_int,
                        help='passes over the training images '
                             f'(default: {recipe_defaults("epochs")})')
    parser.add_argument('--batch-size', type=positive_int,
                        help='images per gradient step '
                             f'(default: {recipe_defaults("batch_size")})')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed for weight initialisation and shuffling (default: %(default)s)')
    parser.add_argument('--output', metavar='PATH', type=Path,
                        help='where to save the trained model (default: mnist_<model>.keras)')
    parser.add_argument('--quantize', action='store_true',
                        help='also save a fully integer-quantized copy, <name>_int8.tflite '
                             '(uint8 in and out, int8 weights: for edge accelerators), and '
                             'print its MNIST test accuracy')
    parser.add_argument('--only', choices=('reader', 'gate'),
                        help='cnn: train only the reader or only the gate (the other model '
                             'file is left as it is); default: both')
    parser.add_argument('--cache', metavar='DIR', type=Path,
                        help="cnn: keep the gate's rendered camera frames (crops and their "
                             'context) here and reuse them on the next run with the same seed')
    options = parser.parse_args(argv)
    recipe = RECIPES[options.model]
    options.epochs = options.epochs or recipe['epochs']
    options.batch_size = options.batch_size or recipe['batch_size']
    options.output = options.output or Path(f'mnist_{options.model}.keras')
    return options


def recipe_defaults(setting):
    """Each model's default `setting` (a key of RECIPES), for --help: 'cnn 15, mlp 5'."""
    return ', '.join(f'{name} {recipe[setting]}' for name, recipe in RECIPES.items())


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {value}')
    return value


def add_augmented_copies(images, labels, augmentations, seed):
    """The training set plus one copy of every digit per augmentation (augmentation.py)."""
    from digit_recognition.training.augmentation import augment_batch  # noqa: PLC0415
    print(f'augmenting {len(images)} digits: {", ".join(augmentations)} copies...', flush=True)
    # One process per copy: minutes of OpenCV work, each copy reproducible by its own seed.
    with ProcessPoolExecutor(min(len(augmentations), os.cpu_count() or 1)) as pool:
        extra = list(pool.map(augment_batch, [images] * len(augmentations), augmentations,
                              [seed + 1 + i for i in range(len(augmentations))]))
    return np.concatenate([images, *extra]), np.concatenate([labels] * (len(extra) + 1))


def simulated_copies(images, labels, count, seed, workers):
    """(crops, labels) of `count` of the digits (a seeded choice) in whole camera frames, as
    the preprocess node crops them."""
    from digit_recognition.training.augmentation import augment_in_parallel  # noqa: PLC0415
    chosen = np.random.default_rng(seed + 400).choice(
        len(images), min(count, len(images)), replace=False)
    print(f'drawing {len(chosen)} digits in camera frames...', flush=True)
    return augment_in_parallel(images[chosen], 'simulated', seed + 401, workers), labels[chosen]


def add_drawn_digits(images, labels, count, seed, workers):
    """The training set plus `count` printed and plain drawn digits (drawn_digits.py), each
    as a camera-like and a jittered copy, a quarter also in simulated camera frames."""
    from digit_recognition.training.augmentation import augment_batch, augment_in_parallel  # noqa: PLC0415
    from digit_recognition.simulation.drawn_digits import drawn_digits  # noqa: PLC0415
    print(f'drawing {count} printed and plain digits...', flush=True)
    glyphs, digits = drawn_digits(count, seed + 300)
    with ProcessPoolExecutor(workers) as pool:
        copies = list(pool.map(augment_batch, [glyphs, glyphs], ['camera-like', 'jittered'],
                               [seed + 301, seed + 302]))
    simulated = augment_in_parallel(glyphs[:count // 4], 'simulated', seed + 303, workers)
    return (np.concatenate([images, *copies, simulated]),
            np.concatenate([labels, digits, digits, digits[:count // 4]]).astype(labels.dtype))


def save_curves(history, path, title):
    """Loss and accuracy per epoch, training and MNIST test, as a PNG."""
    import matplotlib  # noqa: PLC0415
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # noqa: PLC0415

    epochs = range(1, len(history['loss']) + 1)
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in ((loss_axis, 'loss'), (accuracy_axis, 'accuracy')):
        axis.plot(epochs, history[metric], 'o-', label='training')
        axis.plot(epochs, history['val_' + metric], 'o-', label='MNIST test')
        axis.set_xticks(list(epochs))
        axis.set_xlabel('epoch')
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def tflite_accuracy(path, images, labels):
    """Share of `images` the .tflite model at `path` reads as `labels`, with the tflite backend."""
    classifier = load_classifier(path, 'tflite')
    predictions = np.concatenate([classifier.predict_batch(images[i:i + 500]).argmax(axis=1)
                                  for i in range(0, len(images), 500)])
    return float((predictions == labels).mean())


def main(argv=None):
    options = parse_args(argv)
    # As core/model.py: hide TensorFlow's start-up chatter (Keras's downloader imports it too).
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

    recipe = RECIPES[options.model]
    calibration = None
    # A smaller training set (--data with fewer digits) gets as many simulated copies in
    # proportion, and as large a share held out.
    share = len(x_train) / MNIST_TRAINING_DIGITS
    if recipe.get('gate'):
        *calibration, rest = calibrate.held_out_digits(x_train, y_train,
                                                       int(calibrate.CALIBRATION_DIGITS * share),
                                                       options.seed)
        x_train, y_train = x_train[rest], y_train[rest]
    workers = min(3, os.cpu_count() or 1)
    if options.only != 'gate':
        status = train_reader(options, recipe, (x_train, y_train), (x_test, y_test),
                              calibration, share, workers)
        if status:
            return status
    if recipe.get('gate') and options.only != 'reader':
        from digit_recognition.training import gate  # noqa: PLC0415
        return gate.train_gate(options, (x_train, y_train), calibration, share, workers)
    return 0


def train_reader(options, recipe, training, test, calibration, share, workers):
    """Fit, calibrate and save the reader (or the MLP) as options.output; an exit status."""
    (x_train, y_train), (x_test, y_test) = training, test
    simulated = simulated_copies(x_train, y_train, max(1, int(recipe['simulated'] * share)),
                                 options.seed, workers) if recipe.get('simulated') else None
    if recipe['augmentations']:
        x_train, y_train = add_augmented_copies(x_train, y_train, recipe['augmentations'],
                                                options.seed)
    if simulated is not None:
        x_train, y_train = np.concatenate([x_train, simulated[0]]), np.concatenate(
            [y_train, simulated[1]])
    if recipe.get('drawn'):
        x_train, y_train = add_drawn_digits(x_train, y_train, max(1, int(recipe['drawn'] * share)),
                                            options.seed, workers)
    set_random_seed(options.seed)  # before building: the initial weights come from it
    model = recipe['build']()
    if recipe['learning_rate']:
        use_cosine_learning_rate(model, recipe['learning_rate'], options.epochs *
                                 -(-len(x_train) // options.batch_size))

    # The test set is only watched here (for the curves), never used to pick anything.
    history = model.fit(x_train, y_train, epochs=options.epochs, batch_size=options.batch_size,
                        validation_data=(x_test, y_test), verbose=1)
    if calibration is not None:
        digits, labels = calibration
        count = min(len(digits), CALIBRATION_BATCHES)
        print('calibrating the confidence on camera frames of held-out digits...', flush=True)
        temperature, batches = calibrate.calibrate(model, digits[:count], labels[:count], 0,
                                                   options.seed, os.cpu_count() or 1)
        print(f'confidence calibrated: temperature {temperature:.2f} (fitted on {batches} '
              f'batches of {calibrate.BATCH} camera frames)')
    _, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    print(f'MNIST test accuracy: {100 * accuracy:.2f}% ({len(x_test)} images)')

    representative = (representative_digits(x_train, options.seed) if options.quantize
                      else None)
    try:
        save_for_inference(model, options.output, representative)
    except OSError as exc:
        print(f'train: cannot save the model: {exc}', file=sys.stderr)
        return 1
    saved = [options.output, options.output.with_suffix('.tflite')]
    if options.quantize:
        saved.append(quantized_twin(options.output))
        quantized_accuracy = tflite_accuracy(saved[-1], x_test, y_test)
        print(f'MNIST test accuracy, int8 tflite: {100 * quantized_accuracy:.2f}% '
              f'({len(x_test)} images)')
    curves = options.output.with_name(options.output.stem + '_curves.png')
    save_curves(history.history, curves, f'{options.model}: {100 * accuracy:.2f}% on MNIST test')
    print(f'saved {", ".join(map(str, saved))} and {curves}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
