"""evaluate: what a robot receives from the digit reader under real camera conditions.

Each condition of conditions.CONDITIONS (held close, shadows, dim light, ruled paper, light
broad inks, a hand holding the sheet, ...) shows --count / 5 MNIST test digits, each as a
batch of five consecutive frames of one scene in one of the condition's variants (each with
its own sensor noise, the held sheet moving a little between them), with the digit's
centre line redrawn by a pen and again with MNIST's own strokes scaled up. The digits are one
seeded sample of the test set, the same in every condition. Every frame is read by each
pipeline (the tutorial's: fixed threshold 100, resize, MLP; the CNN behind preprocess_frame)
and each batch decided as the classifier node decides (core.decision: min_confidence, the
not-a-digit class): published right, published wrong or silent. Non-digits (fingers, a hand
holding blank paper, letters in fonts training never saw, symbols, scribbles, printed words
and every blank kind of conditions.BLANK_KINDS) count the batches that publish a digit.
--real reads labelled photos of real handwriting placed in a frame as the robot would see
them. Prints markdown tables, the expected calibration error and the confusion matrix of
batches; saves evaluation.json, accuracy.png, reliability.png and confusion.png in --output.
"""

import argparse
from concurrent.futures import ProcessPoolExecutor
import csv
from dataclasses import dataclass
import json
import os
from pathlib import Path
import sys
import time
import zlib

import numpy as np

from digit_recognition.core import preprocessing
from digit_recognition.core.decision import NOT_A_DIGIT
from digit_recognition.core.model import BUNDLED_MODEL, ModelLoadError, TUTORIAL_MODEL
from digit_recognition.training import negatives
from digit_recognition.training.conditions import (BLANK_KINDS, CONDITIONS, load_photo,
                                                   pen_redraw, photo_frame, render_blank,
                                                   render_condition, STROKES)
from digit_recognition.training.mnist import load_mnist
from digit_recognition.training.scoring import (BATCH, batch_decisions, by_variant, calibration,
                                                NO_DIGIT, outcomes, threshold_sweep,
                                                top_correct)
from digit_recognition.training.synthetic_frames import ROI_SIZE

TUTORIAL_THRESHOLD = 100
PHOTO_SIZES = {190: 'inside the box', 260: 'held closer'}  # the photo's longer side, px
EXAMPLES_PER_CONDITION = 2
ROI_MARGIN = 40  # px of frame shown around the ROI in misread examples
MIN_CONFIDENCE = 0.9  # the classifier node's default
SWEEP = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)  # other min_confidence values, reported
# Non-digits drawn on paper, each batch under a condition drawn at random (negatives.py).
GLYPH_KINDS = {'letters (unseen fonts)': negatives.truetype_letter,
               'symbols': negatives.random_symbol, 'scribbles': negatives.scribble,
               'printed words (never trained)': negatives.printed_word}
# The digit-free frames (conditions.BLANK_KINDS) a robot meets most, shown first.
HAND_KINDS = ('finger', 'hand_holding')


@dataclass(frozen=True)
class Pipeline:
    name: str
    model: str  # 'MLP' or 'CNN'
    threshold_mode: str
    normalization: str
    default: bool = False


def make_pipelines(all_modes: bool = False) -> list:
    """The tutorial's pipeline, then the CNN behind the default threshold mode (every mode
    with all_modes)."""
    modes = preprocessing.THRESHOLD_MODES if all_modes else (
        preprocessing.DEFAULT_THRESHOLD_MODE,)
    return [Pipeline('tutorial', 'MLP', 'fixed', 'resize')] + [
        Pipeline(f'CNN {mode}', 'CNN', mode, 'mnist', mode == preprocessing.DEFAULT_THRESHOLD_MODE)
        for mode in modes]


def default_index(pipelines) -> int:
    return next(p for p, pipeline in enumerate(pipelines) if pipeline.default)


