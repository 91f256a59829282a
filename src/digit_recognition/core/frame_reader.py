"""Frames in, what the classifier node would publish out: the whole pipeline in Python,
without ROS.

    from digit_recognition.core.frame_reader import FrameReader

    reader = FrameReader()            # the bundled reader and gate, with LiteRT
    for frame in frames:              # bgr8 [H, W, 3] or mono8 [H, W] numpy images
        verdict = reader.read(frame)  # a Verdict once five frames showed a digit, else None
        if verdict is not None and verdict.kind == 'digit':
            print(verdict.digit, verdict.confidence)
        elif verdict is not None and verdict.number is not None:  # a row of marks
            print(verdict.number.kind, verdict.number.text)  # 'number', '214'

The same preprocessing (read_frame), context, reader, gate and decision (DigitDecider) as
the preprocess and classifier nodes, with the same parameters' defaults.
"""

from pathlib import Path
from typing import Iterable, List, Optional, Union

import numpy as np

from digit_recognition.core.decision import DecisionSettings, Verdict
from digit_recognition.core.model import load_models, Models
from digit_recognition.core.preprocessing import PreprocessSettings, read_frame


class FrameReader:
    """Reads digits from frames as the three nodes do: one Verdict per batch of crops.

    model_path, gate_path and backend as the classifier node's parameters (None and '': the
    bundled reader and its gate), or `models` already loaded; preprocess and decision: the
    nodes' settings (None: their defaults). ModelLoadError for a model that cannot serve.
    """

    def __init__(self, model_path: Optional[Union[str, Path]] = None, gate_path: str = '',
                 backend: str = 'tflite',
                 preprocess: Optional[PreprocessSettings] = None,
                 decision: Optional[DecisionSettings] = None,
                 models: Optional[Models] = None):
        self.models = models or load_models(model_path, gate_path, backend)
        self.preprocess = preprocess or PreprocessSettings()
        self.decider = self.models.decider(decision or DecisionSettings())

    def read(self, frame: np.ndarray, stamp_sec: Optional[float] = None) -> Optional[Verdict]:
        """One frame (its capture time in seconds, for the batch timeout); the batch's
        Verdict when this frame completed one, else None (also for a frame without a
        digit, which the preprocess node does not publish). ValueError for a bad frame."""
        reading = read_frame(frame, self.preprocess)
        if reading.crop is None:  # no digit, or a number running off the frame
            return None
        return self.decider.add_row(reading.patches(), stamp_sec)

    def read_all(self, frames: Iterable[np.ndarray]) -> List[Verdict]:
        """The Verdicts of a sequence of frames, in order."""
        verdicts = (self.read(frame) for frame in frames)
        return [verdict for verdict in verdicts if verdict is not None]
