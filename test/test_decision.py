import numpy as np
import pytest

from digit_recognition.core.decision import (
    check_probabilities, CropBatcher, decide, NotProbabilitiesError)


def test_batcher_hands_back_every_batch_size_crops_in_order():
    batcher = CropBatcher(3)
    crops = [np.full((28, 28), i, np.uint8) for i in range(7)]
    batches = [b for b in map(batcher.add, crops) if b is not None]
    assert len(batches) == 2
    assert len(batches[0]) == 3 and batches[0][0].shape == (28, 28)
    assert [int(b[0, 0]) for b in batches[1]] == [3, 4, 5]
    assert len(batcher) == 1  # the seventh crop waits for the next batch


def test_batcher_rejects_empty_batches():
    with pytest.raises(ValueError):
        CropBatcher(0)


def test_decide_uses_mean_probability_not_majority_vote():
    # Three weak votes for 1, two sure votes for 7: the mean says 7.
    probabilities = np.zeros((5, 10), np.float32)
    probabilities[:3, 1], probabilities[:3, 7], probabilities[:3, 2] = 0.5, 0.4, 0.1
    probabilities[3:, 7] = 1.0
    digit, confidence = decide(probabilities)
    assert digit == 7
    assert confidence == pytest.approx((3 * 0.4 + 2 * 1.0) / 5)


def test_decide_rejects_empty_input():
    with pytest.raises(ValueError):
        decide(np.zeros((0, 10)))


def test_a_gap_between_crops_starts_a_new_batch():
    # Two crops of one digit, a pause (no digit in view), then three of the next: the first
    # two must not be classified together with the next digit.
    batcher = CropBatcher(3, max_gap=0.5)
    assert batcher.add(np.zeros((28, 28), np.uint8), stamp=10.0) is None
    assert batcher.add(np.zeros((28, 28), np.uint8), stamp=10.1) is None
    next_digit = [np.full((28, 28), 7, np.uint8)] * 3
    assert batcher.add(next_digit[0], stamp=12.0) is None
    assert batcher.add(next_digit[1], stamp=12.1) is None
    batch = batcher.add(next_digit[2], stamp=12.2)
    assert batch is not None and (np.stack(batch) == 7).all()


def test_without_max_gap_stamps_do_not_matter():
    batcher = CropBatcher(2)
    assert batcher.add(np.zeros((28, 28), np.uint8), stamp=0.0) is None
    assert batcher.add(np.zeros((28, 28), np.uint8), stamp=100.0) is not None


# --- outputs that are not probabilities: refused, never decided on ---

def softmax_rows(rows=5, seed=0):
    logits = np.random.default_rng(seed).normal(0, 3, (rows, 10)).astype(np.float32)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def broken(change):
    probabilities = softmax_rows()
    change(probabilities)
    return probabilities


@pytest.mark.parametrize('probabilities, reason', [
    (broken(lambda p: p.__setitem__((2, 4), np.nan)), 'NaN'),
    (np.full((5, 10), np.nan, np.float32), 'NaN'),
    (broken(lambda p: p.__setitem__((0, 0), np.inf)), 'infinite'),
    (broken(lambda p: p.__setitem__((1, 3), -np.inf)), 'infinite'),
    (broken(lambda p: p.__setitem__((1, slice(0, 2)), (-0.2, 0.2 + p[1, 0] + p[1, 1]))),
     'outside 0 to 1'),
    (np.eye(5, 10, dtype=np.float32) * 50, 'outside 0 to 1'),  # logits, no softmax
    (np.full((5, 10), 0.2, np.float32), 'sums to 2'),  # in [0, 1] but not normalized
    (broken(lambda p: p.__setitem__((4, slice(None)), p[4] * 0.99)), 'sums to 0.99'),
])
def test_outputs_that_are_not_probabilities_are_refused(probabilities, reason):
    with pytest.raises(NotProbabilitiesError, match=reason):
        check_probabilities(probabilities)
    # decide() refuses them too (a ValueError): it never returns a NaN or >1 confidence.
    with pytest.raises(ValueError, match=reason):
        decide(probabilities)


