"""The shipped params file and launch file agree with what the nodes declare."""

import ast

import yaml

from conftest import PARAMS_FILE, REPO
from digit_recognition.nodes.camera_node import CameraNode
from digit_recognition.nodes.classifier_node import ClassifierNode
from digit_recognition.nodes.preprocess_node import PreprocessNode

LAUNCH_FILE = REPO / 'launch' / 'digit_recognition.launch.py'


# Declared by rclpy itself, not by this package.
RCLPY_PARAMETERS = ('use_sim_time', 'start_type_description_service')


def declared_parameters(node):
    return {name for name in node.list_parameters([], 0).names
            if name not in RCLPY_PARAMETERS and not name.startswith('qos_overrides.')}


def test_params_file_sets_every_parameter_of_every_node_with_a_comment(ros_context):
    nodes = [CameraNode(context=ros_context), PreprocessNode(context=ros_context),
             ClassifierNode(context=ros_context)]
    try:
        declared = set().union(*map(declared_parameters, nodes))
        # Every value in the file equals the node's own default, so the file documents them.
        defaults = {name: node.get_parameter(name).value
                    for node in nodes for name in declared_parameters(node)}
    finally:
        for node in nodes:
            node.destroy_node()
    in_file = yaml.safe_load(PARAMS_FILE.read_text())['/**']['ros__parameters']
    assert set(in_file) == declared
    assert in_file == defaults
    lines = PARAMS_FILE.read_text().splitlines()
    for name in in_file:
        [index] = [i for i, line in enumerate(lines) if line.strip().startswith(f'{name}:')]
        assert lines[index - 1].strip().startswith('#') or name in ('image_height',), name


def test_launch_file_starts_the_three_executables_with_the_documented_arguments():
    tree = ast.parse(LAUNCH_FILE.read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]

    def keyword_values(function_name, keyword):
        return [kw.value.value for call in calls
                if getattr(call.func, 'id', None) == function_name
                for kw in call.keywords
                if kw.arg == keyword and isinstance(kw.value, ast.Constant)]

    assert keyword_values('Node', 'executable') == ['camera_node', 'preprocess_node',
                                                    'classifier_node']
    assert keyword_values('Node', 'name') == ['camera', 'preprocess', 'classifier']
    arguments = [call.args[0].value for call in calls
                 if getattr(call.func, 'id', None) == 'DeclareLaunchArgument']
    assert arguments == ['params_file', 'source', 'namespace', 'model_path']
    setup = (REPO / 'setup.py').read_text()
    for executable in keyword_values('Node', 'executable'):
        assert f"'{executable} = digit_recognition." in setup
