"""Collect crops into batches and turn a batch's predictions into one decision. numpy only.

A frame gives one crop, or a row of them when the digit is one mark of a number
(core/preprocessing/numbers.py): a batch of rows is read as a number, position by position,
and its digit is never published alone.
"""

import time
from typing import Callable, List, NamedTuple, Optional, Tuple

import numpy as np

from digit_recognition.core.patches import as_patches


class CropBatcher:
    """Accumulates crops (or rows of crops: any item); hands back the full batch, a list of
    batch_size items in order, every batch_size items.

    Crops more than max_gap seconds apart (by their capture stamps) do not share a batch:
    the gap means the digit left the view, and a batch must show one digit.
    """

    def __init__(self, batch_size, max_gap=None):
        if batch_size < 1:
            raise ValueError(f'batch_size must be at least 1, got {batch_size}')
        self.batch_size = batch_size
        self.max_gap = max_gap
        self._crops = []
        self._last_stamp = None

    def __len__(self):
        return len(self._crops)

    def add(self, crop, stamp: Optional[float] = None) -> Optional[list]:
        """Add one crop (stamp in seconds); return the completed batch, or None while filling."""
        if (self.max_gap is not None and stamp is not None and self._last_stamp is not None
                and abs(stamp - self._last_stamp) > self.max_gap):
            self._crops = []
        self._last_stamp = stamp
        self._crops.append(crop)
        if len(self._crops) < self.batch_size:
            return None
        batch, self._crops = self._crops, []
        return batch


# A model with an 11th output reads "not a digit" there; a 10-output model has no such class.
NOT_A_DIGIT = 10
DIGIT_CLASSES = 10

# How far a row of float32 probabilities may sum from 1: softmax is within 1e-6; a model
# without softmax, or with a broken one, is far off. Quantized models allow more (model.py).
PROBABILITY_TOLERANCE = 1e-3


class NotProbabilitiesError(ValueError):
    """A model's outputs are not probabilities: never decide or publish anything from them."""


