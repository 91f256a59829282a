"""Frame sources for the camera node, via OpenCV. No ROS here.

`source` strings, by kind:
  csi://0                  Jetson CSI camera through nvarguscamerasrc (GStreamer)
  0, /dev/video0           V4L2 device (USB camera)
  rtsp://..., http://...   network stream (OpenCV's FFmpeg backend)
  '... ! appsink'          explicit GStreamer pipeline (an existing path with '!' is a path)
  video.mp4                video file
  frames/img_%04d.png      numbered image sequence
  frames/, frames/*.png    folder of images, or a glob pattern, in name order
csi:// and pipelines need OpenCV built with GStreamer (JetPack's is; PyPI wheels are not).
Frames are at most sizes.MAX_PIXELS, the limit preprocess accepts: a larger
requested size is refused, larger native frames are scaled down to fit.
"""

from fractions import Fraction
import glob
import os
from pathlib import Path
import re
import time
from typing import Union

import cv2
import numpy as np

from digit_recognition.core.errors import StartupError
from digit_recognition.core.sizes import check_frame_size, MAX_PIXELS

# A printf-style frame number (img_%03d.png) marks an image sequence for OpenCV.
_SEQUENCE_PATTERN = re.compile(r'%0?\d*d')
_URL = re.compile(r'^[a-z][a-z0-9+.-]*://', re.IGNORECASE)
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.pgm', '.ppm')
# Sources that deliver until they fail, rather than come to an end.
LIVE_KINDS = ('csi', 'device', 'stream', 'gstreamer')
# OpenCV's FFmpeg waits 30 s by default for a stream that accepts and does not answer.
STREAM_OPEN_TIMEOUT_MS = 5000
STREAM_READ_TIMEOUT_MS = 3000


class SourceError(StartupError):
    """The frame source cannot be opened."""


def describe_source(source: str) -> str:
    """The kind of source a `source` string names (see the module's docstring)."""
    if source.startswith('csi://'):
        return 'csi'
    if '!' in source and not _names_a_path(source):
        return 'gstreamer'
    if _URL.match(source):
        return 'stream'
    if source.isdigit() or source.startswith('/dev/video'):
        return 'device'
    if _SEQUENCE_PATTERN.search(source):
        return 'sequence'
    if os.path.isdir(source):
        return 'folder'
    if glob.has_magic(source):
        return 'glob'
    return 'file'


def _names_a_path(source):
    """An existing file or folder, or a name inside an existing folder (a '!' in it is not
    GStreamer's: 'my!video.mp4', 'takes!/img_%04d.png')."""
    if os.path.exists(source):
        return True
    folder = os.path.dirname(source)
    return bool(folder) and os.path.isdir(folder)


