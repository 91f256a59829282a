"""evaluate as a real process on a small MNIST directory built from the committed sample."""

import json
import subprocess

import cv2
import numpy as np
import pytest

from conftest import executable
from digit_recognition.simulation.blanks import BLANK_KINDS
from digit_recognition.simulation.conditions import CONDITIONS
from helpers_mnist import split_sample, write_mnist_dir

CONDITION_SUBSET = ['plain', 'shadow', 'held_close']


def write_photos(folder):
    """20 'photos' of digits drawn with cv2.putText by two 'writers', labels.csv beside them:
    JPEGs on grey-white paper, and PNGs whose paper is transparent (composited on white)."""
    rows = ['path,label,writer']
    for writer, suffix in (('writer_a', 'jpg'), ('writer_b', 'png')):
        (folder / writer).mkdir(parents=True)
        for digit in range(10):
            image = np.zeros((320, 240, 4), np.uint8)
            image[:, :, 3] = 0 if suffix == 'png' else 255
            image[:, :, :3] = (200, 205, 210)
            cv2.putText(image, str(digit), (40, 260), cv2.FONT_HERSHEY_SIMPLEX, 8,
                        (40, 40, 40, 255), 16, cv2.LINE_AA)
            path = f'{writer}/{digit}.{suffix}'
            cv2.imwrite(str(folder / path), image if suffix == 'png' else image[:, :, :3])
            rows.append(f'{path},{digit},{writer}')
    (folder / 'labels.csv').write_text('\n'.join(rows) + '\n')
    return folder


def run_evaluate(*args):
    return subprocess.run([str(executable('evaluate')), *map(str, args)], capture_output=True,
                          text=True, timeout=600)


def test_evaluate_prints_what_the_robot_receives_and_saves_its_figures(tmp_path):
    train, test = split_sample()
    data = write_mnist_dir(tmp_path / 'mnist', train, test)
    photos = write_photos(tmp_path / 'photos')
    out = tmp_path / 'out'
    result = run_evaluate('--data', data, '--count', 20, '--blank', 5, '--conditions',
                          ','.join(CONDITION_SUBSET), '--real', photos, '--output', out,
                          '--numbers', 2, '--workers', 2)
    assert result.returncode == 0, result.stderr
    stdout = result.stdout
    assert 'seed 0; 4 MNIST test digits per condition' in stdout
    assert 'each a batch of 5 consecutive frames of one scene' in stdout
    assert '5 frames per non-digit kind' in stdout
    assert '| condition | tutorial | CNN ' in stdout
    for name in [*CONDITION_SUBSET, *(f'{c}, MNIST strokes' for c in CONDITION_SUBSET),
                 '**mean**']:
        assert f'| {name} | ' in stdout
    for kind in ('fingers entering the box', 'a hand holding blank paper',
                 'letters (unseen fonts)', 'symbols', 'scribbles',
                 'printed words (never trained)', 'letters of unseen alphabets',
                 *(f'blank: {k}' for k in BLANK_KINDS if k not in ('finger', 'hand_holding'))):
        assert f'| {kind} | ' in stdout
    assert 'expected calibration error' in stdout
    assert '| inside the box (190 px) | ' in stdout and '| held closer (260 px) | ' in stdout
    assert '| writer_b | ' in stdout
    assert '| shown \\ published | 0 | 1 |' in stdout
    assert 'ms per condition frame' in stdout
    # The gate's own curve, and the numbers' rows.
    assert '| min_digitness | 0.05 |' in stdout and '| digits accepted | ' in stdout
    assert '| numbers, printed (unseen typefaces) | ' in stdout
    assert '| numbers, handwritten (MNIST test) | ' in stdout

    for figure in ('accuracy.png', 'confusion.png', 'reliability.png', 'gate.png'):
        assert (out / figure).read_bytes()[:4] == b'\x89PNG'
    report = json.loads((out / 'evaluation.json').read_text())
    assert report['seed'] == 0 and report['count'] == 4 and report['blank_count'] == 5
    assert len(set(report['sample'])) == 4
    names = [p['name'] for p in report['pipelines']]
    default = [p['name'] for p in report['pipelines'] if p['default']]
    assert names[0] == 'tutorial' and len(default) == 1
    assert len(report['conditions']) == 2 * len(CONDITION_SUBSET)
    for condition, result_ in report['conditions'].items():
        for name in names:
            row = result_[name]
            assert row['batches'] == 4
            assert row['right'] + row['wrong'] + row['silent'] == pytest.approx(1)
            assert set(row['variants']) <= set(CONDITIONS[condition.split(',')[0]])
            assert sum(v['batches'] for v in row['variants'].values()) == 4
    for kind in report['non_digits'].values():
        assert {kind[name]['batches'] for name in names} == {1}
        assert {kind[name]['right'] for name in names} == {0}  # nothing to read: never right
    assert 0 <= report['calibration'][default[0]]['ece'] <= 1
    sweep = report['min_confidence_sweep']
    assert [row['min_confidence'] for row in sweep] == sorted(row['min_confidence']
                                                              for row in sweep)
    # A higher bar never publishes more.
    assert all(a['right'] + a['wrong'] >= b['right'] + b['wrong'] - 1e-9
               for a, b in zip(sweep, sweep[1:]))
    assert sum(map(sum, report['confusion'])) == 4 * 2 * len(CONDITION_SUBSET)
    assert report['mnist']['CNN'] >= 0.95  # on the sample's 100 test digits
    assert set(report['pen_redraw']) == {'MLP', 'CNN'}
    real = report['real']
    assert real['photos'] == 20 and set(real['sizes']) == {'190', '260'}
    gate = report['gate_curve']
    assert len(gate['digits_accepted']) == len(gate['thresholds'])
    assert gate['digits_accepted'] == sorted(gate['digits_accepted'], reverse=True)
    for numbers in report['numbers'].values():
        assert numbers['batches'] == 2
        assert numbers['right'] + numbers['wrong'] + numbers['silent'] == pytest.approx(1)
    assert set(real['writers']['190']) == {'writer_a', 'writer_b'}
    # Sanity: the tutorial's thresholded, stretched crops read worse than the CNN's.
    plain = report['conditions']['plain']
    assert plain['tutorial']['right'] < plain[default[0]]['right']


