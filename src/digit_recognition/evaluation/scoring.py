"""What the robot receives, scored: each model's probabilities on the crops, each batch of
five frames published right, published wrong or silent, as core.decision decides it; how
well confidence means what it says (expected calibration error, reliability bins); the
confusion matrix. numpy only."""

from typing import Optional

import numpy as np

from digit_recognition.core.decision import (DecisionSettings, DIGIT, judge, NOT_A_DIGIT,
                                             NOT_DIGIT, PROBABILITY_TOLERANCE)
from digit_recognition.core.model import Predictions
from digit_recognition.core.patches import as_patches

BATCH = DecisionSettings().batch_size  # frames of one digit per batch, as the classifier's
NO_DIGIT = -1  # label of a batch with nothing to read; decided class of a silent batch
CALIBRATION_BINS = 15
# min_confidence values at which each row's risk-coverage curve is stored and drawn.
CURVE_THRESHOLDS = np.round(np.linspace(0.0, 1.0, 101), 2)


def batch_decisions(predictions: Predictions, found: np.ndarray, settings: DecisionSettings,
                    tolerance: float = PROBABILITY_TOLERANCE) -> dict:
    """The classifier's decision (core.decision.judge) on each batch of BATCH consecutive
    frames.

    predictions: both models' outputs for N frames (rows of frames without a crop are
    ignored); found: bool [N]. A batch decides on the crops preprocessing found in it (the
    node waits for five crops; frames without one add nothing); none: silent. Returns arrays
    over the N // BATCH batches: published (bool), digit (int, NO_DIGIT when silent), top
    (the reader's digit, NO_DIGIT when no crop), confidence (its mean probability, NaN when
    no crop), accepted (the gate let it through: True without a gate), digitness (the
    gate's mean probability of a digit, NaN when no crop or no gate). tolerance: how far
    the models' rows may sum from 1 (quantized models: more; core.model.Models).
    """
    batches = len(found) // BATCH
    published = np.zeros(batches, bool)
    accepted = np.zeros(batches, bool)
    digit = np.full(batches, NO_DIGIT)
    top = np.full(batches, NO_DIGIT)
    confidence = np.full(batches, np.nan)
    digitness = np.full(batches, np.nan)
    for b in range(batches):
        rows = np.flatnonzero(found[b * BATCH:(b + 1) * BATCH]) + b * BATCH
        if rows.size == 0:
            continue
        verdict = judge(predictions.digits[rows], settings,
                        None if predictions.digitness is None else predictions.digitness[rows],
                        tolerance)
        if verdict.digit is None:
            continue
        top[b], confidence[b] = verdict.digit, verdict.confidence
        accepted[b] = verdict.kind != NOT_DIGIT
        if verdict.digitness is not None:
            digitness[b] = verdict.digitness
        if verdict.kind == DIGIT:
            published[b], digit[b] = True, verdict.digit
    return dict(published=published, digit=digit, top=top, confidence=confidence,
                accepted=accepted, digitness=digitness)


def still_decisions(predictions: Predictions, settings: DecisionSettings) -> dict:
    """batch_decisions() for still images: each row is its own batch (five copies of one
    crop have its probabilities as their mean)."""
    probabilities = predictions.digits
    top = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1).astype(float)
    not_a_digit = NOT_A_DIGIT if probabilities.shape[1] > NOT_A_DIGIT else None
    if predictions.digitness is None:
        digitness = np.full(len(top), np.nan)
        accepted = top != not_a_digit
    else:
        digitness = predictions.digitness[:, 1].astype(float)
        accepted = (top != not_a_digit) & (digitness >= settings.min_digitness)
    published = accepted & (confidence >= settings.min_confidence)
    return dict(published=published, digit=np.where(published, top, NO_DIGIT), top=top,
                confidence=confidence, accepted=accepted, digitness=digitness)


