"""Inference time per batch of five MNIST crops: the tutorial's predict() against both backends.

    .venv/bin/python benchmarks/inference.py [--quick] [--repeats 2000] [--output DIR]

Variants, all in this one process and interleaved in rounds so that background load falls on
all of them alike: Keras `model.predict(batch)` (the tutorial's call) on the MLP and the CNN,
the keras backend's compiled graph call (`predict_batch`) and the tflite backend (LiteRT) on
both models, on the bundled CNN's full-integer twin (mnist_cnn_int8.tflite), and the
bundled reader with its gate (mnist_cnn_gate.tflite: what the classifier node runs per
batch), float and int8. Writes inference.{md,json,png} into the output folder.
"""

import argparse
import os
from pathlib import Path
import sys
import time

import numpy as np

import common
from digit_recognition.core.decision import DecisionSettings
from digit_recognition.core.model import (
    BUNDLED_MODEL, GATE, gate_file, load_classifier, quantized_twin, TUTORIAL_MODEL)
from digit_recognition.core.patches import as_patches

BATCH_SIZE = DecisionSettings().batch_size
# Issue 30 gave the classifier 1 ms per batch of five (tflite, one thread) to spend on
# certainty, where it had 0.1 ms; the predict() ratio follows: 40 ms over 1 ms (a 3 ms keras
# call could be at most 13x faster than a 40 ms predict).
TARGETS = {'tflite_ms': 1.0, 'keras_ms': 3.0, 'predict_over_tflite': 40.0}
NUMBER_DIGITS = 4  # the number timed: its digits' crops in one batch


def batches_of_five(images):
    """Consecutive real crops, five at a time, as the classifier node gets them."""
    count = len(images) // BATCH_SIZE * BATCH_SIZE
    return images[:count].reshape(-1, BATCH_SIZE, *images.shape[1:])


def variants(quick_predict_repeats, repeats):
    """(name, model label, how, callable factory, repetitions) for every variant measured."""
    found = []
    for label, path in (('MLP', TUTORIAL_MODEL), ('CNN', BUNDLED_MODEL)):
        keras = load_classifier(path, 'keras')
        tflite = load_classifier(path, 'tflite')
        model = keras.model
        found += [
            (f'predict {label}', label, 'Keras model.predict(batch) (tutorial)',
             lambda batch, model=model: model.predict(batch, verbose=0), quick_predict_repeats),
            (f'keras {label}', label, 'keras backend: compiled graph call',
             keras.predict_batch, repeats),
            (f'tflite {label}', label, 'tflite backend: LiteRT, 1 thread',
             tflite.predict_batch, repeats),
        ]
    quantized = load_classifier(quantized_twin(BUNDLED_MODEL), 'tflite')
    found.append(('tflite CNN int8', 'CNN', 'tflite backend: full-integer uint8 model, 1 thread',
                  quantized.predict_batch, repeats))
    reader = load_classifier(BUNDLED_MODEL, 'tflite')
    for name, twin, how in (('tflite CNN + gate', lambda path: path, 'float'),
                            ('tflite CNN + gate int8', quantized_twin, 'full-integer')):
        found.append((name, 'CNN', f'the reader and its gate, {how} tflite, 1 thread: the '
                      'classifier node per batch',
                      reader_and_gate(load_classifier(twin(BUNDLED_MODEL), 'tflite')
                                      if twin is quantized_twin else reader,
                                      load_classifier(twin(gate_file()), 'tflite', GATE)),
                      repeats))
    # A number of four digits: five frames of four marks, twenty crops in one call each (own
    # interpreters: resizing between batch sizes would be timed too).
    number = reader_and_gate(load_classifier(BUNDLED_MODEL, 'tflite'),
                             load_classifier(gate_file(), 'tflite', GATE))
    found.append(('tflite CNN + gate, number of 4', 'CNN', 'the same on a number of four '
                  'digits: 5 frames x 4 crops per batch',
                  lambda batch: number(np.concatenate([batch] * NUMBER_DIGITS))[:len(batch)],
                  repeats))
    return found


