"""The report's figures: outcomes per condition and non-digit kind, the reliability diagram,
and the confusion matrix beside crops of batches published wrong (matplotlib, imported only
here)."""

import numpy as np

from digit_recognition.evaluation.pipelines import default_index
from digit_recognition.evaluation.scoring import BATCH
from digit_recognition.evaluation.tables import column_names


def _pyplot():
    import matplotlib  # noqa: PLC0415 - only evaluate draws plots
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # noqa: PLC0415
    return plt


def save_confusion_figure(path, matrix, examples, title):
    """Confusion matrix (left) and crops of batches published wrong."""
    plt = _pyplot()
    figure = plt.figure(figsize=(16, 8))
    grid = figure.add_gridspec(4, 8)
    axis = figure.add_subplot(grid[:, :4])
    axis.imshow(np.log1p(matrix), cmap='Blues')
    for (row, col), value in np.ndenumerate(matrix):
        if value:
            axis.text(col, row, str(value), ha='center', va='center', fontsize=7)
    axis.set_xticks(range(11), [*map(str, range(10)), 'silent'])
    axis.set_yticks(range(10))
    axis.set_xlabel('published')
    axis.set_ylabel('digit shown')
    axis.set_title(title)
    for k, (crop, caption) in enumerate(examples[:16]):
        row, col = divmod(k, 4)
        crop_axis = figure.add_subplot(grid[row, 4 + col])
        crop_axis.imshow(crop, cmap='gray', vmin=0, vmax=255)
        crop_axis.set_title(caption, fontsize=7)
        crop_axis.axis('off')
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def save_reliability_figure(path, calibration_result, title):
    """Reliability diagram: accuracy against mean confidence per bin, with batch counts."""
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    bins = calibration_result['bins']
    centres = [(b['low'] + b['high']) / 2 for b in bins]
    width = bins[0]['high'] - bins[0]['low'] if bins else 0.06
    left.bar(centres, [b['accuracy'] for b in bins], width * 0.9, label='accuracy')
    left.plot([b['confidence'] for b in bins], [b['confidence'] for b in bins], 'r.',
              label='mean confidence')
    left.plot([0, 1], [0, 1], 'k--', linewidth=0.8, label='perfect calibration')
    left.set_xlabel("confidence of the batch's top class")
    left.set_ylabel('share right')
    left.legend(fontsize=8)
    left.set_title(f'ECE {100 * calibration_result["ece"]:.2f} %, '
                   f'{calibration_result["batches"]} batches')
    right.bar(centres, [b['count'] for b in bins], width * 0.9)
    right.set_yscale('log')
    right.set_xlabel('confidence')
    right.set_ylabel('batches')
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def save_outcomes_figure(path, pipelines, report):
    """Stacked bars per condition (and photos): published right, wrong, silent, default
    pipeline; beside them, false publications per non-digit kind for every pipeline."""
    plt = _pyplot()
    default = pipelines[default_index(pipelines)].name
    rows = {name: result[default] for name, result in report['conditions'].items()}
    for side, result in report.get('real', {}).get('sizes', {}).items():
        rows[f'real photos, {side} px'] = result[default]
    non_digits = report['non_digits']
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(15, 2 + 0.3 * len(rows)), gridspec_kw={'width_ratios': [3, 2]})
    y = np.arange(len(rows))
    start = np.zeros(len(rows))
    for key, colour in (('right', 'tab:green'), ('wrong', 'tab:red'), ('silent', 'tab:grey')):
        values = np.array([100 * r[key] for r in rows.values()])
        left.barh(y, values, left=start, color=colour, label=f'published {key}'
                  if key != 'silent' else 'silent')
        start += values
    left.set_yticks(y, list(rows))
    left.set_xlim(0, 100)
    left.invert_yaxis()
    left.set_xlabel(f'batches of {BATCH} frames, % ({default})')
    left.legend(loc='lower left', fontsize=8)
    height = 0.8 / len(pipelines)
    for p, (pipeline, label) in enumerate(zip(pipelines, column_names(pipelines))):
        y = np.arange(len(non_digits)) + (p - (len(pipelines) - 1) / 2) * height
        right.barh(y, [100 * r[pipeline.name]['wrong'] for r in non_digits.values()], height,
                   label=label)
    right.set_yticks(range(len(non_digits)), list(non_digits))
    right.invert_yaxis()
    right.set_xlabel('batches that publish a digit, %')
    right.legend(fontsize=8)
    figure.suptitle(f'seed {report["seed"]}, {report["batches"]} batches per condition, '
                    f'min_confidence {report["min_confidence"]}')
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def curve_points(curve):
    """(coverage, risk) of a stored risk-coverage curve, % (thresholds publishing nothing
    left out), and its default operating point."""
    right, wrong = np.array(curve['right']), np.array(curve['wrong'])
    published = right + wrong
    keep = published > 0
    risk = 100 * wrong[keep] / published[keep]
    point = curve['default']
    point_published = point['right'] + point['wrong']
    point_risk = 100 * point['wrong'] / point_published if point_published else 0.0
    return 100 * published[keep], risk, (100 * point_published, point_risk)


