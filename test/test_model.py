import contextlib
import io
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

from digit_recognition.core.decision import check_probabilities, decide, NotProbabilitiesError
from digit_recognition.core.model import (
    BUNDLED_MODEL, DIGIT_CLASSES, load_classifier, MAX_KERAS_UNPACKED_BYTES, ModelLoadError,
    TUTORIAL_MODEL)

from helpers_models import (
    convert, nan_model, overflowing_model, QUANTIZED_MODEL, save_dense_model, unnormalized_model)


def test_bundled_model_reads_the_mnist_sample(bundled_classifier, mnist_sample):
    images, labels = mnist_sample
    probabilities = bundled_classifier.predict_batch(images)
    assert probabilities.shape == (len(images), DIGIT_CLASSES)  # the reader: ten digits only
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    accuracy = (probabilities.argmax(axis=1) == labels).mean()
    # 99.41 % on all 10,000 test digits (docs/model_card.md); 500 digits leave a few of noise
    # either way.
    assert accuracy >= 0.985


def test_bundled_model_is_a_small_cnn(bundled_classifier):
    model = bundled_classifier.model
    assert any('conv' in layer.name for layer in model.layers)
    assert model.count_params() <= 500_000
    assert BUNDLED_MODEL.stat().st_size < 2_000_000


def test_the_tutorials_mlp_is_bundled_for_comparison(mnist_sample):
    images, labels = mnist_sample
    mlp = load_classifier(TUTORIAL_MODEL)
    assert not any('conv' in layer.name for layer in mlp.model.layers)
    assert (mlp.predict_batch(images).argmax(axis=1) == labels).mean() >= 0.95


def test_predict_batch_matches_keras_predict(bundled_classifier, mnist_sample):
    images, _ = mnist_sample
    expected = bundled_classifier.model.predict(images[:5].astype(np.float32), verbose=0)
    np.testing.assert_allclose(bundled_classifier.predict_batch(images[:5]), expected, atol=1e-5)


@pytest.mark.parametrize('crops', [
    np.zeros((5, 28, 28), np.float32),
    np.zeros((5, 32, 32), np.uint8),
    np.zeros((28, 28), np.uint8),
])
def test_predict_batch_rejects_wrong_input(bundled_classifier, crops):
    with pytest.raises(ValueError):
        bundled_classifier.predict_batch(crops)


def test_default_path_is_the_bundled_model(bundled_classifier):
    assert bundled_classifier.path == BUNDLED_MODEL


def test_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match='not found'):
        load_classifier(tmp_path / 'nowhere.keras')


def test_corrupt_model_file_is_a_clear_error(tmp_path):
    corrupt = tmp_path / 'corrupt.keras'
    corrupt.write_bytes(BUNDLED_MODEL.read_bytes()[:1000])
    with pytest.raises(ModelLoadError, match='cannot load model'):
        load_classifier(corrupt)


def test_a_keras_file_that_is_not_a_zip_is_one_error_line(tmp_path):
    impostor = tmp_path / 'impostor.keras'
    impostor.write_bytes(BUNDLED_MODEL.with_suffix('.tflite').read_bytes())
    with pytest.raises(ModelLoadError, match=r'impostor\.keras: not a \.keras file') as error:
        load_classifier(impostor)
    assert '\n' not in str(error.value)


