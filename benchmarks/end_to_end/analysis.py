"""What the runs heard comes to: expected digits, digits paired with crops, gaps, summaries.

Pure functions of what the listener heard and the sampler measured; see benchmarks/README.md
for the assumption that pairs each digit with the crops it was decided from.
"""

import numpy as np

import common
from digit_recognition.core.decision import DecisionSettings, DIGIT

from .scenarios import MAX_FRAMERATE, NODES


def expected_digits(crops, settings, classifier, pad=0):
    """The digits the classifier publishes from these crops, decided here again.

    The product's own decision (DigitDecider: batching, the reader and its gate,
    min_confidence, min_digitness) on the crops this process heard, with the tflite twins
    of the classifier's models (core.model.Models): (digit, stamp ns of the
    batch's last crop) per published digit, in order. `pad` crops this process missed before
    its first one (copies of it here) shift the classifier's batches: the batch that holds
    them is left out.
    """
    decider = classifier.decider(DecisionSettings(**{name: settings[name]
                                                     for name in DecisionSettings._fields}))
    unseen = [(None, crops[0][2])] * pad if crops else []
    decided = []
    for index, (pixels, stamp) in enumerate(unseen + [(c[3], c[2]) for c in crops]):
        verdict = decider.add(crops[0][3] if pixels is None else pixels, stamp * 1e-9)
        if verdict is None or (pad and index < settings['batch_size']):
            continue
        if verdict.kind == DIGIT:  # unsure, not-a-digit and refused batches publish nothing
            decided.append((verdict.digit, stamp))
    return decided


def pair_digits(digits, decided):
    """Latencies (ms) from each batch's last frame stamp to its digit's arrival.

    Assumes the classifier got exactly the crops this process heard, in the same order: then
    the k-th digit received is the k-th decided here. Checked: pairs count only while the
    digits agree; the first disagreement ends the pairing.
    """
    latencies = []
    for (received, _, digit), (expected, stamp) in zip(digits, decided):
        if digit != expected:
            break
        latencies.append((received - stamp) / 1e6)
    return latencies


def align(crops, digits, settings, classifier):
    """Pair digits with batches: (batch shift in crops, digits skipped, decided, latencies).

    First the plain assumption (this process heard every crop the classifier got). If that
    fails, e.g. this process matched the preprocess node's publisher a few crops late, try
    1-4 unseen crops before the first (shifting the batches) and 0-3 digits published
    from crops never heard. The pairing kept: most digits paired, then every latency
    positive (a digit cannot come before its frame), then the smallest median latency (a
    batch shifted the other way pairs each digit with an earlier frame).
    """
    decided = expected_digits(crops, settings, classifier)
    latencies = pair_digits(digits, decided)
    if len(latencies) == len(digits) == len(decided):
        return 0, 0, decided, latencies
    best_key, best = None, None
    for pad in range(5):
        decided = expected_digits(crops, settings, classifier, pad) if pad else decided
        for skip in range(4):
            latencies = pair_digits(digits[skip:], decided)
            key = (len(latencies), all(value > 0 for value in latencies),
                   -float(np.median(latencies)) if latencies else 0.0)
            if best_key is None or key > best_key:
                best_key, best = key, (pad, skip, decided, latencies)
    return best


def digit_figures(crops, digits, settings, classifier):
    """Digits heard against digits decided here, and stamp -> digit latency."""
    shift, skipped, decided, latencies = align(crops, digits, settings, classifier)
    return {
        'digits_expected': len(decided), 'digits_heard': len(digits),
        'digits_paired': len(latencies),
        'pairing': {'batch_shift_crops': shift, 'digits_skipped': skipped,
                    'ok': len(latencies) == len(digits) - skipped == len(decided)},
        'stamp_to_digit_ms': common.summary(latencies),
        'latencies_ms': latencies,
        'latency_times': [t for _, t, _ in digits[skipped:skipped + len(latencies)]],
    }


def stamp_gaps(crops, fps):
    """Where frames went missing: (crop index, gap ms) for gaps of more than 1.5 frame periods
    between crop stamps; not looked for at the maximum rate."""
    if fps >= MAX_FRAMERATE:
        return []
    gaps = np.diff(np.array([stamp for _, _, stamp, _ in crops], dtype=np.int64)) / 1e6
    return [(int(i) + 1, round(float(gaps[i]), 1)) for i in np.flatnonzero(gaps > 1500.0 / fps)]


def crop_figures(crops, expected_crops, fps):
    """Crops heard against crops expected, stamp -> crop latency and where frames went missing."""
    return {
        'crops_expected': expected_crops, 'crops_heard': len(crops),
        'crops_lost': expected_crops - len(crops),
        'stamp_gaps': stamp_gaps(crops, fps)[:100],
        'stamp_to_crop_ms': common.summary(
            [(received - stamp) / 1e6 for received, _, stamp, _ in crops]),
    }


def steady_window(crops, started, ended):
    """The steady stream, in monotonic seconds: from a second after the first crop to the
    last (all of it when shorter than 4 s); from start to end without crops."""
    if len(crops) < 2:
        return started, ended
    first, last = crops[0][1], crops[-1][1]
    return (first + 1.0, last) if last - first > 4.0 else (first, last)


def rate_figures(crops, digits, expected_crops):
    """camera fps from the crops' stamps; crops and digits per second from their arrivals."""
    span_stamps = (crops[-1][2] - crops[0][2]) / 1e9 if len(crops) >= 2 else 0.0
    span_received = crops[-1][1] - crops[0][1] if len(crops) >= 2 else 0.0
    return {
        'camera_fps': (expected_crops - 1) / span_stamps if span_stamps > 0 else None,
        'crops_per_s': (len(crops) - 1) / span_received if span_received > 0 else None,
        'digits_per_s': len(digits) / span_received if span_received > 0 else None,
    }


def resource_figures(sampler, window):
    """CPU and RSS per node process over the window; 'others' = load from outside."""
    usage = sampler.usage(*window)
    processes = usage['processes']
    nodes = [name for name in (*NODES, 'pipeline') if name in processes]
    ours = sum(processes[name]['cpu_percent'] or 0.0 for name in (*nodes, 'listener'))
    return {
        'usage': usage, 'nodes': nodes,
        'nodes_cpu_percent': sum(processes[name]['cpu_percent'] or 0.0 for name in nodes),
        'nodes_rss_mb': sum(processes[name]['rss_mb'] or 0.0 for name in nodes),
        'others_cpu_percent': (usage['machine_busy_percent'] - ours
                               if usage['machine_busy_percent'] is not None else None),
        'series': {name: sampler.series(name) for name in nodes},
    }
