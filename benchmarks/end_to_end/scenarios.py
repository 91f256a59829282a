"""What is measured: node variants, the configurations, the hop runs and the test videos."""

from pathlib import Path

import cv2
import numpy as np
import yaml

import common
from digit_recognition.core.model import TUTORIAL_MODEL
from digit_recognition.core.preprocessing import PreprocessSettings, read_frame
from digit_recognition.core.sources import read_video_frames
from digit_recognition.simulation.conditions import CONDITIONS, render_condition
from digit_recognition.simulation.synthetic_frames import blank_frame

LEAD_SECONDS = 3.0  # empty paper first: whoever listens has matched before the first crop
MAX_FRAMERATE = 240.0  # the camera node's highest framerate parameter
# The tutorial's way, from the package's own nodes: resize the whole ROI, fixed threshold,
# its MLP through Keras, and every batch published.
VARIANTS = {
    'ours': {},
    'tutorial': {'normalization': 'resize', 'threshold_mode': 'fixed', 'backend': 'keras',
                 'model_path': str(TUTORIAL_MODEL), 'min_confidence': 0.0},
    # Ours with reliable image subscriptions (QoS overrides): for the soak, where a lost
    # frame must mean a fault, not a best-effort drop.
    'reliable': {'qos_overrides./image_raw.subscription.reliability': 'reliable',
                 'qos_overrides./digit_crop.subscription.reliability': 'reliable'},
    # Ours with the frame subscription best effort whatever the camera does (before
    # matched_subscription.py): beside a camera on default DDS, what that cost.
    'best_effort': {'qos_overrides./image_raw.subscription.reliability': 'best_effort'},
}
NODES = ('camera', 'preprocess', 'classifier')


def configuration(variant, layout, dds, fps, camera_dds=None):
    """camera_dds: the camera process's own profile, when it differs from the others'
    (a camera driver that is not ours runs on Fast DDS's defaults)."""
    rate = 'max' if fps >= MAX_FRAMERATE else f'{fps:g}fps'
    camera = f' camera-{camera_dds}' if camera_dds and camera_dds != dds else ''
    return {'name': f'{variant} {layout} {dds}{camera} {rate}', 'variant': variant,
            'layout': layout, 'dds': dds, 'camera_dds': camera_dds or dds, 'fps': fps}


STANDARD = [configuration(*args, 30.0) for args in (
    ('ours', '3proc', 'shipped'), ('ours', '3proc', 'default'),
    ('ours', '1proc', 'shipped'), ('ours', '1proc', 'default'),
    ('tutorial', '3proc', 'shipped'), ('tutorial', '3proc', 'default'),
    ('best_effort', '3proc', 'shipped'))] + [
    # A camera driver on Fast DDS defaults (not loading the profile), the nodes on ours.
    configuration(variant, '3proc', 'shipped', 30.0, camera_dds='default')
    for variant in ('ours', 'best_effort')]
MAX_RATE = [configuration(*args, MAX_FRAMERATE) for args in (
    ('ours', '3proc', 'shipped'), ('ours', '1proc', 'shipped'), ('ours', '3proc', 'default'))]
HOPS = {  # name: (Fast DDS profile, frame buffers reused as the nodes do)
    'shipped': ('shipped', True),
    'shipped, no buffer reuse': ('shipped', False),
    'default': ('default', True),
}


# One core for all three nodes (`taskset -c 0`): the proxy for a Jetson Nano's four slower
# cores. Each condition of the simulator as its own video.
ONE_CORE_CPUS = '0'
CONDITION_DIGITS = 12  # MNIST sample digits per condition video, each held for 10 frames


def one_core_configurations():
    return [{**configuration('ours', '3proc', 'shipped', 30.0),
             'name': f'ours 3proc one-core {condition} 30fps', 'condition': condition,
             'cpus': ONE_CORE_CPUS} for condition in CONDITIONS]


def soak_configuration(variant):
    return configuration(variant, '3proc', 'shipped', 30.0)


def selected(name, only):
    """Whether `--only` keeps this configuration: its name holds all words of one group."""
    if not only:
        return True
    return any(all(word in name for word in group.split()) for group in only.split(','))


def node_settings(variant):
    """The parameters the nodes run with: params.yaml, then the variant's overrides."""
    with open(common.PARAMS_FILE) as params_file:
        settings = dict(yaml.safe_load(params_file)['/**']['ros__parameters'])
    settings.update(VARIANTS[variant])
    return settings


class Videos:
    """Test videos of `lead` empty frames, then `digits` frames of the sample video (or of a
    condition of the simulator), looped."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.samples = read_video_frames(common.SAMPLE_VIDEO)
        rng = np.random.default_rng(0)
        self.blanks = [blank_frame(rng=rng) for _ in range(10)]
        self._conditions = {}
        self._videos = {}
        self._yields = {}

    def digit_frames(self, condition=None):
        """The sample video's frames, or CONDITION_DIGITS digits of the MNIST sample under
        `condition`, each held for 10 frames that differ in sensor noise and a small sway."""
        if condition is None:
            return self.samples
        if condition not in self._conditions:
            with np.load(common.MNIST_SAMPLE) as data:
                digits = data['images'][:CONDITION_DIGITS]
            self._conditions[condition] = [
                render_condition(condition, digit, np.random.default_rng(index),
                                 camera_rng=np.random.default_rng([index, frame]))[0]
                for index, digit in enumerate(digits) for frame in range(10)]
        return self._conditions[condition]

    def frames(self, lead, digits, condition=None):
        for i in range(lead):
            yield self.blanks[i % len(self.blanks)]
        shown = self.digit_frames(condition)
        for i in range(digits):
            yield shown[i % len(shown)]

    def get(self, lead, digits, condition=None):
        key = lead, digits, condition
        if key not in self._videos:
            path = self.folder / f'video_{lead}_{digits}_{condition or "sample"}.mp4'
            height, width = self.samples[0].shape[:2]
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 30,
                                     (width, height))
            for frame in self.frames(lead, digits, condition):
                writer.write(frame)
            writer.release()
            self._videos[key] = path
        return self._videos[key]

    def expected_crops(self, lead, digits, settings, condition=None):
        """Frames of the video the preprocess node makes a crop of, with these settings."""
        settings = PreprocessSettings(**{name: settings[name]
                                         for name in PreprocessSettings._fields})
        if condition is not None:  # as the camera decodes them: the codec changes the frames
            key = settings, lead, digits, condition
            if key not in self._yields:
                self._yields[key] = sum(
                    read_frame(frame, settings).crop is not None
                    for frame in read_video_frames(self.get(lead, digits, condition)))
            return self._yields[key]
        if settings not in self._yields:
            self._yields[settings] = [
                [read_frame(frame, settings).crop is not None for frame in frames]
                for frames in (self.blanks, self.samples)]
        blanks, samples = self._yields[settings]
        return (sum(blanks[i % len(blanks)] for i in range(lead))
                + sum(samples[i % len(samples)] for i in range(digits)))
