"""evaluate: accuracy of the digit reader under real camera conditions, on photos and on MNIST.

Each condition of conditions.CONDITIONS (held close, shadows, dim light, ruled paper, ...)
renders --count MNIST test digits as camera frames; the digits are one seeded sample of the
test set, the same in every condition, so conditions differ only by the condition. Each
frame is rendered once and read by every pipeline: the tutorial's (fixed threshold 100,
resize, MLP) and preprocess_frame with the CNN in each threshold mode. A frame where no digit
is found counts as an error. Frames without a digit (conditions.BLANK_KINDS) measure false
digits; --real measures labelled photos of real handwriting placed in a frame as the robot
would see them. Prints markdown tables and the default pipeline's confusion matrix; saves
evaluation.json, accuracy.png and confusion.png in --output.
"""

import argparse
import csv
from dataclasses import dataclass
import json
from pathlib import Path
import sys
import time
import zlib

import numpy as np

from digit_recognition.core import preprocessing
from digit_recognition.core.model import BUNDLED_MODEL, ModelLoadError, TUTORIAL_MODEL
from digit_recognition.training.conditions import (BLANK_KINDS, CONDITIONS, load_photo, pen_redraw,
                                          photo_frame, render_blank, render_condition)
from digit_recognition.training.mnist import load_mnist
from digit_recognition.training.synthetic_frames import ROI_SIZE

NO_DIGIT = -1  # prediction when preprocessing found no digit
TUTORIAL_THRESHOLD = 100
TARGET = 0.985  # the accuracy the reader should reach in every condition
PHOTO_SIZES = {190: 'inside the box', 260: 'held closer'}  # the photo's longer side, px
EXAMPLES_PER_CONDITION = 2
ROI_MARGIN = 40  # px of frame shown around the ROI in misread examples


@dataclass(frozen=True)
class Pipeline:
    name: str
    model: str  # 'MLP' or 'CNN'
    threshold_mode: str
    normalization: str
    default: bool = False


def make_pipelines() -> list:
    """The tutorial's pipeline, then the CNN behind every threshold mode."""
    return [Pipeline('tutorial', 'MLP', 'fixed', 'resize')] + [
        Pipeline(f'CNN {mode}', 'CNN', mode, 'mnist', mode == preprocessing.DEFAULT_THRESHOLD_MODE)
        for mode in preprocessing.THRESHOLD_MODES]


def default_index(pipelines) -> int:
    return next(p for p, pipeline in enumerate(pipelines) if pipeline.default)


def frame_rng(seed: int, name: str, index: int) -> np.random.Generator:
    """The generator of one frame: the same frame whatever else runs, so a failure can be
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


def collect_condition(name, digits, pipelines, seed):
    collector = Collector(pipelines, len(digits))
    for i, digit in enumerate(digits):
        started = time.perf_counter()
        frame, variant = render_condition(name, digit, frame_rng(seed, name, i))
        collector.seconds[-1] += time.perf_counter() - started
        collector.add(i, frame, variant, pipelines)
    return collector


def collect_blanks(kind, count, pipelines, seed):
    collector = Collector(pipelines, count)
    for i in range(count):
        started = time.perf_counter()
        frame, variant = render_blank(kind, frame_rng(seed, 'blank ' + kind, i))
        collector.seconds[-1] += time.perf_counter() - started
        collector.add(i, frame, variant, pipelines)
    return collector


def predict(classifier, crops, batch_size=500):
    """Digits int [N] the classifier reads in crops uint8 [N, 28, 28], in batches."""
    if len(crops) == 0:
        return np.zeros(0, int)
    return np.concatenate([classifier.predict_batch(crops[i:i + batch_size]).argmax(axis=1)
                           for i in range(0, len(crops), batch_size)])


def read_crops(classifiers, pipelines, crops, found):
    """Predictions int [P, N]: each pipeline's model on the crops it found, NO_DIGIT elsewhere."""
    predictions = np.full(found.shape, NO_DIGIT)
    for p, pipeline in enumerate(pipelines):
        predictions[p, found[p]] = predict(classifiers[pipeline.model], crops[p][found[p]])
    return predictions


def rates(correct, found):
    return dict(accuracy=float(np.mean(correct)), found=float(np.mean(found)),
                frames=len(found))