def write_zip_bomb(path, unpacked_bytes):
    """A .keras-named zip whose one member is `unpacked_bytes` of zeros (about a thousandth
    of that on disk), written in 1 MiB chunks so that nothing here holds it in memory."""
    chunk = bytes(2**20)
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open('model.weights.h5', 'w', force_zip64=True) as member:
            for _ in range(unpacked_bytes // len(chunk)):
                member.write(chunk)
    return path


def test_a_keras_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    bomb = write_zip_bomb(tmp_path / 'bomb.keras', MAX_KERAS_UNPACKED_BYTES + 16 * 2**20)
    assert bomb.stat().st_size < 2 * 2**20
    with pytest.raises(ModelLoadError) as error:
        load_classifier(bomb)
    message = str(error.value)
    assert '\n' not in message
    assert 'bomb.keras' in message and '272 MiB' in message and '256 MiB' in message, message


def test_the_bound_leaves_room_for_real_models():
    with zipfile.ZipFile(BUNDLED_MODEL) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    assert 100 * unpacked < MAX_KERAS_UNPACKED_BYTES


# --- outputs that are not probabilities ---

@pytest.mark.parametrize('backend', ['keras', 'tflite'])
def test_a_model_whose_warm_up_gives_nan_is_refused_at_start_up(tmp_path, backend):
    classifier = load_classifier(nan_model(tmp_path / 'nan.keras'), backend)
    with pytest.raises(ModelLoadError, match='does not output probabilities') as error:
        classifier.warm_up(5)
    assert f'nan{classifier.path.suffix}' in str(error.value) and 'NaN' in str(error.value)
    assert '\n' not in str(error.value)


@pytest.mark.parametrize('backend', ['keras', 'tflite'])
@pytest.mark.parametrize('build', [overflowing_model, unnormalized_model])
def test_models_that_pass_the_warm_up_but_give_no_probabilities_on_digits(
        tmp_path, mnist_sample, backend, build):
    """What the classifier node's runtime gate is for (test_classifier_faults.py)."""
    classifier = load_classifier(build(tmp_path / 'bad.keras'), backend)
    classifier.warm_up(5)  # blank crops: 0.1 per class
    probabilities = classifier.predict_batch(mnist_sample[0][:5])
    with pytest.raises(NotProbabilitiesError):
        decide(probabilities)  # before: digit 0 at NaN, or digit 3 at about 1.1


# --- fully integer-quantized models (tflite) ---

def test_the_bundled_int8_model_reads_uint8_crops_as_well_as_the_float_one(
        tflite_classifier, mnist_sample):
    images, labels = mnist_sample
    quantized = load_classifier(QUANTIZED_MODEL, 'tflite')
    assert quantized.quantized and not tflite_classifier.quantized
    assert quantized._input['dtype'] == np.uint8 and quantized._output['dtype'] == np.uint8
    quantized.warm_up(5)
    probabilities = quantized.predict_batch(images)
    assert probabilities.dtype == np.float32 and probabilities.shape == (len(images),
                                                                         DIGIT_CLASSES)
    check_probabilities(probabilities, quantized.probability_tolerance)
    for size in (5, 1, 5):  # resized as the float model is
        np.testing.assert_array_equal(quantized.predict_batch(images[:size]),
                                      probabilities[:size])
    accuracy = 100 * (probabilities.argmax(axis=1) == labels).mean()
    float_accuracy = 100 * (tflite_classifier.predict_batch(images).argmax(axis=1)
                            == labels).mean()
    assert accuracy >= float_accuracy - 0.3, (
        f'int8 {accuracy:.1f}% against float {float_accuracy:.1f}% on the 500-digit sample')
    assert QUANTIZED_MODEL.stat().st_size < BUNDLED_MODEL.with_suffix('.tflite').stat().st_size


def test_an_int8_model_with_int8_input_is_fed_with_its_scale_and_zero_point(
        tmp_path, mnist_sample):
    """TF's converter gives uint8 in/out; other exporters give int8 (zero point -128)."""
    import tensorflow as tf
    images, _ = mnist_sample
    rng = np.random.default_rng(0)
    kernel = rng.normal(0, 0.05, (784, 10))
    path = save_dense_model(tmp_path / 'dense.keras', kernel, np.zeros(10))
    model = tf.keras.models.load_model(path, compile=False)
    float_probabilities = load_classifier(path, 'tflite').predict_batch(images)

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([image[None].astype(np.float32)]
                                                for image in images[:100])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        (tmp_path / 'int8.tflite').write_bytes(converter.convert())
    quantized = load_classifier(tmp_path / 'int8.tflite', 'tflite')
    assert quantized._input['dtype'] == np.int8 and quantized._input['quantization'][1] != 0
    probabilities = quantized.predict_batch(images)
    check_probabilities(probabilities, quantized.probability_tolerance)
    assert (probabilities.argmax(axis=1) == float_probabilities.argmax(axis=1)).mean() > 0.95


def test_a_uint8_input_without_quantization_takes_raw_pixels(tmp_path, mnist_sample):
    """A model that casts uint8 pixels itself (no scale): fed the crops as they are."""
    images, _ = mnist_sample
    kernel = np.random.default_rng(0).normal(0, 0.05, (784, 10))
    as_float = load_classifier(save_dense_model(tmp_path / 'f.keras', kernel, np.zeros(10)),
                               'tflite')
    raw = load_classifier(save_dense_model(tmp_path / 'u.keras', kernel, np.zeros(10),
                                           input_dtype='uint8'), 'tflite')
    assert raw._input['dtype'] == np.uint8 and not raw.quantized
    np.testing.assert_allclose(raw.predict_batch(images[:20]), as_float.predict_batch(images[:20]),
                               atol=1e-6)


@pytest.mark.parametrize('input_dtype, reason', [
    ('float16', 'input type float16 is not supported'),
    ('int32', 'input type int32 is not supported'),
    ('int8', 'input type int8 without a scale and zero point'),
])
def test_an_unsupported_tflite_input_type_is_one_error_line(tmp_path, input_dtype, reason):
    path = save_dense_model(tmp_path / f'{input_dtype}.keras', np.zeros((784, 10)),
                            np.zeros(10), input_dtype=input_dtype).with_suffix('.tflite')
    with pytest.raises(ModelLoadError, match=reason) as error:
        load_classifier(path, 'tflite')
    assert str(path) in str(error.value) and '\n' not in str(error.value)


def test_a_tflite_model_with_two_inputs_or_a_wrong_output_is_one_error_line(tmp_path):
    import keras
    first, second = keras.Input((28, 28)), keras.Input((28, 28))
    two_inputs = keras.Model([first, second], keras.layers.Dense(10)(
        keras.layers.Flatten()(keras.layers.Add()([first, second]))))
    with pytest.raises(ModelLoadError, match='2 inputs and 1 outputs') as error:
        load_classifier(convert(two_inputs, tmp_path / 'two.tflite'), 'tflite')
    assert '\n' not in str(error.value)
    five_classes = save_dense_model(tmp_path / 'five.keras', np.zeros((784, 5)), np.zeros(5))
    with pytest.raises(ModelLoadError, match=r'not a digit classifier.*\[N, 10\]'):
        load_classifier(five_classes, 'tflite')


# --- the tflite backend ---

@pytest.fixture(scope='module')
def tflite_classifier():
    return load_classifier(backend='tflite')


def test_tflite_and_keras_agree_on_the_mnist_sample(
        bundled_classifier, tflite_classifier, mnist_sample):
    images, labels = mnist_sample
    keras_probabilities = bundled_classifier.predict_batch(images)
    tflite_probabilities = tflite_classifier.predict_batch(images)
    assert tflite_probabilities.dtype == np.float32
    np.testing.assert_allclose(tflite_probabilities, keras_probabilities, atol=1e-4)
    # Batches of other sizes reuse the interpreter after resizing its input.
    for size in (5, 1, 5):
        np.testing.assert_allclose(tflite_classifier.predict_batch(images[:size]),
                                   keras_probabilities[:size], atol=1e-4)


def printed_lines(script, timeout):
    """What `script` prints, run in a fresh interpreter (whose sys.modules shows what it
    imported)."""
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout.split('\n')


def test_tflite_backend_never_imports_tensorflow():
    script = ('import sys, numpy as np\n'
              'from digit_recognition.core.model import load_classifier\n'
              'from digit_recognition.core.model import load_models\n'
              'c = load_classifier(backend="tflite")\n'
              'c.warm_up(5)\n'
              'load_models(backend="tflite").warm_up(5)  # the gate too\n'
              'print(c.predict_batch(np.zeros((5, 28, 28), np.uint8)).shape)\n'
              'print("tensorflow" in sys.modules, "keras" in sys.modules)\n')
    assert printed_lines(script, timeout=60)[:2] == [f'(5, {DIGIT_CLASSES})', 'False False']


def test_either_twin_path_serves_both_backends(tflite_classifier):
    assert tflite_classifier.path == BUNDLED_MODEL.with_suffix('.tflite')
    assert load_classifier(BUNDLED_MODEL, backend='tflite').path == tflite_classifier.path
    assert load_classifier(BUNDLED_MODEL.with_suffix('.tflite')).path == BUNDLED_MODEL


def test_a_missing_twin_names_both_files(tmp_path):
    lone = tmp_path / 'lone.keras'
    lone.write_bytes(BUNDLED_MODEL.read_bytes())
    with pytest.raises(ModelLoadError, match=r'lone\.tflite \(the tflite backend loads it '
                                             r'beside .*lone\.keras\)'):
        load_classifier(lone, backend='tflite')


def test_corrupt_tflite_file_is_a_clear_error(tmp_path):
    corrupt = tmp_path / 'corrupt.tflite'
    corrupt.write_bytes(b'not a flatbuffer' * 100)
    with pytest.raises(ModelLoadError, match='cannot load model'):
        load_classifier(corrupt, backend='tflite')


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ModelLoadError, match='backend must be one of keras, tflite'):
        load_classifier(backend='onnx')