def fit_pixels(frame: np.ndarray, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The frame scaled down, aspect kept, to at most max_pixels pixels; unchanged if it fits."""
    height, width = frame.shape[:2]
    if width * height <= max_pixels:
        return frame
    scale = (max_pixels / (width * height)) ** 0.5
    size = (max(1, int(width * scale)), max(1, int(height * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def csi_pipeline(sensor_id: int, width: int, height: int, framerate: float,
                 flip_method: int = 0) -> str:
    """The nvarguscamerasrc pipeline for a Jetson CSI camera, ending in a BGR appsink.

    appsink drop=true max-buffers=1: a slow reader gets the newest frame, not one from a
    queue of stale ones (the source of the 100-200 ms lag users report).
    """
    rate = Fraction(framerate).limit_denominator(1000)
    return (f'nvarguscamerasrc sensor-id={sensor_id} ! '
            f'video/x-raw(memory:NVMM), width={width}, height={height}, '
            f'framerate={rate.numerator}/{rate.denominator}, format=NV12 ! '
            f'nvvidconv flip-method={flip_method} ! '
            f'video/x-raw, width={width}, height={height}, format=BGRx ! '
            'videoconvert ! video/x-raw, format=BGR ! '
            'appsink drop=true max-buffers=1 sync=false')


def opencv_has_gstreamer() -> bool:
    return re.search(r'GStreamer:\s+YES', cv2.getBuildInformation()) is not None


class _ImageFiles:
    """A folder or glob of images read in name order, with VideoCapture's read()."""

    def __init__(self, paths):
        self._paths = paths
        self._next = 0

    def isOpened(self):  # noqa: N802 - VideoCapture's name
        return bool(self._paths)

    def read(self):
        while self._next < len(self._paths):
            frame = cv2.imread(self._paths[self._next], cv2.IMREAD_COLOR)
            self._next += 1
            if frame is not None:  # skip unreadable files rather than end the folder
                return True, frame
        return False, None

    def release(self):
        self._paths = []


def _image_files(source, kind):
    pattern = os.path.join(source, '*') if kind == 'folder' else source
    return sorted(path for path in glob.glob(pattern)
                  if path.lower().endswith(IMAGE_SUFFIXES))


class FrameSource:
    """Reads frames from a `source` string; finite sources can replay from the start."""

    def __init__(self, source, width=0, height=0, framerate=30.0, flip_method=0):
        try:  # 0: the source's own size
            check_frame_size(width, height, native=True)
        except ValueError as exc:
            raise SourceError(f'image_width x image_height {exc}; choose a smaller size, or '
                              '0 x 0 for the native size, scaled down to fit') from None
        self.source = source
        self.kind = describe_source(source)
        self.width = width
        self.height = height
        self.framerate = framerate
        self.flip_method = flip_method
        self.read_at = 0.0  # time.monotonic() when the last frame came from OpenCV
        self._capture = None

    @property
    def is_live(self):
        return self.kind in LIVE_KINDS

    def _capture_for_kind(self):
        if self.kind == 'csi':
            sensor = self.source[len('csi://'):] or '0'
            if not sensor.isdigit():
                raise SourceError(f'csi:// needs a sensor number, as csi://0; got {self.source!r}')
            pipeline = csi_pipeline(int(sensor), self.width or 1280, self.height or 720,
                                    self.framerate, self.flip_method)
            return cv2.VideoCapture(pipeline, cv2.CAP_GSTREAMER)
        if self.kind == 'gstreamer':
            return cv2.VideoCapture(self.source, cv2.CAP_GSTREAMER)
        if self.kind == 'device':
            device = int(self.source) if self.source.isdigit() else self.source
            capture = cv2.VideoCapture(device, cv2.CAP_V4L2)
            if self.width and self.height:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            capture.set(cv2.CAP_PROP_FPS, self.framerate)
            # The smallest queue, so a slow reader gets a fresh frame rather than a stale one.
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            return capture
        if self.kind in ('folder', 'glob'):
            return _ImageFiles(_image_files(self.source, self.kind))
        if self.kind == 'file' and not os.path.isfile(self.source):
            raise SourceError(f'no such file: {self.source}')
        if self.kind == 'stream' and _stream_timeouts():
            return cv2.VideoCapture(self.source, cv2.CAP_ANY, _stream_timeouts())
        return cv2.VideoCapture(self.source)  # file, sequence: FFmpeg or images

    def open(self):
        """Open (or reopen) the source; SourceError says why it cannot be."""
        self.close()
        capture = self._capture_for_kind()
        if not capture.isOpened():
            hint = ''
            if self.kind in ('csi', 'gstreamer') and not opencv_has_gstreamer():
                hint = ' (this OpenCV was built without GStreamer)'
            raise SourceError(f'cannot open {self.kind} source {self.source!r}{hint}')
        self._capture = capture

    def read(self):
        """The next frame as bgr8, resized to width x height when both are set (else scaled
        down to MAX_PIXELS if larger); None if none."""
        if self._capture is None:
            return None
        ok, frame = self._capture.read()
        self.read_at = time.monotonic()
        if not ok or frame is None or frame.size == 0:
            return None
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        elif frame.shape[2] == 4:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
        if self.width and self.height and frame.shape[:2] != (self.height, self.width):
            frame = cv2.resize(frame, (self.width, self.height), interpolation=cv2.INTER_AREA)
        return fit_pixels(frame)

    def close(self):
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _stream_timeouts():
    """VideoCapture params bounding how long FFmpeg waits to open and to read a stream,
    where this OpenCV has them (older builds keep FFmpeg's 30 s)."""
    params = []
    for name, milliseconds in (('CAP_PROP_OPEN_TIMEOUT_MSEC', STREAM_OPEN_TIMEOUT_MS),
                               ('CAP_PROP_READ_TIMEOUT_MSEC', STREAM_READ_TIMEOUT_MS)):
        if hasattr(cv2, name):
            params += [getattr(cv2, name), milliseconds]
    return params


def read_video_frames(path: Union[str, Path]) -> list:
    """Every frame of a video file, as bgr8 (for tools and benchmarks; the node streams)."""
    source = FrameSource(str(path), width=0, height=0)
    source.open()
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    return frames


class Backoff:
    """Retry delays that double after each failure, up to a maximum; reset on success."""

    def __init__(self, initial=0.5, maximum=8.0):
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def next_delay(self):
        delay = min(self.maximum, self.initial * 2 ** self.failures)
        self.failures += 1
        return delay

    def reset(self):
        self.failures = 0
