"""Real models built to fail, for test_model.py and test_classifier_faults.py."""

import contextlib
import io
import warnings

import numpy as np

from digit_recognition.core.model import BUNDLED_MODEL, quantized_twin
from digit_recognition.training.export import save_tflite

QUANTIZED_MODEL = quantized_twin(BUNDLED_MODEL)


def convert(model, path, representative_images=None):
    """save_tflite without the converter's chatter."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        save_tflite(model, path, representative_images)
    return path


def save_dense_model(path, kernel, bias, activation='softmax', input_dtype='float32'):
    """Rescaling(1/255) -> Flatten -> Dense(10), with these weights, saved as path (.keras)
    and converted beside it (.tflite)."""
    import keras
    inputs = keras.Input(shape=(28, 28), dtype=input_dtype)
    pixels = keras.ops.cast(inputs, 'float32') if input_dtype != 'float32' else inputs
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(pixels))
    dense = keras.layers.Dense(len(bias), activation=activation)
    model = keras.Model(inputs, dense(x))
    dense.set_weights([np.asarray(kernel, np.float32), np.asarray(bias, np.float32)])
    model.save(path)
    convert(model, path.with_suffix('.tflite'))
    return path


def overflowing_model(path):
    """Blank crops give 0.1 for each class (a warm-up passes); real digits overflow the
    logits to +inf and -inf, and softmax turns them into NaN: the runtime gate's case."""
    kernel = np.zeros((784, 10), np.float32)
    kernel[:, 0], kernel[:, 1] = 1e38, -1e38
    return save_dense_model(path, kernel, np.zeros(10))


def unnormalized_model(path):
    """No softmax: blank crops give 0.1 each (sum 1, a warm-up passes), digits far more."""
    kernel = np.zeros((784, 10), np.float32)
    kernel[:, 3] = 0.01
    return save_dense_model(path, kernel, np.full(10, 0.1), activation='linear')


def nan_model(path):
    """NaN on every input, blank crops included: refused at start-up."""
    return save_dense_model(path, np.zeros((784, 10)), np.full(10, np.nan))
