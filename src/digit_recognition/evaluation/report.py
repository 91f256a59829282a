"""The evaluation's report: every condition in every stroke style and every non-digit kind
(and the photos) read by each pipeline, scored and gathered into one JSON-ready dict."""

import sys
import time

import numpy as np

from digit_recognition.evaluation.numbers import evaluate_numbers
from digit_recognition.evaluation.photos import evaluate_photos
from digit_recognition.evaluation.pipelines import (default_index, GLYPH_KINDS, PRINTED,
                                                    PRINTED_ROW, printed_labels, run_jobs)
from digit_recognition.evaluation.scoring import (BATCH, calibration, confusion_matrix,
                                                  gate_curve, mean_curve, NO_DIGIT,
                                                  not_a_digit_class, outcomes, predict,
                                                  risk_coverage, score_batches,
                                                  still_decisions, threshold_sweep, top_correct)
from digit_recognition.simulation.blanks import BLANK_KINDS
from digit_recognition.simulation.pen import pen_redraw

EXAMPLES_PER_CONDITION = 2
SWEEP = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)  # other min_confidence values, reported
# The digit-free frames (simulation.blanks.BLANK_KINDS) a robot meets most, shown first.
HAND_KINDS = ('finger', 'hand_holding')


def condition_name(name, strokes):
    return name if strokes == 'pen' else f'{name}, MNIST strokes'


def mean_over(pipelines, results):
    return {p.name: {key: float(np.mean([r[p.name][key] for r in results.values()]))
                     for key in ('right', 'wrong', 'silent', 'found')} for p in pipelines}


def redraw_accuracy(classifiers, digits, labels):
    """Each model's accuracy on the digits redrawn by the pen the conditions draw with."""
    redrawn = np.stack([pen_redraw(digit) for digit in digits])
    return {name: float((predict(c, redrawn).digits.argmax(axis=1) == labels).mean())
            for name, c in classifiers.items()}


def evaluate_matrix(options, pipelines, classifiers, digits, labels, timing):
    """Every condition in every stroke style, and every non-digit kind: outcomes per batch.
    Returns (conditions, non_digits, calibration rows, confusion rows, misread crops)."""
    jobs = [('condition', name, (strokes, digits), pipelines, options.seed)
            for strokes in options.strokes for name in options.conditions if name != PRINTED]
    if PRINTED in options.conditions:
        jobs.append(('printed', PRINTED_ROW, len(digits), pipelines, options.seed))
    batches = options.blank // BATCH
    if batches:
        jobs += [('blank', kind, batches, pipelines, options.seed) for kind in HAND_KINDS]
        jobs += [('glyph', kind, batches, pipelines, options.seed) for kind in GLYPH_KINDS]
        jobs += [('blank', kind, batches, pipelines, options.seed) for kind in BLANK_KINDS
                 if kind not in HAND_KINDS]
    collectors = run_jobs(jobs, options.workers)
    default = pipelines[default_index(pipelines)].name
    conditions, non_digits = {}, {}
    seen = {p.name: dict(confidence=[], correct=[]) for p in pipelines}
    shown, published, misread, default_rows = [], [], [], []
    gate_digits, gate_non_digits = {}, {}
    for (what, name, extra, _, _), collector in zip(jobs, collectors):
        count = len(collector.variants) // BATCH
        is_condition = what in ('condition', 'printed')
        truth = {'condition': labels, 'printed': printed_labels(count)}.get(
            what, np.full(count, NO_DIGIT))
        row = condition_name(name, extra[0]) if what == 'condition' else name
        variants = collector.variants[::BATCH]
        started = time.perf_counter()
        result, decisions = score_batches(pipelines, classifiers, collector, truth, variants,
                                          options.settings)
        timing['classify_s'] += time.perf_counter() - started
        timing['preprocess_s'] += collector.seconds[:-1]
        timing['preprocess_max_s'] = np.maximum(timing['preprocess_max_s'], collector.slowest)
        timing['render_s' if is_condition else 'blank_render_s'] += collector.seconds[-1]
        timing['frames' if is_condition else 'blank_frames'] += len(collector.variants)
        default_rows.append((decisions[default], truth))
        (gate_digits if is_condition else gate_non_digits)[row] = decisions[default]
        for p in pipelines:
            model = classifiers[p.model]
            # The published confidence: the reader's, on the batches the gate lets through
            # (and, for a model with a not-a-digit class, on those it reads as such).
            decided = decisions[p.name]
            counted = decided['accepted'] | (decided['top'] == not_a_digit_class(model))
            if not_a_digit_class(model) is None:
                counted &= truth != NO_DIGIT
            seen[p.name]['confidence'].append(decided['confidence'][counted])
            seen[p.name]['correct'].append(
                top_correct(decided, truth, not_a_digit_class(model))[counted])
        if is_condition:
            conditions[row] = result
            shown.append(truth)
            published.append(decisions[default]['digit'])
            wrong = np.flatnonzero(decisions[default]['published']
                                   & (decisions[default]['digit'] != truth))
            d = default_index(pipelines)
            misread += [(collector.crops[d, b * BATCH, ..., 0],
                         f'{name} {variants[b]}: {truth[b]} as {decisions[default]["digit"][b]}')
                        for b in wrong[:EXAMPLES_PER_CONDITION]]
        else:
            label = {'finger': 'fingers entering the box',
                     'hand_holding': 'a hand holding blank paper'}.get(name, name)
            non_digits[label if what == 'glyph' or name in HAND_KINDS
                       else f'blank: {name}'] = result
        print(f'evaluate: {what} {row}: '
              f'{len(collector.variants)} frames in {collector.seconds.sum():.0f} s',
              file=sys.stderr, flush=True)
    calibrations = {name: calibration(np.concatenate(s['confidence']),
                                      np.concatenate(s['correct'])) for name, s in seen.items()}
    matrix = (confusion_matrix(np.concatenate(shown), np.concatenate(published)) if shown
              else np.zeros((10, 11), int))
    sweep = threshold_sweep(default_rows, SWEEP, not_a_digit_class(
        classifiers[pipelines[default_index(pipelines)].model]))
    gate = gate_curve(gate_digits, gate_non_digits, options.settings.min_confidence)
    return conditions, non_digits, calibrations, matrix, misread, sweep, gate


