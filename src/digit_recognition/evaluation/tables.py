"""The report printed as markdown tables: outcomes per condition and variant, non-digits,
photos, the min_confidence sweep, the models alone, the confusion matrix and timings."""

from digit_recognition.evaluation.photos import PHOTO_SIZES
from digit_recognition.evaluation.pipelines import default_index
from digit_recognition.evaluation.scoring import BATCH
from digit_recognition.simulation.synthetic_frames import ROI_SIZE


def format_confusion(matrix):
    lines = ['| shown \\ published | ' + ' | '.join(map(str, range(10))) + ' | silent |',
             '|---' * 12 + '|']
    lines += [f'| **{d}** | ' + ' | '.join(str(v) for v in row) + ' |'
              for d, row in enumerate(matrix)]
    return '\n'.join(lines)


def column_names(pipelines):
    return [p.name + (' (default)' if p.default else '') for p in pipelines]


def markdown_table(first, columns, rows):
    """rows: (label, [cell, ...]) pairs."""
    lines = [f'| {first} | ' + ' | '.join(columns) + ' |', '|---' * (len(columns) + 1) + '|']
    return '\n'.join([*lines, *(f'| {label} | ' + ' | '.join(cells) + ' |'
                                for label, cells in rows)])


def percent(value):
    return '-' if value is None else f'{100 * value:.1f} %'


def outcome_cell(result):
    return ' / '.join(f'{100 * result[key]:.1f}' for key in ('right', 'wrong', 'silent'))


def conditions_table(pipelines, conditions, mean):
    rows = [(name, [outcome_cell(result[p.name]) for p in pipelines])
            for name, result in conditions.items()]
    rows.append(('**mean**', [outcome_cell(mean[p.name]) for p in pipelines]))
    return markdown_table('condition', column_names(pipelines), rows)


def variants_table(pipeline, conditions):
    rows = [(f'{name}: {variant}', [outcome_cell(r)])
            for name, result in conditions.items()
            for variant, r in result[pipeline.name]['variants'].items()]
    return markdown_table('condition: variant', [pipeline.name], rows)


def non_digits_table(pipelines, non_digits):
    rows = [(kind, [f'{100 * result[p.name]["wrong"]:.1f} %' for p in pipelines])
            for kind, result in non_digits.items()]
    return markdown_table('nothing to read: batches that publish a digit',
                          column_names(pipelines), rows)


def photos_tables(pipelines, real):
    sizes = markdown_table('photos', column_names(pipelines), [
        (f'{PHOTO_SIZES[int(side)]} ({side} px)', [outcome_cell(result[p.name])
                                                   for p in pipelines])
        for side, result in real['sizes'].items()])
    writers = sorted(next(iter(real['writers'].values())))
    per_writer = markdown_table('writer', [f'{side} px' for side in real['writers']], [
        (w, [f'{100 * real["writers"][side][w]:.0f} %' for side in real['writers']])
        for w in writers])
    return sizes, per_writer


def curve_cell(curve):
    """AURC, AUGRC, the most a row can publish, and the default's published right / wrong, %."""
    point = curve['default']
    return (f'{100 * curve["aurc"]:.3f} · {100 * curve["augrc"]:.3f} · '
            f'{100 * curve["max_coverage"]:.0f} · '
            f'{100 * point["right"]:.1f} / {100 * point["wrong"]:.1f}')


def risk_coverage_table(pipelines, report):
    """Per model (the tutorial's MLP left out): AURC, coverage at min_confidence 0, and the
    default operating point, on the mean of the condition rows, the photos, MNIST test and
    every condition row."""
    models = [p for p in pipelines if p.model != 'MLP']
    rows = [('**mean of the condition rows**',
             [curve_cell(report['risk_coverage_mean'][p.name]) for p in models])]
    for side, result in report.get('real', {}).get('sizes', {}).items():
        rows.append((f'real photos, {PHOTO_SIZES[int(side)]} ({side} px)',
                     [curve_cell(result[p.name]['risk_coverage']) for p in models]))
    rows.append(('MNIST test, stills',
                 [curve_cell(report['mnist_published'][p.model]['risk_coverage'])
                  for p in models]))
    rows += [(name, [curve_cell(result[p.name]['risk_coverage']) for p in models])
             for name, result in report['conditions'].items()]
    return markdown_table('AURC % · AUGRC % · max. published % · at the default: right / '
                          'wrong %',
                          column_names(models), rows)


GATE_POINTS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)  # min_digitness values in the gate table


def gate_table(curve):
    """The gate's curve at GATE_POINTS: digits accepted, each non-digit kind published, %."""
    index = [curve['thresholds'].index(t) for t in GATE_POINTS]
    kinds = list(curve['non_digits_published'])
    rows = [(kind, [percent(curve['non_digits_published'][kind][i]) for i in index])
            for kind in kinds]
    if curve['digits_accepted']:
        rows.insert(0, ('digits accepted', [percent(curve['digits_accepted'][i])
                                            for i in index]))
    return markdown_table('min_digitness', [f'{t:.2f}' for t in GATE_POINTS], rows)


