"""Reads a FrameSource on a thread of its own, so that a camera that hangs never blocks a node.

No ROS here. The thread opens the source, reads it, and on failure retries with back-off;
the node only takes frames from a one-frame slot and reads the events to log:

- a live source (camera, stream, pipeline) keeps only the newest frame in the slot,
  stamped with the monotonic time at which the read returned;
- a finite source (file, sequence, folder) hands over every frame in order: the thread
  waits until the slot is taken before putting the next, so the node's timer paces it.
  Its frames are stamped when taken: a recording has no capture time of its own.

Only this thread touches the OpenCV capture (releasing it while another thread reads it is
undefined behaviour); `close()` asks it to stop and waits a bounded time: a thread still
blocked in OpenCV is a daemon, ends at its next timeout, and never keeps the process alive.
"""

from collections import deque
import threading
import time
from typing import Callable, NamedTuple, Optional

import cv2
import numpy as np

from digit_recognition.core.sources import Backoff, FrameSource, SourceError


class Frame(NamedTuple):
    image: np.ndarray  # bgr8 [H, W, 3]
    captured: float  # time.monotonic() when OpenCV returned it (live) or when taken (finite)


class CaptureThread:
    """A FrameSource read on a daemon thread, retried with back-off, its newest frame kept.

    `stall_sec`: a live source whose last frame is older than this counts as disconnected
    (its read may still be blocked, until OpenCV's read timeout).
    """

    def __init__(self, source: FrameSource, backoff: Optional[Backoff] = None,
                 stall_sec: float = 1.0, on_live_frame: Optional[Callable[[], None]] = None):
        self.source = source
        # Called on the capture thread when a live frame is in the slot, so that it can be
        # published at once instead of waiting for the next tick of a timer.
        self.on_live_frame = on_live_frame
        self.backoff = backoff or Backoff()
        self.stall_sec = stall_sec
        self.loop = True  # read when a finite source ends; the node keeps it current
        self.read_failures = 0  # a source that stopped delivering after it had
        self.ended = False  # a finite source ended without loop: no more frames
        self._events = deque()
        self._condition = threading.Condition()
        self._slot = None
        self._stopping = False
        self._delivering = False  # opened and gave a frame since
        self._last_frame = 0.0
        self._attempt_started = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f'capture {source.source}')

    def start(self):
        self._thread.start()

    def take(self) -> Optional[Frame]:
        """The frame waiting in the slot, or None; never blocks."""
        with self._condition:
            frame, self._slot = self._slot, None
            self._condition.notify_all()
        if frame is not None and not self.source.is_live:
            frame = frame._replace(captured=time.monotonic())
        return frame

    def events(self):
        """(level, message) pairs to log since the last call; level: error, info or debug."""
        events = []
        while self._events:
            events.append(self._events.popleft())
        return events

    @property
    def connected(self):
        """Open and delivering: for a live source, a frame came within `stall_sec`."""
        if not self._delivering:
            return False
        return not self.source.is_live or time.monotonic() - self._last_frame < self.stall_sec

    def close(self, timeout_sec=0.25):
        """Stop the thread; wait at most timeout_sec. Return whether it has ended."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_sec)
        return not self._thread.is_alive()

    # --- on the capture thread ---

    def _run(self):
        try:
            while not self._stopping and not self.ended:
                self._attempt_started = time.monotonic()
                try:
                    self.source.open()
                except SourceError as exc:
                    self._delivering = False
                    self._failed(str(exc))
                    continue
                self._play()
        finally:
            self._delivering = False
            self.source.close()

    def _play(self):
        """Read the open source until it fails or ends, then decide what comes next."""
        name = f'{self.source.kind} {self.source.source!r}'
        frames = 0
        try:
            while not self._stopping:
                image = self.source.read()  # blocks at most until OpenCV's read timeout
                if image is None or self._stopping:
                    break
                if frames == 0 and self.backoff.failures:
                    self._event('info', f'{name} is back after {self.backoff.failures} '
                                        'failed attempts')
                    self.backoff.reset()
                frames += 1
                self._hand_over(image)
        except cv2.error as exc:  # a broken frame or decoder: as if the source failed
            self._event('debug', f'{name}: {exc}')
        self.source.close()
        if self._stopping:
            return
        if frames == 0:
            self._delivering = False
            self._failed(f'{name} opened but gave no frame')
        elif self.source.is_live:
            self._delivering = False
            self.read_failures += 1
            self._event('error', f'{name} stopped delivering frames; reconnecting')
            self._sleep(self.backoff.next_delay())
        elif not self.loop:
            self.ended = True
        # else: a finite source that played replays at once

    def _hand_over(self, image):
        with self._condition:
            if self.source.is_live:
                # The newest replaces any other; stamped when OpenCV returned it.
                self._slot = Frame(image, self.source.read_at)
                # Under the lock, never after close(): the node may be gone then.
                if self.on_live_frame is not None and not self._stopping:
                    self.on_live_frame()
            else:
                while self._slot is not None and not self._stopping:
                    self._condition.wait()  # every frame of a file, in order
                self._slot = Frame(image, 0.0)
            self._last_frame = time.monotonic()
            self._delivering = True

    def _failed(self, message):
        """One error line for the first failure in a row, then quiet retries.

        The delay runs from the start of the failed attempt: a stream that hung until its
        open timeout is tried again within the back-off's maximum, not that much later.
        """
        delay = self.backoff.next_delay()
        if self.backoff.failures == 1:
            self._event('error', f'{message}; retrying every {self.backoff.initial:g}-'
                                 f'{self.backoff.maximum:g} s')
        else:
            self._event('debug', f'{message}; next try in {delay:g} s')
        self._sleep(self._attempt_started + delay - time.monotonic())

    def _sleep(self, seconds):
        with self._condition:
            self._condition.wait_for(lambda: self._stopping, max(0.0, seconds))

    def _event(self, level, message):
        self._events.append((level, message))


class RateAllowance:
    """At most `rate` events a second on average, bursts of `burst` allowed (a token bucket).

    Network streams deliver frames in bursts: a fixed minimum interval would hold back
    most frames of a source that runs at exactly `rate`.
    """

    def __init__(self, rate: float, burst: int = 2, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def available(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        return self._tokens >= 1.0

    def use(self) -> None:
        self._tokens -= 1.0
