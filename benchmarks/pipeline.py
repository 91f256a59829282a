"""End to end on real processes and real DDS: latency, the camera hop, throughput, CPU and RSS.

    .venv/bin/python benchmarks/pipeline.py [--quick] [--duration 25] [--hop-duration 20]
    .venv/bin/python benchmarks/pipeline.py --soak-minutes 5

Every configuration replays a generated video (2 s of empty paper, then the frames of
samples/digits.mp4 over and over) once, with loop:=false, so the camera's "ended after N
frames" line says exactly how many frames it published. This process listens on `digit_crop`
(reliable, so it hears every crop the preprocess node sends) and on `digit`, and samples
/proc for each node's CPU time and RSS. See benchmarks/README.md for what is measured how,
and for the assumption that pairs each digit with the crops it was decided from.
"""

import argparse
import json
import math
import os
from pathlib import Path
import re
import sys
import tempfile
import threading
import time

import cv2
import numpy as np
import yaml

import common
from digit_recognition.core.decision import CropBatcher, decide
from digit_recognition.core.model import BUNDLED_MODEL, load_classifier, TUTORIAL_MODEL
from digit_recognition.core.preprocessing import preprocess_frame
from digit_recognition.core.sources import read_video_frames
from digit_recognition.training.synthetic_frames import blank_frame

LEAD_SECONDS = 3.0  # empty paper first: whoever listens has matched before the first crop
MAX_FRAMERATE = 240.0  # the camera node's highest framerate parameter
TARGETS = {'hop_p50_ms': 3.0, 'digit_p50_ms': 10.0, 'digit_p99_ms': 25.0,
           'max_crops_per_s': 150.0, 'soak_cpu_percent': 60.0}
# The tutorial's way, from the package's own nodes: resize the whole ROI, fixed threshold,
# its MLP through Keras, and every batch published.
VARIANTS = {
    'ours': {},
    'tutorial': {'normalization': 'resize', 'threshold_mode': 'fixed', 'backend': 'keras',
                 'model_path': str(TUTORIAL_MODEL), 'min_confidence': 0.0},
    # Ours with reliable image subscriptions (QoS overrides): for the soak, where a lost
    # frame must mean a fault, not a best-effort drop.
    'reliable': {'qos_overrides./image_raw.subscription.reliability': 'reliable',
                 'qos_overrides./digit_crop.subscription.reliability': 'reliable'},
    # Ours with the frame subscription best effort whatever the camera does (before
    # matched_subscription.py): beside a camera on default DDS, what that cost.
    'best_effort': {'qos_overrides./image_raw.subscription.reliability': 'best_effort'},
}
NODES = ('camera', 'preprocess', 'classifier')


def configuration(variant, layout, dds, fps, camera_dds=None):
    """camera_dds: the camera process's own profile, when it differs from the others'
    (a camera driver that is not ours runs on Fast DDS's defaults)."""
    rate = 'max' if fps >= MAX_FRAMERATE else f'{fps:g}fps'
    camera = f' camera-{camera_dds}' if camera_dds and camera_dds != dds else ''
    return {'name': f'{variant} {layout} {dds}{camera} {rate}', 'variant': variant,
            'layout': layout, 'dds': dds, 'camera_dds': camera_dds or dds, 'fps': fps}


STANDARD = [configuration(*args, 30.0) for args in (
    ('ours', '3proc', 'shipped'), ('ours', '3proc', 'default'),
    ('ours', '1proc', 'shipped'), ('ours', '1proc', 'default'),
    ('tutorial', '3proc', 'shipped'), ('tutorial', '3proc', 'default'),
    ('best_effort', '3proc', 'shipped'))] + [
    # A camera driver on Fast DDS defaults (not loading the profile), the nodes on ours.
    configuration(variant, '3proc', 'shipped', 30.0, camera_dds='default')
    for variant in ('ours', 'best_effort')]
MAX_RATE = [configuration(*args, MAX_FRAMERATE) for args in (
    ('ours', '3proc', 'shipped'), ('ours', '1proc', 'shipped'), ('ours', '3proc', 'default'))]