def frame_rng(seed: int, name: str, index: int) -> np.random.Generator:
    """The generator of one frame (or batch): the same whatever else runs, so a failure can be
    rendered again for the figure and a --conditions subset shows the same frames."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), index])


def crop_for(frame, pipeline):
    """The crop uint8 [28, 28] the pipeline reads in a bgr8 frame; None: no digit found."""
    return preprocessing.preprocess_frame(frame, TUTORIAL_THRESHOLD, ROI_SIZE,
                                          pipeline.threshold_mode, pipeline.normalization)


class Collector:
    """Crops [P, N, 28, 28] and found [P, N] of N frames, filled one frame at a time."""

    def __init__(self, pipelines, count):
        self.crops = np.zeros((len(pipelines), count, 28, 28), np.uint8)
        self.found = np.zeros((len(pipelines), count), bool)
        self.variants = [''] * count
        self.seconds = np.zeros(len(pipelines) + 1)  # preprocessing per pipeline, rendering
        self.slowest = np.zeros(len(pipelines))  # a live camera waits for the slowest frame

    def add(self, index, frame, variant, pipelines):
        self.variants[index] = variant
        for p, pipeline in enumerate(pipelines):
            started = time.perf_counter()
            crop = crop_for(frame, pipeline)
            seconds = time.perf_counter() - started
            self.seconds[p] += seconds
            self.slowest[p] = max(self.slowest[p], seconds)
            if crop is not None:
                self.crops[p, index], self.found[p, index] = crop, True


def _variant(table, name, rng):
    variants = table[name]
    return variants[int(rng.integers(len(variants)))]


def collect(job):
    """Render and preprocess one job's frames: ('condition', name, strokes, digits), ('glyph',
    kind, batches) or ('blank', kind, batches). Every batch is BATCH consecutive frames of a
    video of one scene (one digit or glyph, pen, sheet, light, in one variant): each with its
    own sensor noise, the held sheet moving a little between them."""
    what, name, extra, pipelines, seed = job
    if what == 'condition':
        strokes, digits = extra
        tag = name if strokes == 'pen' else f'{name}/{strokes}'
        batches = len(digits)
    else:
        tag, batches = f'{what} {name}', extra
    collector = Collector(pipelines, batches * BATCH)
    for b in range(batches):
        batch_rng = frame_rng(seed, tag, b)
        if what == 'condition':
            variant, digit = _variant(CONDITIONS, name, batch_rng), digits[b]
        elif what == 'glyph':
            digit = GLYPH_KINDS[name](batch_rng)
            condition = list(CONDITIONS)[int(batch_rng.integers(len(CONDITIONS)))]
            variant = _variant(CONDITIONS, condition, batch_rng)
        else:
            variant = _variant(BLANK_KINDS, name, batch_rng)
        for k in range(BATCH):
            index = b * BATCH + k
            rng = frame_rng(seed, tag + ' scene', b)  # the same scene in every frame
            camera = frame_rng(seed, tag, batches + index)
            started = time.perf_counter()
            if what == 'condition':
                frame, _ = render_condition(name, digit, rng, variant, strokes=strokes,
                                            camera_rng=camera)
            elif what == 'glyph':
                frame, _ = render_condition(condition, digit, rng, variant, camera_rng=camera)
                variant_name = condition
            else:
                frame, _ = render_blank(name, rng, variant, camera_rng=camera)
            collector.seconds[-1] += time.perf_counter() - started
            collector.add(index, frame, variant_name if what == 'glyph' else variant, pipelines)
    return collector


def run_jobs(jobs, workers):
    """collect() of each job, in `workers` processes (rendering is most of the time)."""
    if workers <= 1:
        return [collect(job) for job in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(collect, jobs))


def predict(classifier, crops, batch_size=500):
    """Probabilities float32 [N, C] of the classifier on crops uint8 [N, 28, 28]."""
    if len(crops) == 0:
        return np.zeros((0, classifier.classes), np.float32)
    return np.concatenate([classifier.predict_batch(crops[i:i + batch_size])
                           for i in range(0, len(crops), batch_size)])


def read_crops(classifiers, pipelines, crops, found):
    """Probabilities [P] of float32 [N, C]: each pipeline's model on the crops it found
    (rows of frames without a crop are zero)."""
    result = []
    for p, pipeline in enumerate(pipelines):
        classifier = classifiers[pipeline.model]
        rows = predict(classifier, crops[p][found[p]])
        full = np.zeros((found.shape[1], rows.shape[1] if len(rows) else
                         classifier.classes), np.float32)
        full[found[p]] = rows
        result.append(full)
    return result


def not_a_digit_class(classifier):
    return NOT_A_DIGIT if classifier.classes > NOT_A_DIGIT else None


def score_batches(pipelines, classifiers, collector, labels, variants, min_confidence):
    """Per pipeline: outcomes (right/wrong/silent) and per variant, the share of frames with
    a crop, and the decisions (for calibration and the confusion matrix)."""
    probabilities = read_crops(classifiers, pipelines, collector.crops, collector.found)
    result, decisions = {}, {}
    for p, pipeline in enumerate(pipelines):
        decided = batch_decisions(probabilities[p], collector.found[p], min_confidence)
        decisions[pipeline.name] = decided
        result[pipeline.name] = outcomes(decided, labels) | {
            'found': float(collector.found[p].mean()),
            'variants': by_variant(decided, labels, variants)}
    return result, decisions


def redraw_accuracy(classifiers, digits, labels):
    """Each model's accuracy on the digits redrawn by the pen the conditions draw with."""
    redrawn = np.stack([pen_redraw(digit) for digit in digits])
    return {name: float((predict(c, redrawn).argmax(axis=1) == labels).mean())
            for name, c in classifiers.items()}


