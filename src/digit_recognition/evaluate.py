"""evaluate: accuracy of a model plus the node's preprocessing, on MNIST and on camera frames.

(a) the MNIST test set as the model sees it; (b) a camera simulation rendered from MNIST test
digits (rendering.camera_frame: dark ink on unevenly lit paper in a 640x480 frame, 80-180 px
high, offset, rotated, blurred, noisy, JPEG-compressed) run through the same
preprocess_frame() the preprocess node calls. A frame where preprocessing finds no digit
counts as an error. Prints a markdown table comparing the tutorial's pipeline with ours, a
confusion matrix, and saves a PNG with the confusion matrix and misread examples.
"""

import argparse
import json
from pathlib import Path
import sys
import time

import numpy as np

from digit_recognition.mnist import load_mnist
from digit_recognition.model import BUNDLED_MODEL, ModelLoadError, TUTORIAL_MODEL
from digit_recognition.preprocessing import preprocess_frame, THRESHOLD_MODES
from digit_recognition.rendering import camera_frame

NO_DIGIT = -1  # prediction when preprocessing found no digit
TUTORIAL_THRESHOLD = 100


def render_camera_set(images, seed):
    """Camera frames of the given MNIST digits, reproducible by seed."""
    rng = np.random.default_rng(seed)
    return [camera_frame(digit, rng) for digit in images]


def crops_for(frames, threshold_mode, normalization, threshold=TUTORIAL_THRESHOLD, roi_size=200):
    """Crops [N, 28, 28] and a mask of the frames where preprocessing found a digit."""
    crops = np.zeros((len(frames), 28, 28), np.uint8)
    found = np.zeros(len(frames), bool)
    for i, frame in enumerate(frames):
        crop = preprocess_frame(frame, threshold, roi_size, threshold_mode, normalization)
        if crop is not None:
            crops[i], found[i] = crop, True
    return crops, found


def predict(classifier, crops, batch_size=500):
    return np.concatenate([classifier.predict_batch(crops[i:i + batch_size]).argmax(axis=1)
                           for i in range(0, len(crops), batch_size)])


def confusion_matrix(labels, predictions):
    """10 x 11 counts: rows true digit, columns predicted digit, last column no digit found."""
    matrix = np.zeros((10, 11), int)
    np.add.at(matrix, (labels, np.where(predictions == NO_DIGIT, 10, predictions)), 1)
    return matrix


def format_confusion(matrix):
    lines = ['| true \\ read | ' + ' | '.join(map(str, range(10))) + ' | none |',
             '|---' * 12 + '|']
    lines += [f'| **{d}** | ' + ' | '.join(str(v) for v in row) + ' |'
              for d, row in enumerate(matrix)]
    return '\n'.join(lines)