def reader_and_gate(reader, gate):
    """One batch as the classifier node runs it: the reader on the crops, the gate on the
    crops with their context (here the sample's crops alone: the gate's cost is the same);
    the reader's probabilities."""
    def both(batch):
        probabilities = reader.predict_batch(batch)
        gate.predict_batch(as_patches(batch))
        return probabilities
    return both


def accuracy(function, batches, labels):
    predictions = np.concatenate([np.asarray(function(batch)).argmax(axis=1)
                                  for batch in batches])
    return float((predictions == labels[:len(predictions)]).mean())


def measure(found, batches, warmup, rounds):
    """Milliseconds per call for each variant, in `rounds` interleaved rounds."""
    times = {name: [] for name, *_ in found}
    for _, _, _, function, _ in found:
        for i in range(warmup):
            function(batches[i % len(batches)])
    for round_index in range(rounds):
        for name, _, _, function, repeats in found:
            share = repeats // rounds + (1 if round_index < repeats % rounds else 0)
            for i in range(share):
                batch = batches[(round_index * share + i) % len(batches)]
                started = time.perf_counter_ns()
                function(batch)
                times[name].append((time.perf_counter_ns() - started) / 1e6)
    return times


def report(found, times, accuracies, before, after, options):
    stats = {name: common.summary(times[name]) for name in times}
    rows = []
    for name, label, how, _, _ in found:
        s = stats[name]
        predict = stats[f'predict {label}']['p50']
        ratio = predict / s['p50'] if not name.startswith('predict') else None
        rows.append([name, how, s['n'], common.fmt(s['p50'], 3), common.fmt(s['p99'], 3),
                     common.fmt(s['mean'], 3), common.fmt(ratio, 0, 'x'),
                     common.fmt(100 * accuracies[name], 1, '%')])
    ratios = {label: {backend: (stats[f'predict {label}']['p50']
                                / stats[f'{backend} {label}']['p50'])
                      for backend in ('keras', 'tflite')} for label in ('MLP', 'CNN')}
    checks = []
    for label in ('MLP', 'CNN'):
        tflite, keras = stats[f'tflite {label}']['p50'], stats[f'keras {label}']['p50']
        speedup = ratios[label]['tflite']
        checks.append(
            f'- {label}: tflite p50 {tflite:.3f} ms (target <= {TARGETS["tflite_ms"]} ms: '
            f'{common.met(tflite, TARGETS["tflite_ms"])}), predict / tflite {speedup:.0f}x '
            f'(target >= {TARGETS["predict_over_tflite"]:.0f}x: '
            f'{common.met(speedup, TARGETS["predict_over_tflite"], at_most=False)}); keras p50 '
            f'{keras:.3f} ms (target <= {TARGETS["keras_ms"]} ms: '
            f'{common.met(keras, TARGETS["keras_ms"])}), predict / keras '
            f'{ratios[label]["keras"]:.0f}x')
    both = stats['tflite CNN + gate']['p50']
    checks.append(f'- the reader and its gate together (the classifier node per batch): tflite '
                  f'p50 {both:.3f} ms (target <= {TARGETS["tflite_ms"]} ms: '
                  f'{common.met(both, TARGETS["tflite_ms"])}); int8 '
                  f'{stats["tflite CNN + gate int8"]["p50"]:.3f} ms')
    number = stats['tflite CNN + gate, number of 4']['p50']
    checks.append(f'- a number of {NUMBER_DIGITS} digits (5 frames x {NUMBER_DIGITS} crops per '
                  f'batch): tflite p50 {number:.3f} ms (target <= {TARGETS["tflite_ms"]} ms: '
                  f'{common.met(number, TARGETS["tflite_ms"])})')
    markdown = '\n'.join([
        '## Inference per batch of 5 crops (ms)',
        '',
        f'{len(times)} variants interleaved in {options.rounds} rounds after '
        f'{options.warmup} warm-up calls each; real MNIST test crops '
        f'({common.MNIST_SAMPLE.relative_to(common.REPO)}). Ratio = predict p50 / this p50 '
        '(same model). Accuracy on the 500 sample digits.',
        '',
        common.markdown_table(
            ['variant', 'how', 'calls', 'p50 ms', 'p99 ms', 'mean ms', 'predict / this',
             'accuracy'], rows),
        '',
        f'Targets: tflite <= {TARGETS["tflite_ms"]} ms per batch of {BATCH_SIZE} on one thread, '
        f'i.e. >= {TARGETS["predict_over_tflite"]:.0f}x faster than a 40 ms predict; keras <= '
        f'{TARGETS["keras_ms"]} ms.',
        *checks,
        '',
        f'Load average (1/5/15 min) before: {common.load_text(before)}, after: '
        f'{common.load_text(after)}; {os.cpu_count()} CPUs.',
    ])
    data = {'machine': common.machine_info(), 'loadavg_before': before, 'loadavg_after': after,
            'batch_size': BATCH_SIZE, 'warmup': options.warmup, 'rounds': options.rounds,
            'targets': TARGETS, 'predict_over': ratios,
            'variants': {name: {'model': label, 'how': how, 'accuracy': accuracies[name],
                                **stats[name]}
                         for name, label, how, _, _ in found},
            'times_ms': times}
    return markdown, data


