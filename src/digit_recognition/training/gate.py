"""The gate: trained by `train` after the reader, from crops with their context.

It learns whether what preprocessing chose is a digit at all, from what the preprocess node
publishes: the crop and the ink around it at the ROI's scale (core.preprocessing.context).
- Digits: MNIST training digits and drawn digits (printed in the training faces, plain hand
  shapes: the lone-stroke "1" among them) in whole camera frames of every condition of
  simulation/, read by the default preprocessing; and camera-like crops without context
  (a plain crop from another node), so the gate also judges a crop alone.
- Not digits: the training glyphs (letters, symbols, scribbles; negatives.py) in camera
  frames, the crops mined from digit-free frames (mined_crops.py: finger and hand rims,
  shadow and paper edges, line fragments), and both again as crops without context.
The gate's confidence is calibrated like the reader's (calibrate.py): one temperature fitted
on batches of five camera frames of held-out digits and held-out glyphs. The frames are
rendered once per seed into --cache, so a variant of the network is compared in minutes.
"""

from concurrent.futures import ProcessPoolExecutor
import os
from pathlib import Path
import sys
import time

import numpy as np

from digit_recognition.core.model import gate_file, load_classifier, quantized_twin
from digit_recognition.core.patches import as_patches
from digit_recognition.core.preprocessing import PreprocessSettings, read_frame

# How many of each, at the full MNIST training set (train scales them with its size).
FRAME_DIGITS = 12000  # MNIST training digits in camera frames
FRAME_DRAWN = 4000  # drawn digits in camera frames
FRAME_GLYPHS = 10000  # non-digit glyphs in camera frames
CROP_ONLY_DIGITS = 20000  # camera-like crops without context (MNIST and drawn, 3:1)
CROP_ONLY_GLYPHS = 16000
EPOCHS = 15
BATCH_SIZE = 128
LEARNING_RATE = 3e-3
VALIDATION_SHARE = 0.1  # of the rendered material, held out of fitting to report on
CALIBRATION_BATCHES = 600  # digit batches of five frames (and a quarter as many glyph ones)
DIGIT, NOT_A_DIGIT = 1, 0  # the gate's classes


def _frame_patches(glyphs, seed, index_offset):
    """Crops with context [N, 28, 28, 3] (and which glyphs gave one) read from one camera
    frame of each glyph, under a condition and variant drawn at random."""
    from digit_recognition.simulation.conditions import CONDITIONS, render_condition  # noqa: PLC0415

    names = list(CONDITIONS)
    patches, found = [], []
    for k, glyph in enumerate(glyphs):
        rng = np.random.default_rng([seed, index_offset + k])
        strokes = 'pen' if rng.random() < 0.7 else 'mnist'
        frame, _ = render_condition(names[int(rng.integers(len(names)))], glyph, rng,
                                    strokes=strokes)
        patch = read_frame(frame, PreprocessSettings()).patch()
        found.append(patch is not None)
        if patch is not None:
            patches.append(patch)
    return patches, found


def frame_patches(glyphs, seed, workers):
    """uint8 [M, 28, 28, 3] and bool [N]: the crops with context that the default
    preprocessing finds in one camera frame of each of the N glyphs (seeded per glyph)."""
    chunks = np.array_split(np.arange(len(glyphs)), max(1, workers * 4))
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(_frame_patches, [glyphs[c] for c in chunks],
                                [seed] * len(chunks), [int(c[0]) if len(c) else 0
                                                       for c in chunks]))
    patches = [p for chunk, _ in results for p in chunk]
    found = np.array([f for _, chunk in results for f in chunk], bool)
    return np.stack(patches), found


