"""The results as tables, target lines and plots: pipeline.md/png, pipeline_soak.md/png."""

import os

import numpy as np

import common

from .scenarios import LEAD_SECONDS, MAX_FRAMERATE, NODES

TARGETS = {'hop_p50_ms': 3.0, 'digit_p50_ms': 10.0, 'digit_p99_ms': 25.0,
           'max_crops_per_s': 150.0, 'soak_cpu_percent': 60.0, 'soak_rss_growth_mb': 2.0,
           # All three nodes on one core (a Nano's core is 3-5 times slower than one here).
           'one_core_skipped': 0, 'one_core_digit_p50_ms': 5.0, 'one_core_digit_p99_ms': 15.0}


def cpu_cells(result):
    processes = result['usage']['processes']
    cpu = ' / '.join(common.fmt(processes[n]['cpu_percent'], 0) for n in result['nodes'])
    rss = ' / '.join(common.fmt(processes[n]['rss_mb'], 0) for n in result['nodes'])
    return cpu, rss


def pairing_cell(result):
    pairing = result['pairing']
    text = 'ok' if pairing['ok'] else f'only {result["digits_paired"]} paired'
    if pairing['batch_shift_crops'] or pairing['digits_skipped']:
        # This process missed the first crops: batches realigned (see analysis.align()).
        text += (f' (batches shifted {pairing["batch_shift_crops"]}, '
                 f'{pairing["digits_skipped"]} digits of unheard crops)')
    return text