def save_risk_coverage_figure(path, pipelines, report):
    """A risk-coverage panel per condition row, per photo size, for MNIST test and for the
    mean of the condition rows: each model's curve as min_confidence sweeps (share of batches
    published against the share of those that are wrong), its default operating point marked
    and its AURC in the legend. The tutorial's MLP is left out (it has no not-a-digit)."""
    plt = _pyplot()
    models = [p for p in pipelines if p.model != 'MLP']
    panels = {'mean of the condition rows': {p.name: report['risk_coverage_mean'][p.name]
                                             for p in models}}
    for side, result in report.get('real', {}).get('sizes', {}).items():
        panels[f'real photos, {side} px'] = {p.name: result[p.name]['risk_coverage']
                                             for p in models}
    panels['MNIST test (stills)'] = {p.name: report['mnist_published'][p.model]['risk_coverage']
                                     for p in models}
    for name, result in report['conditions'].items():
        panels[name] = {p.name: result[p.name]['risk_coverage'] for p in models}
    columns = 6
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.7 * rows),
                                squeeze=False)
    for axis, (title, curves) in zip(axes.flat, panels.items()):
        for k, (label, curve) in enumerate(curves.items()):
            coverage, risk, point = curve_points(curve)
            colour = f'C{k}'
            axis.plot(coverage, risk, '-', color=colour,
                      label=f'{label}: AURC {100 * curve["aurc"]:.3f} %')
            axis.plot(*point, 'o', color=colour, markersize=5)
        axis.set_title(title, fontsize=8)
        axis.set_xlim(0, 100)
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        axis.tick_params(labelsize=7)
        axis.legend(fontsize=6, loc='upper left')
    for axis in axes.flat[len(panels):]:
        axis.axis('off')
    for axis in axes[-1]:
        axis.set_xlabel('published, % of batches', fontsize=8)
    for axis in axes[:, 0]:
        axis.set_ylabel('wrong, % of published', fontsize=8)
    figure.suptitle(f'risk-coverage as min_confidence sweeps 0-1 (dot: the default, '
                    f'{report["min_confidence"]})')
    figure.tight_layout()
    figure.savefig(path, dpi=70)
    plt.close(figure)


def save_gate_figure(path, report):
    """The gate's curve beside the reader's: digit batches accepted (all condition rows)
    against each non-digit kind's batches published, as min_digitness sweeps 0-1."""
    curve = report['gate_curve']
    if not curve['digits_accepted']:
        return
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 5))
    accepted = 100 * np.array(curve['digits_accepted'])
    default = curve['thresholds'].index(round(report['min_digitness'], 2))
    for k, (kind, published) in enumerate(curve['non_digits_published'].items()):
        published = 100 * np.array(published)
        axis.plot(published, accepted, '-' if k < 10 else '--', color=f'C{k % 10}',
                  label=kind)
        axis.plot(published[default], accepted[default], 'o', color=f'C{k % 10}',
                  markersize=4)
    axis.set_xscale('symlog', linthresh=1)
    axis.set_xlabel('batches of the non-digit kind published, %')
    axis.set_ylabel('digit batches the gate accepts, %')
    axis.grid(alpha=0.3)
    axis.legend(fontsize=6, loc='lower right')
    axis.set_title(f'the gate as min_digitness sweeps 0-1 (dot: {report["min_digitness"]})',
                   fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
