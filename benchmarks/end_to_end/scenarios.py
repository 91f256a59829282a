"""What is measured: node variants, the configurations, the hop runs and the test videos."""

from pathlib import Path

import cv2
import numpy as np
import yaml

import common
from digit_recognition.core.model import TUTORIAL_MODEL
from digit_recognition.core.preprocessing import preprocess_frame
from digit_recognition.core.sources import read_video_frames
from digit_recognition.training.synthetic_frames import blank_frame

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
    """Test videos of `lead` empty frames, then `digits` frames of the sample video, looped."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.samples = read_video_frames(common.SAMPLE_VIDEO)
        rng = np.random.default_rng(0)
        self.blanks = [blank_frame(rng=rng) for _ in range(10)]
        self._videos = {}
        self._yields = {}

    def frames(self, lead, digits):
        for i in range(lead):
            yield self.blanks[i % len(self.blanks)]
        for i in range(digits):
            yield self.samples[i % len(self.samples)]

    def get(self, lead, digits):
        if (lead, digits) not in self._videos:
            path = self.folder / f'video_{lead}_{digits}.mp4'
            height, width = self.samples[0].shape[:2]
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 30,
                                     (width, height))
            for frame in self.frames(lead, digits):
                writer.write(frame)
            writer.release()
            self._videos[lead, digits] = path
        return self._videos[lead, digits]

    def expected_crops(self, lead, digits, settings):
        """Frames of the video the preprocess node makes a crop of, with these settings."""
        key = tuple(settings[k] for k in ('threshold', 'roi_size', 'threshold_mode',
                                          'normalization'))
        if key not in self._yields:
            self._yields[key] = [
                [preprocess_frame(frame, *key) is not None for frame in frames]
                for frames in (self.blanks, self.samples)]
        blanks, samples = self._yields[key]
        return (sum(blanks[i % len(blanks)] for i in range(lead))
                + sum(samples[i % len(samples)] for i in range(digits)))