def read_labels(directory):
    """(path, label, writer) of each photo listed in directory/labels.csv."""
    directory = Path(directory)
    with open(directory / 'labels.csv', newline='') as f:
        return [(directory / row['path'], int(row['label']), row.get('writer', ''))
                for row in csv.DictReader(f)]


def evaluate_photos(directory, pipelines, classifiers, min_confidence):
    """Each pipeline on the labelled photos at each of PHOTO_SIZES: a photo is one still
    frame, so its batch is five copies of one crop; published right / wrong / silent, and
    the default pipeline's published-right share per writer."""
    photos = read_labels(directory)
    labels = np.array([label for _, label, _ in photos])
    writers = np.array([writer for _, _, writer in photos])
    images = [load_photo(path) for path, _, _ in photos]
    default = pipelines[default_index(pipelines)].name
    sizes, per_writer = {}, {}
    for side in PHOTO_SIZES:
        collector = Collector(pipelines, len(images) * BATCH)
        for i, image in enumerate(images):
            frame = photo_frame(image, side)
            collector.add(i * BATCH, frame, '', pipelines)
            for p in range(len(pipelines)):  # the same still frame four more times
                collector.crops[p, i * BATCH + 1:(i + 1) * BATCH] = collector.crops[p, i * BATCH]
                collector.found[p, i * BATCH + 1:(i + 1) * BATCH] = collector.found[p, i * BATCH]
        result, decisions = score_batches(pipelines, classifiers, collector, labels,
                                          [''] * len(labels), min_confidence)
        sizes[str(side)] = {name: {k: v for k, v in r.items() if k != 'variants'}
                            for name, r in result.items()}
        right = decisions[default]['published'] & (decisions[default]['digit'] == labels)
        per_writer[str(side)] = {w: float(right[writers == w].mean())
                                 for w in sorted(set(writers))}
    return dict(directory=str(directory), photos=len(images), sizes=sizes, writers=per_writer)


