"""Frame sources and calibration files: pure code, real files."""

import shutil

import cv2
import numpy as np
import pytest

from digit_recognition.core.calibration import load_calibration, uncalibrated
from digit_recognition.core.sources import (
    Backoff, csi_pipeline, describe_source, FrameSource, SourceError)

CALIBRATION = 'test/data/camera_calibration.yaml'


@pytest.mark.parametrize('source, kind', [
    ('csi://0', 'csi'), ('0', 'device'), ('/dev/video2', 'device'),
    ('rtsp://192.168.1.20:8554/cam', 'stream'), ('http://robot.local/stream.mjpg', 'stream'),
    ('v4l2src device=/dev/video0 ! videoconvert ! appsink', 'gstreamer'),
    ('frames/img_%04d.png', 'sequence'), ('frames/*.png', 'glob'), ('video.mp4', 'file'),
])
def test_source_kinds(source, kind):
    assert describe_source(source) == kind


def test_csi_pipeline_for_a_jetson_camera():
    assert csi_pipeline(1, 1280, 720, 30.0, flip_method=2) == (
        'nvarguscamerasrc sensor-id=1 ! '
        'video/x-raw(memory:NVMM), width=1280, height=720, framerate=30/1, format=NV12 ! '
        'nvvidconv flip-method=2 ! video/x-raw, width=1280, height=720, format=BGRx ! '
        'videoconvert ! video/x-raw, format=BGR ! appsink drop=true max-buffers=1 sync=false')
    assert 'framerate=2997/100' in csi_pipeline(0, 640, 480, 29.97)


def test_csi_without_gstreamer_says_so():
    source = FrameSource('csi://0')
    with pytest.raises(SourceError, match='csi source .* built without GStreamer'):
        source.open()
    with pytest.raises(SourceError, match='needs a sensor number'):
        FrameSource('csi://left').open()


def write_images(folder, count, size=(64, 48)):
    folder.mkdir(exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(folder / f'img_{i:03d}.png'), np.full((size[1], size[0], 3), i, np.uint8))


@pytest.mark.parametrize('pattern', ['{folder}', '{folder}/*.png', '{folder}/img_%03d.png'])
def test_folders_globs_and_sequences_read_in_order_and_replay(tmp_path, pattern):
    folder = tmp_path / 'frames'
    write_images(folder, 3)
    (folder / 'notes.txt').write_text('not an image')
    source = FrameSource(pattern.format(folder=folder), width=32, height=24)
    source.open()
    frames = [source.read() for _ in range(4)]
    assert [int(f[0, 0, 0]) for f in frames[:3]] == [0, 1, 2]
    assert frames[0].shape == (24, 32, 3)  # resized to the requested size
    assert frames[3] is None  # the end
    source.open()  # rewind
    assert int(source.read()[0, 0, 0]) == 0


def test_video_files_and_missing_files(tmp_path):
    with pytest.raises(SourceError, match='no such file'):
        FrameSource(str(tmp_path / 'missing.mp4')).open()
    source = FrameSource('samples/digits.mp4', width=0, height=0)
    source.open()
    assert source.read().shape == (480, 640, 3)
    assert not source.is_live


def test_an_empty_folder_cannot_be_opened(tmp_path):
    with pytest.raises(SourceError, match='cannot open folder'):
        FrameSource(str(tmp_path)).open()


def test_backoff_doubles_to_a_maximum_and_resets():
    backoff = Backoff(initial=0.5, maximum=4.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_calibration_file_gives_camera_info_fields():
    info = load_calibration(CALIBRATION)
    assert (info['width'], info['height'], info['distortion_model']) == (640, 480, 'plumb_bob')
    assert info['k'][0] == 612.3 and len(info['d']) == 5 and len(info['p']) == 12


def test_bad_calibration_files_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match='cannot read'):
        load_calibration(tmp_path / 'none.yaml')
    broken = tmp_path / 'broken.yaml'
    broken.write_text('image_width: 640\nimage_height: 480\ncamera_matrix: {data: [1, 2]}\n')
    with pytest.raises(ValueError, match='camera_matrix has 2 values, expected 9'):
        load_calibration(broken)


def test_uncalibrated_camera_info_has_the_size_only():
    info = uncalibrated(640, 480)
    assert (info['width'], info['height'], info['k']) == (640, 480, [0.0] * 9)


def test_read_video_frames_gives_every_frame():
    from digit_recognition.core.sources import read_video_frames
    frames = read_video_frames('samples/digits.mp4')
    assert len(frames) == 100 and frames[0].shape == (480, 640, 3)


def test_an_existing_path_with_an_exclamation_mark_is_a_path_not_a_pipeline(tmp_path):
    video = tmp_path / 'take!1.mp4'
    shutil.copy('samples/digits.mp4', video)
    folder = tmp_path / 'takes!'
    write_images(folder, 2)
    assert describe_source(str(video)) == 'file'
    assert describe_source(str(folder)) == 'folder'
    assert describe_source(str(folder / 'img_%03d.png')) == 'sequence'
    assert describe_source(str(folder / '*.png')) == 'glob'
    source = FrameSource(str(video), width=0, height=0)
    source.open()
    assert source.read().shape == (480, 640, 3)
    with pytest.raises(SourceError, match='no such file') as error:
        FrameSource(str(tmp_path / 'gone!.mp4')).open()  # not yet there, in a real folder
    assert 'GStreamer' not in str(error.value)
    assert describe_source('videotestsrc ! appsink') == 'gstreamer'
    assert describe_source('filesrc location=/tmp/a.mp4 ! decodebin ! appsink') == 'gstreamer'


def test_a_requested_size_over_the_preprocess_limit_is_refused():
    from digit_recognition.core.image_encodings import MAX_PIXELS
    with pytest.raises(SourceError, match='8192x4096 is more than the 16777216 pixels'):
        FrameSource('0', width=8192, height=4096)
    assert 8192 * 2048 == MAX_PIXELS
    FrameSource('0', width=8192, height=2048)  # exactly the limit


def test_native_frames_over_the_limit_are_scaled_down_to_what_preprocess_accepts(tmp_path):
    from digit_recognition.core.image_encodings import MAX_PIXELS, to_bgr8
    folder = tmp_path / 'huge'
    folder.mkdir()
    image = np.zeros((4096, 8192, 3), np.uint8)
    image[:, 4096:] = 255  # right half white: the aspect must survive
    cv2.imwrite(str(folder / 'wide.png'), image)
    source = FrameSource(str(folder), width=0, height=0)
    source.open()
    frame = source.read()
    height, width = frame.shape[:2]
    assert width * height <= MAX_PIXELS and width * height > 0.99 * MAX_PIXELS
    assert width == 2 * height
    assert frame[0, width // 4, 0] == 0 and frame[0, 3 * width // 4, 0] == 255
    converted = to_bgr8('bgr8', height, width, width * 3, frame.tobytes())  # preprocess's check
    assert converted.shape == frame.shape
