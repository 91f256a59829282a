import subprocess
import sys

import numpy as np
import pytest

from digit_recognition.model import (
    BUNDLED_MODEL, load_classifier, ModelLoadError, TUTORIAL_MODEL)


def test_bundled_model_reads_the_mnist_sample(bundled_classifier, mnist_sample):
    images, labels = mnist_sample
    probabilities = bundled_classifier.predict_batch(images)
    assert probabilities.shape == (len(images), 10)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    accuracy = (probabilities.argmax(axis=1) == labels).mean()
    # 99.3 % on all 10,000 test digits (README); 500 digits leave a few of noise either way.
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


def test_tflite_backend_never_imports_tensorflow():
    script = ('import sys, numpy as np\n'
              'from digit_recognition.model import load_classifier\n'
              'c = load_classifier(backend="tflite")\n'
              'c.warm_up(5)\n'
              'print(c.predict_batch(np.zeros((5, 28, 28), np.uint8)).shape)\n'
              'print("tensorflow" in sys.modules, "keras" in sys.modules)\n')
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split('\n')[:2] == ['(5, 10)', 'False False']


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
