"""The nodes declare the parameters of their tables (config/params.yaml is checked against
the tables in test_parameter_specs.py), and the launch file starts the documented
executables."""

import ast

from conftest import REPO
from digit_recognition.nodes import camera_node, classifier_node, preprocess_node

LAUNCH_FILE = REPO / 'launch' / 'digit_recognition.launch.py'


# Declared by rclpy itself, not by this package.
RCLPY_PARAMETERS = ('use_sim_time', 'start_type_description_service')


def declared_parameters(node):
    return {name for name in node.list_parameters([], 0).names
            if name not in RCLPY_PARAMETERS and not name.startswith('qos_overrides.')}


def test_each_node_declares_the_parameters_of_its_table_at_their_defaults(ros_context):
    for module, node_class in ((camera_node, camera_node.CameraNode),
                               (preprocess_node, preprocess_node.PreprocessNode),
                               (classifier_node, classifier_node.ClassifierNode)):
        node = node_class(context=ros_context)
        try:
            declared = {name: node.get_parameter(name).value
                        for name in declared_parameters(node)}
        finally:
            node.destroy_node()
        assert declared == {spec.name: spec.default for spec in module.PARAMETERS}, module


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
