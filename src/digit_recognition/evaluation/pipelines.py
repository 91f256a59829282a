"""The pipelines measured (preprocessing and model), and the frames they read: each job's
batches rendered by the simulator and preprocessed by every pipeline, in worker processes."""

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
import time
import zlib

import numpy as np

from digit_recognition.core import preprocessing
from digit_recognition.core.patches import PATCH_CHANNELS
from digit_recognition.core.sizes import CROP_SIZE
from digit_recognition.evaluation.scoring import BATCH
from digit_recognition.simulation.blanks import BLANK_KINDS, render_blank
from digit_recognition.simulation.conditions import CONDITIONS, render_condition
from digit_recognition.simulation import negatives
from digit_recognition.simulation.drawn_digits import held_out_printed_digit

TUTORIAL_THRESHOLD = 100
# Non-digits drawn on paper, each batch under a condition drawn at random (negatives.py).
GLYPH_KINDS = {'letters (unseen fonts)': negatives.truetype_letter,
               'symbols': negatives.random_symbol, 'scribbles': negatives.scribble,
               'printed words (never trained)': negatives.printed_word,
               'letters of unseen alphabets': negatives.unseen_alphabet_letter}
# Printed digits in typefaces training never sees (drawn_digits.HELD_OUT_FACES), each batch
# under a condition drawn at random, drawn with their own strokes: a condition row of its own.
PRINTED = 'printed_digits'
PRINTED_ROW = 'printed digits, unseen typefaces'


@dataclass(frozen=True)
class Pipeline:
    name: str
    model: str  # 'MLP' or 'CNN'
    threshold_mode: str
    normalization: str
    default: bool = False


def make_pipelines(all_modes: bool = False, compared: str = '') -> list:
    """The tutorial's pipeline, then the CNN behind the default threshold mode (every mode
    with all_modes); with `compared` (a name), another model (classifiers['compared']) on the
    default pipeline's very crops."""
    modes = preprocessing.THRESHOLD_MODES if all_modes else (
        preprocessing.DEFAULT_THRESHOLD_MODE,)
    pipelines = [Pipeline('tutorial', 'MLP', 'fixed', 'resize')] + [
        Pipeline(f'CNN {mode}', 'CNN', mode, 'mnist', mode == preprocessing.DEFAULT_THRESHOLD_MODE)
        for mode in modes]
    if compared:
        pipelines.append(Pipeline(f'{compared} {preprocessing.DEFAULT_THRESHOLD_MODE}',
                                  'compared', preprocessing.DEFAULT_THRESHOLD_MODE, 'mnist'))
    return pipelines


def default_index(pipelines) -> int:
    return next(p for p, pipeline in enumerate(pipelines) if pipeline.default)


def frame_rng(seed: int, name: str, index: int) -> np.random.Generator:
    """The generator of one frame (or batch): the same whatever else runs, so a failure can be
    rendered again for the figure and a --conditions subset shows the same frames."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), index])


def crop_for(frame, pipeline):
    """The crop with its context, uint8 [28, 28, 3], the pipeline reads in a bgr8 frame (as
    the preprocess node publishes it); None: no digit found."""
    return preprocessing.read_frame(frame, preprocessing.PreprocessSettings(
        threshold=TUTORIAL_THRESHOLD, threshold_mode=pipeline.threshold_mode,
        normalization=pipeline.normalization)).patch()


class Collector:
    """Crops with their context [P, N, 28, 28, 3] and found [P, N] of N frames, filled one
    frame at a time."""

    def __init__(self, pipelines, count):
        self.crops = np.zeros((len(pipelines), count, CROP_SIZE, CROP_SIZE, PATCH_CHANNELS),
                              np.uint8)
        self.found = np.zeros((len(pipelines), count), bool)
        self.variants = [''] * count
        self.seconds = np.zeros(len(pipelines) + 1)  # preprocessing per pipeline, rendering
        self.slowest = np.zeros(len(pipelines))  # a live camera waits for the slowest frame

    def add(self, index, frame, variant, pipelines):
        self.variants[index] = variant
        made = {}  # pipelines that preprocess alike share the crop (a compared model)
        for p, pipeline in enumerate(pipelines):
            how = (pipeline.threshold_mode, pipeline.normalization)
            if how in made:
                crop = made[how]
                if crop is not None:
                    self.crops[p, index], self.found[p, index] = crop, True
                continue
            started = time.perf_counter()
            crop = made[how] = crop_for(frame, pipeline)
            seconds = time.perf_counter() - started
            self.seconds[p] += seconds
            self.slowest[p] = max(self.slowest[p], seconds)
            if crop is not None:
                self.crops[p, index], self.found[p, index] = crop, True


def _variant(table, name, rng):
    variants = table[name]
    return variants[int(rng.integers(len(variants)))]


def printed_labels(batches: int) -> np.ndarray:
    """The digit each batch of the printed-digit row shows: 0-9 in turn (collect() draws
    batch b as b % 10)."""
    return np.arange(batches) % 10


def collect(job):
    """Render and preprocess one job's frames: ('condition', name, strokes, digits), ('glyph',
    kind, batches), ('printed', PRINTED_ROW, batches) or ('blank', kind, batches). Every
    batch is BATCH consecutive frames of a video of one scene (one digit or glyph, pen,
    sheet, light, in one variant): each with its own sensor noise, the held sheet moving a
    little between them."""
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
        elif what in ('glyph', 'printed'):
            digit = (GLYPH_KINDS[name](batch_rng) if what == 'glyph' else
                     held_out_printed_digit(b % 10, batch_rng))
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
            elif what in ('glyph', 'printed'):
                # A printed face keeps its own strokes: the pen would redraw it as handwriting.
                frame, _ = render_condition(condition, digit, rng, variant, camera_rng=camera,
                                            strokes='pen' if what == 'glyph' else 'mnist')
                variant_name = condition
            else:
                frame, _ = render_blank(name, rng, variant, camera_rng=camera)
            collector.seconds[-1] += time.perf_counter() - started
            collector.add(index, frame, variant_name if what in ('glyph', 'printed') else variant,
                          pipelines)
    return collector


def run_jobs(jobs, workers):
    """collect() of each job, in `workers` processes (rendering is most of the time)."""
    if workers <= 1:
        return [collect(job) for job in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(collect, jobs))
