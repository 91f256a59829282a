"""Draw docs/pipeline.png: the nodes, their topics and what each step does."""

from pathlib import Path

import matplotlib
matplotlib.use('Agg')
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

NODES = [  # x centre, title, lines
    (1.4, 'camera', ['csi://, /dev/video, rtsp://,', 'file, images', 'camera_info', 'reconnects']),
    (4.6, 'preprocess', ['flatfield ink, no lines', 'a digit, a number or none',
                         'fit 20x20, centre of mass', 'its context at ROI scale']),
    (7.8, 'classifier', ['5 frames, one call each:', 'gate: a digit at all?',
                         'reader: which digit?', 'both sure, or silent']),
    (10.8, 'robot controller', ['examples/', 'digit_controller.py', 'acts on stable',
                                'stamped readings']),
]
TOPICS = ['image_raw\nbgr8 640x480', 'digit_crop\n8UC3 28x28 (x k): crop, context',
          'digit_reading, number_reading\n(stamp, status, confidences)\ndigit, number']


def main():
    figure, axis = plt.subplots(figsize=(12, 3.5))
    axis.set_xlim(0, 12.2)
    axis.set_ylim(0, 3.5)
    axis.axis('off')
    for x, title, lines in NODES:
        colour = '#dfe9f5' if title != 'robot controller' else '#e8f3e0'
        axis.add_patch(FancyBboxPatch((x - 1.15, 0.5), 2.3, 2.2, boxstyle='round,pad=0.05',
                                      facecolor=colour, edgecolor='#345'))
        axis.text(x, 2.4, title, ha='center', va='center', fontsize=12, weight='bold')
        axis.text(x, 1.45, '\n'.join(lines), ha='center', va='center', fontsize=8.5)
    for (x0, *_), (x1, *_), topic in zip(NODES, NODES[1:], TOPICS):
        axis.add_patch(FancyArrowPatch((x0 + 1.2, 1.6), (x1 - 1.2, 1.6), arrowstyle='-|>',
                                       mutation_scale=18, color='#345'))
        axis.text((x0 + x1) / 2, 3.05, topic, ha='center', va='center', fontsize=8.5)
    axis.text(6.1, 0.15, '/diagnostics from every node, about 1 Hz; parameters live through '
              'ros2 param set or the viewer', ha='center', fontsize=8.5, style='italic')
    path = Path(__file__).resolve().parents[1] / 'docs' / 'pipeline.png'
    figure.savefig(path, dpi=90, bbox_inches='tight')
    print(f'saved {path}')


if __name__ == '__main__':
    main()
