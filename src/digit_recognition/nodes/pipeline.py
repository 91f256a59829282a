"""pipeline: the camera, preprocess and classifier nodes in one process, one executor.

Same node names, topics and parameters as the three executables; saves two processes and
keeps the frames inside one process on a small robot computer.
"""

import sys

from digit_recognition.nodes.camera_node import CameraNode
from digit_recognition.nodes.classifier_node import ClassifierNode
from digit_recognition.nodes.preprocess_node import PreprocessNode
from digit_recognition.ros.runner import run_nodes


def main(args=None):
    # The classifier first: its model loads for seconds, and the camera must not start a
    # replay before the rest of the pipeline is listening.
    return run_nodes([ClassifierNode, PreprocessNode, CameraNode], args=args,
                     logger_name='pipeline', drain_sec=1.0)


if __name__ == '__main__':
    sys.exit(main())
