"""Time of read_frame() per 640x480 frame, per camera condition and threshold mode.

    .venv/bin/python benchmarks/preprocess.py [--frames 40] [--repeats 5] [--output DIR]

Frames come from the condition simulator (simulation/) with the committed MNIST sample's
digits, rendered once; every mode then runs on the same frames, interleaved in rounds so that
background load falls on all of them alike. Modes: the default (flatfield), the previous
default mode (otsu, through today's search) and the tutorial's (fixed threshold, whole ROI
resized). The default mode is also timed on the same frames as JPEG (quality 80, as the
camera publishes image_raw/compressed): decoding alone (in colour), and decoding (brightness
only) plus preprocessing, as preprocess does with `image_transport: compressed`. With
--baseline PATH, another version of core/preprocessing is timed beside them (default mode,
same frames, same rounds). Writes preprocess.{md,json,png} into the output folder.
"""

import argparse
import importlib.util
from pathlib import Path
import sys
import time

import numpy as np

import common
from digit_recognition.core.image_encodings import decode_compressed, encode_jpeg, JPEG_FORMAT
from digit_recognition.core.preprocessing import (
    DEFAULT_THRESHOLD_MODE, PreprocessSettings, read_frame)
from digit_recognition.simulation.conditions import CONDITIONS, render_condition

TARGET_MS = 1.0  # p50 per frame, default mode, in every condition
TARGET_P99_MS = 3.0  # p99 per frame, default mode, in every condition
COMPRESSED_TARGET_MS = 4.0  # p50 per 640x480 JPEG frame, decoding and preprocessing
JPEG_QUALITY = 80  # the camera's default jpeg_quality
# The preprocess node's default threshold and roi_size.
THRESHOLD, ROI_SIZE = PreprocessSettings().threshold, PreprocessSettings().roi_size
DECODE_ONLY = 'JPEG decoding alone'
FROM_JPEG = f'{DEFAULT_THRESHOLD_MODE} from JPEG (decoding + preprocessing)'
BASELINE = f'{DEFAULT_THRESHOLD_MODE}, --baseline version'
MODES = {  # label: (threshold_mode, normalization)
    f'{DEFAULT_THRESHOLD_MODE} (default)': (DEFAULT_THRESHOLD_MODE, 'mnist'),
    'otsu (the previous default mode)': ('otsu', 'mnist'),
    'tutorial (fixed, resize)': ('fixed', 'resize'),
}


def render_frames(count, seed=0):
    """{condition: [frame, ...]}: `count` frames of each condition, reproducible by seed."""
    with np.load(common.MNIST_SAMPLE) as data:
        digits = data['images']
    rng = np.random.default_rng(seed)
    return {condition: [render_condition(condition, digits[i % len(digits)], rng)[0]
                        for i in range(count)]
            for condition in CONDITIONS}


def crop_of(frame, threshold, roi_size, threshold_mode, normalization):
    """The crop read_frame() finds with these settings (None: no digit)."""
    return read_frame(frame, PreprocessSettings(threshold, roi_size, threshold_mode,
                                                normalization)).crop


def load_baseline(path):
    """crop_of(frame, threshold, roi_size, threshold_mode, normalization) of another
    version of core/preprocessing: its folder (the stage modules, e.g. from `git archive REV
    src/digit_recognition/core/preprocessing`), or the single file it was before the split
    (`git show REV:src/.../core/preprocessing.py`); versions since issue 31 have read_frame
    only."""
    path = Path(path)
    name = 'baseline_preprocessing'
    if path.is_dir():  # a package: its relative imports resolve inside it
        spec = importlib.util.spec_from_file_location(
            name, path / '__init__.py', submodule_search_locations=[str(path)])
    else:
        spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if hasattr(module, 'preprocess_frame'):
        return module.preprocess_frame
    return lambda frame, threshold, roi_size, threshold_mode, normalization: module.read_frame(
        frame, module.PreprocessSettings(threshold, roi_size, threshold_mode,
                                         normalization)).crop


def time_modes(frames, repeats, baseline=None):
    """{mode: {condition: [ms, ...]}}, every mode timed once per frame per round."""
    columns = [*MODES, DECODE_ONLY, FROM_JPEG] + ([BASELINE] if baseline else [])
    times = {mode: {condition: [] for condition in frames} for mode in columns}
    jpegs = {condition: [encode_jpeg(frame, JPEG_QUALITY) for frame in condition_frames]
             for condition, condition_frames in frames.items()}
    for _ in range(repeats):
        for condition, condition_frames in frames.items():
            for frame, jpeg in zip(condition_frames, jpegs[condition]):
                for mode, (threshold_mode, normalization) in MODES.items():
                    started = time.perf_counter()
                    crop_of(frame, THRESHOLD, ROI_SIZE, threshold_mode, normalization)
                    times[mode][condition].append(1000 * (time.perf_counter() - started))
                started = time.perf_counter()
                decode_compressed(JPEG_FORMAT, jpeg)
                times[DECODE_ONLY][condition].append(1000 * (time.perf_counter() - started))
                started = time.perf_counter()
                # As the node decodes when no overlay is wanted: brightness only.
                crop_of(decode_compressed(JPEG_FORMAT, jpeg, grey=True), THRESHOLD,
                        ROI_SIZE, DEFAULT_THRESHOLD_MODE, 'mnist')
                times[FROM_JPEG][condition].append(1000 * (time.perf_counter() - started))
                if baseline:
                    started = time.perf_counter()
                    baseline(frame, THRESHOLD, ROI_SIZE, DEFAULT_THRESHOLD_MODE, 'mnist')
                    times[BASELINE][condition].append(1000 * (time.perf_counter() - started))
    return times