def latency_table(results):
    rows = []
    for r in results:
        digit = r['stamp_to_digit_ms']
        rows.append([r['name'], common.fmt(r['frames_published']),
                     f'{r["crops_heard"]}/{r["crops_expected"]}',
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


def standard_report(standard, max_rate, hops, before, after, options):
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


def standard_plot(standard, max_rate, hops):
    plt = common.pyplot()
    figure, axes = plt.subplots(2, 2, figsize=(14, 9))
    if standard:
        latency_bars(axes[0][0], standard)
        cpu_bars(axes[0][1], standard, 'CPU at 30 fps', with_target=True)
    if max_rate:
        cpu_bars(axes[1][1], max_rate, 'CPU at the maximum rate')
    hop_curves(axes[1][0], hops)
    figure.tight_layout()
    return figure


def latency_bars(axis, results):
    names = [r['name'] for r in results]
    x = np.arange(len(names))
    axis.bar(x - 0.2, [r['stamp_to_digit_ms']['p50'] or 0 for r in results], 0.4, label='p50')
    axis.bar(x + 0.2, [r['stamp_to_digit_ms']['p99'] or 0 for r in results], 0.4, label='p99')
    axis.axhline(TARGETS['digit_p50_ms'], color='tab:blue', linestyle='--')
    axis.axhline(TARGETS['digit_p99_ms'], color='tab:orange', linestyle='--')
    axis.set_xticks(x, names, rotation=25, ha='right', fontsize=8)
    axis.set_ylabel('ms')
    axis.set_title('frame stamp -> digit at 30 fps (dashed: targets)')
    axis.legend(loc='upper left')


def cpu_bars(axis, results, title, with_target=False):
    """CPU per process, stacked per configuration, with the rate through preprocess on top."""
    names = [r['name'] for r in results]
    bottom = np.zeros(len(results))
    for node in (*NODES, 'pipeline'):
        values = np.array([r['usage']['processes'].get(node, {}).get('cpu_percent') or 0.0
                           for r in results])
        if values.any():
            axis.bar(names, values, bottom=bottom, label=node)
            bottom += values
    if with_target:
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


def hop_curves(axis, hops):
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


def frames_skipped(result):
    """Frames the camera published that preprocess never read (it fell behind), or None."""
    published, received = result['frames_published'], result['frames_received_by_preprocess']
    return None if published is None or received is None else published - received


def one_core_report(results, before, after, options):
    rows = []
    for r in results:
        cpu, _ = cpu_cells(r)
        digit = r['stamp_to_digit_ms']
        rows.append([r['condition'], common.fmt(r['frames_published']),
                     common.fmt(r['frames_received_by_preprocess']),
                     common.fmt(frames_skipped(r)), f'{r["crops_heard"]}/{r["crops_expected"]}',
                     f'{r["digits_heard"]}/{r["digits_expected"]}',
                     common.fmt(digit['p50'], 2), common.fmt(digit['p99'], 2), cpu,
                     common.fmt(r['nodes_cpu_percent'], 0)])
    table = common.markdown_table(
        ['condition', 'frames published', 'read by preprocess', 'skipped',
         'crops heard/expected', 'digits heard/expected', 'stamp->digit p50 ms',
         'stamp->digit p99 ms', 'CPU % camera / preprocess / classifier', 'CPU % total'],
        rows)
    missed = [r['condition'] for r in results
              if frames_skipped(r) != TARGETS['one_core_skipped']
              or not r['stamp_to_digit_ms']['p50']
              or r['stamp_to_digit_ms']['p50'] > TARGETS['one_core_digit_p50_ms']
              or r['stamp_to_digit_ms']['p99'] > TARGETS['one_core_digit_p99_ms']]
    sections = [
        '## One core: the three nodes pinned to CPU 0', '',
        f'`taskset -c {results[0]["cpus"] if results else "0"}` for camera_node, '
        f'preprocess_node and classifier_node (shipped profile and params, 3 processes); '
        f'each condition of the simulator as a video at 30 fps: {LEAD_SECONDS:g} s of empty '
        f'paper, then {options.duration:g} s of MNIST sample digits, each held for 10 frames. '
        '"skipped" = frames published that preprocess never read.', '', table, '',
        f'Targets in every condition: 0 frames skipped, stamp->digit p50 <= '
        f'{TARGETS["one_core_digit_p50_ms"]:g} ms, p99 <= '
        f'{TARGETS["one_core_digit_p99_ms"]:g} ms: '
        + (f'MISSED in {len(missed)} of {len(results)} ({", ".join(missed)})' if missed
           else 'met'),
        '', f'Load average (1/5/15 min) before: {common.load_text(before)}, after: '
        f'{common.load_text(after)}; {os.cpu_count()} CPUs.']
    data = {'machine': common.machine_info(), 'loadavg_before': before, 'loadavg_after': after,
            'targets': TARGETS, 'duration_s': options.duration, 'lead_s': LEAD_SECONDS,
            'one_core': results}
    return '\n'.join(sections), data


def one_core_plot(results):
    """Per condition: frames skipped, stamp -> digit latency, CPU per node (of the one core)."""
    plt = common.pyplot()
    figure, axes = plt.subplots(3, 1, figsize=(12, 11), sharex=True)
    x = np.arange(len(results))
    axes[0].bar(x, [frames_skipped(r) or 0 for r in results])
    axes[0].set_ylabel('frames skipped')
    axes[0].set_title('One core (taskset -c 0), 30 fps, per condition')
    axes[1].bar(x - 0.2, [r['stamp_to_digit_ms']['p50'] or 0 for r in results], 0.4,
                label='p50')
    axes[1].bar(x + 0.2, [r['stamp_to_digit_ms']['p99'] or 0 for r in results], 0.4,
                label='p99')
    axes[1].axhline(TARGETS['one_core_digit_p50_ms'], color='tab:blue', linestyle='--')
    axes[1].axhline(TARGETS['one_core_digit_p99_ms'], color='tab:orange', linestyle='--')
    axes[1].set_ylabel('stamp -> digit ms')
    axes[1].legend()
    bottom = np.zeros(len(results))
    for node in NODES:
        values = np.array([r['usage']['processes'][node]['cpu_percent'] or 0.0
                           for r in results])
        axes[2].bar(x, values, bottom=bottom, label=node)
        bottom += values
    axes[2].set_ylabel('% of the one core')
    axes[2].legend(fontsize=8)
    axes[2].set_xticks(x, [r['condition'] for r in results], rotation=30, ha='right')
    figure.tight_layout()
    return figure


def soak_report(result, before, after, minutes):
    lost = result['crops_lost']
    cpu, cpu_target = result['nodes_cpu_percent'], TARGETS['soak_cpu_percent']
    growth_target = TARGETS['soak_rss_growth_mb']
    node_usage = [(name, usage) for name, usage in result['usage']['processes'].items()
                  if name in result['nodes']]
    growth = {name: usage['rss_mb'] - usage['rss_start_mb'] for name, usage in node_usage}
    sections = [
        f'## Soak: {result["name"]} for {minutes:g} min', '',
        latency_table([result]), '', resource_table([result]), '',
        f'- frames lost: {lost} (target 0: {common.met(lost, 0)})',
        f'- all nodes together: {cpu:.1f} % of one core (target <= {cpu_target:g} %: '
        f'{common.met(cpu, cpu_target)})',
        '- RSS from the first second of digits to the end: ' + ', '.join(
            f'{name} {common.fmt(usage["rss_start_mb"], 0)} -> '
            f'{common.fmt(usage["rss_mb"], 0)} MB' for name, usage in node_usage),
        f'- RSS growth per node (target <= {growth_target:g} MB): ' + ', '.join(
            f'{name} {growth[name]:+.1f} MB ({common.met(growth[name], growth_target)})'
            for name, _ in node_usage),
        '', f'Load average (1/5/15 min) before: {common.load_text(before)}, after: '
        f'{common.load_text(after)}; {os.cpu_count()} CPUs.']
    data = {'machine': common.machine_info(), 'loadavg_before': before, 'loadavg_after': after,
            'targets': TARGETS, 'minutes': minutes, 'soak': result}
    return '\n'.join(sections), data


def soak_plot(result):
    """CPU and RSS per node, and every stamp -> digit latency, over the soak."""
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
    return figure
