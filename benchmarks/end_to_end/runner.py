"""Running it: the listener, the nodes of one configuration, what they report, the hop pair."""

import json
import math
import os
from pathlib import Path
import re
import sys
import threading
import time
from typing import NamedTuple, Optional

import common
from digit_recognition.core.image_encodings import crop_from_msg

from . import analysis, scenarios

# The nodes' fully qualified names (status.name on /diagnostics) in each process.
PROCESS_NODES = {'camera': ('/camera',), 'preprocess': ('/preprocess',),
                 'classifier': ('/classifier',),
                 'pipeline': ('/camera', '/preprocess', '/classifier')}
HOP_SCRIPT = Path(__file__).resolve().parents[1] / 'hop_nodes.py'


class NodeReport(NamedTuple):
    """One node's status on /diagnostics."""

    stamp: float  # the DiagnosticArray's stamp: the node's clock, wall-clock seconds
    message: str
    values: dict  # key: value, strings as published


class PipelineListener(common.RosListener):
    """Hears every crop (its stamp and pixels) and every digit, with arrival times, and every
    node's reports on /diagnostics."""

    def setup(self):
        from diagnostic_msgs.msg import DiagnosticArray  # noqa: PLC0415
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
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics,
                                      reliable)

    def reset(self):
        with self._lock:
            self.crops = []  # (received ns, received monotonic, stamp ns, 28x28x3 uint8)
            self.digits = []  # (received ns, received monotonic, digit)
            self.reports = {}  # node name: [NodeReport], oldest first; the last is the latest

    def _on_crop(self, msg):
        received, monotonic = time.time_ns(), time.monotonic()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        pixels = crop_from_msg(msg).copy()  # with its context: the gate decides on it too
        with self._lock:
            self.crops.append((received, monotonic, stamp, pixels))

    def _on_digit(self, msg):
        received, monotonic = time.time_ns(), time.monotonic()
        with self._lock:
            self.digits.append((received, monotonic, msg.data))

    def _on_diagnostics(self, msg):
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        with self._lock:
            for status in msg.status:
                self.reports.setdefault(status.name, []).append(NodeReport(
                    stamp, status.message, {pair.key: pair.value for pair in status.values}))

    def heard(self):
        """Copies of the crops, the digits and the reports heard since reset()."""
        with self._lock:
            return (list(self.crops), list(self.digits),
                    {name: list(history) for name, history in self.reports.items()})

    def reported_since(self, names, since):
        """Every one of these nodes has reported after `since` (wall clock)."""
        with self._lock:
            return all(self.reports.get(name) and self.reports[name][-1].stamp > since
                       for name in names)

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


# --- one configuration -------------------------------------------------------------------------

class Plan(NamedTuple):
    """One configuration made concrete: its node settings, its video and the -p overrides."""

    config: dict
    settings: dict
    lead: int  # frames of empty paper
    digit_frames: int
    params: dict

    @property
    def timeout(self):
        return 180 + 4 * (self.lead + self.digit_frames) / self.config['fps']


class Run(NamedTuple):
    """What the processes of one configuration left behind."""

    finished: bool  # the camera's file ended in time
    matched_at: Optional[float]  # wall clock when this process's crop subscription matched
    started: float  # monotonic, as the sampler
    ended: float
    sampler: common.Sampler
    camera: str  # the process that runs the camera node
    classifier: str  # the process that runs the classifier node
    logs: dict  # process name: its log
    tails: str  # the last lines of every log, for a run that did not finish


def plan_run(config, videos, duration):
    settings = scenarios.node_settings(config['variant'])
    fps = config['fps']
    lead = math.ceil(scenarios.LEAD_SECONDS * fps)
    digit_frames = math.ceil(duration * fps / 10) * 10  # whole digits: 10 frames each
    source = videos.get(lead, digit_frames, config.get('condition'))
    params = {**scenarios.VARIANTS[config['variant']], 'source': source,
              'loop': 'false', 'framerate': f'{fps:.1f}'}
    return Plan(config, settings, lead, digit_frames, params)


