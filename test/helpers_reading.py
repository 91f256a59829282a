"""What the robot is told for a few camera frames, as the classifier node decides by default."""

import numpy as np

from digit_recognition.core.decision import DecisionSettings, judge
from digit_recognition.core.preprocessing import PreprocessSettings, read_frame

MIN_CONFIDENCE = DecisionSettings().min_confidence


def told(classifier, frames):
    """The digit published for these frames (one batch), or None: the default preprocessing's
    crops, decided as the classifier node decides (mean probabilities, min_confidence)."""
    crops = [read_frame(frame, PreprocessSettings()).crop for frame in frames]
    crops = [crop for crop in crops if crop is not None]
    if not crops:
        return None
    kind, digit, _, _ = judge(classifier.predict_batch(np.stack(crops)), MIN_CONFIDENCE)
    return digit if kind == 'digit' else None