def score(pipelines, predictions, labels, found, variants):
    """Per pipeline: accuracy, share of frames with a digit found, frames; and per variant."""
    variants = np.asarray(variants)
    result = {}
    for p, pipeline in enumerate(pipelines):
        correct = predictions[p] == labels
        result[pipeline.name] = rates(correct, found[p]) | {'variants': {
            v: rates(correct[variants == v], found[p][variants == v])
            for v in dict.fromkeys(variants)}}
    return result


def score_blanks(pipelines, found, variants):
    """Per pipeline: share of digit-free frames where a digit was found; and per variant."""
    variants = np.asarray(variants)
    return {pipeline.name: {
        'false_digit': float(found[p].mean()), 'frames': len(variants),
        'variants': {v: {'false_digit': float(found[p][variants == v].mean()),
                         'frames': int((variants == v).sum())}
                     for v in dict.fromkeys(variants)}}
            for p, pipeline in enumerate(pipelines)}


def redraw_accuracy(classifiers, digits, labels):
    """Each model's accuracy on the digits redrawn by the pen the conditions draw with."""
    redrawn = np.stack([pen_redraw(digit) for digit in digits])
    return {name: float((predict(c, redrawn) == labels).mean())
            for name, c in classifiers.items()}


def read_labels(directory):
    """(path, label, writer) of each photo listed in directory/labels.csv."""
    directory = Path(directory)
    with open(directory / 'labels.csv', newline='') as f:
        return [(directory / row['path'], int(row['label']), row.get('writer', ''))
                for row in csv.DictReader(f)]


def evaluate_photos(directory, pipelines, classifiers):
    """Accuracy and found share of each pipeline on the labelled photos at each of
    PHOTO_SIZES, and the default pipeline's accuracy per writer."""
    photos = read_labels(directory)
    labels = np.array([label for _, label, _ in photos])
    writers = np.array([writer for _, _, writer in photos])
    images = [load_photo(path) for path, _, _ in photos]
    default = default_index(pipelines)
    sizes, per_writer = {}, {}
    for side in PHOTO_SIZES:
        collector = Collector(pipelines, len(images))
        for i, image in enumerate(images):
            collector.add(i, photo_frame(image, side), '', pipelines)
        predictions = read_crops(classifiers, pipelines, collector.crops, collector.found)
        sizes[str(side)] = {pipeline.name: rates(predictions[p] == labels, collector.found[p])
                            for p, pipeline in enumerate(pipelines)}
        correct = predictions[default] == labels
        per_writer[str(side)] = {w: float(correct[writers == w].mean())
                                 for w in sorted(set(writers))}
    return dict(directory=str(directory), photos=len(images), sizes=sizes, writers=per_writer)


def confusion_matrix(labels, predictions):
    """10 x 11 counts: rows true digit, columns predicted digit, last column no digit found."""
    matrix = np.zeros((10, 11), int)
    np.add.at(matrix, (labels, np.where(predictions == NO_DIGIT, 10, predictions)), 1)
    return matrix


