"""The digit classifier: load and run it, with Keras or LiteRT (TFLite).

TensorFlow is imported lazily (import_tensorflow), never by the tflite backend. The models'
architectures and their TFLite export are training's (training/architectures.py, export.py).

The models take raw uint8 pixels [N, 28, 28] (white digit on black, as MNIST) and scale them
themselves, so every caller feeds the same thing the model was trained on.
"""

import os
from pathlib import Path
from typing import Optional, Union
import zipfile

import numpy as np

from digit_recognition.core.decision import (
    check_probabilities, DIGIT_CLASSES, NOT_A_DIGIT, NotProbabilitiesError, PROBABILITY_TOLERANCE)
from digit_recognition.core.errors import StartupError
from digit_recognition.core.sizes import CROP_SIZE

MODELS_DIR = Path(__file__).resolve().parents[1] / 'models'
BUNDLED_MODEL = MODELS_DIR / 'mnist_cnn.keras'  # the default: small CNN, camera-trained
TUTORIAL_MODEL = MODELS_DIR / 'mnist_mlp.keras'  # the tutorial's MLP, kept for comparison
IMAGE_SHAPE = (CROP_SIZE, CROP_SIZE)  # a model's input: one crop
# The ten digits and "not a digit" (NOT_A_DIGIT). Models with the ten digit outputs only
# (trained before the 11th class, or elsewhere) load and run too: they never say "not a digit".
NUM_CLASSES = NOT_A_DIGIT + 1
OUTPUT_SIZES = (DIGIT_CLASSES, NUM_CLASSES)
BACKEND_SUFFIX = {'keras': '.keras', 'tflite': '.tflite'}
# A .keras file is a zip that Keras unpacks into memory. A file declaring more than this
# (far above any digit classifier) is refused before anything is unpacked, so a forged or
# mistaken archive (small on disk, gigabytes inside) cannot exhaust a 4 GB Jetson.
MAX_KERAS_UNPACKED_BYTES = 256 * 2**20
# Integer tensor types the tflite backend feeds and dequantizes (full-integer models).
QUANTIZED_TYPES = (np.uint8, np.int8)


class ModelLoadError(StartupError):
    """The model file is missing, unreadable or not a 28x28 -> 10 classifier."""


def import_tensorflow():
    """TensorFlow, imported on first use: seconds (10-18 s on a Nano), paid only by its users."""
    # TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) hides real messages.
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import tensorflow as tf  # noqa: PLC0415 - seconds to import; only the classifier pays
    return tf


def check_crops(crops):
    """`crops` as an array; ValueError unless uint8 [N, 28, 28]."""
    crops = np.asarray(crops)
    if crops.dtype != np.uint8 or crops.ndim != 3 or crops.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f'expected uint8 crops of shape [N, 28, 28], '
                         f'got {crops.dtype} {crops.shape}')
    return crops


class _Classifier:
    """What both backends share: the warm-up, which also checks that outputs are probabilities."""

    # How far a row of outputs may sum from 1 (core.decision.check_probabilities).
    probability_tolerance = PROBABILITY_TOLERANCE

    def warm_up(self, batch_size):
        """Run once on blank crops so the first real batch is not slow (tracing, allocation).

        ModelLoadError if the outputs are not probabilities (NaN, no softmax, ...): such a
        model would publish nonsense on every batch, so it is refused at start-up.
        """
        probabilities = self.predict_batch(np.zeros((batch_size, *IMAGE_SHAPE), np.uint8))
        try:
            check_probabilities(probabilities, self.probability_tolerance)
        except NotProbabilitiesError as exc:
            raise ModelLoadError(f'model {self.path} does not output probabilities '
                                 f'(on blank crops): {exc}') from None


class KerasClassifier(_Classifier):
    """Runs a Keras model as one compiled graph call per batch.

    model.predict() sets up a data pipeline on every call (~40 ms measured here for five
    crops); a tf.function call on the model costs a few milliseconds.
    """

    backend = 'keras'

    def __init__(self, model, path=None):
        tf = import_tensorflow()
        self.model = model
        self.path = path
        self.classes = int(model.output_shape[-1])

        @tf.function(input_signature=[tf.TensorSpec([None, *IMAGE_SHAPE], tf.uint8)])
        def _probabilities(crops):
            return model(tf.cast(crops, tf.float32), training=False)

        self._probabilities = _probabilities

    def predict_batch(self, crops):
        """Probabilities float32 [N, classes] (10 or 11) for uint8 crops [N, 28, 28]."""
        return self._probabilities(check_crops(crops)).numpy().astype(np.float32, copy=False)