def node_settings(variant):
    """The parameters the nodes run with: params.yaml, then the variant's overrides."""
    with open(common.PARAMS_FILE) as params_file:
        settings = dict(yaml.safe_load(params_file)['/**']['ros__parameters'])
    settings.update(VARIANTS[variant])
    return settings


class Videos:
    """Test videos of `lead` empty frames, then `digits` frames of the sample video, looped."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.samples = read_video_frames(common.SAMPLE_VIDEO)
        rng = np.random.default_rng(0)
        self.blanks = [blank_frame(rng=rng) for _ in range(10)]
        self._videos = {}
        self._yields = {}

    def frames(self, lead, digits):
        for i in range(lead):
            yield self.blanks[i % len(self.blanks)]
        for i in range(digits):
            yield self.samples[i % len(self.samples)]

    def get(self, lead, digits):
        if (lead, digits) not in self._videos:
            path = self.folder / f'video_{lead}_{digits}.mp4'
            height, width = self.samples[0].shape[:2]
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 30,
                                     (width, height))
            for frame in self.frames(lead, digits):
                writer.write(frame)
            writer.release()
            self._videos[lead, digits] = path
        return self._videos[lead, digits]

    def expected_crops(self, lead, digits, settings):
        """Frames of the video the preprocess node makes a crop of, with these settings."""
        key = tuple(settings[k] for k in ('threshold', 'roi_size', 'threshold_mode',
                                          'normalization'))
        if key not in self._yields:
            self._yields[key] = [
                [preprocess_frame(frame, *key) is not None for frame in frames]
                for frames in (self.blanks, self.samples)]
        blanks, samples = self._yields[key]
        return (sum(blanks[i % len(blanks)] for i in range(lead))
                + sum(samples[i % len(samples)] for i in range(digits)))


class PipelineListener(common.RosListener):
    """Hears every crop (its stamp and pixels) and every digit, with arrival times."""

    def setup(self):
        from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: PLC0415
        from sensor_msgs.msg import Image  # noqa: PLC0415
        from std_msgs.msg import Int32  # noqa: PLC0415

        self._lock = threading.Lock()
        self.reset()
        # Reliable and deep: this listener must not lose crops of its own, so that a crop
        # missing here is one the preprocess node never sent.
        reliable = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
        self._crop_subscription = self.node.create_subscription(
            Image, 'digit_crop', self._on_crop, reliable)
        self.node.create_subscription(Int32, 'digit', self._on_digit, reliable)

    def reset(self):
        with self._lock:
            self.crops = []  # (received ns, received monotonic, stamp ns, 28x28 uint8)
            self.digits = []  # (received ns, received monotonic, digit)

    def _on_crop(self, msg):
        received, monotonic = time.time_ns(), time.monotonic()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        pixels = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.width).copy()
        with self._lock:
            self.crops.append((received, monotonic, stamp, pixels))

    def _on_digit(self, msg):
        received, monotonic = time.time_ns(), time.monotonic()
        with self._lock:
            self.digits.append((received, monotonic, msg.data))

    def matched(self):
        """This process's crop subscription has found the preprocess node's publisher."""
        if hasattr(self._crop_subscription, 'get_publisher_count'):  # not in Humble
            return self._crop_subscription.get_publisher_count() > 0
        return self.node.count_publishers('digit_crop') > 0

    def ready(self):
        """The classifier and preprocess nodes are up and matched: the camera may start."""
        node = self.node
        return (node.count_publishers('digit') > 0 and node.count_publishers('digit_crop') > 0
                and node.count_subscribers('digit_crop') >= 2
                and node.count_subscribers('image_raw') >= 1)


def expected_digits(crops, settings, classifier, pad=0):
    """The digits the classifier publishes from these crops, decided here again.

    The classifier node's own logic (CropBatcher, decide, min_confidence) on the crops this
    process heard, with the tflite twin of its model: (digit, stamp ns of the batch's last
    crop) per published digit, in order. `pad` crops this process missed before its first
    one shift the classifier's batches: the batch that holds them is left out.
    """
    batcher = CropBatcher(settings['batch_size'], settings['batch_timeout'])
    unseen = [(None, crops[0][2])] * pad if crops else []
    decided = []
    for index, (pixels, stamp) in enumerate(unseen + [(c[3], c[2]) for c in crops]):
        batch = batcher.add(crops[0][3] if pixels is None else pixels, stamp * 1e-9)
        if batch is None or (pad and index < settings['batch_size']):
            continue
        digit, confidence = decide(classifier.predict_batch(batch))
        if confidence >= settings['min_confidence']:
            decided.append((digit, stamp))
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


def run_configuration(config, listener, videos, profiles, duration, work_dir, classifiers):
    settings = node_settings(config['variant'])
    fps = config['fps']
    lead = math.ceil(LEAD_SECONDS * fps)
    digit_frames = math.ceil(duration * fps / 10) * 10  # whole digits: 10 frames each
    video = videos.get(lead, digit_frames)
    params = {**VARIANTS[config['variant']], 'source': video, 'loop': 'false',
              'framerate': f'{fps:.1f}'}
    env = common.profile_environment(profiles[config['dds']])
    camera_env = common.profile_environment(profiles[config['camera_dds']])
    three = config['layout'] == '3proc'
    log_dir = Path(work_dir) / config['name'].replace(' ', '_')
    print(f'-- {config["name"]}: {lead} + {digit_frames} frames at {fps:g} fps', flush=True)
    listener.reset()
    with common.Children(log_dir) as children:
        if three:
            children.start('classifier', common.ros_command('classifier_node', params), env)
            children.start('preprocess', common.ros_command('preprocess_node', params), env)
            if not common.wait_until(lambda: listener.ready(), 180, children):
                raise RuntimeError(f'nodes not ready after 180 s:\n{children.logs()}')
            time.sleep(1.0)  # preprocess -> classifier matching, which this process cannot see
            camera = children.start('camera', common.ros_command('camera_node', params),
                                    camera_env)
        else:
            camera = children.start('pipeline', common.ros_command('pipeline', params), env)
        pids = {**children.pids(), 'listener': os.getpid()}
        started = time.monotonic()
        matched = []

        def camera_done():
            if not matched and listener.matched():
                matched.append(time.time())
            return not camera.running()

        with common.Sampler(pids) as sampler:
            timeout = 180 + 4 * (lead + digit_frames) / fps
            finished = common.wait_until(camera_done, timeout, children, interval=0.02)
            time.sleep(1.0)  # the last crops and digits still in flight
        ended = time.monotonic()
    logs = {name: child.output() for name, child in children.children.items()}
    published = re.search(r'ended after (\d+) frames', logs[camera.name])
    # Log lines carry the wall time: when the camera began, against when this process heard
    # the crop publisher. Later than the lead of empty paper: the first crops went unheard.
    camera_began = re.search(r'\[(\d+\.\d+)\] \[camera\]: publishing', logs[camera.name])
    matched_after = (matched[0] - float(camera_began.group(1))
                     if matched and camera_began else None)
    ready = re.search(r'ready in ([\d.]+) s', logs['classifier' if three else 'pipeline'])
    with listener._lock:
        crops, digits = list(listener.crops), list(listener.digits)

    expected_crops = videos.expected_crops(lead, digit_frames, settings)
    shift, skipped, decided, latencies = align(crops, digits, settings,
                                               classifiers[config['variant']])
    crop_latencies = [(received - stamp) / 1e6 for received, _, stamp, _ in crops]
    # Where frames went missing: gaps of more than 1.5 frame periods between crop stamps.
    stamps = np.array([stamp for _, _, stamp, _ in crops], dtype=np.int64)
    gaps = np.diff(stamps) / 1e6
    missing_at = [] if fps >= MAX_FRAMERATE else [
        (int(i) + 1, round(float(gaps[i]), 1)) for i in np.flatnonzero(gaps > 1500.0 / fps)]
    if len(crops) >= 2:
        # Resources over the steady stream: from a second after the first crop to the last.
        first, last = crops[0][1], crops[-1][1]
        window = (first + 1.0, last) if last - first > 4.0 else (first, last)
        span_stamps = (crops[-1][2] - crops[0][2]) / 1e9
        span_received = last - first
    else:
        window, span_stamps, span_received = (started, ended), 0.0, 0.0
    usage = sampler.usage(*window)
    processes = usage['processes']
    nodes = [name for name in (*NODES, 'pipeline') if name in processes]
    ours = sum(processes[name]['cpu_percent'] or 0.0 for name in (*nodes, 'listener'))
    result = {
        **config, 'settings': settings, 'overrides': {k: str(v) for k, v in params.items()},
        'video': {'lead_frames': lead, 'digit_frames': digit_frames},
        'finished': finished, 'listener_matched_after_camera_start_s': matched_after,
        'frames_published': int(published.group(1)) if published else None,
        'frames_in_video': lead + digit_frames,
        'crops_expected': expected_crops, 'crops_heard': len(crops),
        'crops_lost': expected_crops - len(crops),
        'stamp_gaps': missing_at[:100],  # (crop index, gap ms)
        'digits_expected': len(decided), 'digits_heard': len(digits),
        'digits_paired': len(latencies),
        'pairing': {'batch_shift_crops': shift, 'digits_skipped': skipped,
                    'ok': len(latencies) == len(digits) - skipped == len(decided)},
        'classifier_ready_s': float(ready.group(1)) if ready else None,
        'stamp_to_crop_ms': common.summary(crop_latencies),
        'stamp_to_digit_ms': common.summary(latencies),
        'camera_fps': (expected_crops - 1) / span_stamps if span_stamps > 0 else None,
        'crops_per_s': (len(crops) - 1) / span_received if span_received > 0 else None,
        'digits_per_s': len(digits) / span_received if span_received > 0 else None,
        'usage': usage, 'nodes': nodes,
        'nodes_cpu_percent': sum(processes[name]['cpu_percent'] or 0.0 for name in nodes),
        'nodes_rss_mb': sum(processes[name]['rss_mb'] or 0.0 for name in nodes),
        'others_cpu_percent': (usage['machine_busy_percent'] - ours
                               if usage['machine_busy_percent'] is not None else None),
        'series': {name: sampler.series(name) for name in nodes},
        'latencies_ms': latencies,
        'latency_times': [t for _, t, _ in digits[skipped:skipped + len(latencies)]],
    }
    print(f'   published {result["frames_published"]}, crops {len(crops)}/{expected_crops}, '
          f'digits {len(digits)}/{len(decided)} (paired {len(latencies)}), stamp->digit p50 '
          f'{common.fmt(result["stamp_to_digit_ms"]["p50"], 2)} ms, nodes CPU '
          f'{result["nodes_cpu_percent"]:.0f} %', flush=True)
    if not finished:
        print(f'   the camera did not finish in time:\n{children.logs()}')
    return result


HOPS = {  # name: (Fast DDS profile, frame buffers reused as the nodes do)
    'shipped': ('shipped', True),
    'shipped, no buffer reuse': ('shipped', False),
    'default': ('default', True),
}


def run_hop(name, profiles, duration, work_dir, rate=30.0):
    """The minimal publisher -> subscriber pair of hop_nodes.py in one configuration of HOPS."""
    dds, reuse = HOPS[name]
    profile = profiles[dds]
    count = max(10, round(duration * rate))
    log_dir = Path(work_dir) / ('hop_' + re.sub(r'\W+', '_', name))
    log_dir.mkdir(parents=True, exist_ok=True)
    output = log_dir / 'subscriber.json'
    script = str(Path(__file__).resolve().parent / 'hop_nodes.py')
    env = common.profile_environment(profile)
    flags = [] if reuse else ['--no-buffer-reuse']
    print(f'-- hop {name}: {count} frames at {rate:g} fps', flush=True)
    with common.Children(log_dir) as children:
        subscriber = children.start(
            'subscriber', [sys.executable, script, 'subscriber', '--output', str(output),
                           *flags], env)
        publisher = children.start(
            'publisher', [sys.executable, script, 'publisher', '--count', str(count),
                          '--rate', str(rate), *flags], env)
        with common.Sampler(children.pids()) as sampler:
            common.wait_until(lambda: not publisher.running(), 120 + 3 * count / rate,
                              children, interval=0.2)
            time.sleep(0.5)
        subscriber.stop()
    heard = json.loads(output.read_text())
    published = re.search(r'published (\d+)', publisher.output())
    published = int(published.group(1)) if published else None
    usage = sampler.usage(heard['first'] or 0.0, heard['last'] or 0.0) if heard['first'] \
        else sampler.usage(0.0, time.monotonic())
    result = {'name': f'hop {name}', 'dds': dds, 'buffer_reuse': reuse, 'rate': rate,
              'published': published,
              'received': heard['received'],
              'lost': published - heard['received'] if published is not None else None,
              'latency_ms': common.summary(heard['latencies_ms']), 'usage': usage,
              'latencies_ms': heard['latencies_ms']}
    print(f'   received {heard["received"]}/{published}, p50 '
          f'{common.fmt(result["latency_ms"]["p50"], 2)} ms', flush=True)
    return result


# --- report ------------------------------------------------------------------------------------

def cpu_cells(result):
    processes = result['usage']['processes']
    cpu = ' / '.join(common.fmt(processes[n]['cpu_percent'], 0) for n in result['nodes'])
    rss = ' / '.join(common.fmt(processes[n]['rss_mb'], 0) for n in result['nodes'])
    return cpu, rss


def pairing_cell(result):
    pairing = result['pairing']
    text = 'ok' if pairing['ok'] else f'only {result["digits_paired"]} paired'
    if pairing['batch_shift_crops'] or pairing['digits_skipped']:
        # This process missed the first crops: batches realigned (see align()).
        text += (f' (batches shifted {pairing["batch_shift_crops"]}, '
                 f'{pairing["digits_skipped"]} digits of unheard crops)')
    return text


def latency_table(results):
    rows = []
    for r in results:
        digit = r['stamp_to_digit_ms']
        rows.append([r['name'], r['frames_published'], f'{r["crops_heard"]}/{r["crops_expected"]}',
                     r['crops_lost'], f'{r["digits_heard"]}/{r["digits_expected"]}',
                     pairing_cell(r),
                     common.fmt(r['stamp_to_crop_ms']['p50'], 2),
                     common.fmt(digit['p50'], 2), common.fmt(digit['p99'], 2),
                     common.fmt(r['camera_fps'], 1), common.fmt(r['crops_per_s'], 1)])
    return common.markdown_table(
        ['configuration', 'frames published', 'crops heard/expected', 'frames lost',
         'digits heard/expected', 'pairing', 'stamp->crop p50 ms', 'stamp->digit p50 ms',
         'stamp->digit p99 ms', 'camera fps', 'crops/s'], rows)


def resource_table(results):
    rows = []
    for r in results:
        cpu, rss = cpu_cells(r)
        rows.append([r['name'], '/'.join(r['nodes']), cpu, common.fmt(r['nodes_cpu_percent'], 0),
                     rss, common.fmt(r['nodes_rss_mb'], 0),
                     common.fmt(r['usage']['processes']['listener']['cpu_percent'], 0),
                     common.fmt(r['others_cpu_percent'], 0),
                     common.fmt(r['classifier_ready_s'], 1)])
    return common.markdown_table(
        ['configuration', 'processes', 'CPU % each', 'CPU % total', 'RSS MB each',
         'RSS MB total', 'listener CPU %', 'others CPU %', 'classifier ready s'], rows)


def hop_table(hops):
    rows = []
    for h in hops:
        usage = h['usage']['processes']
        rows.append([h['name'], h['published'], h['received'], h['lost'],
                     common.fmt(h['latency_ms']['p50'], 2), common.fmt(h['latency_ms']['p90'], 2),
                     common.fmt(h['latency_ms']['p99'], 2),
                     common.fmt(usage['publisher']['cpu_percent'], 0),
                     common.fmt(usage['subscriber']['cpu_percent'], 0)])
    return common.markdown_table(
        ['configuration', 'published', 'received', 'lost', 'p50 ms', 'p90 ms', 'p99 ms',
         'publisher CPU %', 'subscriber CPU %'], rows)


def target_lines(standard, max_rate, hops):
    lines = []
    for h in hops:
        p50 = h['latency_ms']['p50']
        lines.append(f'- {h["name"]} p50 {common.fmt(p50, 2)} ms: target <= '
                     f'{TARGETS["hop_p50_ms"]} ms {common.met(p50, TARGETS["hop_p50_ms"])}')
    for r in standard:
        digit = r['stamp_to_digit_ms']
        lines.append(
            f'- {r["name"]}: stamp->digit p50 {common.fmt(digit["p50"], 2)} ms (target <= 10: '
            f'{common.met(digit["p50"], TARGETS["digit_p50_ms"])}), p99 '
            f'{common.fmt(digit["p99"], 2)} ms (target <= 25: '
            f'{common.met(digit["p99"], TARGETS["digit_p99_ms"])})')
    for r in max_rate:
        lines.append(f'- {r["name"]}: {common.fmt(r["crops_per_s"], 1)} crops/s through '
                     f'preprocess (target >= 150: '
                     f'{common.met(r["crops_per_s"], TARGETS["max_crops_per_s"], at_most=False)})')
    return lines


def report(standard, max_rate, hops, before, after, options):
    sections = ['## Pipeline on real processes and DDS', '',
                f'{options.duration:g} s of digits per configuration (after '
                f'{LEAD_SECONDS:g} s of empty paper), hop pair {options.hop_duration:g} s at '
                '30 fps. "shipped" = config/fastdds.xml, "default" = Fast DDS defaults (a '
                'profile file with no profile); "camera-default" = the camera process alone on '
                'Fast DDS defaults, as a camera driver that is not ours. 3proc = camera_node, '
                'preprocess_node, '
                'classifier_node; 1proc = `pipeline`. "ours" = config/params.yaml (tflite CNN); '
                '"tutorial" = resize, fixed threshold, Keras MLP, min_confidence 0; '
                '"best_effort" = ours with the frame subscription best effort whatever the '
                'camera publishes (before it followed the publishers).']
    if hops:
        sections += ['', '### Camera -> preprocess hop (640x480 bgr8, receive - stamp)', '',
                     hop_table(hops)]
    for title, results in (('At 30 fps', standard),
                           (f'At the maximum rate (camera framerate {MAX_FRAMERATE:g})',
                            max_rate)):
        if results:
            sections += ['', f'### {title}: counts and latency', '', latency_table(results),
                         '', f'### {title}: CPU (% of one core) and RSS per process', '',
                         resource_table(results)]
    sections += ['', 'Targets: hop <= 3 ms p50; stamp->digit <= 10 ms p50, <= 25 ms p99; '
                 '>= 150 frames/s through preprocess.', *target_lines(standard, max_rate, hops),
                 '', f'Load average (1/5/15 min) before: {common.load_text(before)}, after: '
                 f'{common.load_text(after)}; {os.cpu_count()} CPUs. "others CPU %" = the '
                 'whole machine busy minus the nodes and this listener, during the window.']
    data = {'machine': common.machine_info(), 'loadavg_before': before, 'loadavg_after': after,
            'targets': TARGETS, 'duration_s': options.duration,
            'hop_duration_s': options.hop_duration, 'lead_s': LEAD_SECONDS,
            'hops': hops, 'standard': standard, 'max_rate': max_rate}
    return '\n'.join(sections), data


def plot(standard, max_rate, hops):
    plt = common.pyplot()
    figure, axes = plt.subplots(2, 2, figsize=(14, 9))
    if standard:
        axis = axes[0][0]
        names = [r['name'] for r in standard]
        x = np.arange(len(names))
        axis.bar(x - 0.2, [r['stamp_to_digit_ms']['p50'] or 0 for r in standard], 0.4,
                 label='p50')
        axis.bar(x + 0.2, [r['stamp_to_digit_ms']['p99'] or 0 for r in standard], 0.4,
                 label='p99')
        axis.axhline(TARGETS['digit_p50_ms'], color='tab:blue', linestyle='--')
        axis.axhline(TARGETS['digit_p99_ms'], color='tab:orange', linestyle='--')
        axis.set_xticks(x, names, rotation=25, ha='right', fontsize=8)
        axis.set_ylabel('ms')
        axis.set_title('frame stamp -> digit at 30 fps (dashed: targets)')
        axis.legend(loc='upper left')
    for axis, results, title in ((axes[0][1], standard, 'CPU at 30 fps'),
                                 (axes[1][1], max_rate, 'CPU at the maximum rate')):
        if not results:
            continue
        names = [r['name'] for r in results]
        bottom = np.zeros(len(results))
        for node in (*NODES, 'pipeline'):
            values = np.array([r['usage']['processes'].get(node, {}).get('cpu_percent') or 0.0
                               for r in results])
            if values.any():
                axis.bar(names, values, bottom=bottom, label=node)
                bottom += values
        if results is standard:
            axis.axhline(TARGETS['soak_cpu_percent'], color='k', linestyle='--',
                         label='60 % target')
        for i, r in enumerate(results):
            if r['crops_per_s']:
                axis.text(i, bottom[i], f'{r["crops_per_s"]:.0f} crops/s', ha='center',
                          va='bottom', fontsize=8)
        axis.set_xticks(range(len(names)), names, rotation=25, ha='right', fontsize=8)
        axis.set_ylim(0, max(bottom.max(), TARGETS['soak_cpu_percent']) * 1.15)
        axis.set_ylabel('% of one core')
        axis.set_title(title)
        axis.legend(fontsize=8)
    axis = axes[1][0]
    for h in hops:
        values = np.sort(h['latencies_ms'])
        if len(values):
            axis.plot(values, np.linspace(0, 1, len(values)),
                      label=f'{h["name"]} ({h["received"]}/{h["published"]} received)')
    axis.axvline(TARGETS['hop_p50_ms'], color='k', linestyle='--', label='3 ms target (p50)')
    axis.set_xlabel('receive - stamp, ms')
    axis.set_ylabel('fraction of frames received')
    axis.set_title('camera -> preprocess hop, 640x480 bgr8 at 30 fps')
    axis.legend()
    figure.tight_layout()
    return figure


def soak_report(result, before, after, minutes):
    lost = result['crops_lost']
    cpu = result['nodes_cpu_percent']
    sections = [
        f'## Soak: {result["name"]} for {minutes:g} min', '',
        latency_table([result]), '', resource_table([result]), '',
        f'- frames lost: {lost} (target 0: {common.met(lost, 0)})',
        f'- all nodes together: {cpu:.1f} % of one core (target <= 60 %: {common.met(cpu, 60.0)})',
        '- RSS from the first second of digits to the end: ' + ', '.join(
            f'{name} {common.fmt(usage["rss_start_mb"], 0)} -> '
            f'{common.fmt(usage["rss_mb"], 0)} MB'
            for name, usage in result['usage']['processes'].items() if name in result['nodes']),
        '- RSS growth per node (target <= 5 MB): ' + ', '.join(
            f'{name} {usage["rss_mb"] - usage["rss_start_mb"]:+.1f} MB '
            f'({common.met(usage["rss_mb"] - usage["rss_start_mb"], 5.0)})'
            for name, usage in result['usage']['processes'].items() if name in result['nodes']),
        '', f'Load average (1/5/15 min) before: {common.load_text(before)}, after: '
        f'{common.load_text(after)}; {os.cpu_count()} CPUs.']
    data = {'machine': common.machine_info(), 'loadavg_before': before, 'loadavg_after': after,
            'targets': TARGETS, 'minutes': minutes, 'soak': result}
    plt = common.pyplot()
    figure, axes = plt.subplots(3, 1, figsize=(11, 10), sharex=True)
    start = min(series[0][0] for series in result['series'].values() if series[0])
    for name, (times, cpu_series, rss) in result['series'].items():
        minutes_axis = (np.array(times) - start) / 60
        axes[0].plot(minutes_axis, cpu_series, label=name)
        axes[1].plot(minutes_axis, rss, label=name)
    axes[0].set_ylabel('CPU % of one core')
    axes[1].set_ylabel('RSS MB')
    axes[2].plot((np.array(result['latency_times']) - start) / 60, result['latencies_ms'], '.',
                 markersize=2)
    axes[2].set_ylabel('stamp -> digit ms')
    axes[2].set_xlabel('minutes')
    for axis in axes[:2]:
        axis.legend(fontsize=8)
    axes[0].set_title(f'Soak: {result["name"]}')
    figure.tight_layout()
    return '\n'.join(sections), data, figure


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='a short smoke run')
    parser.add_argument('--duration', type=float, default=25.0,
                        help='seconds of digits per configuration (default: %(default)s)')
    parser.add_argument('--hop-duration', type=float, default=20.0,
                        help='seconds of frames for the hop pair (default: %(default)s)')
    parser.add_argument('--soak-minutes', type=float, default=0.0,
                        help='instead of the standard set: run ours 3proc shipped at 30 fps '
                             'for this many minutes')
    parser.add_argument('--soak-variant', choices=sorted(VARIANTS), default='ours',
                        help='node settings for the soak (default: %(default)s; reliable: '
                             'ours with reliable image subscriptions)')
    parser.add_argument('--only', default='',
                        help='comma-separated words; run only configurations whose name holds '
                             'all words of one of them (e.g. "hop,ours 1proc")')
    parser.add_argument('--output', type=Path, default=None,
                        help='results folder (default: benchmarks/results, '
                             'benchmarks/results/quick with --quick)')
    options = parser.parse_args(argv)
    if options.quick:
        options.duration, options.hop_duration = 4.0, 4.0
        options.soak_minutes = min(options.soak_minutes, 0.5)
    output = options.output or (common.RESULTS_DIR / 'quick' if options.quick
                                else common.RESULTS_DIR)
    common.stop_on_sigterm()
    domain = common.isolate_ros()

    def wanted(name):
        if not options.only:
            return True
        return any(all(word in name for word in group.split())
                   for group in options.only.split(','))

    with tempfile.TemporaryDirectory(prefix='digit_bench_') as work_dir:
        default_profile = common.write_empty_profile(work_dir)
        common.check_profile(default_profile)
        profiles = {'shipped': common.SHIPPED_PROFILE, 'default': default_profile}
        print(f'ROS_DOMAIN_ID {domain}; default-DDS profile {default_profile} accepted by '
              'Fast DDS; preparing videos', flush=True)
        videos = Videos(work_dir)
        classifiers = {'ours': load_classifier(BUNDLED_MODEL, 'tflite'),
                       'tutorial': load_classifier(TUTORIAL_MODEL, 'tflite')}
        classifiers['reliable'] = classifiers['best_effort'] = classifiers['ours']  # other QoS
        before = os.getloadavg()
        print(f'load average {common.load_text(before)}', flush=True)
        with PipelineListener('benchmark_listener') as listener:
            if options.soak_minutes > 0:
                config = configuration(options.soak_variant, '3proc', 'shipped', 30.0)
                result = run_configuration(config, listener, videos, profiles,
                                           options.soak_minutes * 60, work_dir, classifiers)
                after = os.getloadavg()
                markdown, data, figure = soak_report(result, before, after,
                                                     options.soak_minutes)
                name = ('pipeline_soak' if options.soak_variant == 'ours'
                        else f'pipeline_soak_{options.soak_variant}')
            else:
                hops = [run_hop(name, profiles, options.hop_duration, work_dir)
                        for name in HOPS if wanted(f'hop {name}')]
                standard = [run_configuration(c, listener, videos, profiles, options.duration,
                                              work_dir, classifiers)
                            for c in STANDARD if wanted(c['name'])]
                max_rate = [run_configuration(c, listener, videos, profiles, options.duration,
                                              work_dir, classifiers)
                            for c in MAX_RATE if wanted(c['name'])]
                after = os.getloadavg()
                markdown, data = report(standard, max_rate, hops, before, after, options)
                figure = plot(standard, max_rate, hops)
                name = 'pipeline'
    paths = common.write_outputs(output, name, data, markdown, figure)
    print(markdown)
    print('\nwrote ' + ', '.join(str(p) for p in paths))
    return 0


if __name__ == '__main__':
    sys.exit(main())
