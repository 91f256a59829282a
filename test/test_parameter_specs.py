"""config/params.yaml and the documentation's parameter tables agree with the nodes' parameter
tables (each node's PARAMETERS, the one place a parameter's default, type and range are written).
"""

import re

import pytest
import yaml

from conftest import PARAMS_FILE, REPO
from digit_recognition.nodes import camera_node, classifier_node, preprocess_node

SPECS = {'camera': camera_node.PARAMETERS, 'preprocess': preprocess_node.PARAMETERS,
         'classifier': classifier_node.PARAMETERS}
# Every parameter name belongs to one node: tables without a node column are read by name.
NODE_OF = {spec.name: node for node, specs in SPECS.items() for spec in specs}
BY_NAME = {spec.name: spec for specs in SPECS.values() for spec in specs}
# README.md and every markdown file under docs/ (wherever the parameter tables live).
DOCUMENTS = sorted([REPO / 'README.md', *(REPO / 'docs').rglob('*.md')])


def test_parameter_names_are_unique_across_the_nodes():
    assert len(BY_NAME) == sum(map(len, SPECS.values()))


def test_every_default_is_a_valid_value_of_its_own_spec():
    for spec in BY_NAME.values():
        assert spec.problem(spec.default) is None, spec.name


def params_file_problems(values):
    """What in a params file's /** ros__parameters disagrees with the specs."""
    problems = []
    for name, value in values.items():
        if name not in BY_NAME:
            problems.append(f'{name}: no node declares it')
        elif BY_NAME[name].problem(value) is not None:
            problems.append(BY_NAME[name].problem(value))
        elif value != BY_NAME[name].default:
            problems.append(f'{name}: {value!r} is not the default {BY_NAME[name].default!r}')
    problems += [f'{name}: declared but not in the file' for name in BY_NAME.keys() - values]
    return problems


def test_params_file_sets_every_parameter_at_its_default_with_a_comment():
    """config/params.yaml documents the nodes' parameters: each one, at its default, with a
    comment above it (two neighbours may share one)."""
    text = PARAMS_FILE.read_text()
    values = yaml.safe_load(text)['/**']['ros__parameters']
    assert params_file_problems(values) == []
    lines = text.splitlines()
    for name in values:
        [index] = [i for i, line in enumerate(lines) if line.strip().startswith(f'{name}:')]
        assert lines[index - 1].strip().startswith('#') or name in ('image_height',), name


@pytest.mark.parametrize('change, problem', [
    (('framerate', 30), 'framerate is float, got int 30'),
    (('roi_size', 20), 'roi_size must be 28-4096, got 20'),
    (('backend', 'onnx'), 'backend must be one of'),
    (('roi_size', 210), 'roi_size: 210 is not the default 200'),
    (('rois_size', 200), 'rois_size: no node declares it'),
])
def test_params_file_check_names_each_kind_of_mismatch(change, problem):
    values = {spec.name: spec.default for spec in BY_NAME.values()}
    name, value = change
    values[name] = value
    [found] = params_file_problems(values)
    assert found.startswith(problem)


def parameter_tables(text):
    """Rows {column: cell} of every markdown table with a `parameter` and a `default` column."""
    tables, header, rows = [], None, []
    for line in [*text.splitlines(), '']:
        if not line.startswith('|'):
            if header is not None and {'parameter', 'default'} <= set(header):
                tables.append(rows)
            header, rows = None, []
            continue
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if header is None:
            header = [cell.lower() for cell in cells]
        elif not all(re.fullmatch(r':?-+:?', cell) for cell in cells):
            rows.append(dict(zip(header, cells)))
    return tables


def documented_defaults(row):
    """(parameter, node or None, default as YAML reads it) for each name of a table row;
    `image_width`, `image_height` | 640, 480 documents two."""
    names = re.findall(r'`([a-z_][a-z0-9_]*)`', row['parameter'])
    texts = [row['default']] if len(names) == 1 else row['default'].split(',')
    assert len(texts) == len(names), f'{row["parameter"]}: defaults {row["default"]!r}'
    return [(name, row.get('node'), yaml.safe_load(text.strip().strip('`') or "''"))
            for name, text in zip(names, texts)]


def documentation_problems(text):
    problems, documented = [], set()
    for rows in parameter_tables(text):
        for row in rows:
            for name, node, default in documented_defaults(row):
                documented.add(name)
                spec = BY_NAME.get(name)
                if spec is None:
                    problems.append(f'{name}: documented, but no node declares it')
                elif node is not None and node != NODE_OF[name]:
                    problems.append(f'{name}: documented for {node}, declared by '
                                    f'{NODE_OF[name]}')
                elif type(default) is not type(spec.default) or default != spec.default:
                    problems.append(f'{name}: documented default {default!r}, declared '
                                    f'{spec.default!r}')
    return problems, documented


def test_documented_parameters_have_the_declared_defaults():
    documented = set()
    for path in DOCUMENTS:
        problems, found = documentation_problems(path.read_text())
        assert problems == [], path.relative_to(REPO)
        documented |= found
    # Every parameter is in some table (the tables cannot move away unread).
    assert documented == BY_NAME.keys()


def test_documentation_check_finds_a_wrong_default_node_or_name():
    table = ('| node | parameter | default | meaning |\n|---|---|---|---|\n'
             "| camera | `image_width`, `image_height` | 640, 480 | size |\n"
             "| camera | `source` | `'0'` | |\n"
             '| preprocess | `roi_size` | 210 | |\n'
             '| camera | `threshold` | 100 | |\n'
             '| classifier | `min_confidence` | 1 | |\n'
             '| classifier | `frames` | 3 | |\n')
    problems, documented = documentation_problems(table)
    assert problems == ['roi_size: documented default 210, declared 200',
                        'threshold: documented for camera, declared by preprocess',
                        'min_confidence: documented default 1, declared 0.9',
                        'frames: documented, but no node declares it']
    assert {'image_width', 'image_height', 'source'} <= documented
    # Per-node tables without a node column are read by name.
    problems, _ = documentation_problems('| parameter | default |\n|--|--|\n| `loop` | false |')
    assert problems == ['loop: documented default False, declared True']
