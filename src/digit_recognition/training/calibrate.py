"""calibrate: make a model's confidence mean what it says on camera frames, in its weights.

    python -m digit_recognition.training.calibrate --data ../shared/data/mnist \
        --model my.keras [--batches 1200] [--seed 0]

The classifier publishes a batch's digit when the reader's mean probability of it reaches
min_confidence, so that probability should be the share of such batches that are right. A
model trained on clean crops is over-confident on a camera's. Temperature scaling fixes that
with one number: the logits are divided by T, fitted on batches of five camera frames drawn
by simulation/ (every condition and variant, pen and MNIST strokes) of MNIST training
digits that train held out of fitting (for a reader with a not-a-digit class, and for the
gate in training/gate.py, also of non-digit glyphs, simulation/negatives.py), all read by
the default preprocessing, with the least negative log-likelihood of the batch means. The
division goes into the last layer's weights, so name.keras, name.tflite and (if present)
name_int8.tflite stay plain models. The evaluation's seeds and MNIST's test digits are never
used here.
"""

import argparse
from concurrent.futures import ProcessPoolExecutor
import os
from pathlib import Path
import sys

import numpy as np

from digit_recognition.core.decision import DecisionSettings, NOT_A_DIGIT
from digit_recognition.core.preprocessing import PreprocessSettings, read_frame
from digit_recognition.training.export import representative_digits, save_for_inference

BATCH = DecisionSettings().batch_size  # frames per batch, as the classifier decides them
TEMPERATURES = np.arange(0.3, 4.0, 0.01)
# Seeds apart from evaluate's (0 and up): rendering for calibration never repeats its frames.
SEED_OFFSET = 10_000
GLYPHS_PER_DIGIT_BATCH = 4  # one non-digit batch for every four digit batches
# Training digits train holds out of fitting (held_out_digits), to calibrate on digits the
# weights never saw.
CALIBRATION_DIGITS = 5000


def batch_crops(glyph, condition, variant, strokes, seed, index):
    """The crops, with their context (uint8 [28, 28, 3] each), that the default
    preprocessing finds in BATCH frames of one glyph (digit or not)."""
    from digit_recognition.simulation.conditions import render_condition  # noqa: PLC0415
    crops = []
    for k in range(BATCH):  # consecutive frames of one scene, as evaluate draws them
        rng = np.random.default_rng([SEED_OFFSET + seed, index])
        frame, _ = render_condition(condition, glyph, rng, variant, strokes=strokes,
                                    camera_rng=np.random.default_rng([SEED_OFFSET + seed,
                                                                      index, k]))
        patch = read_frame(frame, PreprocessSettings()).patch()
        if patch is not None:
            crops.append(patch)
    return crops


