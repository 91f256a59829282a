"""Start-up: time to the first `digit`, the classifier's ready time and its memory, per backend.

    .venv/bin/python benchmarks/startup.py [--quick] [--repeats 3] [--output DIR]

Each run starts classifier_node, preprocess_node and camera_node (samples/digits.mp4,
looping) at once, as the launch file does, and times from the first process start to the
first `digit` this process hears. Also: when the classifier logged "ready in X s" (the log
line's own stamp) and X itself (model load and warm-up only), and the classifier's RSS one
second after the first digit. Backends alternate run by run; medians are reported.
Times are wall-clock (time.time()), as the stamps of the nodes' log lines.
"""

import argparse
import os
from pathlib import Path
import re
import statistics
import sys
import tempfile
import threading
import time

import common

BACKENDS = ('tflite', 'keras')
TARGETS = {'tflite_rss_mb': 120.0, 'tflite_ready_s': 2.0}
TIMEOUT_S = 180.0


class FirstDigitListener(common.RosListener):
    """Records the first `digit` heard since reset(), with its wall-clock arrival time."""

    def setup(self):
        from std_msgs.msg import Int32  # noqa: PLC0415

        self._lock = threading.Lock()
        self.reset()
        self.node.create_subscription(Int32, 'digit', self._on_digit, 10)

    def reset(self):
        with self._lock:
            self.first = None  # (time.time(), digit): wall clock, as the nodes' log lines

    def _on_digit(self, msg):
        with self._lock:
            if self.first is None:
                self.first = (time.time(), msg.data)


def run_once(backend, listener, log_dir, profile):
    # The previous run's classifier must be gone from the graph, or its `digit` publisher
    # would count as this one's.
    common.wait_until(lambda: listener.node.count_publishers('digit') == 0, 15)
    listener.reset()
    env = common.profile_environment(profile)
    params = {'source': common.SAMPLE_VIDEO, 'loop': 'true', 'backend': backend}
    with common.Children(log_dir) as children:
        started = time.time()
        classifier = children.start('classifier', common.ros_command('classifier_node', params),
                                    env)
        children.start('preprocess', common.ros_command('preprocess_node', params), env)
        children.start('camera', common.ros_command('camera_node', params), env)
        deadline = time.monotonic() + TIMEOUT_S
        while listener.first is None and time.monotonic() < deadline:
            if children.failed() is not None:
                raise RuntimeError(f'{children.failed().name} exited early:\n'
                                   f'{children.logs()}')
            time.sleep(0.02)
        if listener.first is None:
            raise RuntimeError(f'no digit after {TIMEOUT_S:g} s:\n{children.logs()}')
        first_digit_at, digit = listener.first
        at_first = common.read_process(classifier.pid)
        time.sleep(1.0)  # settled: a few batches classified since
        settled = common.read_process(classifier.pid)
    # The log line's own wall-clock stamp says when the classifier was ready.
    ready = re.search(r'\[(\d+\.\d+)\] \[classifier\]: .* ready in ([\d.]+) s',
                      classifier.output())
    # The other nodes' start-up line: when each had built its node (imports done).
    up = {}
    for name in ('preprocess', 'camera'):
        line = re.search(rf'\[(\d+\.\d+)\] \[{name}\]:', children[name].output())
        up[f'{name}_up_s'] = float(line.group(1)) - started if line else None
    return {'backend': backend, 'first_digit_s': first_digit_at - started, 'first_digit': digit,
            **up,
            'start_to_ready_s': float(ready.group(1)) - started if ready else None,
            'ready_in_s': float(ready.group(2)) if ready else None,
            'classifier_cpu_s_to_first_digit': at_first[0] if at_first else None,
            'classifier_rss_mb': settled[1] if settled else None,
            'classifier_peak_rss_mb': settled[2] if settled else None}


def profile_name(profile):
    profile = Path(profile).resolve()
    return (str(profile.relative_to(common.REPO)) if profile.is_relative_to(common.REPO)
            else str(profile))


def median(runs, key):
    values = [run[key] for run in runs if run[key] is not None]
    return statistics.median(values) if values else None


def ran(runs):
    return [b for b in BACKENDS if any(r['backend'] == b for r in runs)]