def test_architectures_and_export_import_tensorflow_only_when_used():
    script = ('import sys\n'
              'from digit_recognition.training import architectures, export\n'
              'print("tensorflow" in sys.modules, "keras" in sys.modules)\n'
              'architectures.build_mlp()\n'
              'print("tensorflow" in sys.modules)\n')
    assert printed_lines(script, timeout=120)[:2] == ['False False', 'True']


# --- the reader and its gate (core.model.load_models) ---

@pytest.fixture(scope='module')
def untrained_gate(tmp_path_factory):
    """A real gate as train builds it (untrained: the shapes and files are what count),
    saved as gate.keras and gate.tflite."""
    from digit_recognition.training.architectures import build_gate
    from digit_recognition.training.export import save_for_inference
    path = tmp_path_factory.mktemp('gate') / 'gate.keras'
    with contextlib.redirect_stdout(io.StringIO()):
        save_for_inference(build_gate(load_classifier().model), path)
    return path


def reader_with_gate(folder, gate):
    """A copy of the bundled reader's tflite file in `folder`, the gate beside it as train
    names it (reader_gate.tflite)."""
    reader = folder / 'reader.tflite'
    reader.write_bytes(BUNDLED_MODEL.with_suffix('.tflite').read_bytes())
    if gate is not None:
        (folder / 'reader_gate.tflite').write_bytes(gate.with_suffix('.tflite').read_bytes())
    return reader