def plot(found, times):
    plt = common.pyplot()
    figure, axis = plt.subplots(figsize=(9, 4.5))
    names = [name for name, *_ in found]
    axis.boxplot([times[name] for name in names], whis=(1, 99), showfliers=False)
    axis.set_xticks(range(1, len(names) + 1), names, rotation=20)
    axis.set_yscale('log')
    axis.set_ylabel('ms per batch of 5 (log)')
    axis.axhline(TARGETS['keras_ms'], color='tab:orange', linestyle='--', label='keras target')
    axis.axhline(TARGETS['tflite_ms'], color='tab:green', linestyle='--', label='tflite target')
    axis.set_title('Inference per batch of five crops (box: p25-p75, whiskers: p1-p99)')
    axis.legend()
    return figure


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='a short smoke run')
    parser.add_argument('--repeats', type=int, default=2000,
                        help='timed calls per backend variant (default: %(default)s)')
    parser.add_argument('--predict-repeats', type=int, default=500,
                        help='timed model.predict() calls; each costs tens of ms '
                             '(default: %(default)s)')
    parser.add_argument('--warmup', type=int, default=50, help='untimed calls first')
    parser.add_argument('--rounds', type=int, default=10,
                        help='interleaved rounds the calls are split into')
    parser.add_argument('--output', type=Path, default=None,
                        help='results folder (default: benchmarks/results, '
                             'benchmarks/results/quick with --quick)')
    options = parser.parse_args(argv)
    if options.quick:
        options.repeats, options.predict_repeats = 100, 20
        options.warmup, options.rounds = 5, 2
    output = options.output or (common.RESULTS_DIR / 'quick' if options.quick
                                else common.RESULTS_DIR)
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

    with np.load(common.MNIST_SAMPLE) as data:
        images, labels = data['images'], data['labels']
    batches = batches_of_five(images)
    print(f'loading models; {len(batches)} batches of {BATCH_SIZE} real crops', flush=True)
    found = variants(options.predict_repeats, options.repeats)
    accuracies = {name: accuracy(function, batches, labels)
                  for name, _, _, function, _ in found}
    before = os.getloadavg()
    print(f'load average {common.load_text(before)}; timing {len(found)} variants', flush=True)
    times = measure(found, batches, options.warmup, options.rounds)
    after = os.getloadavg()
    markdown, data = report(found, times, accuracies, before, after, options)
    paths = common.write_outputs(output, 'inference', data, markdown, plot(found, times))
    print(markdown)
    print('\nwrote ' + ', '.join(str(p) for p in paths))
    return 0


if __name__ == '__main__':
    sys.exit(main())
