"""What the robot is told for a few camera frames, as the classifier node decides by default."""

import numpy as np

from digit_recognition.core.decision import DecisionSettings, DIGIT, judge
from digit_recognition.core.preprocessing import PreprocessSettings, read_frame


DEFAULTS = DecisionSettings()  # the classifier node's


def verdict_for(models, frames, settings=DEFAULTS):
    """The Verdict on these frames as one batch, or None when no frame shows a digit: the
    default preprocessing's crops with their context, decided as the classifier node decides
    (the reader and the gate, min_confidence and min_digitness). Unlike FrameReader, a batch
    with fewer crops than frames is decided too."""
    patches = [read_frame(frame, PreprocessSettings()).patch() for frame in frames]
    patches = [patch for patch in patches if patch is not None]
    if not patches:
        return None
    predictions = models.predict(np.stack(patches))
    return judge(predictions.digits, settings, predictions.digitness)


def told(models, frames):
    """The digit published for these frames (one batch), or None."""
    verdict = verdict_for(models, frames)
    return verdict.digit if verdict is not None and verdict.kind == DIGIT else None
