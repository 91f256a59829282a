"""What the robot is told, for frames a person really shows: the bundled model behind the
default preprocessing, each case a batch of five camera frames decided as the classifier
node decides (min_confidence 0.9, the not-a-digit class).

Light broad inks, a hand at the digit and non-digits: each of these published the wrong
thing, or nothing, before the not-a-digit class and the preprocessing that keeps every ink.
"""

import numpy as np
import pytest

from digit_recognition.core.decision import judge
from digit_recognition.core.model import load_classifier
from digit_recognition.core.preprocessing import PreprocessSettings, read_frame
from digit_recognition.training import negatives
from digit_recognition.training.conditions import render_condition

BATCH = 5
MIN_CONFIDENCE = 0.9  # the node's default


@pytest.fixture(scope='module')
def classifier():
    return load_classifier(None, 'tflite')  # the node's default backend


def told(classifier, frames):
    """What the robot receives for these frames: the published digit, or None."""
    crops = [read_frame(frame, PreprocessSettings()).crop for frame in frames]
    crops = np.stack([crop for crop in crops if crop is not None] or [np.zeros((28, 28),
                                                                              np.uint8)])
    kind, digit, _, _ = judge(classifier.predict_batch(crops), MIN_CONFIDENCE)
    return digit if kind == 'digit' else None


def first_of(mnist_sample, digit):
    images, labels = mnist_sample
    return images[np.flatnonzero(labels == digit)[0]]


def frames_of(condition, glyph, variant, seed):
    return [render_condition(condition, glyph, np.random.default_rng([seed, k]), variant)[0]
            for k in range(BATCH)]


@pytest.mark.parametrize('digit, variant', [(3, 'red_felt_tip'), (8, 'soft_pencil')])
def test_a_digit_in_light_broad_ink_is_read(classifier, mnist_sample, digit, variant):
    frames = frames_of('broad_light_ink', first_of(mnist_sample, digit), variant, 17)
    published = told(classifier, frames)
    assert published == digit


def test_a_finger_pointing_at_the_digit_does_not_stop_it_being_read(classifier, mnist_sample):
    frames = frames_of('hand_holding', first_of(mnist_sample, 4), 'pointing', 17)
    published = told(classifier, frames)
    assert published == 4


@pytest.mark.parametrize('what, draw', [
    ('a letter K in a font training never saw', lambda rng: negatives.truetype_letter(rng, 'K')),
    ('an arrow', negatives.arrow),
    ('a scribble', negatives.scribble),
])
def test_a_non_digit_on_paper_publishes_nothing(classifier, what, draw):
    glyph = draw(np.random.default_rng(17))
    published = told(classifier, frames_of('plain', glyph, None, 17))
    assert published is None, what
