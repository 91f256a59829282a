"""The two models of the classifier, loaded and run with Keras or LiteRT (TFLite): the reader
(which digit: crops [N, 28, 28] -> probabilities of the ten digits, or of the ten and "not a
digit" for models made before the gate) and the gate (is it a digit at all: crops with their
context [N, 28, 28, 3] -> probabilities of "not a digit" and "a digit").

TensorFlow is imported lazily (import_tensorflow), never by the tflite backend. The models'
architectures and their TFLite export are training's (training/architectures.py, export.py).

The models take raw uint8 pixels (white digit on black, as MNIST) and scale them themselves,
so every caller feeds the same thing the model was trained on.
"""

import os
from pathlib import Path
from typing import NamedTuple, Optional, Tuple, Union
import zipfile

import numpy as np

from digit_recognition.core.decision import (
    check_probabilities, DecisionSettings, DIGIT_CLASSES, DigitDecider, NOT_A_DIGIT,
    NotProbabilitiesError, PROBABILITY_TOLERANCE)
from digit_recognition.core.errors import StartupError
from digit_recognition.core.patches import PATCH_CHANNELS
from digit_recognition.core.sizes import CROP_SIZE

MODELS_DIR = Path(__file__).resolve().parents[1] / 'models'
BUNDLED_MODEL = MODELS_DIR / 'mnist_cnn.keras'  # the default: small CNN, camera-trained
TUTORIAL_MODEL = MODELS_DIR / 'mnist_mlp.keras'  # the tutorial's MLP, kept for comparison
IMAGE_SHAPE = (CROP_SIZE, CROP_SIZE)  # a model's input: one crop
# The ten digits and "not a digit" (NOT_A_DIGIT). Models with the ten digit outputs only
# (trained before the 11th class, or elsewhere) load and run too: they never say "not a digit".
NUM_CLASSES = NOT_A_DIGIT + 1
OUTPUT_SIZES = (DIGIT_CLASSES, NUM_CLASSES)
# The gate's input: the crop and its two context channels; its outputs: not a digit, a digit.
GATE_SHAPE = (CROP_SIZE, CROP_SIZE, PATCH_CHANNELS)
GATE_CLASSES = 2
GATE_SUFFIX = '_gate'  # name.keras's gate is name_gate.keras (and .tflite)
QUANTIZED_SUFFIX = '_int8'  # name.keras's fully integer-quantized twin: name_int8.tflite
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


def check_crops(crops, shape=IMAGE_SHAPE):
    """`crops` as an array; ValueError unless uint8 [N, *shape] ([N, 28, 28] by default)."""
    crops = np.asarray(crops)
    if crops.dtype != np.uint8 or crops.shape[1:] != tuple(shape):
        raise ValueError(f'expected uint8 crops of shape [N, {", ".join(map(str, shape))}], '
                         f'got {crops.dtype} {crops.shape}')
    return crops


class Role(NamedTuple):
    """What a model file must be to serve as the reader or the gate."""

    name: str  # for messages: 'digit classifier', 'gate'
    input_shape: Tuple[int, ...]  # one input, without the batch dimension
    output_sizes: Tuple[int, ...]  # allowed numbers of outputs


READER = Role('digit classifier', IMAGE_SHAPE, OUTPUT_SIZES)
GATE = Role('gate', GATE_SHAPE, (GATE_CLASSES,))


class _Classifier:
    """What both backends share: the warm-up, which also checks that outputs are probabilities."""

    # How far a row of outputs may sum from 1 (core.decision.check_probabilities).
    probability_tolerance = PROBABILITY_TOLERANCE
    role = READER

    def warm_up(self, batch_size):
        """Run once on blank crops so the first real batch is not slow (tracing, allocation).

        ModelLoadError if the outputs are not probabilities (NaN, no softmax, ...): such a
        model would publish nonsense on every batch, so it is refused at start-up.
        """
        probabilities = self.predict_batch(np.zeros((batch_size, *self.role.input_shape),
                                                    np.uint8))
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

    def __init__(self, model, path=None, role=READER):
        tf = import_tensorflow()
        self.model = model
        self.path = path
        self.role = role
        self.classes = int(model.output_shape[-1])

        @tf.function(input_signature=[tf.TensorSpec([None, *role.input_shape], tf.uint8)])
        def _probabilities(crops):
            return model(tf.cast(crops, tf.float32), training=False)

        self._probabilities = _probabilities

    def predict_batch(self, crops):
        """Probabilities float32 [N, classes] for uint8 crops [N, *role.input_shape]."""
        crops = check_crops(crops, self.role.input_shape)
        return self._probabilities(crops).numpy().astype(np.float32, copy=False)


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

    def __init__(self, path, role=READER):
        self.path = path
        self.role = role
        try:
            self._interpreter = _tflite_interpreter_class()(model_path=str(path), num_threads=1)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f'cannot load model {path}: {exc}') from exc
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelLoadError(f'{path} is not a {role.name}: {len(inputs)} inputs and '
                                 f'{len(outputs)} outputs (expected one of each)')
        self._input, self._output = inputs[0], outputs[0]
        if (tuple(self._input['shape'][1:]) != role.input_shape
                or len(self._output['shape']) != 2
                or self._output['shape'][-1] not in role.output_sizes):
            raise ModelLoadError(f'{path} is not a {role.name}: input '
                                 f'{self._input["shape"]}, output {self._output["shape"]} '
                                 f'(expected {expected_shapes(role)})')
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
        """Probabilities float32 [N, classes] for uint8 crops [N, *role.input_shape]."""
        crops = check_crops(crops, self.role.input_shape)
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