def test_softmax_and_dequantized_uint8_outputs_are_probabilities():
    probabilities = softmax_rows(200, seed=1)
    check_probabilities(probabilities)
    assert decide(probabilities)[1] <= 1.0
    # uint8 outputs with scale 1/256: each value rounded to a step, a row sums to 1 only
    # within a few steps (2/256 measured); refused at float tolerance, accepted at 10 steps.
    dequantized = np.round(probabilities * 256).clip(0, 255) / 256
    assert np.abs(dequantized.sum(axis=1) - 1).max() > 1e-3
    with pytest.raises(NotProbabilitiesError):
        check_probabilities(dequantized)
    check_probabilities(dequantized, tolerance=10 / 256)
    digit, confidence = decide(dequantized, tolerance=10 / 256)
    assert digit == decide(probabilities)[0] and 0 <= confidence <= 1


def one_hot_predictions(digit, confidence):
    """A predict_batch that says `digit` with this probability for every crop."""
    def predict(batch):
        rows = np.full((len(batch), 10), (1 - confidence) / 9, np.float32)
        rows[:, digit] = confidence
        return rows
    return predict


def test_decider_gives_a_verdict_per_full_batch_and_gates_on_confidence():
    from digit_recognition.core.decision import DecisionSettings, DigitDecider
    crop = np.zeros((28, 28), np.uint8)
    settings = DecisionSettings(batch_size=3, min_confidence=0.9, batch_timeout=0.5)
    decider = DigitDecider(one_hot_predictions(7, 0.95), settings)
    verdicts = [decider.add(crop, 0.1 * i) for i in range(6)]
    assert verdicts[:2] == [None, None] and verdicts[3:5] == [None, None]
    assert verdicts[2].kind == 'digit' and verdicts[2].digit == 7
    assert verdicts[2].confidence == pytest.approx(0.95)
    decider.add(crop, 0.9)  # half a batch, kept: only the confidence gate changes
    decider.configure(settings._replace(min_confidence=0.99))
    assert [decider.add(crop, 1.0 + 0.1 * i) for i in range(2)][-1].kind == 'unsure'


def test_decider_refuses_outputs_that_are_not_probabilities():
    from digit_recognition.core.decision import DecisionSettings, DigitDecider
    decider = DigitDecider(lambda batch: np.full((len(batch), 10), np.nan, np.float32),
                           DecisionSettings(1, 0.0, None))
    verdict = decider.add(np.zeros((28, 28), np.uint8))
    assert verdict.kind == 'refused' and verdict.digit is None and 'NaN' in verdict.reason


def test_decider_reconfigured_starts_a_new_batch():
    from digit_recognition.core.decision import DecisionSettings, DigitDecider
    crop = np.zeros((28, 28), np.uint8)
    decider = DigitDecider(one_hot_predictions(3, 1.0), DecisionSettings(3, 0.5, None))
    decider.add(crop)
    decider.add(crop)
    decider.configure(DecisionSettings(2, 0.5, None))
    assert decider.add(crop) is None  # the two crops before were dropped
    assert decider.add(crop).digit == 3
    assert decider.settings.batch_size == 2


# --- 11-output models: digits 0-9 and class 10, "not a digit" ---

def rows_saying(cls, confidence, rows=4, columns=11):
    """[rows, columns] probabilities: `cls` at `confidence`, the rest spread evenly."""
    probabilities = np.full((rows, columns), (1 - confidence) / (columns - 1), np.float32)
    probabilities[:, cls] = confidence
    return probabilities


def test_not_a_digit_is_the_eleventh_output():
    from digit_recognition.core.decision import DIGIT_CLASSES, NOT_A_DIGIT
    assert (DIGIT_CLASSES, NOT_A_DIGIT) == (10, 10)


