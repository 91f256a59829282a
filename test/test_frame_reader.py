"""The pipeline from Python without ROS (core/frame_reader.py): frames in, what the classifier
node would publish out, through the same preprocessing, context, reader, gate and decision."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from digit_recognition.core.decision import DecisionSettings, DIGIT, NOT_DIGIT
from digit_recognition.core.frame_reader import FrameReader
from digit_recognition.core.model import ModelLoadError
from digit_recognition.core.sources import read_video_frames

SAMPLES = Path(__file__).resolve().parents[1] / 'samples'


@pytest.fixture(scope='module')
def reader_models():
    return FrameReader().models  # the bundled reader and gate, LiteRT: the node's defaults


def test_the_sample_video_reads_as_the_digits_written_on_it(reader_models):
    verdicts = FrameReader(models=reader_models).read_all(
        read_video_frames(SAMPLES / 'digits.mp4'))
    published = [v.digit for v in verdicts if v.kind == DIGIT]
    in_view = [d for i, d in enumerate(published) if i == 0 or d != published[i - 1]]
    assert in_view == [int(d) for d in (SAMPLES / 'digits.txt').read_text().split()]
    # Each verdict says what both models read, the digitness from the gate.
    assert all(v.digitness is not None and v.digitness >= 0.5 for v in verdicts
               if v.kind == DIGIT)


def test_a_verdict_comes_once_per_batch_of_frames_with_a_digit(reader_models):
    frames = read_video_frames(SAMPLES / 'digits.mp4')[:10]
    blank = np.full_like(frames[0], 200)
    reader = FrameReader(models=reader_models, decision=DecisionSettings(batch_size=5))
    results = [reader.read(frame) for frame in (*frames[:4], blank, frames[4])]
    assert results[:5] == [None] * 5  # four crops, then a frame without a digit
    assert results[5] is not None and results[5].kind == DIGIT


def test_a_page_of_text_is_no_digit(reader_models):
    frame = np.full((480, 640, 3), 210, np.uint8)
    for row in range(150, 340, 38):  # lines of small print running across the ROI
        cv2.putText(frame, 'Welcome to the lab, please', (40, row), cv2.FONT_HERSHEY_SIMPLEX,
                    0.9, (30, 30, 30), 2, cv2.LINE_AA)
    verdicts = FrameReader(models=reader_models).read_all([frame] * 10)
    assert all(v.kind != DIGIT for v in verdicts), verdicts
    assert any(v.kind == NOT_DIGIT for v in verdicts) or not verdicts


def test_a_missing_model_is_the_loaders_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match='not found'):
        FrameReader(tmp_path / 'nothing.tflite')