def expected_shapes(role: Role) -> str:
    """'[N, 28, 28] -> [N, 10] or [N, 11]': what a model of `role` takes and gives."""
    outputs = ' or '.join(f'[N, {size}]' for size in role.output_sizes)
    return f'[N, {", ".join(map(str, role.input_shape))}] -> {outputs}'


def gate_file(reader_path: Optional[Union[str, Path]] = None) -> Path:
    """Where the gate of a reader lies: name_gate.keras beside name.keras (the bundled
    reader's by default), and the quantized twins' name_gate_int8.tflite beside
    name_int8.tflite; `train` saves them so."""
    path = Path(reader_path) if reader_path else BUNDLED_MODEL
    stem, quantized = path.stem, path.stem.endswith(QUANTIZED_SUFFIX)
    if quantized:
        stem = stem[:-len(QUANTIZED_SUFFIX)]
    return path.with_name(stem + GATE_SUFFIX + (QUANTIZED_SUFFIX if quantized else '')
                          + path.suffix)


def load_classifier(path: Optional[Union[str, Path]] = None, backend: str = 'keras',
                    role: Role = READER):
    """Load a classifier with `backend` (keras or tflite); path None = the bundled model.
    role GATE: the gate (path None: the bundled gate)."""
    if path is None and role is GATE:
        path = gate_file()
    if backend not in BACKEND_SUFFIX:
        raise ModelLoadError(f'backend must be one of {", ".join(BACKEND_SUFFIX)}, '
                             f'got {backend!r}')
    requested, path = path, model_file(path, backend)
    if not path.is_file():
        twin = f' (the {backend} backend loads it beside {requested})' if (
            requested and Path(requested) != path) else ''
        raise ModelLoadError(f'model file not found: {path}{twin}')
    if backend == 'tflite':
        return TFLiteClassifier(path, role)
    _check_keras_archive(path)
    import_tensorflow()
    import keras  # noqa: PLC0415

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a corrupt or foreign file
        raise ModelLoadError(f'cannot load model {path}: {exc}') from exc
    if (tuple(model.input_shape[1:]) != role.input_shape
            or model.output_shape[-1] not in role.output_sizes):
        raise ModelLoadError(f'{path} is not a {role.name}: input {model.input_shape}, '
                             f'output {model.output_shape} (expected {expected_shapes(role)})')
    return KerasClassifier(model, path, role)


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
    return path.with_name(f'{path.stem}{QUANTIZED_SUFFIX}.tflite')


class Predictions(NamedTuple):
    """What the two models say of a batch of crops with their context."""

    digits: np.ndarray  # float32 [N, 10] (or [N, 11]): the reader's probabilities
    digitness: Optional[np.ndarray]  # float32 [N, 2] (not a digit, a digit); None: no gate


class Models(NamedTuple):
    """The reader and its gate (None: the reader decides alone), as the classifier runs them."""

    reader: _Classifier
    gate: Optional[_Classifier]

    @property
    def probability_tolerance(self) -> float:
        """How far a row of either model's outputs may sum from 1 (quantized models: more)."""
        return max(self.reader.probability_tolerance,
                   self.gate.probability_tolerance if self.gate else 0.0)

    def predict(self, patches: np.ndarray) -> Predictions:
        """Both models on uint8 crops with their context [N, 28, 28, 3] (core/patches.py)."""
        return Predictions(self.reader.predict_batch(patches[..., 0]),
                           None if self.gate is None else self.gate.predict_batch(patches))

    def decider(self, settings: DecisionSettings) -> DigitDecider:
        """A DigitDecider of both models with `settings`, as the classifier node decides."""
        return DigitDecider(self.reader.predict_batch, settings, self.probability_tolerance,
                            self.gate.predict_batch if self.gate else None)

    def warm_up(self, batch_size: int) -> None:
        """Both models' warm-up (ModelLoadError if either outputs no probabilities)."""
        self.reader.warm_up(batch_size)
        if self.gate is not None:
            self.gate.warm_up(batch_size)


NO_GATE = 'none'  # gate_path that decides with the reader alone


def load_models(model_path: Optional[Union[str, Path]] = None, gate_path: str = '',
                backend: str = 'tflite') -> Models:
    """The reader at model_path (None: the bundled one) and its gate: gate_path, or
    (empty) the one beside the reader if there is one, or none (NO_GATE). ModelLoadError
    for a reader, or a named gate, that cannot serve."""
    reader = load_classifier(model_path or None, backend)
    if str(gate_path).lower() == NO_GATE:
        return Models(reader, None)
    if not gate_path:
        beside = model_file(gate_file(model_path or None), backend)
        if not beside.is_file():
            return Models(reader, None)
        gate_path = beside
    return Models(reader, load_classifier(gate_path, backend, GATE))
