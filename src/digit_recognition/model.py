"""The digit classifier: build, load and run it, with Keras or LiteRT (TFLite).

TensorFlow is imported here only, lazily, and never by the tflite backend.

The models take raw uint8 pixels [N, 28, 28] (white digit on black, as MNIST) and scale them
themselves, so every caller feeds the same thing the model was trained on.
"""

import os
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent / 'models'
BUNDLED_MODEL = MODELS_DIR / 'mnist_cnn.keras'  # the default: small CNN, camera-trained
TUTORIAL_MODEL = MODELS_DIR / 'mnist_mlp.keras'  # the tutorial's MLP, kept for comparison
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
BACKEND_SUFFIX = {'keras': '.keras', 'tflite': '.tflite'}


class ModelLoadError(RuntimeError):
    """The model file is missing, unreadable or not a 28x28 -> 10 classifier."""


def _import_tensorflow():
    # TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) hides real messages.
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import tensorflow as tf  # noqa: PLC0415 - seconds to import; only the classifier pays
    return tf


def build_mlp():
    """The tutorial's model: Flatten -> Dense 128 relu -> Dense 128 relu -> Dense 10 softmax."""
    _import_tensorflow()
    import keras  # noqa: PLC0415

    model = keras.Sequential([
        keras.Input(shape=IMAGE_SHAPE, dtype='float32'),
        keras.layers.Rescaling(1.0 / 255.0),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation='relu'),
        keras.layers.Dense(128, activation='relu'),
        keras.layers.Dense(NUM_CLASSES, activation='softmax'),
    ], name='mnist_mlp')
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    return model


def build_cnn():
    """A small convnet built for speed: ~34k parameters, ~0.43 M multiply-adds per digit.

    A 5x5 convolution with stride 2, then two depthwise-separable blocks (a 3x3 depthwise
    convolution with stride 2 and a 1x1 convolution) halve the resolution 28 -> 14 -> 7 -> 4
    while widening 32 -> 64 -> 128 channels; a softmax layer reads the 4x4x128 features.
    Striding instead of full-resolution 3x3 convolutions is what makes it fast: the two-block
    VGG-style CNN this replaced read camera frames about as well (99.41% against 99.17%) with
    23x the multiply-adds (1.08 ms per batch of five with LiteRT instead of 0.077 ms). Batch
    normalization lets it train on a CPU in minutes.
    """
    _import_tensorflow()
    import keras  # noqa: PLC0415
    layers = keras.layers

    def normalized(layer):
        return [layer, layers.BatchNormalization(), layers.ReLU()]

    def separable_block(filters):
        return [*normalized(layers.DepthwiseConv2D(3, strides=2, padding='same',
                                                   use_bias=False)),
                *normalized(layers.Conv2D(filters, 1, use_bias=False))]

    model = keras.Sequential([
        keras.Input(shape=IMAGE_SHAPE, dtype='float32'),
        layers.Rescaling(1.0 / 255.0),
        layers.Reshape((*IMAGE_SHAPE, 1)),
        *normalized(layers.Conv2D(32, 5, strides=2, padding='same', use_bias=False)),
        *separable_block(64),
        *separable_block(128),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(NUM_CLASSES, activation='softmax'),
    ], name='mnist_cnn')
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    return model


def _check_crops(crops):
    crops = np.asarray(crops)
    if crops.dtype != np.uint8 or crops.ndim != 3 or crops.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f'expected uint8 crops of shape [N, 28, 28], '
                         f'got {crops.dtype} {crops.shape}')
    return crops


class KerasClassifier:
    """Runs a Keras model as one compiled graph call per batch.

    model.predict() sets up a data pipeline on every call (~40 ms measured here for five
    crops); a tf.function call on the model costs a few milliseconds.
    """

    backend = 'keras'

    def __init__(self, model, path=None):
        tf = _import_tensorflow()
        self.model = model
        self.path = path

        @tf.function(input_signature=[tf.TensorSpec([None, *IMAGE_SHAPE], tf.uint8)])
        def _probabilities(crops):
            return model(tf.cast(crops, tf.float32), training=False)

        self._probabilities = _probabilities

    def predict_batch(self, crops):
        """Probabilities float32 [N, 10] for uint8 crops [N, 28, 28]."""
        return self._probabilities(_check_crops(crops)).numpy().astype(np.float32, copy=False)

    def warm_up(self, batch_size):
        """Trace and run the graph once so the first real batch is not slow."""
        self.predict_batch(np.zeros((batch_size, *IMAGE_SHAPE), np.uint8))


