"""End to end on real processes and real DDS: latency, the camera hop, throughput, CPU and RSS.

    .venv/bin/python benchmarks/end_to_end [--quick] [--duration 25] [--hop-duration 20]
    .venv/bin/python benchmarks/end_to_end --soak-minutes 5 [--soak-variant reliable]
    .venv/bin/python benchmarks/end_to_end --one-core [--duration 10]

Every configuration replays a generated video (3 s of empty paper, then the frames of
samples/digits.mp4 over and over) once, with loop:=false. This process listens on
`digit_crop` (reliable, so it hears every crop the preprocess node sends), on `digit` and on
/diagnostics (the nodes' own counts), and samples /proc for each node's CPU time and RSS.
Writes pipeline.md/json/png (pipeline_soak.* for a soak, pipeline_one_core.* for the
nodes pinned to one core, one video per condition of the simulator). See
benchmarks/README.md for what is measured how, and for the assumption that pairs each digit
with the crops it was decided from.
"""

import argparse
import os
from pathlib import Path
import sys
import tempfile

# Run as `python benchmarks/end_to_end`, Python puts this folder first on the path: put the
# benchmarks folder there instead, so that common.py, hop_nodes.py and this package import
# by name, and this package's modules do not stand in for top-level ones (report, runner).
BENCHMARKS = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0] or '.').resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(BENCHMARKS)
elif str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import common  # noqa: E402
from digit_recognition.core.model import BUNDLED_MODEL, load_models, TUTORIAL_MODEL  # noqa: E402
from end_to_end import report, runner, scenarios  # noqa: E402


def parse_options(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='a short smoke run')
    parser.add_argument('--duration', type=float, default=25.0,
                        help='seconds of digits per configuration (default: %(default)s)')
    parser.add_argument('--hop-duration', type=float, default=20.0,
                        help='seconds of frames for the hop pair (default: %(default)s)')
    parser.add_argument('--soak-minutes', type=float, default=0.0,
                        help='instead of the standard set: run ours 3proc shipped at 30 fps '
                             'for this many minutes')
    parser.add_argument('--soak-variant', choices=sorted(scenarios.VARIANTS), default='ours',
                        help='node settings for the soak (default: %(default)s; reliable: '
                             'ours with reliable image subscriptions)')
    parser.add_argument('--one-core', action='store_true',
                        help='instead of the standard set: the three nodes on CPU 0 '
                             '(taskset), one video per condition of the simulator')
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
    return options


def load_classifiers():
    """The tflite twins of each variant's models (the reader and its gate, if it has one),
    to decide the expected digits with."""
    classifiers = {'ours': load_models(BUNDLED_MODEL, '', 'tflite'),
                   'tutorial': load_models(TUTORIAL_MODEL, '', 'tflite')}
    classifiers['reliable'] = classifiers['best_effort'] = classifiers['ours']  # other QoS
    return classifiers


def run_soak(options, listener, videos, profiles, work_dir, classifiers, before):
    config = scenarios.soak_configuration(options.soak_variant)
    result = runner.run_configuration(config, listener, videos, profiles,
                                      options.soak_minutes * 60, work_dir, classifiers)
    markdown, data = report.soak_report(result, before, os.getloadavg(), options.soak_minutes)
    name = ('pipeline_soak' if options.soak_variant == 'ours'
            else f'pipeline_soak_{options.soak_variant}')
    return name, markdown, data, report.soak_plot(result)


def run_one_core(options, listener, videos, profiles, work_dir, classifiers, before):
    results = [runner.run_configuration(c, listener, videos, profiles, options.duration,
                                        work_dir, classifiers)
               for c in scenarios.one_core_configurations()
               if scenarios.selected(c['name'], options.only)]
    markdown, data = report.one_core_report(results, before, os.getloadavg(), options)
    return 'pipeline_one_core', markdown, data, report.one_core_plot(results)


def run_standard(options, listener, videos, profiles, work_dir, classifiers, before):
    hops = [runner.run_hop(name, profiles, options.hop_duration, work_dir)
            for name in scenarios.HOPS if scenarios.selected(f'hop {name}', options.only)]

    def run_all(configurations):
        return [runner.run_configuration(c, listener, videos, profiles, options.duration,
                                         work_dir, classifiers)
                for c in configurations if scenarios.selected(c['name'], options.only)]

    standard = run_all(scenarios.STANDARD)
    max_rate = run_all(scenarios.MAX_RATE)
    markdown, data = report.standard_report(standard, max_rate, hops, before, os.getloadavg(),
                                            options)
    return 'pipeline', markdown, data, report.standard_plot(standard, max_rate, hops)


def main(argv=None):
    options = parse_options(argv)
    output = options.output or (common.RESULTS_DIR / 'quick' if options.quick
                                else common.RESULTS_DIR)
    common.stop_on_sigterm()
    domain = common.isolate_ros()
    with tempfile.TemporaryDirectory(prefix='digit_bench_') as work_dir:
        default_profile = common.write_empty_profile(work_dir)
        common.check_profile(default_profile)
        profiles = {'shipped': common.SHIPPED_PROFILE, 'default': default_profile}
        print(f'ROS_DOMAIN_ID {domain}; default-DDS profile {default_profile} accepted by '
              'Fast DDS; preparing videos', flush=True)
        videos = scenarios.Videos(work_dir)
        classifiers = load_classifiers()
        before = os.getloadavg()
        print(f'load average {common.load_text(before)}', flush=True)
        with runner.PipelineListener('benchmark_listener') as listener:
            run = (run_soak if options.soak_minutes > 0
                   else run_one_core if options.one_core else run_standard)
            name, markdown, data, figure = run(options, listener, videos, profiles, work_dir,
                                               classifiers, before)
    paths = common.write_outputs(output, name, data, markdown, figure)
    print(markdown)
    print('\nwrote ' + ', '.join(str(p) for p in paths))
    return 0


if __name__ == '__main__':
    sys.exit(main())