def save_figure(path, matrix, frames, crops, labels, predictions, title):
    import matplotlib  # noqa: PLC0415 - only evaluate draws plots
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure = plt.figure(figsize=(15, 7.5))
    axis = figure.add_subplot(1, 2, 1)
    axis.imshow(np.log1p(matrix), cmap='Blues')
    for (row, col), value in np.ndenumerate(matrix):
        if value:
            axis.text(col, row, str(value), ha='center', va='center', fontsize=7)
    axis.set_xticks(range(11), [*map(str, range(10)), 'none'])
    axis.set_yticks(range(10))
    axis.set_xlabel('read as')
    axis.set_ylabel('true digit')
    axis.set_title(title)
    # Right half: up to eight misread frames, each as the camera's ROI and the crop read.
    for k, index in enumerate(np.flatnonzero(predictions != labels)[:8]):
        row, pair = divmod(k, 2)
        read = 'none' if predictions[index] == NO_DIGIT else predictions[index]
        roi_axis = figure.add_subplot(4, 8, 8 * row + 5 + 2 * pair)
        roi_axis.imshow(frames[index][140:340, 220:420, ::-1])
        roi_axis.set_title(f'{labels[index]} read as {read}', fontsize=8)
        crop_axis = figure.add_subplot(4, 8, 8 * row + 6 + 2 * pair)
        crop_axis.imshow(crops[index], cmap='gray')
        for a in (roi_axis, crop_axis):
            a.axis('off')
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', help='directory with the four MNIST IDX files '
                        '(default: Keras downloader)')
    parser.add_argument('--cnn', default=str(BUNDLED_MODEL), help='CNN model (default: bundled)')
    parser.add_argument('--mlp', default=str(TUTORIAL_MODEL),
                        help="tutorial's MLP (default: bundled)")
    parser.add_argument('--count', type=int, default=10000,
                        help='camera frames to simulate, from the first MNIST test digits')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--output', default='evaluation', help='folder for the PNG and JSON')
    options = parser.parse_args(argv)

    try:
        _, (test_images, test_labels) = load_mnist(options.data)
        from digit_recognition.model import load_classifier  # noqa: PLC0415
        models = {'MLP': load_classifier(options.mlp), 'CNN': load_classifier(options.cnn)}
    except (FileNotFoundError, ValueError, ModelLoadError) as exc:
        print(f'evaluate: {exc}', file=sys.stderr)
        return 1
    output = Path(options.output)
    output.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    labels = test_labels[:options.count].astype(int)
    frames = render_camera_set(test_images[:options.count], options.seed)
    print(f'rendered {len(frames)} camera frames in {time.monotonic() - started:.0f} s')

    mnist_accuracy = {name: float((predict(model, test_images) == test_labels).mean())
                      for name, model in models.items()}
    pipelines = [('tutorial: fixed threshold, resize, MLP', 'MLP', 'fixed', 'resize')]
    pipelines += [(f'{mode} threshold, MNIST normalization, {name}', name, mode, 'mnist')
                  for name in ('MLP', 'CNN') for mode in THRESHOLD_MODES]
    results = []
    for title, name, mode, normalization in pipelines:
        crops, found = crops_for(frames, mode, normalization)
        predictions = np.where(found, predict(models[name], crops), NO_DIGIT)
        results.append(dict(pipeline=title, model=name, threshold_mode=mode,
                            normalization=normalization,
                            mnist_accuracy=mnist_accuracy[name],
                            camera_accuracy=float((predictions == labels).mean()),
                            no_digit_rate=float((~found).mean()),
                            crops=crops, predictions=predictions))

    print(f'\n{len(frames)} simulated camera frames, {len(test_images)} MNIST test images '
          f'(fixed threshold {TUTORIAL_THRESHOLD}, roi_size 200)\n')
    print('| pipeline | MNIST test | camera frames | no digit found |')
    print('|---|---|---|---|')
    for r in results:
        print(f'| {r["pipeline"]} | {100 * r["mnist_accuracy"]:.2f}% | '
              f'{100 * r["camera_accuracy"]:.2f}% | {100 * r["no_digit_rate"]:.2f}% |')

    best = max((r for r in results if r['model'] == 'CNN'), key=lambda r: r['camera_accuracy'])
    matrix = confusion_matrix(labels, best['predictions'])
    print(f'\nconfusion matrix, camera frames, {best["pipeline"]}:\n')
    print(format_confusion(matrix))
    figure_path = output / 'confusion.png'
    save_figure(figure_path, matrix, frames, best['crops'], labels, best['predictions'],
                f'{best["pipeline"]}: {100 * best["camera_accuracy"]:.2f}%')
    summary = [{k: v for k, v in r.items() if k not in ('crops', 'predictions')}
               for r in results]
    (output / 'evaluation.json').write_text(json.dumps(
        dict(camera_frames=len(frames), seed=options.seed, results=summary,
             confusion=matrix.tolist()), indent=2))
    print(f'\nsaved {figure_path} and {output / "evaluation.json"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
