"""Handwritten digit recognition from a camera, as ROS 2 nodes."""
