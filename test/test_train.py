"""The `train` executable, run as a user runs it, on a small MNIST directory built here."""

import re
import subprocess

import numpy as np
import pytest

from conftest import executable
from helpers_mnist import split_sample, write_mnist_dir

pytestmark = pytest.mark.slow  # trains models

TRAIN = executable('train')
ACCURACY_LINE = re.compile(r'^MNIST test accuracy: (\d+\.\d\d)% \((\d+) images\)$', re.MULTILINE)


def run_train(*args, cwd, timeout=300):
    return subprocess.run([str(TRAIN), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One short training run on the 500-digit sample (400 train, 100 test), quantized too."""
    folder = tmp_path_factory.mktemp('train')
    train, test = split_sample()
    data = write_mnist_dir(folder / 'mnist', train, test)
    output = folder / 'models' / 'tiny.keras'  # a folder that does not exist yet
    result = run_train('--model', 'mlp', '--data', data, '--epochs', 1, '--batch-size', 16,
                       '--seed', 3, '--output', output, '--quantize', cwd=folder)
    return result, output, test


def test_train_prints_the_test_accuracy_and_saves_the_model(trained):
    result, output, (x_test, _) = trained
    assert result.returncode == 0, result.stdout + result.stderr
    match = ACCURACY_LINE.search(result.stdout)
    assert match, result.stdout
    assert int(match.group(2)) == len(x_test)
    # 25 steps on 400 digits (about 70% measured): far from MNIST's 97%, far above chance.
    assert 40.0 <= float(match.group(1)) <= 100.0
    curves = output.with_name('tiny_curves.png')
    tflite = output.with_suffix('.tflite')
    quantized = output.with_name('tiny_int8.tflite')
    assert f'saved {output}, {tflite}, {quantized} and {curves}' in result.stdout.splitlines()
    assert tflite.stat().st_size > 10_000
    assert output.is_file()
    assert curves.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_mlp_is_the_tutorials_and_the_default_is_the_reader_and_its_gate(trained, tmp_path):
    from digit_recognition.core.model import load_classifier, load_models
    result, output, _ = trained
    assert result.returncode == 0, result.stderr
    mlp = load_classifier(output).model
    assert mlp.name == 'mnist_mlp'
    assert [layer.units for layer in mlp.layers if hasattr(layer, 'units')] == [128, 128, 10]

    train, test = split_sample()
    data = write_mnist_dir(tmp_path / 'mnist', train, test)
    result = run_train('--data', data, '--epochs', 1, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # The CNN holds out digits to calibrate its confidence on, in proportion to MNIST's
    # 5,000 of 60,000: int(5000 * 400 / 60000) = 33 of the 400, the other 367 augmented.
    assert 'augmenting 367 digits: camera-like, jittered, jittered copies...' in result.stdout
    assert 'confidence calibrated: temperature ' in result.stdout
    cnn = load_classifier(tmp_path / 'mnist_cnn.keras').model
    assert cnn.name == 'mnist_cnn'
    # The reader: the ten digits only, no not-a-digit class.
    assert [layer.units for layer in cnn.layers if hasattr(layer, 'units')] == [10]
    assert (tmp_path / 'mnist_cnn.tflite').is_file()
    assert not (tmp_path / 'mnist_cnn_int8.tflite').exists()  # only with --quantize
    # The gate, trained by the same command and saved beside the reader, calibrated too;
    # load_models finds it there, as the classifier node does.
    assert 'gate: confidence calibrated: temperature ' in result.stdout
    models = load_models(tmp_path / 'mnist_cnn.keras', '', 'tflite')
    assert models.gate is not None and models.gate.path == tmp_path / 'mnist_cnn_gate.tflite'
    patches = np.zeros((5, 28, 28, 3), np.uint8)
    assert models.predict(patches).digitness.shape == (5, 2)


def test_saved_model_loads_and_gives_probabilities(trained):
    from digit_recognition.core.model import load_classifier
    result, output, (x_test, y_test) = trained
    assert result.returncode == 0, result.stderr
    probabilities = load_classifier(output).predict_batch(x_test)
    assert probabilities.shape == (len(x_test), 10)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    # The printed accuracy is the saved model's, not some other model's.
    printed = float(ACCURACY_LINE.search(result.stdout).group(1))
    measured = 100 * (probabilities.argmax(axis=1) == y_test).mean()
    assert measured == pytest.approx(printed, abs=0.01)


def test_quantize_saves_a_uint8_model_as_accurate_as_the_float_one(trained):
    from digit_recognition.core.decision import check_probabilities
    from digit_recognition.core.model import load_classifier
    result, output, (x_test, y_test) = trained
    assert result.returncode == 0, result.stderr
    quantized = load_classifier(output.with_name('tiny_int8.tflite'), 'tflite')
    assert quantized.quantized
    assert quantized._input['dtype'] == np.uint8 and quantized._output['dtype'] == np.uint8
    probabilities = quantized.predict_batch(x_test)
    check_probabilities(probabilities, quantized.probability_tolerance)
    printed = re.search(r'^MNIST test accuracy, int8 tflite: (\d+\.\d\d)% \(100 images\)$',
                        result.stdout, re.MULTILINE)
    assert printed, result.stdout
    measured = 100 * (probabilities.argmax(axis=1) == y_test).mean()
    assert measured == pytest.approx(float(printed.group(1)), abs=0.01)
    float_accuracy = float(ACCURACY_LINE.search(result.stdout).group(1))
    # 100 test digits: 2 points are two digits.
    assert abs(measured - float_accuracy) <= 2.0, (measured, float_accuracy)


def test_missing_data_dir_is_one_error_line_and_exit_1(tmp_path):
    result = run_train('--data', tmp_path / 'no_such_dir', '--epochs', 1, cwd=tmp_path,
                       timeout=60)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert 'no_such_dir' in lines[0]
    assert not (tmp_path / 'mnist_mlp.keras').exists()


def test_a_data_dir_without_mnist_is_one_error_line_and_exit_1(tmp_path):
    (tmp_path / 'train-images-idx3-ubyte').write_bytes(b'not an IDX file')
    result = run_train('--data', tmp_path, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_output_keras_cannot_save_is_refused_before_training(tmp_path):
    result = run_train('--data', tmp_path / 'no_such_dir', '--output', tmp_path / 'model.h5',
                       cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and '.keras' in lines[0], result.stderr


def test_help_describes_the_options(tmp_path):
    result = run_train('--help', cwd=tmp_path, timeout=60)
    assert result.returncode == 0
    for option in ('--data', '--epochs', '--batch-size', '--seed', '--output', '--quantize'):
        assert option in result.stdout


def test_help_states_the_epochs_and_batch_size_each_model_trains_with(capsys):
    from digit_recognition.training.train import parse_args, RECIPES
    with pytest.raises(SystemExit):
        parse_args(['--help'])
    help_text = ' '.join(capsys.readouterr().out.split())
    for name, recipe in RECIPES.items():
        assert f'{name} {recipe["epochs"]}' in help_text
        assert f'{name} {recipe["batch_size"]}' in help_text
        options = parse_args(['--model', name])
        assert (options.epochs, options.batch_size) == (recipe['epochs'], recipe['batch_size'])