def confusion_matrix(labels, digits):
    """10 x 11 counts of batches: rows the digit shown, columns the digit published, last
    column silent."""
    matrix = np.zeros((10, 11), int)
    np.add.at(matrix, (labels, np.where(digits == NO_DIGIT, 10, digits)), 1)
    return matrix


def format_confusion(matrix):
    lines = ['| shown \\ published | ' + ' | '.join(map(str, range(10))) + ' | silent |',
             '|---' * 12 + '|']
    lines += [f'| **{d}** | ' + ' | '.join(str(v) for v in row) + ' |'
              for d, row in enumerate(matrix)]
    return '\n'.join(lines)


def column_names(pipelines):
    return [p.name + (' (default)' if p.default else '') for p in pipelines]


def markdown_table(first, columns, rows):
    """rows: (label, [cell, ...]) pairs."""
    lines = [f'| {first} | ' + ' | '.join(columns) + ' |', '|---' * (len(columns) + 1) + '|']
    return '\n'.join([*lines, *(f'| {label} | ' + ' | '.join(cells) + ' |'
                                for label, cells in rows)])


def percent(value):
    return '-' if value is None else f'{100 * value:.1f} %'


def outcome_cell(result):
    return ' / '.join(f'{100 * result[key]:.1f}' for key in ('right', 'wrong', 'silent'))


def conditions_table(pipelines, conditions, mean):
    rows = [(name, [outcome_cell(result[p.name]) for p in pipelines])
            for name, result in conditions.items()]
    rows.append(('**mean**', [outcome_cell(mean[p.name]) for p in pipelines]))
    return markdown_table('condition', column_names(pipelines), rows)


def variants_table(pipeline, conditions):
    rows = [(f'{name}: {variant}', [outcome_cell(r)])
            for name, result in conditions.items()
            for variant, r in result[pipeline.name]['variants'].items()]
    return markdown_table('condition: variant', [pipeline.name], rows)


def non_digits_table(pipelines, non_digits):
    rows = [(kind, [f'{100 * result[p.name]["wrong"]:.1f} %' for p in pipelines])
            for kind, result in non_digits.items()]
    return markdown_table('nothing to read: batches that publish a digit',
                          column_names(pipelines), rows)


def photos_tables(pipelines, real):
    sizes = markdown_table('photos', column_names(pipelines), [
        (f'{PHOTO_SIZES[int(side)]} ({side} px)', [outcome_cell(result[p.name])
                                                   for p in pipelines])
        for side, result in real['sizes'].items()])
    writers = sorted(next(iter(real['writers'].values())))
    per_writer = markdown_table('writer', [f'{side} px' for side in real['writers']], [
        (w, [f'{100 * real["writers"][side][w]:.0f} %' for side in real['writers']])
        for w in writers])
    return sizes, per_writer


def mean_over(pipelines, results):
    return {p.name: {key: float(np.mean([r[p.name][key] for r in results.values()]))
                     for key in ('right', 'wrong', 'silent', 'found')} for p in pipelines}


def _pyplot():
    import matplotlib  # noqa: PLC0415 - only evaluate draws plots
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # noqa: PLC0415
    return plt


