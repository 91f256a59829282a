"""evaluate as a real process on a small MNIST directory built from the committed sample."""

import json
import subprocess

from conftest import BIN
from helpers_mnist import split_sample, write_mnist_dir


def test_evaluate_prints_the_comparison_and_saves_its_figures(tmp_path):
    train, test = split_sample()
    data = write_mnist_dir(tmp_path / 'mnist', train, test)
    result = subprocess.run([str(BIN / 'evaluate'), '--data', str(data), '--count', '40',
                             '--output', str(tmp_path / 'out')],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for pipeline in ('tutorial: fixed threshold, resize, MLP',
                     'adaptive threshold, MNIST normalization, CNN'):
        assert f'| {pipeline} |' in result.stdout
    assert '| true \\ read | 0 | 1 |' in result.stdout
    assert (tmp_path / 'out' / 'confusion.png').read_bytes()[:4] == b'\x89PNG'
    report = json.loads((tmp_path / 'out' / 'evaluation.json').read_text())
    assert report['camera_frames'] == 40
    rows = {row['pipeline']: row for row in report['results']}
    assert len(rows) == 7
    ours = rows['adaptive threshold, MNIST normalization, CNN']
    tutorial = rows['tutorial: fixed threshold, resize, MLP']
    assert ours['mnist_accuracy'] >= 0.95  # on the sample's 100 test digits
    assert ours['camera_accuracy'] > tutorial['camera_accuracy']
    assert sum(map(sum, report['confusion'])) == 40


def test_evaluate_reports_a_missing_model_in_one_line(tmp_path):
    train, test = split_sample()
    data = write_mnist_dir(tmp_path / 'mnist', train, test)
    result = subprocess.run([str(BIN / 'evaluate'), '--data', str(data),
                             '--cnn', str(tmp_path / 'none.keras')],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert 'model file not found' in result.stderr