def test_the_gate_beside_the_reader_is_found_and_judges_crops_with_context(
        tmp_path, untrained_gate):
    from digit_recognition.core.model import GATE, load_models
    models = load_models(reader_with_gate(tmp_path, untrained_gate), '', 'tflite')
    assert models.gate.path == tmp_path / 'reader_gate.tflite' and models.gate.role is GATE
    predictions = models.predict(np.zeros((5, 28, 28, 3), np.uint8))
    assert predictions.digits.shape == (5, 10) and predictions.digitness.shape == (5, 2)
    check_probabilities(predictions.digitness)


def test_without_a_gate_beside_it_or_with_none_the_reader_decides_alone(
        tmp_path, untrained_gate):
    from digit_recognition.core.model import load_models
    alone = tmp_path / 'alone'
    alone.mkdir()
    assert load_models(reader_with_gate(alone, None), '', 'tflite').gate is None
    assert load_models(reader_with_gate(tmp_path, untrained_gate), 'none', 'tflite').gate is None
    assert load_models(reader_with_gate(alone, None), untrained_gate, 'tflite').gate is not None


def test_a_gate_path_that_is_no_gate_is_one_clear_error(tmp_path):
    from digit_recognition.core.model import load_models
    with pytest.raises(ModelLoadError, match=r'is not a gate: .*expected \[N, 28, 28, 3\] -> '
                                             r'\[N, 2\]'):
        load_models(None, BUNDLED_MODEL.with_suffix('.tflite'), 'tflite')
    with pytest.raises(ModelLoadError, match='not found'):
        load_models(None, tmp_path / 'no_gate.tflite', 'tflite')


def test_the_gates_of_the_bundled_reader_and_its_int8_twin_lie_beside_them():
    from digit_recognition.core.model import gate_file, load_models
    assert gate_file() == BUNDLED_MODEL.with_name('mnist_cnn_gate.keras')
    assert gate_file(QUANTIZED_MODEL) == QUANTIZED_MODEL.with_name('mnist_cnn_gate_int8.tflite')
    for reader in (None, QUANTIZED_MODEL):
        models = load_models(reader, '', 'tflite')
        assert models.gate is not None, reader
        assert models.gate.path == gate_file(reader or BUNDLED_MODEL.with_suffix('.tflite'))
