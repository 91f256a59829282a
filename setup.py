from glob import glob

from setuptools import find_packages, setup

package_name = 'digit_recognition'

setup(
    name=package_name,
    version='0.1.0',
    package_dir={'': 'src'},
    packages=find_packages('src'),
    # The bundled model ships inside the Python package so load_classifier() finds it
    # wherever the package is installed (colcon, pip, editable).
    package_data={package_name: ['models/*.keras', 'models/*.tflite']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*.yaml') + glob('config/*.xml')),
        ('share/' + package_name + '/samples', glob('samples/*.mp4')),
    ],
    install_requires=['setuptools'],
    extras_require={'test': ['pytest']},
    zip_safe=True,
    maintainer='digit_recognition developers',
    maintainer_email='dev@digit-recognition.invalid',
    description='Handwritten digit recognition from a camera, as ROS 2 nodes.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'camera_node = digit_recognition.nodes.camera_node:main',
            'preprocess_node = digit_recognition.nodes.preprocess_node:main',
            'classifier_node = digit_recognition.nodes.classifier_node:main',
            'pipeline = digit_recognition.nodes.pipeline:main',
            'demo = digit_recognition.operator_tools.demo:main',
            'train = digit_recognition.training.train:main',
            'evaluate = digit_recognition.evaluation.cli:main',
            'viewer = digit_recognition.operator_tools.viewer.window:main',
        ],
    },
)
