"""Frame sources for the camera node: devices, video files and image sequences, via OpenCV.

No ROS here. Later sources (Jetson CSI through GStreamer, RTSP, reconnection) plug in behind
open_source() without changing the node.
"""

import os
import re

import cv2

# A printf-style frame number (img_%03d.png) marks an image sequence for OpenCV.
_SEQUENCE_PATTERN = re.compile(r'%0?\d*d')


def describe_source(source):
    """What kind of source a `source` string names: 'device', 'sequence' or 'file'."""
    if source.isdigit() or source.startswith('/dev/video'):
        return 'device'
    if _SEQUENCE_PATTERN.search(source):
        return 'sequence'
    return 'file'


class SourceError(RuntimeError):
    """The frame source cannot be opened."""


class FrameSource:
    """Reads frames from a `source` string; files and sequences can replay from the start."""

    def __init__(self, source, width=0, height=0, framerate=0.0):
        self.source = source
        self.kind = describe_source(source)
        self.width = width
        self.height = height
        self.framerate = framerate
        self._capture = None
        self.open()

    @property
    def is_live(self):
        return self.kind == 'device'

    def open(self):
        if self.kind == 'device':
            capture = cv2.VideoCapture(int(self.source) if self.source.isdigit() else self.source)
            if self.width and self.height:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            if self.framerate:
                capture.set(cv2.CAP_PROP_FPS, self.framerate)
            # Keep at most one frame queued so a slow reader gets a fresh frame, not a stale one.
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        else:
            if self.kind == 'file' and not os.path.exists(self.source):
                raise SourceError(f'no such file: {self.source}')
            capture = cv2.VideoCapture(self.source)
        if not capture.isOpened():
            raise SourceError(f'cannot open {self.kind} source {self.source!r}')
        self.close()
        self._capture = capture

    def read(self):
        """The next frame as bgr8, resized to width x height when both are set; None at the end."""
        ok, frame = self._capture.read()
        if not ok or frame is None:
            return None
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if self.width and self.height and frame.shape[:2] != (self.height, self.width):
            frame = cv2.resize(frame, (self.width, self.height), interpolation=cv2.INTER_AREA)
        return frame

    def rewind(self):
        """Start a file or sequence again (reopening works for every OpenCV backend)."""
        self.open()

    def close(self):
        if self._capture is not None:
            self._capture.release()
            self._capture = None
