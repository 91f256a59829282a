"""Start the camera, preprocess and classifier nodes with config/params.yaml.

    ros2 launch digit_recognition digit_recognition.launch.py source:=/dev/video0
    ros2 launch digit_recognition digit_recognition.launch.py namespace:=robot1 \
        params_file:=/path/to/my_params.yaml

The `source` and `model_path` arguments override the params file; their defaults equal
the shipped config/params.yaml.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from digit_recognition.ros.transport import PROFILE_NAME, profile_variables


def generate_launch_description():
    params_file = LaunchConfiguration('params_file')
    namespace = LaunchConfiguration('namespace')
    # value_type=str: without it launch would turn source:=0 into an integer parameter.
    source = ParameterValue(LaunchConfiguration('source'), value_type=str)
    model_path = ParameterValue(LaunchConfiguration('model_path'), value_type=str)
    # Full frames through shared memory: the variables this distro's Fast DDS reads.
    fastdds_profile = PathJoinSubstitution(
        [FindPackageShare('digit_recognition'), 'config', PROFILE_NAME])
    use_profile = [SetEnvironmentVariable(variable, fastdds_profile)
                   for variable in profile_variables()]

    return LaunchDescription([
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution(
                [FindPackageShare('digit_recognition'), 'config', 'params.yaml']),
            description='Parameters of all three nodes'),
        DeclareLaunchArgument(
            'source', default_value='0',
            description='Camera index or device, video file or image-sequence pattern'),
        DeclareLaunchArgument(
            'namespace', default_value='',
            description='Namespace for the nodes and their topics (one per robot or camera)'),
        DeclareLaunchArgument(
            'model_path', default_value='',
            description='Model file, .keras or .tflite (the twin beside it serves the other '
                        'backend); empty for the bundled model'),
        *use_profile,
        Node(package='digit_recognition', executable='camera_node', name='camera',
             namespace=namespace, parameters=[params_file, {'source': source}],
             output='screen'),
        Node(package='digit_recognition', executable='preprocess_node', name='preprocess',
             namespace=namespace, parameters=[params_file], output='screen'),
        Node(package='digit_recognition', executable='classifier_node', name='classifier',
             namespace=namespace, parameters=[params_file, {'model_path': model_path}],
             output='screen'),
    ])