def save_confusion_figure(path, matrix, examples, title):
    """Confusion matrix (left) and crops of batches published wrong."""
    plt = _pyplot()
    figure = plt.figure(figsize=(16, 8))
    grid = figure.add_gridspec(4, 8)
    axis = figure.add_subplot(grid[:, :4])
    axis.imshow(np.log1p(matrix), cmap='Blues')
    for (row, col), value in np.ndenumerate(matrix):
        if value:
            axis.text(col, row, str(value), ha='center', va='center', fontsize=7)
    axis.set_xticks(range(11), [*map(str, range(10)), 'silent'])
    axis.set_yticks(range(10))
    axis.set_xlabel('published')
    axis.set_ylabel('digit shown')
    axis.set_title(title)
    for k, (crop, caption) in enumerate(examples[:16]):
        row, col = divmod(k, 4)
        crop_axis = figure.add_subplot(grid[row, 4 + col])
        crop_axis.imshow(crop, cmap='gray', vmin=0, vmax=255)
        crop_axis.set_title(caption, fontsize=7)
        crop_axis.axis('off')
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def save_reliability_figure(path, calibration_result, title):
    """Reliability diagram: accuracy against mean confidence per bin, with batch counts."""
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    bins = calibration_result['bins']
    centres = [(b['low'] + b['high']) / 2 for b in bins]
    width = bins[0]['high'] - bins[0]['low'] if bins else 0.06
    left.bar(centres, [b['accuracy'] for b in bins], width * 0.9, label='accuracy')
    left.plot([b['confidence'] for b in bins], [b['confidence'] for b in bins], 'r.',
              label='mean confidence')
    left.plot([0, 1], [0, 1], 'k--', linewidth=0.8, label='perfect calibration')
    left.set_xlabel("confidence of the batch's top class")
    left.set_ylabel('share right')
    left.legend(fontsize=8)
    left.set_title(f'ECE {100 * calibration_result["ece"]:.2f} %, '
                   f'{calibration_result["batches"]} batches')
    right.bar(centres, [b['count'] for b in bins], width * 0.9)
    right.set_yscale('log')
    right.set_xlabel('confidence')
    right.set_ylabel('batches')
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def save_outcomes_figure(path, pipelines, report):
    """Stacked bars per condition (and photos): published right, wrong, silent, default
    pipeline; beside them, false publications per non-digit kind for every pipeline."""
    plt = _pyplot()
    default = pipelines[default_index(pipelines)].name
    rows = {name: result[default] for name, result in report['conditions'].items()}
    for side, result in report.get('real', {}).get('sizes', {}).items():
        rows[f'real photos, {side} px'] = result[default]
    non_digits = report['non_digits']
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(15, 2 + 0.3 * len(rows)), gridspec_kw={'width_ratios': [3, 2]})
    y = np.arange(len(rows))
    start = np.zeros(len(rows))
    for key, colour in (('right', 'tab:green'), ('wrong', 'tab:red'), ('silent', 'tab:grey')):
        values = np.array([100 * r[key] for r in rows.values()])
        left.barh(y, values, left=start, color=colour, label=f'published {key}'
                  if key != 'silent' else 'silent')
        start += values
    left.set_yticks(y, list(rows))
    left.set_xlim(0, 100)
    left.invert_yaxis()
    left.set_xlabel(f'batches of {BATCH} frames, % ({default})')
    left.legend(loc='lower left', fontsize=8)
    height = 0.8 / len(pipelines)
    for p, (pipeline, label) in enumerate(zip(pipelines, column_names(pipelines))):
        y = np.arange(len(non_digits)) + (p - (len(pipelines) - 1) / 2) * height
        right.barh(y, [100 * r[pipeline.name]['wrong'] for r in non_digits.values()], height,
                   label=label)
    right.set_yticks(range(len(non_digits)), list(non_digits))
    right.invert_yaxis()
    right.set_xlabel('batches that publish a digit, %')
    right.legend(fontsize=8)
    figure.suptitle(f'seed {report["seed"]}, {report["batches"]} batches per condition, '
                    f'min_confidence {report["min_confidence"]}')
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', help='directory with the four MNIST IDX files '
                        '(default: Keras downloader)')
    parser.add_argument('--cnn', default=str(BUNDLED_MODEL), help='CNN model (default: bundled)')
    parser.add_argument('--mlp', default=str(TUTORIAL_MODEL),
                        help="tutorial's MLP (default: bundled)")
    parser.add_argument('--count', type=int, default=1000,
                        help=f'frames per condition and stroke style, in batches of {BATCH} '
                        'frames of one MNIST test digit (one seeded sample, the same digits '
                        'in every condition)')
    parser.add_argument('--blank', type=int, default=500,
                        help='frames per non-digit kind (blank frames, fingers, letters, '
                        'symbols, ...); 0 = none')
    parser.add_argument('--real', metavar='DIR',
                        help='labelled photos: DIR/labels.csv with path,label,writer')
    parser.add_argument('--conditions', default=','.join(CONDITIONS),
                        help='comma-separated subset of: ' + ', '.join(CONDITIONS))
    parser.add_argument('--strokes', default=','.join(STROKES),
                        help='how digits are drawn, comma-separated: pen (centre line redrawn '
                        "by the scene's pen), mnist (MNIST's own strokes scaled up)")
    parser.add_argument('--min-confidence', type=float, default=MIN_CONFIDENCE,
                        help="the classifier node's min_confidence (default: %(default)s)")
    parser.add_argument('--all-modes', action='store_true',
                        help='the CNN behind every threshold mode, not only the default')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                        help='processes rendering frames (default: one per core)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--output', default='evaluation', help='folder for the PNGs and JSON')
    options = parser.parse_args(argv)
    options.conditions = [c for c in options.conditions.split(',') if c]
    options.strokes = [s for s in options.strokes.split(',') if s]
    unknown = [c for c in options.conditions if c not in CONDITIONS]
    if not options.conditions:
        parser.error('--conditions names no condition')
    if unknown:
        parser.error(f'unknown condition {", ".join(unknown)}; choose from '
                     f'{", ".join(CONDITIONS)}')
    if not options.strokes or set(options.strokes) - set(STROKES):
        parser.error(f'--strokes must name some of {", ".join(STROKES)}')
    if options.count < BATCH or options.blank < 0:
        parser.error(f'--count must be at least {BATCH} and --blank at least 0')
    if not 0 <= options.min_confidence <= 1:
        parser.error('--min-confidence must be 0 to 1')
    return options