def test_decide_on_eleven_outputs_says_not_a_digit_by_the_batch_mean():
    from digit_recognition.core.decision import NOT_A_DIGIT
    # Two crops lean to 4, three are surely no digit: the mean says not a digit.
    probabilities = np.concatenate([rows_saying(4, 0.6, 2), rows_saying(NOT_A_DIGIT, 0.9, 3)])
    cls, confidence = decide(probabilities)
    assert cls == NOT_A_DIGIT
    assert confidence == pytest.approx((2 * 0.04 + 3 * 0.9) / 5)
    # And an 11-output batch that reads a digit decides that digit.
    assert decide(rows_saying(6, 0.95)) == (6, pytest.approx(0.95))


@pytest.mark.parametrize('min_confidence', [0.0, 0.5, 0.99, 1.0])
def test_decider_never_publishes_a_batch_read_as_not_a_digit(min_confidence):
    from digit_recognition.core.decision import DecisionSettings, DigitDecider, NOT_A_DIGIT
    crop = np.zeros((28, 28), np.uint8)
    # Even a barely winning not-a-digit class, at any min_confidence: never 'digit'.
    for confidence in (0.999, 0.5, 0.2):
        decider = DigitDecider(lambda batch, c=confidence: rows_saying(NOT_A_DIGIT, c, len(batch)),
                               DecisionSettings(3, min_confidence, None))
        verdicts = [decider.add(crop) for _ in range(3)]
        assert verdicts[:2] == [None, None]
        verdict = verdicts[2]
        assert verdict.kind == 'not_digit', (confidence, verdict)
        assert verdict.digit == NOT_A_DIGIT
        assert verdict.confidence == pytest.approx(confidence)
        assert verdict.reason == ''


def test_decider_publishes_a_digit_from_eleven_outputs_and_gates_it_on_confidence():
    from digit_recognition.core.decision import DecisionSettings, DigitDecider
    crop = np.zeros((28, 28), np.uint8)
    decider = DigitDecider(lambda batch: rows_saying(7, 0.95, len(batch)),
                           DecisionSettings(2, 0.9, None))
    verdict = [decider.add(crop) for _ in range(2)][-1]
    assert verdict.kind == 'digit' and verdict.digit == 7
    assert verdict.confidence == pytest.approx(0.95)
    decider.configure(DecisionSettings(2, 0.96, None))
    verdict = [decider.add(crop) for _ in range(2)][-1]
    assert verdict.kind == 'unsure' and verdict.digit == 7


@pytest.mark.parametrize('columns', [9, 12, 20])
def test_outputs_neither_ten_nor_eleven_wide_are_refused(columns):
    from digit_recognition.core.decision import DecisionSettings, DigitDecider
    probabilities = rows_saying(3, 0.95, 4, columns)
    check_probabilities(probabilities)  # probabilities, but from no model of ours
    with pytest.raises(NotProbabilitiesError, match=str(columns)):
        decide(probabilities)
    decider = DigitDecider(lambda batch: rows_saying(3, 0.95, len(batch), columns),
                           DecisionSettings(1, 0.0, None))
    verdict = decider.add(np.zeros((28, 28), np.uint8))
    assert verdict.kind == 'refused'
    assert verdict.digit is None and verdict.confidence is None
    assert str(columns) in verdict.reason


def test_ten_output_models_still_decide_digits():
    from digit_recognition.core.decision import DecisionSettings, DigitDecider
    # Even class 9, the last column of a 10-output model, is a digit there.
    assert decide(rows_saying(9, 0.8, columns=10)) == (9, pytest.approx(0.8))
    crop = np.zeros((28, 28), np.uint8)
    for digit in (0, 9):
        decider = DigitDecider(one_hot_predictions(digit, 0.95), DecisionSettings(1, 0.9, None))
        verdict = decider.add(crop)
        assert verdict.kind == 'digit' and verdict.digit == digit
        assert verdict.confidence == pytest.approx(0.95)


# --- the gate: is it a digit at all? (core.decision.judge with digit_probabilities) ---

