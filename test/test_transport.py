"""transport.py: the Fast DDS profile and the reuse of frame-sized buffers."""

import ctypes
import os
import subprocess
import sys

import pytest

from digit_recognition.ros import transport

# Counts glibc's mmap()ed blocks (mallinfo2's hblks) around the allocation of one 640x480
# bgr8 frame, in a fresh process so the test process's allocator stays as it was.
COUNT_MAPPED_BLOCKS = """
import ctypes, sys
from digit_recognition.ros.transport import keep_frame_buffers
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ('arena', 'ordblks', 'smblks', 'hblks',
                'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost')]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = MallInfo2
if sys.argv[1] == 'reuse' and not keep_frame_buffers():
    sys.exit('keep_frame_buffers() returned False')
before = mallinfo2().hblks
frame = bytearray(640 * 480 * 3)
print(mallinfo2().hblks - before)
"""


def mapped_blocks_for_one_frame(mode):
    result = subprocess.run([sys.executable, '-c', COUNT_MAPPED_BLOCKS, mode],
                            capture_output=True, text=True, timeout=60, check=True)
    return int(result.stdout)


def test_frames_come_from_the_reused_heap_once_buffers_are_kept():
    if not hasattr(ctypes.CDLL(None), 'mallinfo2'):
        pytest.skip('needs glibc >= 2.33 (mallinfo2)')
    assert mapped_blocks_for_one_frame('default') == 1  # glibc maps each frame afresh
    assert mapped_blocks_for_one_frame('reuse') == 0


def unset_profile_variables(monkeypatch, *others):
    """Unset them for this test; whatever the code under test sets is undone afterwards."""
    for name in ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE', *others):
        monkeypatch.setenv(name, 'recorded')  # so that monkeypatch restores it
        monkeypatch.delenv(name)


def test_shipped_profile_is_applied_unless_the_user_set_one(monkeypatch):
    unset_profile_variables(monkeypatch, 'ROS_DISTRO')
    transport.apply_fastdds_profile()
    shipped = transport.package_config_file(transport.PROFILE_NAME)
    assert shipped is not None and shipped.name == 'fastdds.xml'
    assert os.environ['FASTDDS_DEFAULT_PROFILES_FILE'] == str(shipped)

    monkeypatch.setenv('FASTDDS_DEFAULT_PROFILES_FILE', '/robot/own_profile.xml')
    transport.apply_fastdds_profile()
    assert os.environ['FASTDDS_DEFAULT_PROFILES_FILE'] == '/robot/own_profile.xml'


def test_humble_and_jazzy_also_get_the_fast_dds_2_variable(monkeypatch):
    monkeypatch.setenv('ROS_DISTRO', 'humble')
    assert 'FASTRTPS_DEFAULT_PROFILES_FILE' in transport.profile_variables()
    monkeypatch.setenv('ROS_DISTRO', 'kilted')
    assert transport.profile_variables() == ('FASTDDS_DEFAULT_PROFILES_FILE',)


def test_a_profile_set_under_one_name_reaches_the_name_fast_dds_2_reads(monkeypatch):
    # Before: on Jazzy, FASTDDS_DEFAULT_PROFILES_FILE alone (as the tests set it) kept the
    # shipped profile away and Fast DDS 2 ran on its defaults.
    unset_profile_variables(monkeypatch)
    monkeypatch.setenv('ROS_DISTRO', 'jazzy')
    monkeypatch.setenv('FASTDDS_DEFAULT_PROFILES_FILE', '/robot/own_profile.xml')
    transport.apply_fastdds_profile()
    assert os.environ['FASTRTPS_DEFAULT_PROFILES_FILE'] == '/robot/own_profile.xml'
    assert os.environ['FASTDDS_DEFAULT_PROFILES_FILE'] == '/robot/own_profile.xml'


def test_a_receive_buffer_limit_under_the_profiles_buffer_is_told(monkeypatch, tmp_path):
    unset_profile_variables(monkeypatch, 'ROS_DISTRO')
    transport.apply_fastdds_profile()  # the shipped profile: 4 MB
    limit = tmp_path / 'rmem_max'
    limit.write_text('212992\n')  # Linux's default
    warning = transport.receive_buffer_warning(limit)
    assert 'net.core.rmem_max is 212992 bytes' in warning
    assert 'sudo sysctl -w net.core.rmem_max=4194304' in warning
    limit.write_text('4194304\n')
    assert transport.receive_buffer_warning(limit) is None
    assert transport.receive_buffer_warning(tmp_path / 'missing') is None
    limit.write_text('212992\n')
    monkeypatch.setenv('FASTDDS_DEFAULT_PROFILES_FILE', str(tmp_path / 'no_profile.xml'))
    assert transport.receive_buffer_warning(limit) is None