def load_inputs(options):
    """MNIST's test set and the two models; raises FileNotFoundError, ValueError or
    ModelLoadError with a message for the user."""
    _, (test_images, test_labels) = load_mnist(options.data)
    from digit_recognition.core.model import load_classifier  # noqa: PLC0415 - imports TensorFlow
    classifiers = {'MLP': load_classifier(options.mlp), 'CNN': load_classifier(options.cnn)}
    if options.real:
        read_labels(options.real)  # a missing or malformed labels.csv fails before the work
    return test_images, test_labels.astype(int), classifiers


def condition_name(name, strokes):
    return name if strokes == 'pen' else f'{name}, MNIST strokes'


def evaluate_matrix(options, pipelines, classifiers, digits, labels, timing):
    """Every condition in every stroke style, and every non-digit kind: outcomes per batch.
    Returns (conditions, non_digits, calibration rows, confusion rows, misread crops)."""
    jobs = [('condition', name, (strokes, digits), pipelines, options.seed)
            for strokes in options.strokes for name in options.conditions]
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
    for (what, name, extra, _, _), collector in zip(jobs, collectors):
        count = len(collector.variants) // BATCH
        is_condition = what == 'condition'
        truth = labels if is_condition else np.full(count, NO_DIGIT)
        variants = collector.variants[::BATCH]
        started = time.perf_counter()
        result, decisions = score_batches(pipelines, classifiers, collector, truth, variants,
                                          options.min_confidence)
        timing['classify_s'] += time.perf_counter() - started
        timing['preprocess_s'] += collector.seconds[:-1]
        timing['preprocess_max_s'] = np.maximum(timing['preprocess_max_s'], collector.slowest)
        timing['render_s' if is_condition else 'blank_render_s'] += collector.seconds[-1]
        timing['frames' if is_condition else 'blank_frames'] += len(collector.variants)
        default_rows.append((decisions[default], truth))
        for p in pipelines:
            model = classifiers[p.model]
            seen[p.name]['confidence'].append(decisions[p.name]['confidence'])
            seen[p.name]['correct'].append(
                top_correct(decisions[p.name], truth, not_a_digit_class(model)))
        if is_condition:
            conditions[condition_name(name, extra[0])] = result
            shown.append(truth)
            published.append(decisions[default]['digit'])
            wrong = np.flatnonzero(decisions[default]['published']
                                   & (decisions[default]['digit'] != truth))
            d = default_index(pipelines)
            misread += [(collector.crops[d, b * BATCH],
                         f'{name} {variants[b]}: {truth[b]} as {decisions[default]["digit"][b]}')
                        for b in wrong[:EXAMPLES_PER_CONDITION]]
        else:
            label = {'finger': 'fingers entering the box',
                     'hand_holding': 'a hand holding blank paper'}.get(name, name)
            non_digits[label if what == 'glyph' or name in HAND_KINDS
                       else f'blank: {name}'] = result
        print(f'evaluate: {what} {condition_name(name, extra[0]) if is_condition else name}: '
              f'{len(collector.variants)} frames in {collector.seconds.sum():.0f} s',
              file=sys.stderr, flush=True)
    calibrations = {name: calibration(np.concatenate(s['confidence']),
                                      np.concatenate(s['correct'])) for name, s in seen.items()}
    matrix = (confusion_matrix(np.concatenate(shown), np.concatenate(published)) if shown
              else np.zeros((10, 11), int))
    sweep = threshold_sweep(default_rows, SWEEP, not_a_digit_class(
        classifiers[pipelines[default_index(pipelines)].model]))
    return conditions, non_digits, calibrations, matrix, misread, sweep