def gate_rows(digitness, rows=3):
    """[rows, 2] gate probabilities: not a digit, a digit."""
    return np.tile(np.float32([1 - digitness, digitness]), (rows, 1))


@pytest.mark.parametrize('digitness, confidence, kind', [
    (0.9, 0.95, 'digit'),  # both sure: published
    (0.9, 0.6, 'unsure'),  # a digit, but which one is not sure
    (0.3, 0.99, 'not_digit'),  # the reader is sure of a 1, the gate says edge: silent
    (0.3, 0.6, 'not_digit'),  # the gate's no comes first
])
def test_a_batch_is_published_only_when_the_gate_and_the_reader_agree(digitness, confidence,
                                                                      kind):
    from digit_recognition.core.decision import DecisionSettings, judge
    settings = DecisionSettings(min_confidence=0.9, min_digitness=0.5)
    verdict = judge(rows_saying(1, confidence, 3, 10), settings, gate_rows(digitness))
    assert verdict.kind == kind
    # Whatever the outcome, the verdict says what each model read: an operator sees why.
    assert verdict.digit == 1
    assert verdict.confidence == pytest.approx(confidence)
    assert verdict.digitness == pytest.approx(digitness)


def test_the_gate_decides_by_its_batch_mean_and_min_digitness():
    from digit_recognition.core.decision import DecisionSettings, judge
    gate = np.float32([[0.9, 0.1], [0.9, 0.1], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    reader = rows_saying(4, 0.97, 5, 10)
    assert judge(reader, DecisionSettings(min_digitness=0.6), gate).digitness == \
        pytest.approx(0.64)
    assert judge(reader, DecisionSettings(min_digitness=0.6), gate).kind == 'digit'
    assert judge(reader, DecisionSettings(min_digitness=0.7), gate).kind == 'not_digit'


def test_gate_outputs_that_are_not_probabilities_refuse_the_batch():
    from digit_recognition.core.decision import DecisionSettings, judge
    gate = gate_rows(0.9)
    gate[1, 0] = np.nan
    verdict = judge(rows_saying(4, 0.97, 3, 10), DecisionSettings(), gate)
    assert verdict.kind == 'refused' and 'NaN' in verdict.reason


def test_the_decider_takes_plain_crops_and_crops_with_context_in_one_batch():
    # The reader sees channel 0 of each, the gate the whole patch, zeros as the context of a
    # plain crop (another node's): a batch may hold both when a publisher changes.
    from digit_recognition.core.decision import DecisionSettings, DigitDecider
    seen = {}

    def reader(batch):
        seen['reader'] = batch.copy()
        return rows_saying(2, 0.95, len(batch), 10)

    def gate(batch):
        seen['gate'] = batch.copy()
        return gate_rows(0.8, len(batch))

    decider = DigitDecider(reader, DecisionSettings(batch_size=2), gate_batch=gate)
    plain = np.full((28, 28), 5, np.uint8)
    with_context = np.dstack([np.full((28, 28), 7, np.uint8), np.full((28, 28, 2), 9,
                                                                      np.uint8)])
    assert decider.add(plain) is None
    verdict = decider.add(with_context)
    assert verdict.kind == 'digit' and verdict.digit == 2
    assert verdict.digitness == pytest.approx(0.8)
    assert seen['reader'].shape == (2, 28, 28) and list(seen['reader'][:, 0, 0]) == [5, 7]
    assert seen['gate'].shape == (2, 28, 28, 3)
    assert list(seen['gate'][0, 0, 0]) == [5, 0, 0] and list(seen['gate'][1, 0, 0]) == [7, 9, 9]


def test_a_crop_of_another_shape_is_refused_with_what_was_expected():
    from digit_recognition.core.decision import DecisionSettings, DigitDecider
    decider = DigitDecider(lambda batch: rows_saying(2, 0.95, len(batch), 10),
                           DecisionSettings(batch_size=1))
    with pytest.raises(ValueError, match=r'\[N, 28, 28, 3\]'):
        decider.add(np.zeros((28, 28, 2), np.uint8))
