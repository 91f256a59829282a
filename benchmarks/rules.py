"""What each hand-made preprocessing rule gains and costs, with the model rejecting non-digits.

    .venv/bin/python benchmarks/rules.py --data ../shared/data/mnist [--count 250] [--blank 250]

Runs evaluate's matrix (every condition in both stroke styles, every non-digit kind, batches
of five through core.decision) once with every rule, then once without each rule, on the
same seeded frames. A rule earns its place when, without it, digits are published right less
often or non-digits are published more often than it costs elsewhere. Rules:

- shadows: light blobs broader than a light stroke, without dark ink, are not ink
  (preprocessing.ink._without_shadows);
- lines: straight printed lines crossing the image are erased (lines.erase_printed_lines);
- hands: ink far broader than the digit's pen is a hand, taken out with its rim
  (blobs.without_hands);
- rims: ink from the frame's edge lying mostly outside the ROI (a thumb's rim) joins no
  blob (blobs._without_ink_from_outside).

Two more rules were measured this way and removed, having gained nothing: light, filled,
roundish blobs were not ink (a fingertip's shadow), and a blob running out of the frame
counted a tenth when the digit was chosen (benchmarks/results/rules.md).

Writes rules.{md,json} into the output folder (default benchmarks/results/).
"""

import argparse
from pathlib import Path
import sys

import numpy as np

import common
from digit_recognition.core.preprocessing import blobs, ink, reader
from digit_recognition.core.model import BUNDLED_MODEL
from digit_recognition.evaluation.cli import DECISION, load_inputs, parse_args
from digit_recognition.evaluation.pipelines import make_pipelines
from digit_recognition.evaluation.report import build_report


# rule name -> (function, the stage modules that call it); while the rule is off, the
# function returns the ink it was given
RULES = {
    'shadows': ('_without_shadows', (ink,)),
    'lines': ('erase_printed_lines', (ink, reader)),
    'hands': ('without_hands', (reader,)),
    'rims': ('_without_ink_from_outside', (blobs,)),
}


def rule_off(mask, *args):
    return mask


def run_matrix(options, classifiers, images, labels):
    """evaluate's report on the matrix (no photos) with the preprocessing as it is now."""
    pipelines = [p for p in make_pipelines() if p.default]
    report, _, _ = build_report(options, pipelines, classifiers, images, labels)
    name = pipelines[0].name
    conditions = {c: r[name] for c, r in report['conditions'].items()}
    non_digits = {k: r[name]['wrong'] for k, r in report['non_digits'].items()}
    return dict(right=float(np.mean([r['right'] for r in conditions.values()])),
                wrong=float(np.mean([r['wrong'] for r in conditions.values()])),
                conditions={c: r['right'] for c, r in conditions.items()},
                non_digits=non_digits, worst_non_digit=max(non_digits.values(), default=0.0))


def without(rule):
    """Context: preprocessing with `rule` switched off (see RULES)."""
    attribute, modules = RULES[rule]

    class Switch:
        def __enter__(self):
            self.saved = [getattr(module, attribute) for module in modules]
            for module in modules:
                setattr(module, attribute, rule_off)

        def __exit__(self, *exc):
            for module, saved in zip(modules, self.saved):
                setattr(module, attribute, saved)

    return Switch()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', help='MNIST directory (the four IDX files)')
    parser.add_argument('--cnn', default=str(BUNDLED_MODEL))
    parser.add_argument('--count', type=int, default=250, help='frames per condition row')
    parser.add_argument('--blank', type=int, default=250, help='frames per non-digit kind')
    parser.add_argument('--output', type=Path, default=common.RESULTS_DIR)
    options = parser.parse_args(argv)
    matrix = parse_args(['--count', str(options.count), '--blank', str(options.blank),
                         '--numbers', '0', '--cnn', options.cnn]
                        + (['--data', options.data] if options.data else []))
    images, labels, classifiers = load_inputs(matrix)
    results = {'all rules': run_matrix(matrix, classifiers, images, labels)}
    for rule in RULES:
        # Worker processes are forked after the switch, so they run without the rule too.
        with without(rule):
            results[f'without {rule}'] = run_matrix(matrix, classifiers, images, labels)
        print(f'rules: without {rule} done', file=sys.stderr, flush=True)
    base = results['all rules']
    rows = []
    for name, result in results.items():
        deltas = {c: base['conditions'][c] - result['conditions'][c] for c in base['conditions']}
        gains = sorted(deltas.items(), key=lambda item: -item[1])
        rows.append([name, common.fmt(100 * result['right'], 2),
                     common.fmt(100 * result['wrong'], 2),
                     common.fmt(100 * result['worst_non_digit'], 1),
                     '' if name == 'all rules' else ', '.join(
                         f'{c} {100 * d:+.0f}' for c, d in gains[:2] if d > 0) or 'none',
                     '' if name == 'all rules' else ', '.join(
                         f'{c} {100 * d:+.0f}' for c, d in gains[::-1][:2] if d < 0) or 'none'])
    markdown = (f'Digits: mean over the condition rows of batches published right / wrong; '
                f"non-digits: the worst kind's share of batches published ({options.count} "
                f'frames per condition row, {options.blank} per non-digit kind, seed 0, '
                f'min_confidence {DECISION.min_confidence}, min_digitness '
                f'{DECISION.min_digitness}). "Gains" are the rows the rule '
                f'helps most (points of published right it adds), "costs" those it hurts.\n\n'
                + common.markdown_table(['preprocessing', 'published right %', 'wrong %',
                                         'worst non-digit %', 'the rule gains',
                                         'the rule costs'], rows))
    print(markdown)
    common.write_outputs(options.output, 'rules', dict(results=results,
                                                       machine=common.machine_info()),
                         markdown)
    return 0


if __name__ == '__main__':
    sys.exit(main())