def start_nodes(children, plan, listener, profiles):
    """The configuration's processes; in three, the camera last, once the others are matched.
    Returns the child that runs the camera."""
    config, params = plan.config, plan.params
    pinned = ['taskset', '-c', config['cpus']] if config.get('cpus') else []

    def command(executable):
        return pinned + common.ros_command(executable, params)
    env = common.profile_environment(profiles[config['dds']])
    if config['layout'] != '3proc':
        return children.start('pipeline', command('pipeline'), env)
    children.start('classifier', command('classifier_node'), env)
    children.start('preprocess', command('preprocess_node'), env)
    if not common.wait_until(lambda: listener.ready(), 180, children):
        raise RuntimeError(f'nodes not ready after 180 s:\n{children.logs()}')
    time.sleep(1.0)  # preprocess -> classifier matching, which this process cannot see
    camera_env = common.profile_environment(profiles[config['camera_dds']])
    return children.start('camera', command('camera_node'), camera_env)


def wait_for_camera(camera, listener, children, timeout):
    """Until the camera's file has ended: (in time, when this process's crop subscription
    matched, wall clock, or None)."""
    matched = []

    def camera_done():
        if not matched and listener.matched():
            matched.append(time.time())
        return not camera.running()

    finished = common.wait_until(camera_done, timeout, children, interval=0.02)
    return finished, (matched[0] if matched else None)


def run_processes(plan, listener, profiles, log_dir):
    listener.reset()
    with common.Children(log_dir) as children:
        camera = start_nodes(children, plan, listener, profiles)
        pids = {**children.pids(), 'listener': os.getpid()}
        started = time.monotonic()
        with common.Sampler(pids) as sampler:
            finished, matched_at = wait_for_camera(camera, listener, children, plan.timeout)
            camera_ended_at = time.time()
            time.sleep(1.0)  # the last crops and digits still in flight
            # A report from every node still running, made after the camera ended, so its
            # counts hold every frame. `pipeline` has exited: its nodes reported while draining.
            alive = [name for child in children.children.values() if child.running()
                     for name in PROCESS_NODES[child.name]]
            common.wait_until(lambda: listener.reported_since(alive, camera_ended_at), 1.5)
        ended = time.monotonic()
    return Run(finished, matched_at, started, ended, sampler, camera.name,
               'classifier' if 'classifier' in children.children else 'pipeline',
               {name: child.output() for name, child in children.children.items()},
               '' if finished else children.logs())


def reported(report, key):
    """An integer value of a report, or None."""
    try:
        return int(report.values[key]) if report is not None else None
    except (KeyError, ValueError):
        return None


def latest(reports, name):
    history = reports.get(name)
    return history[-1] if history else None


def frames_published(reports, camera_log):
    """The camera's final count of frames published, and where it was read."""
    report = latest(reports, '/camera')
    if report is not None and report.message == 'source ended':
        return reported(report, 'frames published'), 'diagnostics'
    # A camera in a process of its own exits as soon as its file has ended, mostly before
    # its next report: then only its last log line holds the final count.
    ended = re.search(r'ended after (\d+) frames', camera_log)
    return (int(ended.group(1)), 'log') if ended else (None, None)


def camera_began(reports, fps):
    """When the camera published its first frame (wall clock), from its first report that
    counts frames: that report's stamp less the frames since, at its framerate."""
    for report in reports.get('/camera', []):
        published = reported(report, 'frames published')
        if published:
            return report.stamp - published / fps
    return None


def node_figures(run, reports, fps):
    """What the nodes say of themselves: /diagnostics first, a log line where no report has it."""
    published, source = frames_published(reports, run.logs[run.camera])
    began = camera_began(reports, fps)
    # The model's load and warm-up time is only in the classifier's start-up log line (its
    # reports say that the model is loaded, not how long that took).
    ready = re.search(r'ready in ([\d.]+) s', run.logs[run.classifier])
    preprocess, classifier = latest(reports, '/preprocess'), latest(reports, '/classifier')
    return {
        # Later than the lead of empty paper: the first crops went unheard.
        'listener_matched_after_camera_start_s': (run.matched_at - began
                                                  if run.matched_at and began else None),
        'frames_published': published, 'frames_published_from': source,
        'classifier_ready_s': float(ready.group(1)) if ready else None,
        'frames_received_by_preprocess': reported(preprocess, 'frames received'),
        'frames_dropped_by_preprocess': reported(preprocess, 'frames dropped'),
        'crops_dropped_by_classifier': reported(classifier, 'crops dropped'),
        'digits_published_by_classifier': reported(classifier, 'digits published'),
        'node_reports': {name: {'stamp': history[-1].stamp, 'message': history[-1].message,
                                'reports': len(history), **history[-1].values}
                         for name, history in reports.items()},
    }


