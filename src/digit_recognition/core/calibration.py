"""Camera calibration files, as camera_calibration writes them and camera drivers read them.

No ROS here: load_calibration() returns plain values; the camera node fills CameraInfo.
"""

from pathlib import Path
from typing import Union

import yaml

_MATRICES = {  # YAML key -> (CameraInfo field, number of values)
    'camera_matrix': ('k', 9),
    'distortion_coefficients': ('d', None),
    'rectification_matrix': ('r', 9),
    'projection_matrix': ('p', 12),
}


def uncalibrated(width: int, height: int) -> dict:
    """What a camera driver publishes without a calibration: the size, identity R."""
    return dict(width=width, height=height, distortion_model='', d=[], k=[0.0] * 9,
                r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], p=[0.0] * 12)


def load_calibration(path: Union[str, Path]) -> dict:
    """CameraInfo fields from a camera_calibration YAML file; ValueError if it is not one."""
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f'cannot read camera calibration {path}: {exc}') from None
    if not isinstance(data, dict):
        raise ValueError(f'{path} is not a camera calibration file')
    try:
        info = dict(width=int(data['image_width']), height=int(data['image_height']),
                    distortion_model=str(data.get('distortion_model', '')))
        for key, (field, count) in _MATRICES.items():
            values = [float(v) for v in data[key]['data']] if key in data else None
            if values is None:
                values = uncalibrated(0, 0)[field]
            if count is not None and len(values) != count:
                raise ValueError(f'{key} has {len(values)} values, expected {count}')
            info[field] = values
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f'{path} is not a valid camera calibration: {exc}') from None
    return info