def format_confusion(matrix):
    lines = ['| true \\ read | ' + ' | '.join(map(str, range(10))) + ' | none |',
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


def accuracy_cell(result):
    return f'{100 * result["accuracy"]:.2f} % ({100 * result["found"]:.1f})'


def conditions_table(pipelines, conditions, mean):
    rows = [(name, [accuracy_cell(result[p.name]) for p in pipelines])
            for name, result in conditions.items()]
    rows.append(('**mean**', [accuracy_cell(mean[p.name]) for p in pipelines]))
    return markdown_table('condition', column_names(pipelines), rows)


def blanks_table(pipelines, blanks):
    rows = [(kind, [f'{100 * result[p.name]["false_digit"]:.1f} %' for p in pipelines])
            for kind, result in blanks.items()]
    return markdown_table('blank kind: false digits', column_names(pipelines), rows)


def photos_tables(pipelines, real):
    sizes = markdown_table('photos', column_names(pipelines), [
        (f'{PHOTO_SIZES[int(side)]} ({side} px)', [accuracy_cell(result[p.name])
                                                   for p in pipelines])
        for side, result in real['sizes'].items()])
    writers = sorted(next(iter(real['writers'].values())))
    per_writer = markdown_table('writer', [f'{side} px' for side in real['writers']], [
        (w, [f'{100 * real["writers"][side][w]:.0f} %' for side in real['writers']])
        for w in writers])
    return sizes, per_writer


def mean_over_conditions(pipelines, conditions):
    return {p.name: {key: float(np.mean([c[p.name][key] for c in conditions.values()]))
                     for key in ('accuracy', 'found')} for p in pipelines}


def example_image(name, digit, seed, index):
    """The ROI and ROI_MARGIN px around it of a frame rendered again, the ROI outlined."""
    import cv2  # noqa: PLC0415 - only the figure needs it here

    frame, _ = render_condition(name, digit, frame_rng(seed, name, index))
    top, left = (frame.shape[0] - ROI_SIZE) // 2, (frame.shape[1] - ROI_SIZE) // 2
    cv2.rectangle(frame, (left - 1, top - 1), (left + ROI_SIZE, top + ROI_SIZE), (0, 200, 0), 1)
    return frame[max(top - ROI_MARGIN, 0):top + ROI_SIZE + ROI_MARGIN,
                 max(left - ROI_MARGIN, 0):left + ROI_SIZE + ROI_MARGIN, ::-1]


def save_confusion_figure(path, matrix, examples, title):
    """Confusion matrix (left) and misread examples: frame around the ROI, and the crop read."""
    import matplotlib  # noqa: PLC0415 - only evaluate draws plots
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure = plt.figure(figsize=(20, 8))
    grid = figure.add_gridspec(4, 12)
    axis = figure.add_subplot(grid[:, :4])
    axis.imshow(np.log1p(matrix), cmap='Blues')
    for (row, col), value in np.ndenumerate(matrix):
        if value:
            axis.text(col, row, str(value), ha='center', va='center', fontsize=7)
    axis.set_xticks(range(11), [*map(str, range(10)), 'none'])
    axis.set_yticks(range(10))
    axis.set_xlabel('read as')
    axis.set_ylabel('true digit')
    axis.set_title(title)
    for k, (frame, crop, caption) in enumerate(examples[:16]):
        row, pair = divmod(k, 4)
        frame_axis = figure.add_subplot(grid[row, 4 + 2 * pair])
        frame_axis.imshow(frame)
        frame_axis.set_title(caption, fontsize=7)
        crop_axis = figure.add_subplot(grid[row, 5 + 2 * pair])
        crop_axis.imshow(crop, cmap='gray', vmin=0, vmax=255)
        for a in (frame_axis, crop_axis):
            a.axis('off')
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def save_accuracy_figure(path, pipelines, report):
    """Horizontal bars: accuracy per condition (and photos) per pipeline against the target;
    beside them, the false digits per blank kind."""
    import matplotlib  # noqa: PLC0415
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # noqa: PLC0415

    rows = {name: result for name, result in report['conditions'].items()}
    rows['mean over conditions'] = report['mean']
    for side, result in report.get('real', {}).get('sizes', {}).items():
        rows[f'real photos, {side} px'] = result
    blanks = report['blanks']
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(15, 2 + 0.45 * len(rows)), gridspec_kw={'width_ratios': [3, 2]})
    height = 0.8 / len(pipelines)
    for p, (pipeline, label) in enumerate(zip(pipelines, column_names(pipelines))):
        y = np.arange(len(rows)) + (p - (len(pipelines) - 1) / 2) * height
        left.barh(y, [100 * r[pipeline.name]['accuracy'] for r in rows.values()], height,
                  label=label)
        if blanks:
            y = np.arange(len(blanks)) + (p - (len(pipelines) - 1) / 2) * height
            right.barh(y, [100 * b[pipeline.name]['false_digit'] for b in blanks.values()],
                       height, label=label)
    left.axvline(100 * TARGET, color='red', linestyle='--', label=f'target {100 * TARGET:g} %')
    left.set_yticks(range(len(rows)), list(rows))
    left.set_xlim(0, 100)
    left.set_xlabel('accuracy, % (no digit found counts as wrong)')
    left.invert_yaxis()
    left.grid(axis='x', alpha=0.3)
    right.set_yticks(range(len(blanks)), list(blanks))
    right.set_xlabel('frames without a digit where one was found, %')
    right.invert_yaxis()
    right.grid(axis='x', alpha=0.3)
    figure.suptitle(f'seed {report["seed"]}, {report["count"]} digits per condition, '
                    f'{report["blank_count"]} frames per blank kind')
    figure.legend(*left.get_legend_handles_labels(), loc='lower center',
                  ncol=len(pipelines) + 1, fontsize=9)
    figure.tight_layout(rect=(0, 0.05, 1, 1))
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
                        help='MNIST test digits per condition: one seeded sample, the same '
                        'digits in every condition')
    parser.add_argument('--blank', type=int, default=500,
                        help='frames per blank kind (no digit in them); 0 = none')
    parser.add_argument('--real', metavar='DIR',
                        help='labelled photos: DIR/labels.csv with path,label,writer')
    parser.add_argument('--conditions', default=','.join(CONDITIONS),
                        help='comma-separated subset of: ' + ', '.join(CONDITIONS))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--output', default='evaluation', help='folder for the PNGs and JSON')
    options = parser.parse_args(argv)
    options.conditions = [c for c in options.conditions.split(',') if c]
    unknown = [c for c in options.conditions if c not in CONDITIONS]
    if not options.conditions:
        parser.error('--conditions names no condition')
    if unknown:
        parser.error(f'unknown condition {", ".join(unknown)}; choose from '
                     f'{", ".join(CONDITIONS)}')
    if options.count < 1 or options.blank < 0:
        parser.error('--count must be at least 1 and --blank at least 0')
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


