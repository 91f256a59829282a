"""How frames travel between processes cheaply: the Fast DDS profile and the allocator.

config/fastdds.xml is found and applied here (receive_buffer_warning() says when Linux caps
its socket buffer); keep_frame_buffers() stops glibc from mapping
and unmapping every frame-sized buffer. No ROS imports: the launch file uses this too, and it
must run before rclpy.init().
"""

import ctypes
import os
from pathlib import Path
import xml.etree.ElementTree as ElementTree

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
    checkout = Path(__file__).resolve().parents[3] / 'config' / name
    return checkout if checkout.is_file() else None


def apply_fastdds_profile():
    """Apply config/fastdds.xml to this process and its children, unless a profile is set.

    The profile has frames received over UDP with a 4 MB socket buffer (a sender on Fast
    DDS's defaults has a 512 KB shared-memory segment, less than a 640x480 frame) and gives
    our senders a larger segment. A profile already set under either variable name is kept, and
    given to the other name this distro's Fast DDS reads too (a test or a user who set
    FASTDDS_DEFAULT_PROFILES_FILE on Jazzy means it for Fast DDS 2 as well). Other RMWs
    ignore these variables.
    """
    names = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')
    given = next((os.environ[name] for name in names if os.environ.get(name)), None)
    profile = given or package_config_file(PROFILE_NAME)
    if profile is not None:
        for variable in profile_variables():
            os.environ.setdefault(variable, str(profile))


# Linux caps every socket's receive buffer at this, whatever the profile asks for.
RECEIVE_BUFFER_LIMIT = Path('/proc/sys/net/core/rmem_max')


def receive_buffer_warning(limit_file=RECEIVE_BUFFER_LIMIT):
    """One line on raising net.core.rmem_max when it is below the UDP receive buffer that the
    Fast DDS profile in use asks for (config/fastdds.xml: 4 MB, several frames); None when it
    is not, or when the profile or the limit cannot be read. Frames are received over UDP: a
    capped buffer loses best-effort frames from a camera driver."""
    profile = next((os.environ[name] for name in profile_variables()
                    if os.environ.get(name)), None)
    try:
        sizes = [int(element.text) for element in ElementTree.parse(profile).iter()
                 if element.tag.endswith('receiveBufferSize')]
        limit = int(Path(limit_file).read_text())
    except (TypeError, OSError, ValueError, ElementTree.ParseError):
        return None
    if not sizes or limit >= max(sizes):
        return None
    return (f'net.core.rmem_max is {limit} bytes, under the {max(sizes)} the Fast DDS profile '
            f'asks for ({profile}): frames from a best-effort camera may be lost; raise it '
            f'with `sudo sysctl -w net.core.rmem_max={max(sizes)}`')


# glibc's mallopt() parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Buffers below this come from the heap and are reused: a 1920x1080 bgr8 frame is 6.2 MB.
FRAME_BUFFER_LIMIT = 16 * 1024 * 1024


def keep_frame_buffers(limit=FRAME_BUFFER_LIMIT):
    """Let this process reuse frame-sized buffers instead of mapping fresh pages for each.

    glibc serves allocations over 128 KB with mmap() and returns them on free(), so every
    frame that rclpy converts, serializes or deserializes touches hundreds of new zeroed
    pages (what that costs: docs/performance.md). Costs a few frames of resident memory. Returns
    False where the C library has no mallopt (not glibc).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    # The trim threshold above the mmap one, or freed frames go straight back to the system.
    return bool(mallopt(_M_MMAP_THRESHOLD, limit) and mallopt(_M_TRIM_THRESHOLD, 2 * limit))