def render_material(digits, seed, share, workers, cache=None):
    """(patches uint8 [N, 28, 28, 3], labels int [N] (DIGIT or NOT_A_DIGIT), sources [N]
    (names, for the report)) of the gate's training material; seeded. Each part is read
    from `cache` (a folder; None: always rendered) when it was rendered there before with
    the same seed and share, and saved there otherwise."""
    from digit_recognition.simulation import negatives  # noqa: PLC0415
    from digit_recognition.training import mined_crops  # noqa: PLC0415
    from digit_recognition.training.augmentation import augment_in_parallel  # noqa: PLC0415
    from digit_recognition.simulation.drawn_digits import drawn_digits  # noqa: PLC0415

    def count(n):
        return max(1, int(n * share))

    rng = np.random.default_rng(seed + 500)
    mnist = digits[rng.choice(len(digits), min(len(digits), count(FRAME_DIGITS)),
                              replace=False)]
    drawn, _ = drawn_digits(count(FRAME_DRAWN), seed + 501)
    glyphs = negatives.glyphs('mixed', count(FRAME_GLYPHS), seed + 502)
    # The crops alone: other digits and glyphs, drawn for them.
    alone_mnist = digits[rng.choice(len(digits), min(len(digits),
                                                     count(CROP_ONLY_DIGITS) * 3 // 4),
                                    replace=False)]
    alone_drawn, _ = drawn_digits(count(CROP_ONLY_DIGITS) // 4, seed + 503)
    alone_glyphs = negatives.glyphs('mixed', count(CROP_ONLY_GLYPHS), seed + 504)
    makers = {  # name: (label, how many, how made)
        'digits in frames': (DIGIT, len(mnist),
                             lambda: frame_patches(mnist, seed + 510, workers)[0]),
        'drawn digits in frames': (DIGIT, len(drawn),
                                   lambda: frame_patches(drawn, seed + 511, workers)[0]),
        'glyphs in frames': (NOT_A_DIGIT, len(glyphs),
                             lambda: frame_patches(glyphs, seed + 512, workers)[0]),
        'mined from digit-free frames': (NOT_A_DIGIT, share, lambda: mined_crops.mine_blank_crops(
            seed + 520, share, workers)),
        'digits, crop alone': (DIGIT, len(alone_mnist) + len(alone_drawn),
                               lambda: as_patches(augment_in_parallel(
                                   np.concatenate([alone_mnist, alone_drawn]), 'camera-like',
                                   seed + 530, workers))),
        'glyphs, crop alone': (NOT_A_DIGIT, len(alone_glyphs), lambda: as_patches(
            augment_in_parallel(alone_glyphs, 'camera-like', seed + 531, workers))),
    }
    parts = {}
    for name, (label, size, make) in makers.items():
        path = None if cache is None else Path(cache) / (
            f'gate_seed{seed}_{name.replace(" ", "_").replace(",", "")}_{size}.npy')
        if path is not None and path.is_file():
            parts[name] = (np.load(path), label)
            continue
        print(f'gate: rendering {name}...', flush=True)
        parts[name] = (make(), label)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, parts[name][0])
    mined = parts['mined from digit-free frames'][0]
    crop_mined = mined[:len(mined) // 2].copy()
    crop_mined[..., 1:] = 0  # the same rims and edges as another node's plain crop
    parts['mined, crop alone'] = (crop_mined, NOT_A_DIGIT)
    patches = np.concatenate([p for p, _ in parts.values()])
    labels = np.concatenate([np.full(len(p), label) for p, label in parts.values()])
    sources = np.concatenate([np.full(len(p), name) for name, (p, _) in parts.items()])
    return patches, labels, sources


def calibration_batches(digits, labels, seed, workers):
    """(patches, batch index, gate labels per batch) of held-out digits and glyphs in
    batches of five camera frames (calibrate.calibration_batches)."""
    from digit_recognition.training import calibrate  # noqa: PLC0415
    patches, batch_of, batch_labels = calibrate.calibration_batches(
        digits, labels, len(digits) // calibrate.GLYPHS_PER_DIGIT_BATCH, seed + 1, workers)
    from digit_recognition.core.decision import NOT_A_DIGIT as READER_NOT_A_DIGIT  # noqa: PLC0415
    gate_labels = np.where(batch_labels == READER_NOT_A_DIGIT, NOT_A_DIGIT, DIGIT)
    return patches, batch_of, gate_labels


def report(model, patches, labels, sources):
    """Per source of the held-out material: the share the gate accepts at 0.5."""
    accepted = model.predict(patches, batch_size=512, verbose=0)[:, DIGIT] >= 0.5
    for name in dict.fromkeys(sources):
        rows = sources == name
        what = 'accepted' if labels[rows][0] == DIGIT else 'accepted (wrongly)'
        print(f'gate, held-out {name}: {100 * accepted[rows].mean():.1f} % {what} '
              f'({rows.sum()})')


def train_gate(options, training, calibration, share, workers):
    """Render (or read from options.cache), fit, calibrate and save the gate beside
    options.output (name_gate.keras, .tflite and with --quantize _int8.tflite); an exit
    status."""
    from digit_recognition.training import calibrate  # noqa: PLC0415
    from digit_recognition.training.architectures import (build_gate,  # noqa: PLC0415
                                                          set_random_seed,
                                                          use_cosine_learning_rate)
    from digit_recognition.training.export import (representative_digits,  # noqa: PLC0415
                                                   save_for_inference)

    started = time.monotonic()
    digits, _ = training
    patches, labels, sources = render_material(digits, options.seed, share, workers,
                                               options.cache)
    print(f'gate: {len(patches)} crops with context ({(labels == DIGIT).sum()} digits), '
          f'{time.monotonic() - started:.0f} s', flush=True)
    order = np.random.default_rng(options.seed + 540).permutation(len(patches))
    held = order[:int(VALIDATION_SHARE * len(order))]
    fit = order[len(held):]
    set_random_seed(options.seed + 1)
    model = build_gate(load_classifier(options.output, 'keras').model)
    use_cosine_learning_rate(model, LEARNING_RATE, EPOCHS * -(-len(fit) // BATCH_SIZE))
    # Both answers cost the same: the classes weigh alike whatever their counts.
    counts = np.bincount(labels[fit], minlength=2)
    weights = {c: len(fit) / (2 * max(counts[c], 1)) for c in (0, 1)}
    model.fit(patches[fit], labels[fit], epochs=EPOCHS, batch_size=BATCH_SIZE,
              class_weight=weights, validation_data=(patches[held], labels[held]), verbose=2)
    report(model, patches[held], labels[held], sources[held])
    if calibration is not None:
        held_digits, held_labels = calibration
        count = min(len(held_digits), CALIBRATION_BATCHES)
        print('gate: calibrating on camera frames of held-out digits and glyphs...', flush=True)
        crops, batch_of, batch_labels = calibration_batches(
            held_digits[-count:], held_labels[-count:], options.seed, os.cpu_count() or 1)
        probabilities = model.predict(crops, batch_size=512, verbose=0)
        temperature = calibrate.fit_temperature(probabilities, batch_of, batch_labels)
        calibrate.apply_temperature(model, temperature)
        print(f'gate: confidence calibrated: temperature {temperature:.2f} (fitted on '
              f'{len(batch_labels)} batches)')
    output = gate_file(options.output)
    representative = (representative_digits(patches[fit], options.seed) if options.quantize
                      else None)
    try:
        save_for_inference(model, output, representative)
    except OSError as exc:
        print(f'train: cannot save the gate: {exc}', file=sys.stderr)
        return 1
    saved = [output, output.with_suffix('.tflite')]
    if options.quantize:
        saved.append(quantized_twin(output))
    print(f'gate: saved {", ".join(map(str, saved))} '
          f'({time.monotonic() - started:.0f} s)')
    return 0