def test_evaluate_rejects_an_unknown_condition():
    result = run_evaluate('--conditions', 'plain,sunny')
    assert result.returncode == 2
    assert 'unknown condition sunny' in result.stderr


def test_evaluate_reports_a_missing_model_in_one_line(tmp_path):
    train, test = split_sample()
    data = write_mnist_dir(tmp_path / 'mnist', train, test)
    result = run_evaluate('--data', data, '--cnn', tmp_path / 'none.keras')
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert 'model file not found' in result.stderr


def test_compare_reads_the_same_crops_and_every_row_has_a_risk_coverage_curve(tmp_path):
    from digit_recognition.core.model import BUNDLED_MODEL
    train, test = split_sample()
    data = write_mnist_dir(tmp_path / 'mnist', train, test)
    out = tmp_path / 'out'
    other = BUNDLED_MODEL.with_suffix('.tflite')
    result = run_evaluate('--data', data, '--count', 20, '--blank', 5, '--conditions',
                          'plain,printed_digits', '--compare', other, '--output', out,
                          '--workers', 2)
    assert result.returncode == 0, result.stderr
    stdout = result.stdout
    assert ('| condition | tutorial | CNN flatfield (default) | mnist_cnn.tflite flatfield |'
            in stdout)
    assert '| printed digits, unseen typefaces | ' in stdout
    assert '| **mean of the condition rows** | ' in stdout and '| MNIST test, stills | ' in stdout
    assert (out / 'risk_coverage.png').read_bytes()[:4] == b'\x89PNG'
    report = json.loads((out / 'evaluation.json').read_text())
    compared = 'mnist_cnn.tflite flatfield'
    for row in report['conditions'].values():
        # The bundled .keras and its .tflite twin on the very same crops decide alike.
        assert row[compared]['right'] == pytest.approx(row['CNN flatfield']['right'])
        curve = row['CNN flatfield']['risk_coverage']
        published = np.add(curve['right'], curve['wrong'])
        assert (np.diff(published) <= 1e-9).all()  # a higher bar never publishes more
        assert curve['default']['right'] == pytest.approx(row['CNN flatfield']['right'])
        assert 0 <= curve['aurc'] <= curve['max_coverage'] <= 1
    assert set(report['risk_coverage_mean']) == {p['name'] for p in report['pipelines']}


def test_risk_coverage_ranks_by_confidence_and_stops_where_nothing_more_is_published():
    from digit_recognition.evaluation.scoring import NO_DIGIT, risk_coverage
    # Six batches shown 1: two sure and right, a wrong one in the middle, one right, one the
    # gate refused (the reader sure of a 1) and one without a crop: the last two are never
    # published at any bar of min_confidence.
    decisions = dict(top=np.array([1, 1, 7, 1, 1, NO_DIGIT]),
                     confidence=np.array([0.99, 0.97, 0.8, 0.6, 0.95, np.nan]),
                     accepted=np.array([True, True, True, True, False, False]))
    curve = risk_coverage(decisions, np.full(6, 1), None, 0.9)
    assert curve['max_coverage'] == pytest.approx(4 / 6)
    # Risks after 1, 2, 3 and 4 published: 0, 0, 1/3, 1/4; the area over coverage steps of 1/6.
    assert curve['aurc'] == pytest.approx((0 + 0 + 1 / 3 + 1 / 4) / 6)
    # Wrong among all six after 1, 2, 3 and 4 published: 0, 0, 1/6, 1/6.
    assert curve['augrc'] == pytest.approx((0 + 0 + 1 / 6 + 1 / 6) / 6)
    assert curve['default'] == dict(min_confidence=0.9, right=pytest.approx(2 / 6), wrong=0.0)
    at_half = curve['thresholds'].index(0.5)
    assert (curve['right'][at_half], curve['wrong'][at_half]) == (pytest.approx(3 / 6),
                                                                  pytest.approx(1 / 6))


def test_batches_of_quantized_models_are_decided_with_their_tolerance():
    # A full-integer model's probabilities are steps of 1/256: a row sums to 1 only within a
    # few steps. evaluate decided every batch with float's tolerance (1e-3) and so refused
    # all of the int8 twins' batches: 0 % of the real photos published instead of 98 %.
    from digit_recognition.core.decision import DecisionSettings
    from digit_recognition.core.model import Predictions
    from digit_recognition.evaluation.scoring import batch_decisions
    digits = np.full((5, 10), 1 / 256, np.float32)
    digits[:, 7] = 245 / 256  # the row sums to two steps under 1, as dequantized ones may
    gate = np.tile(np.float32([4 / 256, 250 / 256]), (5, 1))
    found = np.ones(5, bool)
    predictions = Predictions(digits, gate)
    refused = batch_decisions(predictions, found, DecisionSettings())
    decided = batch_decisions(predictions, found, DecisionSettings(), tolerance=11 / 256)
    assert not refused['published'][0]
    assert decided['published'][0] and decided['digit'][0] == 7
