"""What the robot is told, for frames a person really shows: the bundled model behind the
default preprocessing, each case a batch of five consecutive frames of one scene, decided as
the classifier node decides (min_confidence 0.9, the not-a-digit class).

Each case is shown by several writers (the committed MNIST sample's digits) or drawn several
times, so a test measures a rate, not one lucky frame. Before the not-a-digit class and the
preprocessing that keeps every ink, light broad inks were dropped as shadows and letters,
arrows and scribbles were published as digits.
"""

import numpy as np
import pytest

from digit_recognition.core.decision import DecisionSettings
from digit_recognition.core.model import load_models
from digit_recognition.simulation import negatives
from digit_recognition.simulation.conditions import render_condition
from helpers_reading import told

BATCH = DecisionSettings().batch_size
WRITERS = 6  # the first six samples of a digit in the committed MNIST sample
DRAWINGS = 12  # non-digit glyphs drawn with seeds 17-28
SCENE_SEED = 17


@pytest.fixture(scope='module')
def classifier():
    return load_models(None, '', 'tflite')  # the node's default backend: reader and gate


def frames_of(condition, glyph, variant, seed):
    """BATCH consecutive frames of one scene, as the camera sends them."""
    return [render_condition(condition, glyph, np.random.default_rng(seed), variant,
                             camera_rng=np.random.default_rng([seed, k]))[0]
            for k in range(BATCH)]


def told_for_writers(classifier, mnist_sample, digit, condition, variant):
    images, labels = mnist_sample
    return [told(classifier, frames_of(condition, images[i], variant, SCENE_SEED))
            for i in np.flatnonzero(labels == digit)[:WRITERS]]


@pytest.mark.parametrize('digit, variant', [(3, 'red_felt_tip'), (8, 'soft_pencil')])
def test_a_digit_in_light_broad_ink_is_read(classifier, mnist_sample, digit, variant):
    published = told_for_writers(classifier, mnist_sample, digit, 'broad_light_ink', variant)
    assert published.count(digit) >= WRITERS - 1 and set(published) <= {digit, None}


@pytest.mark.xfail(strict=True, reason='missed: a finger touching the digit joins its blob, '
                   'whose box then runs out of the ROI (2 of 6 writers read, see docs/model.md)')
def test_a_finger_pointing_at_the_digit_does_not_stop_it_being_read(classifier, mnist_sample):
    published = told_for_writers(classifier, mnist_sample, 4, 'hand_holding', 'pointing')
    assert published.count(4) >= WRITERS - 1 and set(published) <= {4, None}


@pytest.mark.parametrize('what, draw, most', [
    ('a letter K in fonts training never saw',
     lambda rng: negatives.truetype_letter(rng, 'K'), 0),
    ('a scribble', negatives.scribble, 1),
    # Pointing up or down, an arrow is a 1 with a head: two of twelve read as 1 before the
    # gate; four with it, which reads the lone-stroke and flagged 1s (a documented miss).
    pytest.param('an arrow', negatives.arrow, 2, marks=pytest.mark.xfail(
        strict=True, reason='missed: four of twelve arrows pointing up or down are read as a '
        '1 with a head since the gate publishes lone-stroke 1s (docs/model.md)')),
])
def test_a_non_digit_on_paper_is_rarely_published(classifier, what, draw, most):
    published = [told(classifier, frames_of('plain', draw(np.random.default_rng(seed)), None,
                                            seed))
                 for seed in range(SCENE_SEED, SCENE_SEED + DRAWINGS)]
    assert sum(digit is not None for digit in published) <= most, (what, published)