def progress(what, collector):
    """One line on stderr per condition: a full run takes a while."""
    print(f'evaluate: {what} in {collector.seconds.sum():.0f} s', file=sys.stderr, flush=True)


def evaluate_conditions(options, pipelines, classifiers, digits, labels, timing):
    """Scores per condition, the default pipeline's predictions over all, and misread
    examples (condition, index, label, read, variant)."""
    default = default_index(pipelines)
    conditions, default_reads, misread = {}, [], []
    for name in options.conditions:
        collector = collect_condition(name, digits, pipelines, options.seed)
        started = time.perf_counter()
        predictions = read_crops(classifiers, pipelines, collector.crops, collector.found)
        timing['classify_s'] += time.perf_counter() - started
        timing['preprocess_s'] += collector.seconds[:-1]
        timing['preprocess_max_s'] = np.maximum(timing['preprocess_max_s'], collector.slowest)
        timing['render_s'] += collector.seconds[-1]
        conditions[name] = score(pipelines, predictions, labels, collector.found,
                                 collector.variants)
        progress(f'{name}: {len(digits)} frames', collector)
        default_reads.append(predictions[default])
        wrong = np.flatnonzero(predictions[default] != labels)[:EXAMPLES_PER_CONDITION]
        misread += [(name, i, labels[i], predictions[default][i], collector.variants[i],
                     collector.crops[default][i]) for i in wrong]
    return conditions, np.concatenate(default_reads), misread


def evaluate_blanks(options, pipelines, timing):
    blanks = {}
    for kind in BLANK_KINDS if options.blank else ():
        collector = collect_blanks(kind, options.blank, pipelines, options.seed)
        timing['preprocess_s'] += collector.seconds[:-1]
        timing['preprocess_max_s'] = np.maximum(timing['preprocess_max_s'], collector.slowest)
        timing['blank_render_s'] += collector.seconds[-1]
        blanks[kind] = score_blanks(pipelines, collector.found, collector.variants)
        progress(f'blank {kind}: {options.blank} frames', collector)
    return blanks