def run_configuration(config, listener, videos, profiles, duration, work_dir, classifiers):
    plan = plan_run(config, videos, duration)
    fps = config['fps']
    print(f'-- {config["name"]}: {plan.lead} + {plan.digit_frames} frames at {fps:g} fps',
          flush=True)
    run = run_processes(plan, listener, profiles,
                        Path(work_dir) / config['name'].replace(' ', '_'))
    crops, digits, reports = listener.heard()
    expected_crops = videos.expected_crops(plan.lead, plan.digit_frames, plan.settings,
                                           config.get('condition'))
    result = {
        **config, 'settings': plan.settings,
        'overrides': {k: str(v) for k, v in plan.params.items()},
        'video': {'lead_frames': plan.lead, 'digit_frames': plan.digit_frames},
        'frames_in_video': plan.lead + plan.digit_frames, 'finished': run.finished,
        **node_figures(run, reports, fps),
        **analysis.crop_figures(crops, expected_crops, fps),
        **analysis.digit_figures(crops, digits, plan.settings, classifiers[config['variant']]),
        **analysis.rate_figures(crops, digits, expected_crops),
        **analysis.resource_figures(run.sampler,
                                    analysis.steady_window(crops, run.started, run.ended)),
    }
    print_result(result)
    if not run.finished:
        print(f'   the camera did not finish in time:\n{run.tails}')
    return result


def print_result(result):
    print(f'   published {result["frames_published"]} ({result["frames_published_from"]}), '
          f'preprocess received {result["frames_received_by_preprocess"]}, crops '
          f'{result["crops_heard"]}/{result["crops_expected"]}, digits '
          f'{result["digits_heard"]}/{result["digits_expected"]} (paired '
          f'{result["digits_paired"]}; classifier published '
          f'{result["digits_published_by_classifier"]}), stamp->digit p50 '
          f'{common.fmt(result["stamp_to_digit_ms"]["p50"], 2)} ms, nodes CPU '
          f'{result["nodes_cpu_percent"]:.0f} %', flush=True)


# --- the hop pair ------------------------------------------------------------------------------

def run_hop(name, profiles, duration, work_dir, rate=30.0):
    """The minimal publisher -> subscriber pair of hop_nodes.py in one configuration of HOPS."""
    dds, reuse = scenarios.HOPS[name]
    count = max(10, round(duration * rate))
    log_dir = Path(work_dir) / ('hop_' + re.sub(r'\W+', '_', name))
    log_dir.mkdir(parents=True, exist_ok=True)
    output = log_dir / 'subscriber.json'
    env = common.profile_environment(profiles[dds])
    flags = [] if reuse else ['--no-buffer-reuse']
    print(f'-- hop {name}: {count} frames at {rate:g} fps', flush=True)
    with common.Children(log_dir) as children:
        subscriber = children.start(
            'subscriber', [sys.executable, str(HOP_SCRIPT), 'subscriber', '--output',
                           str(output), *flags], env)
        publisher = children.start(
            'publisher', [sys.executable, str(HOP_SCRIPT), 'publisher', '--count', str(count),
                          '--rate', str(rate), *flags], env)
        with common.Sampler(children.pids()) as sampler:
            common.wait_until(lambda: not publisher.running(), 120 + 3 * count / rate,
                              children, interval=0.2)
            time.sleep(0.5)
        subscriber.stop()
    heard = json.loads(output.read_text())
    # hop_nodes.py's own last line (these two publish no diagnostics).
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