def print_report(report, pipelines, matrix, timing):
    default = pipelines[default_index(pipelines)]
    print(f'\nseed {report["seed"]}; {report["count"]} MNIST test digits per condition (the '
          f'same seeded sample in every condition), each a batch of {BATCH} consecutive '
          f'frames of one scene; {len(report["conditions"])} condition rows; '
          f'{report["blank_count"]} frames per non-digit kind; min_confidence '
          f'{report["min_confidence"]}; roi_size {ROI_SIZE}\n')
    print('what the robot receives, per batch of five frames: published right / published '
          'wrong / silent, %:\n')
    print(conditions_table(pipelines, report['conditions'], report['mean']))
    print(f'\nper variant, {default.name}:\n')
    print(variants_table(default, report['conditions']))
    if report['non_digits']:
        print(f'\nnothing to read ({report["blank_count"] // BATCH} batches per kind): '
              'batches that publish a digit:\n')
        print(non_digits_table(pipelines, report['non_digits']))
    print('\nconfidence calibration (top class of every batch with a crop, all conditions and '
          'kinds): expected calibration error ' + ', '.join(
              f'{name} {100 * c["ece"]:.2f} %' for name, c in report['calibration'].items()))
    print(f'\n{default.name} at other min_confidence values (mean over the condition rows; '
          'the worst non-digit kind):\n')
    print(markdown_table('min_confidence', ['published right', 'published wrong',
                                            'worst non-digit published'], [
        (f'{row["min_confidence"]:.2f}', [percent(row[key]) for key in
                                          ('right', 'wrong', 'worst_non_digit')])
        for row in report['min_confidence_sweep']]))
    if 'real' in report:
        sizes, writers = photos_tables(pipelines, report['real'])
        print(f'\n{report["real"]["photos"]} labelled photos from {report["real"]["directory"]}'
              ' (published right / wrong / silent, %):\n')
        print(sizes)
        print(f'\npublished right per writer, {default.name}:\n')
        print(writers)
    print('\nthe models alone, on MNIST and on the sampled digits as the pen redraws them '
          '(no camera, argmax: what the redrawing costs):\n')
    print(markdown_table('model', [f'MNIST test ({report["mnist_digits"]})',
                                   f'pen redraw ({report["count"]})'], [
        (name, [f'{100 * accuracy:.2f} %', f'{100 * report["pen_redraw"][name]:.2f} %'])
        for name, accuracy in report['mnist'].items()]))
    print(f'\nconfusion matrix of batches, {default.name}, all conditions:\n')
    print(format_confusion(matrix))
    render = 1000 * timing['render_s'] / max(timing['frames'], 1)
    blank_render = 1000 * timing['blank_render_s'] / max(timing['blank_frames'], 1)
    print(f'\nrendering: {render:.1f} ms per condition frame, {blank_render:.1f} ms per '
          'non-digit frame')
    per_frame = timing['preprocess_s'] / max(timing['frames'] + timing['blank_frames'], 1)
    print('preprocessing per frame, mean / slowest: ' + ', '.join(
        f'{p.name} {1000 * s:.1f} / {1000 * m:.0f} ms'
        for p, s, m in zip(pipelines, per_frame, timing['preprocess_max_s'])))
    print(f'classifying: {timing["classify_s"]:.1f} s; total {timing["total_s"]:.0f} s')


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
                  blank_count=options.blank, min_confidence=options.min_confidence,
                  digits='one seeded sample of the MNIST test set, the same in every condition',
                  sample=sample.tolist(), mnist_digits=len(test_images),
                  pipelines=[vars(p) for p in pipelines])
    if options.real:  # first: a photo that cannot be read stops the run before the long part
        report['real'] = evaluate_photos(options.real, pipelines, classifiers,
                                         options.min_confidence)
    conditions, non_digits, calibrations, matrix, misread, sweep = evaluate_matrix(
        options, pipelines, classifiers, digits, labels, timing)
    report.update(
        mnist={name: float((predict(c, test_images).argmax(axis=1) == test_labels).mean())
               for name, c in classifiers.items()},
        pen_redraw=redraw_accuracy(classifiers, digits, labels),
        conditions=conditions, mean=mean_over(pipelines, conditions),
        non_digits=non_digits, calibration=calibrations, min_confidence_sweep=sweep)
    report['confusion'] = matrix.tolist()
    report['timing'] = timing
    return report, matrix, misread