def print_report(report, pipelines, matrix, timing):
    default = pipelines[default_index(pipelines)].name
    print(f'\nseed {report["seed"]}; {report["count"]} MNIST test digits per condition (the '
          f'same seeded sample in every condition), {len(report["conditions"])} conditions; '
          f'{report["blank_count"]} frames per blank kind; fixed threshold '
          f'{TUTORIAL_THRESHOLD}, roi_size {ROI_SIZE}\n')
    print('accuracy (share of frames where a digit was found, %):\n')
    print(conditions_table(pipelines, report['conditions'], report['mean']))
    if report['blanks']:
        print(f'\nframes without a digit where a digit was found ({report["blank_count"]} per '
              'kind):\n')
        print(blanks_table(pipelines, report['blanks']))
    if 'real' in report:
        sizes, writers = photos_tables(pipelines, report['real'])
        print(f'\n{report["real"]["photos"]} labelled photos from {report["real"]["directory"]}'
              ':\n')
        print(sizes)
        print(f'\nper writer, {default}:\n')
        print(writers)
    print('\nthe models alone, on MNIST and on the sampled digits as the pen redraws them '
          '(no camera: what the redrawing costs):\n')
    print(markdown_table('model', [f'MNIST test ({report["mnist_digits"]})',
                                   f'pen redraw ({report["count"]})'], [
        (name, [f'{100 * accuracy:.2f} %', f'{100 * report["pen_redraw"][name]:.2f} %'])
        for name, accuracy in report['mnist'].items()]))
    print(f'\nconfusion matrix, {default}, all conditions:\n')
    print(format_confusion(matrix))
    frames = report['count'] * len(report['conditions'])
    blank_frames = report['blank_count'] * len(report['blanks'])
    print(f'\nrendering: {1000 * timing["render_s"] / max(frames, 1):.1f} ms per condition '
          f'frame, {1000 * timing["blank_render_s"] / max(blank_frames, 1):.1f} ms per blank '
          'frame')
    per_frame = timing['preprocess_s'] / max(frames + blank_frames, 1)
    print('preprocessing per frame, mean / slowest: ' + ', '.join(
        f'{p.name} {1000 * s:.1f} / {1000 * m:.0f} ms'
        for p, s, m in zip(pipelines, per_frame, timing['preprocess_max_s'])))
    print(f'classifying: {timing["classify_s"]:.1f} s; total {timing["total_s"]:.0f} s')


def build_report(options, pipelines, classifiers, test_images, test_labels):
    """Every figure of the run as a JSON-ready dict, the default pipeline's confusion matrix
    over all conditions, the misread examples and the sampled digits."""
    sample = np.random.default_rng(options.seed).choice(
        len(test_images), min(options.count, len(test_images)), replace=False)
    digits, labels = test_images[sample], test_labels[sample]
    timing = dict(render_s=0.0, blank_render_s=0.0, classify_s=0.0,
                  preprocess_s=np.zeros(len(pipelines)),
                  preprocess_max_s=np.zeros(len(pipelines)))
    report = dict(seed=options.seed, count=len(digits), blank_count=options.blank,
                  digits='one seeded sample of the MNIST test set, the same in every condition',
                  sample=sample.tolist(), mnist_digits=len(test_images),
                  pipelines=[vars(p) for p in pipelines])
    if options.real:  # first: a photo that cannot be read stops the run before the long part
        report['real'] = evaluate_photos(options.real, pipelines, classifiers)
    conditions, default_reads, misread = evaluate_conditions(
        options, pipelines, classifiers, digits, labels, timing)
    report.update(
        mnist={name: float((predict(c, test_images) == test_labels).mean())
               for name, c in classifiers.items()},
        pen_redraw=redraw_accuracy(classifiers, digits, labels),
        conditions=conditions, mean=mean_over_conditions(pipelines, conditions),
        blanks=evaluate_blanks(options, pipelines, timing))
    matrix = confusion_matrix(np.tile(labels, len(conditions)), default_reads)
    report['confusion'] = matrix.tolist()
    report['timing'] = timing
    return report, matrix, misread, digits


def main(argv=None):
    options = parse_args(argv)
    started = time.monotonic()
    try:
        pipelines = make_pipelines()
        test_images, test_labels, classifiers = load_inputs(options)
        report, matrix, misread, digits = build_report(options, pipelines, classifiers,
                                                       test_images, test_labels)
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
    save_outputs(output, report, pipelines, matrix, misread, digits)
    return 0


def save_outputs(output, report, pipelines, matrix, misread, digits):
    default = pipelines[default_index(pipelines)].name
    examples = [(example_image(name, digits[i], report['seed'], i), crop,
                 f'{name} {variant}: {label} read as {"none" if read == NO_DIGIT else read}')
                for name, i, label, read, variant, crop in misread]
    save_confusion_figure(output / 'confusion.png', matrix, examples,
                          f'{default}, all conditions: '
                          f'{100 * report["mean"][default]["accuracy"]:.2f} % on average')
    save_accuracy_figure(output / 'accuracy.png', pipelines, report)
    (output / 'evaluation.json').write_text(json.dumps(report, indent=1))
    print(f'\nsaved {output / "evaluation.json"}, {output / "accuracy.png"} and '
          f'{output / "confusion.png"}')


if __name__ == '__main__':
    sys.exit(main())