def check_probabilities(probabilities: np.ndarray,
                        tolerance: float = PROBABILITY_TOLERANCE) -> None:
    """NotProbabilitiesError unless every row is probabilities: finite, in [0, 1], summing to 1.

    probabilities: [N, classes]; tolerance: how far a row's sum (and a value above 1) may be
    off, for rounding (float32 softmax) or quantization (uint8 outputs, steps of 1/256).
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if probabilities.ndim != 2 or probabilities.shape[0] == 0:
        raise NotProbabilitiesError(
            f'expected probabilities [N, classes], got shape {probabilities.shape}')
    if not np.isfinite(probabilities).all():
        counts = {'NaN': int(np.isnan(probabilities).sum()),
                  'infinite': int(np.isinf(probabilities).sum())}
        raise NotProbabilitiesError(' and '.join(f'{count} {kind}' for kind, count in
                                                 counts.items() if count)
                                    + f' among {probabilities.size} outputs')
    low, high = float(probabilities.min()), float(probabilities.max())
    if low < 0 or high > 1 + tolerance:
        raise NotProbabilitiesError(f'outputs from {low:.4g} to {high:.4g}, outside 0 to 1')
    sums = probabilities.sum(axis=1)
    worst = int(np.argmax(np.abs(sums - 1)))
    if abs(sums[worst] - 1) > tolerance:
        raise NotProbabilitiesError(f'a row sums to {sums[worst]:.4g}, not 1 '
                                    f'(within {tolerance:.3g}): no softmax?')


def decide(probabilities: np.ndarray,
           tolerance: float = PROBABILITY_TOLERANCE) -> tuple[int, float]:
    """The batch's class and confidence: the class with the highest mean probability, a
    digit 0-9 or NOT_A_DIGIT (an 11-output model's last class).

    NotProbabilitiesError (a ValueError) if the outputs are not probabilities
    (check_probabilities): the confidence returned is always a probability, never NaN.
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    check_probabilities(probabilities, tolerance)
    if probabilities.shape[1] not in (DIGIT_CLASSES, DIGIT_CLASSES + 1):
        raise NotProbabilitiesError(f'expected {DIGIT_CLASSES} digit outputs (and maybe one '
                                    f'for "not a digit"), got {probabilities.shape[1]}')
    mean = probabilities.mean(axis=0)
    digit = int(np.argmax(mean))
    return digit, float(mean[digit])


# What a batch came to (Verdict.kind): PART_OF_NUMBER, its frames showed a number (never
# published as a digit; NumberVerdict says what came of the number).
DIGIT, UNSURE, NOT_DIGIT, REFUSED = 'digit', 'unsure', 'not_digit', 'refused'
PART_OF_NUMBER = 'part_of_number'
# What a number came to (NumberVerdict.kind), beside DIGIT's and the others' meanings per
# position: NUMBER, every digit sure (publish it); UNSTEADY, the frames of the batch showed
# different counts of marks; TOO_LONG, more digits than max_number_digits.
NUMBER, UNSTEADY, TOO_LONG = 'number', 'unsteady', 'too_long'


class Verdict(NamedTuple):
    """What one full batch came to: the one decision the classifier node publishes, and
    evaluation and the benchmarks score."""

    # DIGIT: publish it; UNSURE: the reader's confidence is under min_confidence; NOT_DIGIT:
    # the gate (or an 11-output model's last class) reads no digit; REFUSED: the outputs
    # are not probabilities.
    kind: str
    # The reader's digit: the class with the highest mean probability over the batch, 0-9
    # (NOT_A_DIGIT from an 11-output model without a gate); None when refused.
    digit: Optional[int]
    confidence: Optional[float]  # the reader's mean probability of `digit`
    # The gate's mean probability that the batch shows a digit; None without a gate.
    digitness: Optional[float] = None
    reason: str = ''  # why a batch was refused, else ''
    inference_sec: float = 0.0  # the models' time on the batch
    number: Optional['NumberVerdict'] = None  # PART_OF_NUMBER: the number's verdict


class NumberVerdict(NamedTuple):
    """What the number a batch showed came to."""

    # NUMBER: publish `text`; UNSURE: a digit is under min_confidence; NOT_DIGIT: a mark is
    # not a digit ("3A"); REFUSED: outputs not probabilities; UNSTEADY; TOO_LONG.
    kind: str
    text: str  # the reader's digits left to right ("07" keeps its zero); '' if not read
    positions: Tuple[Verdict, ...]  # each mark's verdict, left to right; () if not read
    reason: str = ''


def judge(probabilities: np.ndarray, settings: 'DecisionSettings',
          digit_probabilities: Optional[np.ndarray] = None,
          tolerance: float = PROBABILITY_TOLERANCE) -> Verdict:
    """The Verdict on one batch, as the classifier node decides it: the reader's
    probabilities [N, 10 or 11] and, from the gate, digit_probabilities [N, 2] (not a digit,
    a digit; None: no gate).

    The batch's digit is published (DIGIT) when the gate's mean probability of a digit
    reaches settings.min_digitness and the reader's mean probability of its digit reaches
    settings.min_confidence; NOT_DIGIT when the gate says no, UNSURE when the reader is not
    sure. Outputs that are not probabilities are REFUSED (fail closed: the argmax of NaNs
    is no digit), with the reason.
    """
    try:
        digit, confidence = decide(probabilities, tolerance)
        digitness = None
        if digit_probabilities is not None:
            check_probabilities(digit_probabilities, tolerance)
            digitness = float(np.asarray(digit_probabilities, np.float32)[:, 1].mean())
    except NotProbabilitiesError as exc:
        return Verdict(REFUSED, None, None, reason=str(exc))
    if digit == NOT_A_DIGIT or (digitness is not None and digitness < settings.min_digitness):
        kind = NOT_DIGIT
    else:
        kind = DIGIT if confidence >= settings.min_confidence else UNSURE
    return Verdict(kind, digit, confidence, digitness)


class DecisionSettings(NamedTuple):
    """How crops become decisions, written once: the classifier node's parameters of the same
    names (whose defaults these are), and what evaluation and calibration decide with."""

    batch_size: int = 5  # crops per model call; one decision per batch
    # A batch's digit is published when the reader's mean probability of it reaches this...
    min_confidence: float = 0.9
    # ...and the gate's mean probability that the batch shows a digit at all reaches this.
    min_digitness: float = 0.5
    # Seconds between two crops (by capture stamp) that end a batch unfinished: the digit
    # left the view. None: never.
    batch_timeout: Optional[float] = 0.5
    # Numbers: a row of marks is read as a number (of at most max_number_digits digits);
    # False: never (a digit that is part of a number is still never published alone).
    read_numbers: bool = True
    max_number_digits: int = 6


def judge_number(rows: List[np.ndarray], settings: DecisionSettings, decide_positions:
                 Callable[[np.ndarray], List[Verdict]]) -> NumberVerdict:
    """The NumberVerdict of a batch whose frames showed rows of marks: rows, one uint8
    [k, 28, 28, 3] per frame. decide_positions maps the batch's rows stacked [frames, k, ...]
    to each position's Verdict (judge() over that position's crops).

    A number is published (NUMBER) when every frame showed as many marks, no more than
    settings.max_number_digits, and every position's verdict is DIGIT.
    """
    counts = {len(row) for row in rows}
    if len(counts) > 1:
        return NumberVerdict(UNSTEADY, '', (), 'the frames showed '
                             + ' and '.join(map(str, sorted(counts))) + ' marks')
    count = counts.pop()
    if count > settings.max_number_digits:
        return NumberVerdict(TOO_LONG, '', (), f'{count} marks, more than max_number_digits '
                             f'{settings.max_number_digits}')
    positions = tuple(decide_positions(np.stack(rows)))
    kinds = [position.kind for position in positions]
    text = ''.join('?' if p.digit is None else str(p.digit) for p in positions)
    for kind in (REFUSED, NOT_DIGIT, UNSURE):
        if kind in kinds:
            return NumberVerdict(kind, text, positions, next(
                (p.reason for p in positions if p.reason), ''))
    return NumberVerdict(NUMBER, text, positions)


class DigitDecider:
    """Crops in, digits out: batching, combining a batch's predictions, and the sanity and
    confidence gates, as the classifier node publishes and the benchmarks expect.

    `predict_batch` (the reader) maps a [N, 28, 28] uint8 batch to [N, 10] probabilities
    ([N, 11] for a model made before the gate: the 11th, not a digit); `gate_batch` (None:
    no gate) maps the crops with their context [N, 28, 28, 3] to [N, 2] (not a digit, a
    digit). judge() decides each full batch. `configure()` takes other settings at any
    time; another batch size or timeout starts a new batch.
    """

    def __init__(self, predict_batch: Callable[[np.ndarray], np.ndarray],
                 settings: DecisionSettings, tolerance: float = PROBABILITY_TOLERANCE,
                 gate_batch: Optional[Callable[[np.ndarray], np.ndarray]] = None):
        self._predict_batch = predict_batch
        self._gate_batch = gate_batch
        self.settings = settings
        self._batcher = CropBatcher(settings.batch_size, settings.batch_timeout)
        self.tolerance = tolerance

    def configure(self, settings: DecisionSettings) -> None:
        """Decide with `settings` from now on; a batch already half filled would mix sizes or
        gaps, so it is dropped when the batch size or timeout changes."""
        if settings == self.settings:
            return
        if (settings.batch_size, settings.batch_timeout) != (self.settings.batch_size,
                                                             self.settings.batch_timeout):
            self._batcher = CropBatcher(settings.batch_size, settings.batch_timeout)
        self.settings = settings

    def add(self, crop: np.ndarray, stamp_sec: Optional[float] = None) -> Optional[Verdict]:
        """Add one crop, uint8 [28, 28] alone or [28, 28, 3] with its context (its capture
        stamp in seconds); a Verdict once a batch is full."""
        return self.add_row(as_patches(crop[None]), stamp_sec)

    def add_row(self, crops: np.ndarray, stamp_sec: Optional[float] = None
                ) -> Optional[Verdict]:
        """Add what one frame showed: uint8 [k, 28, 28] crops or [k, 28, 28, 3] crops with
        their context, left to right: k = 1 a lone digit, more the marks of a number. A
        Verdict once a batch is full: PART_OF_NUMBER, with the number's, when any frame of
        it showed a number."""
        batch = self._batcher.add(as_patches(crops), stamp_sec)
        if batch is None:
            return None
        started = time.perf_counter()
        if all(len(row) == 1 for row in batch):
            verdict = self._positions(np.stack(batch))[0]
        elif not self.settings.read_numbers:
            verdict = Verdict(PART_OF_NUMBER, None, None)
        else:
            number = judge_number(batch, self.settings, self._positions)
            verdict = Verdict(PART_OF_NUMBER, None, None, number=number)
        return verdict._replace(inference_sec=time.perf_counter() - started)

    def _positions(self, rows):
        """Each position's Verdict of rows [frames, k, 28, 28, 3]: one model call for all."""
        frames, count = rows.shape[:2]
        patches = rows.reshape(frames * count, *rows.shape[2:])
        probabilities = self._predict_batch(patches[..., 0])
        digit_probabilities = None if self._gate_batch is None else self._gate_batch(patches)
        return [judge(probabilities[k::count], self.settings,
                      None if digit_probabilities is None else digit_probabilities[k::count],
                      self.tolerance) for k in range(count)]
