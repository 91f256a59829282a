"""Numbers held up to the camera: what `number` and `digit` publish for them.

Each row is --numbers batches; each batch one number of 2-4 digits in five consecutive frames
of one scene, under a condition and variant of simulation/conditions.py drawn at random:
printed in a typeface training never drew (drawn_digits.HELD_OUT_FACES, one face per number),
or handwritten from MNIST test digits (pen-redrawn). Every frame is read by the default
preprocessing, each batch decided by core.decision as the classifier node decides it. A batch
publishes its number right, wrong or not at all; `digit` must publish none of its digits.
"""

from concurrent.futures import ProcessPoolExecutor

import numpy as np

from digit_recognition.core.decision import DIGIT, NUMBER
from digit_recognition.core.preprocessing import PreprocessSettings, read_frame
from digit_recognition.evaluation.pipelines import frame_rng
from digit_recognition.evaluation.scoring import BATCH, CURVE_THRESHOLDS
from digit_recognition.simulation.conditions import CONDITIONS, render_condition
from digit_recognition.simulation.drawn_digits import HELD_OUT_FACES, truetype_digit

NUMBER_DIGITS = (2, 4)  # digits of a number, fewest and most
PRINTED, HANDWRITTEN = 'numbers, printed (unseen typefaces)', 'numbers, handwritten (MNIST test)'


def _number(kind, rng, images, labels):
    """(glyphs uint8 [k, 28, 28], text) of one number of NUMBER_DIGITS digits."""
    count = int(rng.integers(NUMBER_DIGITS[0], NUMBER_DIGITS[1] + 1))
    if kind == PRINTED:
        digits = rng.integers(10, size=count)
        face = HELD_OUT_FACES[int(rng.integers(len(HELD_OUT_FACES)))]
        return np.stack([truetype_digit(int(d), face) for d in digits]), ''.join(map(str, digits))
    chosen = rng.choice(len(images), count, replace=False)
    return images[chosen], ''.join(str(int(label)) for label in labels[chosen])


def collect_numbers(job):
    """(texts, rows) of one row's batches: rows[b][k] the crops with context [m, 28, 28, 3]
    the default preprocessing found in frame k of batch b, None when it found none."""
    kind, batches, seed, images, labels = job
    texts, rows = [], []
    names = list(CONDITIONS)
    for b in range(batches):
        batch_rng = frame_rng(seed, kind, b)
        glyphs, text = _number(kind, batch_rng, images, labels)
        condition = names[int(batch_rng.integers(len(names)))]
        variants = CONDITIONS[condition]
        variant = variants[int(batch_rng.integers(len(variants)))]
        frames = []
        for k in range(BATCH):
            rng = frame_rng(seed, kind + ' scene', b)  # the same scene in every frame
            frame, _ = render_condition(condition, glyphs, rng, variant,
                                        strokes='mnist' if kind == PRINTED else 'pen',
                                        camera_rng=frame_rng(seed, kind, batches + b * BATCH + k))
            frames.append(read_frame(frame, PreprocessSettings()).patches())
        texts.append(text)
        rows.append(frames)
    return texts, rows


def score_numbers(models, texts, rows, settings) -> dict:
    """What `number` and `digit` publish for each batch, as the classifier node decides it,
    and the number's risk-coverage as min_confidence sweeps: a number's confidence is its
    least sure digit's."""
    loose = settings._replace(min_confidence=0.0)  # the threshold is applied below
    confidence = np.full(len(texts), -1.0)
    correct = np.zeros(len(texts), bool)
    digit_published = np.zeros(len(texts), bool)
    for b, (text, frames) in enumerate(zip(texts, rows)):
        decider = models.decider(loose)
        verdict = None
        for row in frames:
            if row is not None:
                verdict = decider.add_row(row) or verdict
        if verdict is None:
            continue
        if verdict.kind == DIGIT:  # the frames showed one mark: `digit` and `number` say it
            digit_published[b] = verdict.confidence >= settings.min_confidence
            confidence[b], correct[b] = verdict.confidence, str(verdict.digit) == text
        elif verdict.number is not None and verdict.number.kind == NUMBER:
            confidence[b] = min(p.confidence for p in verdict.number.positions)
            correct[b] = verdict.number.text == text
    total = max(len(texts), 1)
    right = [float(((confidence >= t) & correct).sum() / total) for t in CURVE_THRESHOLDS]
    wrong = [float(((confidence >= t) & ~correct).sum() / total) for t in CURVE_THRESHOLDS]
    published = confidence >= settings.min_confidence
    return dict(right=float((published & correct).mean()),
                wrong=float((published & ~correct).mean()),
                silent=float((~published).mean()),
                digit_published=float(digit_published.mean()), batches=len(texts),
                curve=dict(thresholds=CURVE_THRESHOLDS.tolist(), right=right, wrong=wrong))


def evaluate_numbers(options, models, test_images, test_labels) -> dict:
    """Both rows (printed, handwritten), options.numbers batches each: score_numbers()."""
    jobs = [(kind, options.numbers, options.seed, test_images, test_labels)
            for kind in (PRINTED, HANDWRITTEN)]
    with ProcessPoolExecutor(min(options.workers, len(jobs))) as pool:
        collected = list(pool.map(collect_numbers, jobs))
    return {kind: score_numbers(models, texts, rows, options.settings)
            for (kind, *_), (texts, rows) in zip(jobs, collected)}