def risk_coverage(decisions: dict, labels: np.ndarray, not_a_digit: Optional[int],
                  min_confidence: float) -> dict:
    """The selective reader's risk-coverage curve on one row of batches, as min_confidence
    sweeps: a batch is published when its top class is a digit whose confidence reaches it.

    coverage: published batches over all batches; risk: published wrong over published.
    aurc: the area under risk against coverage from 0 to max_coverage (the coverage at
    min_confidence 0: batches with no crop or "not a digit" on top are never published), the
    mean risk of the best-ranked batches (Geifman & El-Yaniv 2017); lower is better, and it
    is read beside max_coverage (a reader that publishes less has less area to gather).
    augrc: the area under the generalized risk (published wrong over all batches) against
    coverage (Traub et al. 2024), which does not reward publishing less.
    right / wrong: shares of all batches published right and wrong at each of
    CURVE_THRESHOLDS; default: the operating point at min_confidence.
    """
    top, confidence = decisions['top'], np.nan_to_num(decisions['confidence'], nan=-1.0)
    publishable = (top != NO_DIGIT) & (top != not_a_digit) & decisions['accepted']
    correct = top == labels
    total = max(len(labels), 1)
    order = np.argsort(-confidence[publishable], kind='stable')
    wrong_so_far = np.cumsum(~correct[publishable][order])
    risk = wrong_so_far / np.arange(1, len(order) + 1)
    at = {}
    for threshold in (*CURVE_THRESHOLDS, min_confidence):
        published = publishable & (confidence >= threshold)
        at[float(threshold)] = (float((published & correct).sum() / total),
                                float((published & ~correct).sum() / total))
    return dict(aurc=float(risk.sum() / total), augrc=float(wrong_so_far.sum() / total ** 2),
                max_coverage=float(len(order) / total),
                thresholds=CURVE_THRESHOLDS.tolist(),
                right=[at[float(t)][0] for t in CURVE_THRESHOLDS],
                wrong=[at[float(t)][1] for t in CURVE_THRESHOLDS],
                default=dict(min_confidence=float(min_confidence), right=at[min_confidence][0],
                             wrong=at[min_confidence][1]))


def mean_curve(curves) -> dict:
    """The mean of several rows' risk_coverage() results, as the mean row of a table."""
    curves = list(curves)
    mean = lambda key: np.mean([c[key] for c in curves], axis=0)  # noqa: E731
    default = curves[0]['default'] | {key: float(np.mean([c['default'][key] for c in curves]))
                                      for key in ('right', 'wrong')}
    return dict(aurc=float(mean('aurc')), augrc=float(mean('augrc')),
                max_coverage=float(mean('max_coverage')),
                thresholds=curves[0]['thresholds'], right=mean('right').tolist(),
                wrong=mean('wrong').tolist(), default=default)


def outcomes(decisions: dict, labels: np.ndarray) -> dict:
    """Shares of batches published right, published wrong and silent; labels [batches] are
    the digits shown (NO_DIGIT: nothing to read, every publication is wrong)."""
    published, digit = decisions['published'], decisions['digit']
    right = published & (digit == labels)
    return dict(right=float(right.mean()), wrong=float((published & ~right).mean()),
                silent=float((~published).mean()), batches=int(len(labels)))


def by_variant(decisions: dict, labels: np.ndarray, variants) -> dict:
    """outcomes() per variant name (variants: one name per batch)."""
    variants = np.asarray(variants)
    return {v: outcomes({k: a[variants == v] for k, a in decisions.items()},
                        labels[variants == v]) for v in dict.fromkeys(variants)}


