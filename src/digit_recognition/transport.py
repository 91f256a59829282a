"""Which Fast DDS profile carries the frames: config/fastdds.xml, found and applied here.

No ROS imports: the launch file uses this too, and it must run before rclpy.init().
"""

import os
from pathlib import Path

PROFILE_NAME = 'fastdds.xml'
# Fast DDS 2.x (Humble, Jazzy) reads FASTRTPS_DEFAULT_PROFILES_FILE; 3.x (Kilted on) reads
# FASTDDS_DEFAULT_PROFILES_FILE and warns that the old name is deprecated.
_FAST_DDS_2_DISTROS = ('humble', 'iron', 'jazzy')


def profile_variables():
    """The environment variables that point this ROS distro's Fast DDS at a profile file."""
    if os.environ.get('ROS_DISTRO') in _FAST_DDS_2_DISTROS:
        return ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')
    return ('FASTDDS_DEFAULT_PROFILES_FILE',)


def package_config_file(name):
    """A file of the package's config/ folder: installed (colcon) or in the source checkout."""
    try:
        from ament_index_python.packages import get_package_share_directory  # noqa: PLC0415
        installed = Path(get_package_share_directory('digit_recognition')) / 'config' / name
        if installed.is_file():
            return installed
    except (ImportError, LookupError, OSError):  # OSError: AMENT_PREFIX_PATH not set
        pass  # not installed by colcon: an editable or pip install
    checkout = Path(__file__).resolve().parents[2] / 'config' / name
    return checkout if checkout.is_file() else None


def use_shared_memory_profile():
    """Apply config/fastdds.xml to this process and its children, unless a profile is set.

    Fast DDS's default shared-memory segment (512 KB) cannot hold a 640x480 frame; the
    profile enlarges it. Other RMWs ignore these variables.
    """
    names = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')
    if any(name in os.environ for name in names):
        return
    profile = package_config_file(PROFILE_NAME)
    if profile is not None:
        for variable in profile_variables():
            os.environ[variable] = str(profile)