def _tflite_interpreter_class():
    """LiteRT's interpreter, else tflite_runtime's (older Jetson images), else TensorFlow's."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter  # noqa: PLC0415
        except ImportError:
            try:
                return import_tensorflow().lite.Interpreter
            except ImportError:
                raise ModelLoadError('the tflite backend needs ai-edge-litert, tflite-runtime '
                                     'or tensorflow: pip install ai-edge-litert') from None
    return Interpreter


class TFLiteClassifier(_Classifier):
    """Runs a .tflite model with the LiteRT interpreter; never imports TensorFlow itself.

    Float models take the pixels as float32 0-255. Fully integer-quantized models (uint8 or
    int8 in and out, the usual edge export) take them quantized with the input tensor's scale
    and zero point, and their outputs are dequantized with the output tensor's.
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
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelLoadError(f'{path} is not a digit classifier: {len(inputs)} inputs and '
                                 f'{len(outputs)} outputs (expected one of each)')
        self._input, self._output = inputs[0], outputs[0]
        if (tuple(self._input['shape'][1:]) != IMAGE_SHAPE
                or len(self._output['shape']) != 2
                or self._output['shape'][-1] not in OUTPUT_SIZES):
            raise ModelLoadError(f'{path} is not a digit classifier: input '
                                 f'{self._input["shape"]}, output {self._output["shape"]} '
                                 f'(expected [N, 28, 28] -> [N, 10] or [N, 11])')
        self._to_input = _input_conversion(self._input, path)
        self._dequantization = _output_dequantization(self._output, path)
        if self._dequantization is not None:
            # Each of the outputs is rounded to a step of `scale` (1/256 for uint8), so a
            # row sums to 1 only within a few steps.
            self.probability_tolerance = max(PROBABILITY_TOLERANCE,
                                             NUM_CLASSES * self._dequantization[0])
        self.classes = int(self._output['shape'][-1])
        self._batch_size = int(self._input['shape'][0])

    @property
    def quantized(self):
        """Whether the model takes and gives integers (scale and zero point) instead of floats."""
        return self._dequantization is not None

    def predict_batch(self, crops):
        """Probabilities float32 [N, classes] (10 or 11) for uint8 crops [N, 28, 28]."""
        crops = check_crops(crops)
        if len(crops) != self._batch_size:  # reallocating costs: only when the size changes
            self._interpreter.resize_tensor_input(self._input['index'], crops.shape)
            self._interpreter.allocate_tensors()
            self._batch_size = len(crops)
        self._interpreter.set_tensor(self._input['index'], self._to_input(crops))
        self._interpreter.invoke()
        outputs = self._interpreter.get_tensor(self._output['index'])  # a copy already
        if self._dequantization is None:
            return outputs
        scale, zero_point = self._dequantization
        return (outputs.astype(np.float32) - zero_point) * np.float32(scale)


def _type_error(path, role, details, reason):
    return ModelLoadError(f'{path} is not a digit classifier the tflite backend can run: '
                          f'{role} type {np.dtype(details["dtype"]).name} {reason} (supported: '
                          f'float32, or uint8/int8 with a scale and zero point)')


def _input_conversion(details, path):
    """The function from uint8 pixels [N, 28, 28] to what the model's input tensor takes."""
    dtype = np.dtype(details['dtype'])
    scale, zero_point = details['quantization']
    if dtype == np.float32:
        return lambda crops: crops.astype(np.float32)
    if dtype not in QUANTIZED_TYPES:
        raise _type_error(path, 'input', details, 'is not supported')
    if scale > 0:
        # Quantizing a uint8 pixel has 256 possible results: a lookup table.
        limits = np.iinfo(dtype)
        table = np.clip(np.round(np.arange(256) / scale + zero_point),
                        limits.min, limits.max).astype(dtype)
        if dtype == np.uint8 and np.array_equal(table, np.arange(256)):
            return lambda crops: crops  # scale 1, zero point 0 (TF's export of these models)
        return lambda crops: table[crops]
    if dtype == np.uint8:
        return lambda crops: crops  # not quantized: the model takes raw 0-255 pixels itself
    raise _type_error(path, 'input', details, 'without a scale and zero point')


def _output_dequantization(details, path):
    """(scale, zero point) of a quantized output, None for float32 probabilities."""
    dtype = np.dtype(details['dtype'])
    scale, zero_point = details['quantization']
    if dtype == np.float32:
        return None
    if dtype not in QUANTIZED_TYPES:
        raise _type_error(path, 'output', details, 'is not supported')
    if not scale > 0:
        raise _type_error(path, 'output', details, 'without a scale and zero point')
    return float(scale), int(zero_point)


def model_file(path: Union[str, Path], backend: str) -> Path:
    """The file a backend loads: the bundled model, or `path`, or its twin beside it.

    `train` saves name.keras and name.tflite side by side, so either path serves both.
    """
    suffix = BACKEND_SUFFIX[backend]
    path = Path(path) if path else BUNDLED_MODEL
    return path if path.suffix == suffix else path.with_suffix(suffix)


def load_classifier(path: Optional[Union[str, Path]] = None, backend: str = 'keras'):
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
    _check_keras_archive(path)
    import_tensorflow()
    import keras  # noqa: PLC0415

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a corrupt or foreign file
        raise ModelLoadError(f'cannot load model {path}: {exc}') from exc
    if (tuple(model.input_shape[1:]) != IMAGE_SHAPE
            or model.output_shape[-1] not in OUTPUT_SIZES):
        raise ModelLoadError(f'{path} is not a digit classifier: input {model.input_shape}, '
                             f'output {model.output_shape} '
                             f'(expected [N, 28, 28] -> [N, 10] or [N, 11])')
    return KerasClassifier(model, path)


def _check_keras_archive(path):
    """ModelLoadError unless `path` is a zip whose members declare a sane unpacked size.

    Python's zipfile (which Keras reads with) stops at the size a member declares, so the
    declared sizes bound what loading can unpack; they are read from the archive's directory
    without unpacking anything.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelLoadError(f'cannot load model {path}: not a .keras file '
                             f'(a .keras file is a zip archive): {exc}') from None
    if declared > MAX_KERAS_UNPACKED_BYTES:
        raise ModelLoadError(f'cannot load model {path}: it declares {declared / 2**20:,.0f} MiB '
                             f'unpacked, over the {MAX_KERAS_UNPACKED_BYTES / 2**20:.0f} MiB '
                             f'allowed for a digit classifier (digit_recognition.core.model.'
                             f'MAX_KERAS_UNPACKED_BYTES)')


def quantized_twin(path: Union[str, Path]) -> Path:
    """Where the fully integer-quantized twin of name.keras is saved: name_int8.tflite."""
    path = Path(path)
    return path.with_name(f'{path.stem}_int8.tflite')
