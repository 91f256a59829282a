"""evaluate: what a robot receives from the digit reader under real camera conditions.

Each condition of simulation.conditions.CONDITIONS (held close, shadows, dim light, ruled
paper, light broad inks, a hand holding the sheet, ...) shows --count / 5 MNIST test digits,
each as a batch of five consecutive frames of one scene in one of the condition's variants
(each with its own sensor noise, the held sheet moving a little between them), with the
digit's centre line redrawn by a pen and again with MNIST's own strokes scaled up. The digits
are one seeded sample of the test set, the same in every condition. Every frame is read by
each pipeline (the tutorial's: fixed threshold 100, resize, MLP; the CNN behind
read_frame) and each batch decided as the classifier node decides (core.decision:
min_confidence, the not-a-digit class): published right, published wrong or silent.
Non-digits (fingers, a hand holding blank paper, letters in fonts training never saw,
symbols, scribbles, printed words and every blank kind of simulation.blanks.BLANK_KINDS)
count the batches that publish a digit. --real reads labelled photos of real handwriting
placed in a frame as the robot would see them. Prints markdown tables, the expected
calibration error and the confusion matrix of batches; saves evaluation.json, accuracy.png,
reliability.png and confusion.png in --output.
"""

import argparse
import json
import os
from pathlib import Path
import sys
import time

import numpy as np

from digit_recognition.core.decision import DecisionSettings
from digit_recognition.core.model import (BUNDLED_MODEL, load_models, ModelLoadError, Models,
                                          TUTORIAL_MODEL)
from digit_recognition.evaluation.figures import (save_confusion_figure, save_gate_figure,
                                                  save_outcomes_figure,
                                                  save_reliability_figure,
                                                  save_risk_coverage_figure)
from digit_recognition.evaluation.photos import read_labels
from digit_recognition.evaluation.pipelines import default_index, make_pipelines, PRINTED
from digit_recognition.evaluation.report import build_report
from digit_recognition.evaluation.scoring import BATCH
from digit_recognition.evaluation.tables import print_report
from digit_recognition.simulation.conditions import CONDITIONS, STROKES
from digit_recognition.training.mnist import load_mnist

DECISION = DecisionSettings()  # the classifier node's defaults


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', help='directory with the four MNIST IDX files '
                        '(default: Keras downloader)')
    parser.add_argument('--cnn', default=str(BUNDLED_MODEL),
                        help='the reader, a CNN (default: bundled)')
    parser.add_argument('--gate', default='',
                        help="the gate: empty for the one beside --cnn (name_gate.keras), 'none' "
                        'for the reader alone (default: beside)')
    parser.add_argument('--mlp', default=str(TUTORIAL_MODEL),
                        help="tutorial's MLP (default: bundled)")
    parser.add_argument('--count', type=int, default=1000,
                        help=f'frames per condition and stroke style, in batches of {BATCH} '
                        'frames of one MNIST test digit (one seeded sample, the same digits '
                        'in every condition)')
    parser.add_argument('--blank', type=int, default=500,
                        help='frames per non-digit kind (blank frames, fingers, letters, '
                        'symbols, ...); 0 = none')
    parser.add_argument('--numbers', type=int, default=200,
                        help='batches of printed and of handwritten numbers (2-4 digits) read '
                        'on `number`; 0 = none (default: %(default)s)')
    parser.add_argument('--real', metavar='DIR',
                        help='labelled photos: DIR/labels.csv with path,label,writer')
    parser.add_argument('--compare', metavar='MODEL',
                        help='another model (.keras or .tflite) read on the default '
                        "pipeline's very crops, side by side with --cnn in every table and in "
                        'the risk-coverage figure')
    parser.add_argument('--conditions', default=','.join([*CONDITIONS, PRINTED]),
                        help='comma-separated subset of: ' + ', '.join([*CONDITIONS, PRINTED]))
    parser.add_argument('--strokes', default=','.join(STROKES),
                        help='how digits are drawn, comma-separated: pen (centre line redrawn '
                        "by the scene's pen), mnist (MNIST's own strokes scaled up)")
    parser.add_argument('--min-confidence', type=float, default=DECISION.min_confidence,
                        help="the classifier node's min_confidence (default: %(default)s)")
    parser.add_argument('--min-digitness', type=float, default=DECISION.min_digitness,
                        help="the classifier node's min_digitness (default: %(default)s)")
    parser.add_argument('--all-modes', action='store_true',
                        help='the CNN behind every threshold mode, not only the default')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                        help='processes rendering frames (default: one per core)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--output', default='evaluation', help='folder for the PNGs and JSON')
    options = parser.parse_args(argv)
    options.conditions = [c for c in options.conditions.split(',') if c]
    options.strokes = [s for s in options.strokes.split(',') if s]
    unknown = [c for c in options.conditions if c not in CONDITIONS and c != PRINTED]
    if not options.conditions:
        parser.error('--conditions names no condition')
    if unknown:
        parser.error(f'unknown condition {", ".join(unknown)}; choose from '
                     f'{", ".join([*CONDITIONS, PRINTED])}')
    if not options.strokes or set(options.strokes) - set(STROKES):
        parser.error(f'--strokes must name some of {", ".join(STROKES)}')
    if options.count < BATCH or options.blank < 0 or options.numbers < 0:
        parser.error(f'--count must be at least {BATCH}, --blank and --numbers at least 0')
    if not 0 <= options.min_confidence <= 1 or not 0 <= options.min_digitness <= 1:
        parser.error('--min-confidence and --min-digitness must be 0 to 1')
    options.settings = DECISION._replace(min_confidence=options.min_confidence,
                                         min_digitness=options.min_digitness)
    return options


def compared_name(model, compared):
    """A short name for the --compare model in the tables: its file name, with its folder when
    both models have the same file name."""
    if not compared:
        return ''
    model, compared = Path(model), Path(compared)
    return (f'{compared.parent.name}/{compared.name}' if compared.name == model.name
            else compared.name)


def load_inputs(options):
    """MNIST's test set and the two models; raises FileNotFoundError, ValueError or
    ModelLoadError with a message for the user."""
    _, (test_images, test_labels) = load_mnist(options.data)
    from digit_recognition.core.model import load_classifier  # noqa: PLC0415 - imports TensorFlow
    classifiers = {'MLP': Models(load_classifier(options.mlp), None),
                   'CNN': load_models(options.cnn, options.gate, 'keras')}
    if options.compare:
        classifiers['compared'] = load_models(options.compare, '', 'keras')
    if options.real:
        read_labels(options.real)  # a missing or malformed labels.csv fails before the work
    return test_images, test_labels.astype(int), classifiers


def main(argv=None):
    options = parse_args(argv)
    started = time.monotonic()
    try:
        pipelines = make_pipelines(options.all_modes,
                                   compared_name(options.cnn, options.compare))
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
    save_risk_coverage_figure(output / 'risk_coverage.png', pipelines, report)
    save_gate_figure(output / 'gate.png', report)
    (output / 'evaluation.json').write_text(json.dumps(report, indent=1, default=_json_value))
    print(f'\nsaved {output / "evaluation.json"}, {output / "accuracy.png"}, '
          f'{output / "reliability.png"}, {output / "risk_coverage.png"}, '
          f'{output / "gate.png"} and {output / "confusion.png"}')


def _json_value(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f'not JSON: {type(value)}')


if __name__ == '__main__':
    sys.exit(main())
