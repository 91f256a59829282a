"""What the viewer shows, as pure logic: images as PPM, node names, file names, the slider's
bargain with the node, and the status line's states. No ROS imports."""

import enum
from pathlib import Path
import time
from typing import Optional, Union

import cv2
import numpy as np

from digit_recognition.core.preprocessing import THRESHOLD_MEANINGS

CROP_ZOOM = 4  # a 28x28 crop is too small to judge at 1:1
TITLE = 'digit_recognition viewer'


def to_ppm(image: np.ndarray, zoom: int = 1) -> bytes:
    """A mono8 [H, W] or bgr8 [H, W, 3] image as PGM/PPM bytes, for tk.PhotoImage(data=...)."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.size == 0:
        raise ValueError(f'expected a non-empty uint8 image, got {image.dtype} {image.shape}')
    if image.ndim == 3 and image.shape[2] == 3:
        magic, image = b'P6', cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # PPM is RGB
    elif image.ndim == 2:
        magic = b'P5'
    else:
        raise ValueError(f'expected mono8 [H, W] or bgr8 [H, W, 3], got shape {image.shape}')
    if zoom != 1:
        image = image.repeat(zoom, axis=0).repeat(zoom, axis=1)
    height, width = image.shape[:2]
    return b'%s %d %d 255\n' % (magic, width, height) + image.tobytes()


def resolve_node_name(name: str, namespace: str) -> str:
    """Fully qualified name of node `name` seen from `namespace`: preprocess -> /ns/preprocess."""
    name = name.strip()
    if not name or name.endswith('/'):
        raise ValueError(f'not a node name: {name!r}')
    if name.startswith('/'):
        return name
    return f'{namespace.rstrip("/")}/{name}'


def parent_namespace(fully_qualified_name: str) -> str:
    """/robot1/preprocess -> /robot1; /preprocess -> /."""
    return fully_qualified_name.rsplit('/', 1)[0] or '/'


def crop_path(save_dir: Union[str, Path], when: time.struct_time, index: int) -> Path:
    """A fresh file name for a saved crop: digit_crop_20240131_120501_3.png."""
    return Path(save_dir) / f'digit_crop_{time.strftime("%Y%m%d_%H%M%S", when)}_{index}.png'


class ThresholdSync:
    """Keeps a slider and a remote parameter in step, one set request in flight at a time.

    Dragging gives many values; only the latest is sent once the previous answer is back.
    The node's value moves the slider only while no request of ours is pending, so our own
    echoes do not make the slider jump back under the user's hand.
    """

    def __init__(self) -> None:
        self.node_value: Optional[int] = None  # last value the node reported
        self.in_flight: Optional[int] = None  # value of the pending set request
        self.wanted: Optional[int] = None  # value the user chose while a request was pending

    def user_moved(self, value: int) -> Optional[int]:
        """The slider moved to `value`; returns the value to send now, or None."""
        if self.node_value is None:  # not heard from the node yet: nothing to change
            return None
        if self.in_flight is not None:
            self.wanted = value
            return None
        if value == self.node_value:
            return None
        self.in_flight = value
        return value

    def set_done(self, successful: bool) -> Optional[int]:
        """The pending request was answered; returns the next value to send, or None."""
        if successful:
            self.node_value = self.in_flight
        self.in_flight, wanted, self.wanted = None, self.wanted, None
        if wanted is not None and wanted != self.node_value:
            self.in_flight = wanted
            return wanted
        return None

    def node_changed(self, value: int) -> bool:
        """The node reports `value`; returns whether the slider should show it."""
        self.node_value = value
        return self.in_flight is None and self.wanted is None


class ViewerState(enum.Enum):
    """What the status line reports; each state's value is the template of its text."""

    WAITING = 'waiting for {target}'
    CONNECTED = 'connected to {target}'
    MODE = 'threshold_mode {mode}: the threshold is {meaning}'
    REJECTED = 'threshold {value} rejected: {reason}'
    BAD_IMAGE = 'bad image on {topic}: {reason}'
    NO_CROP = 'no crop yet on {topic}'
    CANNOT_SAVE = 'cannot save the crop: {reason}'
    SAVED = 'saved {path}'
    NOT_WRITTEN = 'could not write {path}'

    def text(self, **fields: object) -> str:
        """The status line of this state; fields a template does not name are ignored."""
        return self.value.format(**fields)


class Status:
    """The status line: the state the viewer is in and the text derived from it.

    The node's answers end some states only: a rejection stays shown until a set succeeds,
    a saved crop's path until something else happens.
    """

    def __init__(self, target: str) -> None:
        self.target = target  # the preprocess node, as the templates name it
        self.mode: Optional[str] = None  # the node's threshold_mode, once read
        self.state = ViewerState.WAITING
        self.text = self.state.text(target=target)

    def show(self, state: ViewerState, **fields: object) -> str:
        """Enter `state`; returns its text."""
        self.state = state
        self.text = state.text(target=self.target, **fields)
        return self.text

    def threshold_read(self) -> None:
        """The node answered a read of its threshold: it is there."""
        if self.state is ViewerState.WAITING:
            self._connected()

    def mode_read(self, mode: str) -> str:
        """The node's threshold_mode is `mode`; returns what the threshold means in it, which
        the status line shows unless it reports something else."""
        self.mode = mode
        if self.state in (ViewerState.WAITING, ViewerState.CONNECTED, ViewerState.MODE):
            self._connected()
        return threshold_meaning(mode)

    def _connected(self) -> None:
        if self.mode is None:
            self.show(ViewerState.CONNECTED)
        else:
            self.show(ViewerState.MODE, mode=self.mode, meaning=threshold_meaning(self.mode))

    def set_answered(self, value: Optional[int], successful: bool,
                     reason: str = '') -> Optional[str]:
        """A set request of `value` ended; returns the text to log if it was rejected."""
        if not successful:
            return self.show(ViewerState.REJECTED, value=value,
                             reason=reason or 'no reason given')
        if self.state is ViewerState.REJECTED:
            self._connected()
        return None


def threshold_meaning(mode: str) -> str:
    """What the preprocess node's threshold means in threshold_mode `mode`."""
    return THRESHOLD_MEANINGS.get(mode, f'unknown in threshold_mode {mode!r}')