def _tflite_interpreter_class():
    """LiteRT's interpreter, else tflite_runtime's (older Jetson images), else TensorFlow's."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter  # noqa: PLC0415
        except ImportError:
            try:
                return _import_tensorflow().lite.Interpreter
            except ImportError:
                raise ModelLoadError('the tflite backend needs ai-edge-litert, tflite-runtime '
                                     'or tensorflow: pip install ai-edge-litert') from None
    return Interpreter


class TFLiteClassifier:
    """Runs a .tflite model with the LiteRT interpreter; never imports TensorFlow itself.

    One thread: the model is tiny, and the camera and preprocess nodes need the other cores.
    """

    backend = 'tflite'

    def __init__(self, path):
        self.path = path
        try:
            self._interpreter = _tflite_interpreter_class()(model_path=str(path), num_threads=1)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f'cannot load model {path}: {exc}') from exc
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        if (tuple(self._input['shape'][1:]) != IMAGE_SHAPE
                or self._output['shape'][-1] != NUM_CLASSES):
            raise ModelLoadError(f'{path} is not a digit classifier: input '
                                 f'{self._input["shape"]}, output {self._output["shape"]} '
                                 f'(expected [N, 28, 28] -> [N, 10])')
        self._batch_size = int(self._input['shape'][0])

    def predict_batch(self, crops):
        """Probabilities float32 [N, 10] for uint8 crops [N, 28, 28]."""
        crops = _check_crops(crops)
        if len(crops) != self._batch_size:  # reallocating costs: only when the size changes
            self._interpreter.resize_tensor_input(self._input['index'], crops.shape)
            self._interpreter.allocate_tensors()
            self._batch_size = len(crops)
        self._interpreter.set_tensor(self._input['index'], crops.astype(np.float32))
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output['index'])  # a copy already

    def warm_up(self, batch_size):
        """Allocate for batch_size and run once so the first real batch is not slow."""
        self.predict_batch(np.zeros((batch_size, *IMAGE_SHAPE), np.uint8))


def model_file(path, backend):
    """The file a backend loads: the bundled model, or `path`, or its twin beside it.

    `train` saves name.keras and name.tflite side by side, so either path serves both.
    """
    suffix = BACKEND_SUFFIX[backend]
    path = Path(path) if path else BUNDLED_MODEL
    return path if path.suffix == suffix else path.with_suffix(suffix)


def load_classifier(path=None, backend='keras'):
    """Load a classifier with `backend` (keras or tflite); path None = the bundled model."""
    if backend not in BACKEND_SUFFIX:
        raise ModelLoadError(f'backend must be one of {", ".join(BACKEND_SUFFIX)}, '
                             f'got {backend!r}')
    requested, path = path, model_file(path, backend)
    if not path.is_file():
        twin = f' (the {backend} backend loads it beside {requested})' if (
            requested and Path(requested) != path) else ''
        raise ModelLoadError(f'model file not found: {path}{twin}')
    if backend == 'tflite':
        return TFLiteClassifier(path)
    _import_tensorflow()
    import keras  # noqa: PLC0415

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a corrupt or foreign file
        raise ModelLoadError(f'cannot load model {path}: {exc}') from exc
    if tuple(model.input_shape[1:]) != IMAGE_SHAPE or model.output_shape[-1] != NUM_CLASSES:
        raise ModelLoadError(f'{path} is not a digit classifier: input {model.input_shape}, '
                             f'output {model.output_shape} (expected [N, 28, 28] -> [N, 10])')
    return KerasClassifier(model, path)


def save_tflite(model, path):
    """Convert a Keras model to a .tflite file for the tflite backend."""
    tf = _import_tensorflow()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    Path(path).write_bytes(converter.convert())