def calibration(confidence: np.ndarray, correct: np.ndarray,
                bins: int = CALIBRATION_BINS) -> dict:
    """Expected calibration error and reliability bins of top-class confidences.

    confidence: the decided class's mean probability per batch (NaN: no crop, left out);
    correct: whether that class was right (a digit shown, or "not a digit" for nothing to
    read). ECE is the batch-weighted mean gap between confidence and accuracy per bin.
    """
    keep = ~np.isnan(confidence)
    confidence, correct = confidence[keep], correct[keep].astype(float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        inside = which == b
        count = int(inside.sum())
        if not count:
            continue
        mean_conf, accuracy = float(confidence[inside].mean()), float(correct[inside].mean())
        ece += count / max(len(confidence), 1) * abs(mean_conf - accuracy)
        rows.append(dict(low=float(edges[b]), high=float(edges[b + 1]), count=count,
                         confidence=mean_conf, accuracy=accuracy))
    return dict(ece=float(ece), batches=int(len(confidence)), bins=rows)


def top_correct(decisions: dict, labels: np.ndarray, not_a_digit: Optional[int]) -> np.ndarray:
    """Whether each batch's top class was right: the digit shown, or the not-a-digit class
    (not_a_digit, None for a model without one) where nothing was there to read."""
    expected = labels.copy()
    if not_a_digit is not None:
        expected[labels == NO_DIGIT] = not_a_digit
    return decisions['top'] == expected


def threshold_sweep(rows, thresholds, not_a_digit: Optional[int]) -> list:
    """What other min_confidence values would have given, from the decisions already made:
    for each threshold, the mean over the digit rows of batches published right and wrong,
    and the worst non-digit row's share of batches published. rows: (decisions, labels) per
    condition or non-digit kind (labels all NO_DIGIT for a non-digit kind)."""
    result = []
    for threshold in thresholds:
        right, wrong, false_digits = [], [], []
        for decisions, labels in rows:
            top, confidence = decisions['top'], decisions['confidence']
            published = ((top != NO_DIGIT) & (top != not_a_digit) & decisions['accepted']
                         & (confidence >= threshold))
            if (labels == NO_DIGIT).all():
                false_digits.append(float(published.mean()))
            else:
                right.append(float((published & (top == labels)).mean()))
                wrong.append(float((published & (top != labels)).mean()))
        result.append(dict(min_confidence=float(threshold),
                           right=float(np.mean(right)) if right else None,
                           wrong=float(np.mean(wrong)) if wrong else None,
                           worst_non_digit=max(false_digits, default=None)))
    return result


def predict(models, crops, batch_size=500) -> Predictions:
    """Both models (core.model.Models) on crops uint8 [N, 28, 28] (alone) or [N, 28, 28, 3]
    (with their context)."""
    gate = models.gate is not None
    if len(crops) == 0:
        return Predictions(np.zeros((0, models.reader.classes), np.float32),
                           np.zeros((0, 2), np.float32) if gate else None)
    parts = [models.predict(as_patches(crops[i:i + batch_size]))
             for i in range(0, len(crops), batch_size)]
    return Predictions(np.concatenate([part.digits for part in parts]),
                       np.concatenate([part.digitness for part in parts]) if gate else None)


def read_crops(classifiers, pipelines, crops, found):
    """Predictions [P]: each pipeline's models on the crops it found (rows of frames without
    a crop are zero)."""
    result = []
    for p, pipeline in enumerate(pipelines):
        found_rows = predict(classifiers[pipeline.model], crops[p][found[p]])
        full = []
        for rows in found_rows:
            if rows is None:
                full.append(None)
                continue
            everything = np.zeros((found.shape[1], rows.shape[1]), np.float32)
            everything[found[p]] = rows
            full.append(everything)
        result.append(Predictions(*full))
    return result


def not_a_digit_class(models):
    return NOT_A_DIGIT if models.reader.classes > NOT_A_DIGIT else None


def score_batches(pipelines, classifiers, collector, labels, variants, settings):
    """Per pipeline: outcomes (right/wrong/silent) and per variant, the share of frames with
    a crop, and the decisions (for calibration and the confusion matrix)."""
    predictions = read_crops(classifiers, pipelines, collector.crops, collector.found)
    result, decisions = {}, {}
    for p, pipeline in enumerate(pipelines):
        decided = batch_decisions(predictions[p], collector.found[p], settings,
                                  classifiers[pipeline.model].probability_tolerance)
        decisions[pipeline.name] = decided
        result[pipeline.name] = outcomes(decided, labels) | {
            'found': float(collector.found[p].mean()),
            'variants': by_variant(decided, labels, variants),
            'risk_coverage': risk_coverage(decided, labels,
                                           not_a_digit_class(classifiers[pipeline.model]),
                                           settings.min_confidence)}
    return result, decisions


# min_digitness values at which the gate's curve is stored and drawn.
GATE_THRESHOLDS = np.round(np.linspace(0.0, 1.0, 101), 2)


def gate_curve(digit_rows, non_digit_rows, min_confidence: float) -> dict:
    """The gate's own curve as min_digitness sweeps GATE_THRESHOLDS: the share of digit
    batches it accepts (all condition rows together) against the share of each non-digit
    kind's batches published (accepted, and the reader at least min_confidence sure).
    digit_rows, non_digit_rows: {name: decisions} (batch_decisions())."""
    def accepted_share(decisions, threshold, sure_only):
        digitness = np.nan_to_num(decisions['digitness'], nan=-1.0)
        passed = digitness >= threshold
        if sure_only:
            passed &= np.nan_to_num(decisions['confidence'], nan=-1.0) >= min_confidence
        return float(passed.mean()) if len(passed) else 0.0

    digits = {k: np.concatenate([d[k] for d in digit_rows.values()])
              for k in ('digitness', 'confidence')} if digit_rows else None
    return dict(
        thresholds=GATE_THRESHOLDS.tolist(),
        digits_accepted=[accepted_share(digits, t, False) for t in GATE_THRESHOLDS]
        if digits else [],
        non_digits_published={name: [accepted_share(d, t, True) for t in GATE_THRESHOLDS]
                              for name, d in non_digit_rows.items()})


def confusion_matrix(labels, digits):
    """10 x 11 counts of batches: rows the digit shown, columns the digit published, last
    column silent."""
    matrix = np.zeros((10, 11), int)
    np.add.at(matrix, (labels, np.where(digits == NO_DIGIT, 10, digits)), 1)
    return matrix