def print_report(report, pipelines, matrix, timing):
    default = pipelines[default_index(pipelines)]
    print(f'\nseed {report["seed"]}; {report["count"]} MNIST test digits per condition (the '
          f'same seeded sample in every condition), each a batch of {BATCH} consecutive '
          f'frames of one scene; {len(report["conditions"])} condition rows; '
          f'{report["blank_count"]} frames per non-digit kind; min_confidence '
          f'{report["min_confidence"]}, min_digitness {report["min_digitness"]}; roi_size '
          f'{ROI_SIZE}\n')
    print('what the robot receives, per batch of five frames: published right / published '
          'wrong / silent, %:\n')
    print(conditions_table(pipelines, report['conditions'], report['mean']))
    print(f'\nper variant, {default.name}:\n')
    print(variants_table(default, report['conditions']))
    if report['non_digits']:
        print(f'\nnothing to read ({report["blank_count"] // BATCH} batches per kind): '
              'batches that publish a digit:\n')
        print(non_digits_table(pipelines, report['non_digits']))
    print("\nconfidence calibration (the reader's top class on every batch with a crop that "
          'the gate lets through, all conditions and kinds; with a not-a-digit class, its '
          'batches too): expected calibration error ' + ', '.join(
              f'{name} {100 * c["ece"]:.2f} %' for name, c in report['calibration'].items()))
    print(f'\n{default.name} at other min_confidence values (mean over the condition rows; '
          'the worst non-digit kind):\n')
    print(markdown_table('min_confidence', ['published right', 'published wrong',
                                            'worst non-digit published'], [
        (f'{row["min_confidence"]:.2f}', [percent(row[key]) for key in
                                          ('right', 'wrong', 'worst_non_digit')])
        for row in report['min_confidence_sweep']]))
    if report['gate_curve']['non_digits_published']:
        print(f'\nthe gate, {default.name}: min_digitness swept (digit batches it accepts, all '
              'condition rows; batches of each non-digit kind published):\n')
        print(gate_table(report['gate_curve']))
    if report.get('numbers'):
        print(f'\nnumbers of 2-4 digits, {default.name}: published right / wrong / silent on '
              '`number` (%), and batches where `digit` published one of their digits:\n')
        print(markdown_table('numbers', ['`number`: right / wrong / silent',
                                         '`digit` published', 'batches'], [
            (kind, [outcome_cell(result), percent(result['digit_published']),
                    str(result['batches'])]) for kind, result in report['numbers'].items()]))
    if 'real' in report:
        sizes, writers = photos_tables(pipelines, report['real'])
        print(f'\n{report["real"]["photos"]} labelled photos from {report["real"]["directory"]}'
              ' (published right / wrong / silent, %):\n')
        print(sizes)
        print(f'\npublished right per writer, {default.name}:\n')
        print(writers)
    print('\nrisk-coverage, min_confidence swept 0-1 (AURC: area under wrong/published against '
          'published; AUGRC: under wrong/all batches, which does not reward publishing less; '
          'lower is better):\n')
    print(risk_coverage_table(pipelines, report))
    print('\nthe models alone, on MNIST and on the sampled digits as the pen redraws them '
          '(no camera, argmax: what the redrawing costs):\n')
    print(markdown_table('model', [f'MNIST test ({report["mnist_digits"]}), top-1',
                                   f'MNIST test at min_confidence {report["min_confidence"]}: '
                                   'right / wrong / silent %',
                                   f'pen redraw ({report["count"]})'], [
        (name, [f'{100 * accuracy:.2f} %', outcome_cell(report['mnist_published'][name]),
                f'{100 * report["pen_redraw"][name]:.2f} %'])
        for name, accuracy in report['mnist'].items()]))
    print(f'\nconfusion matrix of batches, {default.name}, all conditions:\n')
    print(format_confusion(matrix))
    render = 1000 * timing['render_s'] / max(timing['frames'], 1)
    blank_render = 1000 * timing['blank_render_s'] / max(timing['blank_frames'], 1)
    print(f'\nrendering: {render:.1f} ms per condition frame, {blank_render:.1f} ms per '
          'non-digit frame')
    per_frame = timing['preprocess_s'] / max(timing['frames'] + timing['blank_frames'], 1)
    print('preprocessing per frame, mean / slowest: ' + ', '.join(
        f'{p.name} {1000 * s:.1f} / {1000 * m:.0f} ms'
        for p, s, m in zip(pipelines, per_frame, timing['preprocess_max_s'])))
    print(f'classifying: {timing["classify_s"]:.1f} s; total {timing["total_s"]:.0f} s')