def report(runs, before, after, repeats, profile):
    backends = ran(runs)
    by_backend = {b: [r for r in runs if r['backend'] == b] for b in backends}
    medians = {b: {key: median(by_backend[b], key) for key in (
        'first_digit_s', 'start_to_ready_s', 'ready_in_s', 'preprocess_up_s', 'camera_up_s',
        'classifier_cpu_s_to_first_digit',
        'classifier_rss_mb', 'classifier_peak_rss_mb')} for b in backends}
    rows = []
    for b in backends:
        m = medians[b]
        every = ', '.join(common.fmt(r['first_digit_s'], 2) for r in by_backend[b])
        rows.append([b, len(by_backend[b]), common.fmt(m['first_digit_s'], 2), every,
                     common.fmt(m['start_to_ready_s'], 2), common.fmt(m['ready_in_s'], 1),
                     common.fmt(m['preprocess_up_s'], 2), common.fmt(m['camera_up_s'], 2),
                     common.fmt(m['classifier_cpu_s_to_first_digit'], 1),
                     common.fmt(m['classifier_rss_mb'], 0),
                     common.fmt(m['classifier_peak_rss_mb'], 0)])
    tflite = medians.get('tflite', dict.fromkeys(medians[backends[0]]))

    markdown = '\n'.join([
        '## Start-up to the first digit (medians)', '',
        f'{repeats} runs per backend, alternating. Each run starts classifier_node, '
        f'preprocess_node and camera_node (samples/digits.mp4, looping, Fast DDS profile '
        f'{profile_name(profile)}) together.'
        ' "start -> ready" = first process start until the stamp of the '
        'classifier\'s "ready in X s" log line (includes Python, rclpy and model imports); '
        '"ready in" = X, '
        "the node's own model load + warm-up time (one decimal, as logged); \"up\" = the "
        "stamp of the other nodes' first log line. RSS: the "
        'classifier one second after the first digit.', '',
        common.markdown_table(
            ['backend', 'runs', 'first digit s', 'every run s', 'start -> ready s',
             '"ready in" s', 'preprocess up s', 'camera up s',
             'classifier CPU s to first digit', 'classifier RSS MB',
             'classifier peak RSS MB'], rows), '',
        f'Targets: tflite classifier RSS <= {TARGETS["tflite_rss_mb"]:.0f} MB and ready <= '
        f'{TARGETS["tflite_ready_s"]:.0f} s.',
        f'- tflite RSS {common.fmt(tflite["classifier_rss_mb"], 0)} MB: '
        f'{common.met(tflite["classifier_rss_mb"], TARGETS["tflite_rss_mb"])}',
        f'- tflite "ready in" {common.fmt(tflite["ready_in_s"], 1)} s: '
        f'{common.met(tflite["ready_in_s"], TARGETS["tflite_ready_s"])}; process start -> ready '
        f'{common.fmt(tflite["start_to_ready_s"], 2)} s: '
        f'{common.met(tflite["start_to_ready_s"], TARGETS["tflite_ready_s"])}', '',
        f'Load average (1/5/15 min) before: {common.load_text(before)}, after: '
        f'{common.load_text(after)}; {os.cpu_count()} CPUs.'])
    data = {'machine': common.machine_info(), 'loadavg_before': before, 'loadavg_after': after,
            'targets': TARGETS, 'repeats': repeats, 'profile': str(profile),
            'medians': medians, 'runs': runs}
    return markdown, data, medians


def plot(runs, medians):
    backends = ran(runs)
    plt = common.pyplot()
    figure, (times_axis, memory_axis) = plt.subplots(1, 2, figsize=(12, 4.5))
    keys = (('ready_in_s', '"ready in" (load + warm-up)'),
            ('start_to_ready_s', 'process start -> ready'),
            ('first_digit_s', 'process start -> first digit'))
    width = 0.25
    for i, (key, label) in enumerate(keys):
        positions = [j + (i - 1) * width for j in range(len(backends))]
        times_axis.bar(positions, [medians[b][key] or 0 for b in backends], width, label=label)
        for j, backend in enumerate(backends):
            values = [r[key] for r in runs if r['backend'] == backend and r[key] is not None]
            times_axis.plot([positions[j]] * len(values), values, 'k.', markersize=4)
    times_axis.axhline(TARGETS['tflite_ready_s'], color='k', linestyle='--',
                       label='tflite ready target')
    times_axis.set_xticks(range(len(backends)), backends)
    times_axis.set_ylabel('seconds (bars: median, dots: runs)')
    times_axis.set_title('Start-up')
    times_axis.legend(fontsize=8)
    memory_axis.bar(backends, [medians[b]['classifier_rss_mb'] or 0 for b in backends])
    memory_axis.axhline(TARGETS['tflite_rss_mb'], color='k', linestyle='--',
                        label='tflite RSS target')
    memory_axis.set_ylabel('classifier RSS MB')
    memory_axis.set_title('Classifier memory after ready')
    memory_axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='one run per backend')
    parser.add_argument('--repeats', type=int, default=3,
                        help='runs per backend (default: %(default)s)')
    parser.add_argument('--backends', default=','.join(BACKENDS),
                        help='comma-separated backends to run (default: %(default)s)')
    parser.add_argument('--profile', type=Path, default=common.SHIPPED_PROFILE,
                        help='Fast DDS profile for the nodes (default: the shipped one)')
    parser.add_argument('--output', type=Path, default=None,
                        help='results folder (default: benchmarks/results, '
                             'benchmarks/results/quick with --quick)')
    options = parser.parse_args(argv)
    if options.quick:
        options.repeats = 1
    output = options.output or (common.RESULTS_DIR / 'quick' if options.quick
                                else common.RESULTS_DIR)
    backends = tuple(b for b in options.backends.split(',') if b)
    if not set(backends) <= set(BACKENDS):
        parser.error(f'--backends: choose from {", ".join(BACKENDS)}')
    common.stop_on_sigterm()
    domain = common.isolate_ros()
    before = os.getloadavg()
    print(f'ROS_DOMAIN_ID {domain}; load average {common.load_text(before)}', flush=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix='digit_startup_') as work_dir, \
            FirstDigitListener('startup_listener') as listener:
        for repeat in range(options.repeats):
            # Alternate which backend goes first, so neither always gets the warmer cache.
            order = backends if repeat % 2 == 0 else backends[::-1]
            for backend in order:
                log_dir = Path(work_dir) / f'{backend}_{repeat}'
                run = run_once(backend, listener, log_dir, options.profile)
                runs.append(run)
                print(f'-- {backend} run {repeat + 1}: first digit {run["first_digit_s"]:.2f} s, '
                      f'ready at {common.fmt(run["start_to_ready_s"], 2)} s (ready in '
                      f'{common.fmt(run["ready_in_s"], 1)} s), classifier RSS '
                      f'{common.fmt(run["classifier_rss_mb"], 0)} MB', flush=True)
    after = os.getloadavg()
    markdown, data, medians = report(runs, before, after, options.repeats, options.profile)
    paths = common.write_outputs(output, 'startup', data, markdown, plot(runs, medians))
    print(markdown)
    print('\nwrote ' + ', '.join(str(p) for p in paths))
    return 0


if __name__ == '__main__':
    sys.exit(main())