def mnist_published(classifiers, predictions, labels, settings):
    """Each model on the MNIST test digits as still images (a batch of five copies of each;
    the crop alone, no context): published right / wrong / silent, and the risk-coverage
    curve."""
    result = {}
    for name, classifier in classifiers.items():
        decided = still_decisions(predictions[name], settings)
        result[name] = outcomes(decided, labels) | {'risk_coverage': risk_coverage(
            decided, labels, not_a_digit_class(classifier), settings.min_confidence)}
    return result


def build_report(options, pipelines, classifiers, test_images, test_labels):
    """Every figure of the run as a JSON-ready dict, the default pipeline's confusion matrix
    over all conditions and the crops of batches published wrong."""
    count = options.count // BATCH
    sample = np.random.default_rng(options.seed).choice(
        len(test_images), min(count, len(test_images)), replace=False)
    digits, labels = test_images[sample], test_labels[sample]
    timing = dict(render_s=0.0, blank_render_s=0.0, classify_s=0.0, frames=0, blank_frames=0,
                  preprocess_s=np.zeros(len(pipelines)),
                  preprocess_max_s=np.zeros(len(pipelines)))
    report = dict(seed=options.seed, count=len(digits), batches=len(digits),
                  blank_count=options.blank, min_confidence=options.settings.min_confidence,
                  min_digitness=options.settings.min_digitness,
                  digits='one seeded sample of the MNIST test set, the same in every condition',
                  sample=sample.tolist(), mnist_digits=len(test_images),
                  pipelines=[vars(p) for p in pipelines])
    if options.real:  # first: a photo that cannot be read stops the run before the long part
        report['real'] = evaluate_photos(options.real, pipelines, classifiers,
                                         options.settings)
    conditions, non_digits, calibrations, matrix, misread, sweep, gate = evaluate_matrix(
        options, pipelines, classifiers, digits, labels, timing)
    on_mnist = {name: predict(c, test_images) for name, c in classifiers.items()}
    report.update(
        mnist={name: float((on_mnist[name].digits.argmax(axis=1) == test_labels).mean())
               for name in classifiers},
        mnist_published=mnist_published(classifiers, on_mnist, test_labels, options.settings),
        pen_redraw=redraw_accuracy(classifiers, digits, labels),
        conditions=conditions, mean=mean_over(pipelines, conditions),
        risk_coverage_mean={p.name: mean_curve(r[p.name]['risk_coverage']
                                               for r in conditions.values()) for p in pipelines},
        non_digits=non_digits, calibration=calibrations, min_confidence_sweep=sweep,
        gate_curve=gate)
    if options.numbers:
        report['numbers'] = evaluate_numbers(options, classifiers['CNN'], test_images,
                                             test_labels)
    report['confusion'] = matrix.tolist()
    report['timing'] = timing
    return report, matrix, misread