def report(times):
    """The markdown table, with every condition and all of them pooled."""
    conditions = list(next(iter(times.values())))
    headers = ['condition', *(f'{mode} p50 / p99 ms' for mode in times)]
    rows = []
    for condition in [*conditions, 'all conditions']:
        cells = []
        for mode in times:
            values = (np.concatenate(list(times[mode].values())) if condition == 'all conditions'
                      else times[mode][condition])
            stats = common.summary(values)
            cells.append(f'{common.fmt(stats["p50"], 2)} / {common.fmt(stats["p99"], 2)}')
        rows.append([condition, *cells])
    return common.markdown_table(headers, rows)


def plot(times):
    plt = common.pyplot()
    conditions = list(next(iter(times.values())))
    figure, axis = plt.subplots(figsize=(10, 5))
    width = 0.8 / len(times)
    for k, mode in enumerate(times):
        p50 = [np.median(times[mode][c]) for c in conditions]
        axis.barh(np.arange(len(conditions)) + k * width, p50, width, label=mode)
    axis.axvline(TARGET_MS, color='k', linestyle='--', label=f'target p50 {TARGET_MS} ms')
    axis.axvline(COMPRESSED_TARGET_MS, color='grey', linestyle=':',
                 label=f'target from JPEG {COMPRESSED_TARGET_MS} ms')
    axis.set_yticks(np.arange(len(conditions)) + width, conditions)
    axis.invert_yaxis()
    axis.set_xlabel('read_frame, p50 ms per 640x480 frame')
    axis.legend()
    figure.tight_layout()
    return figure


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=40, help='frames per condition')
    parser.add_argument('--repeats', type=int, default=5, help='rounds over all frames')
    parser.add_argument('--output', type=Path, default=common.RESULTS_DIR)
    parser.add_argument('--baseline', type=Path, metavar='PATH',
                        help="another version of core/preprocessing (its folder, or the file "
                        "it was before the split), timed beside today's "
                        'in its default mode on the same frames')
    options = parser.parse_args(argv)

    info = common.machine_info()
    frames = render_frames(options.frames)
    times = time_modes(frames, options.repeats,
                       load_baseline(options.baseline) if options.baseline else None)
    table = report(times)
    default = next(iter(MODES))
    pooled = common.summary(np.concatenate(list(times[default].values())))
    plain = common.summary(times[default]['plain'])
    jpeg_pooled = common.summary(np.concatenate(list(times[FROM_JPEG].values())))
    jpeg_plain = common.summary(times[FROM_JPEG]['plain'])
    by_condition = {c: common.summary(v) for c, v in times[default].items()}
    slowest_p50 = max(by_condition, key=lambda c: by_condition[c]['p50'])
    slowest_p99 = max(by_condition, key=lambda c: by_condition[c]['p99'])
    worst_p50, worst_p99 = by_condition[slowest_p50]['p50'], by_condition[slowest_p99]['p99']
    verdicts = (f'target: {default} p50 <= {TARGET_MS} ms and p99 <= {TARGET_P99_MS} ms per '
                f'frame in every condition: plain paper {plain["p50"]:.2f} / '
                f'{plain["p99"]:.2f} ms, all conditions pooled {pooled["p50"]:.2f} / '
                f'{pooled["p99"]:.2f} ms; slowest p50 {worst_p50:.2f} ms ({slowest_p50}, '
                f'{common.met(worst_p50, TARGET_MS)}), slowest p99 {worst_p99:.2f} ms '
                f'({slowest_p99}, {common.met(worst_p99, TARGET_P99_MS)})\n\n'
                f'target: {FROM_JPEG} p50 <= {COMPRESSED_TARGET_MS} ms per frame: plain paper '
                f'{jpeg_plain["p50"]:.2f} ms '
                f'({common.met(jpeg_plain["p50"], COMPRESSED_TARGET_MS)}), all conditions '
                f'pooled {jpeg_pooled["p50"]:.2f} ms '
                f'({common.met(jpeg_pooled["p50"], COMPRESSED_TARGET_MS)})')
    markdown = (f'{options.frames} frames per condition x {options.repeats} rounds, JPEG '
                f'quality {JPEG_QUALITY}, '
                f'{info["cpus"]} cores, load {common.load_text(info["loadavg"])}\n\n'
                f'{table}\n\n{verdicts}')
    print(markdown)
    data = {'machine': info, 'frames_per_condition': options.frames,
            'repeats': options.repeats, 'target_ms': TARGET_MS, 'target_p99_ms': TARGET_P99_MS,
            'compressed_target_ms': COMPRESSED_TARGET_MS, 'jpeg_quality': JPEG_QUALITY,
            'ms': {mode: {c: common.summary(v) for c, v in by_condition.items()}
                   for mode, by_condition in times.items()}}
    paths = common.write_outputs(options.output, 'preprocess', data, markdown, plot(times))
    print('\nwrote ' + ', '.join(str(path) for path in paths))
    return 0


if __name__ == '__main__':
    sys.exit(main())