def calibration_batches(digits, labels, glyph_count, seed, workers=1):
    """(crops with context [N, 28, 28, 3], batch index [N], batch labels [B]): each digit in
    every condition and variant in turn, strokes alternating, then `glyph_count` non-digit
    glyphs (labelled NOT_A_DIGIT)."""
    from digit_recognition.simulation import negatives  # noqa: PLC0415
    from digit_recognition.simulation.conditions import CONDITIONS, STROKES  # noqa: PLC0415

    cases = [(condition, variant) for condition, variants in CONDITIONS.items()
             for variant in variants]
    rng = np.random.default_rng(SEED_OFFSET + seed)
    jobs = [(digit, *cases[i % len(cases)], STROKES[i // len(cases) % len(STROKES)], int(label))
            for i, (digit, label) in enumerate(zip(digits, labels))]
    if glyph_count:
        glyphs = negatives.glyphs('mixed', glyph_count, SEED_OFFSET + seed)
        jobs += [(glyph, *cases[int(rng.integers(len(cases)))], 'pen', NOT_A_DIGIT)
                 for glyph in glyphs]
    with ProcessPoolExecutor(workers) as pool:
        founds = list(pool.map(batch_crops, *zip(*[job[:4] for job in jobs]),
                               [seed] * len(jobs), range(len(jobs)), chunksize=16))
    crops, batch_of, batch_labels = [], [], []
    for found, (*_, label) in zip(founds, jobs):
        if not found:
            continue
        crops += found
        batch_of += [len(batch_labels)] * len(found)
        batch_labels.append(label)
    return np.stack(crops), np.array(batch_of), np.array(batch_labels)


def batch_mean_probabilities(logits, batch_of, batches, temperature):
    scaled = logits / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    probabilities = np.exp(scaled)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    sums = np.zeros((batches, logits.shape[1]))
    np.add.at(sums, batch_of, probabilities)
    return sums / np.bincount(batch_of, minlength=batches)[:, None]


def fit_temperature(probabilities, batch_of, labels):
    """The T that makes the batch means of softmax(log(p) / T) best predict `labels` (least
    negative log-likelihood over TEMPERATURES)."""
    logits = np.log(np.clip(np.asarray(probabilities, np.float64), 1e-12, 1))
    losses = [-np.log(np.clip(batch_mean_probabilities(logits, batch_of, len(labels), t)[
        np.arange(len(labels)), labels], 1e-12, 1)).mean() for t in TEMPERATURES]
    return float(TEMPERATURES[int(np.argmin(losses))])


def apply_temperature(model, temperature):
    """Divide the last (softmax) layer's logits by `temperature`, in its weights."""
    layer = model.layers[-1]
    layer.set_weights([weight / temperature for weight in layer.get_weights()])


def calibrate(model, digits, labels, glyph_count, seed, workers=1):
    """Fit and apply the temperature to the reader (a Keras model of crops); returns
    (temperature, batches)."""
    crops, batch_of, batch_labels = calibration_batches(digits, labels, glyph_count, seed,
                                                        workers)
    probabilities = model.predict(crops[..., 0], batch_size=512, verbose=0)
    temperature = fit_temperature(probabilities, batch_of, batch_labels)
    apply_temperature(model, temperature)
    return temperature, len(batch_labels)


def held_out_digits(images, labels, count, seed):
    """The `count` training digits train holds out of fitting with this seed (the first of
    a seeded permutation), for calibration."""
    order = np.random.default_rng(seed).permutation(len(images))
    return images[order[:count]], labels[order[:count]], order[count:]


def main(argv=None):
    parser = argparse.ArgumentParser(prog='calibrate', description=__doc__.splitlines()[0])
    parser.add_argument('--data', metavar='DIR', help='directory with the four MNIST IDX files')
    parser.add_argument('--model', type=Path, required=True,
                        help='the .keras model to calibrate (its .tflite twins are rewritten)')
    parser.add_argument('--batches', type=int, default=1200,
                        help='digit batches of five frames (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='the seed train ran with: its held-out digits (default: 0)')
    options = parser.parse_args(argv)
    from digit_recognition.training.mnist import load_mnist  # noqa: PLC0415
    try:
        (images, labels), _ = load_mnist(options.data)
    except (FileNotFoundError, ValueError) as exc:
        print(f'calibrate: cannot load MNIST: {exc}', file=sys.stderr)
        return 1
    from digit_recognition.core.model import load_classifier, ModelLoadError  # noqa: PLC0415
    try:
        model = load_classifier(options.model, 'keras').model
    except ModelLoadError as exc:
        print(f'calibrate: {exc}', file=sys.stderr)
        return 1
    digits, digit_labels, _ = held_out_digits(images, labels, CALIBRATION_DIGITS, options.seed)
    count = min(options.batches, len(digits))
    # A reader of the ten digits only is calibrated on digits: it never sees a non-digit.
    glyphs = count // GLYPHS_PER_DIGIT_BATCH if model.output_shape[-1] > NOT_A_DIGIT else 0
    temperature, batches = calibrate(model, digits[:count], digit_labels[:count], glyphs,
                                     options.seed, os.cpu_count() or 1)
    quantized = options.model.with_name(options.model.stem + '_int8.tflite').exists()
    save_for_inference(model, options.model, representative_digits(images, options.seed)
                       if quantized else None)
    print(f'temperature {temperature:.2f} from {batches} batches of {BATCH} camera frames; '
          f'saved {options.model} and its .tflite twins')
    return 0


if __name__ == '__main__':
    sys.exit(main())