def main(argv=None):
    options = parse_args(argv)
    started = time.monotonic()
    try:
        pipelines = make_pipelines(options.all_modes)
        test_images, test_labels, classifiers = load_inputs(options)
        report, matrix, misread = build_report(options, pipelines, classifiers, test_images,
                                               test_labels)
    except (OSError, ValueError, KeyError, ModelLoadError) as exc:
        print(f'evaluate: {exc}', file=sys.stderr)
        return 1
    timing = report['timing']
    timing['total_s'] = time.monotonic() - started
    print_report(report, pipelines, matrix, timing)
    report['timing'] = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                        for k, v in timing.items()}
    output = Path(options.output)
    output.mkdir(parents=True, exist_ok=True)
    save_outputs(output, report, pipelines, matrix, misread)
    return 0


def save_outputs(output, report, pipelines, matrix, misread):
    default = pipelines[default_index(pipelines)].name
    save_confusion_figure(output / 'confusion.png', matrix, misread,
                          f'{default}, batches over all conditions: '
                          f'{100 * report["mean"][default]["right"]:.2f} % published right')
    save_outcomes_figure(output / 'accuracy.png', pipelines, report)
    save_reliability_figure(output / 'reliability.png', report['calibration'][default],
                            f'{default}: confidence against share right, per batch')
    (output / 'evaluation.json').write_text(json.dumps(report, indent=1, default=_json_value))
    print(f'\nsaved {output / "evaluation.json"}, {output / "accuracy.png"}, '
          f'{output / "reliability.png"} and {output / "confusion.png"}')


def _json_value(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f'not JSON: {type(value)}')


if __name__ == '__main__':
    sys.exit(main())
