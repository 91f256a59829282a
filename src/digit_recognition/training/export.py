"""A trained Keras model saved for inference: name.keras, and the .tflite files for the
classifier's tflite backend, float or fully quantized. What train and calibrate both save.

TensorFlow is imported lazily, when a model is converted.
"""

import contextlib
import io
from pathlib import Path
from typing import Optional, Union
import warnings

import numpy as np

from digit_recognition.core.model import check_crops, import_tensorflow, quantized_twin

# Training digits (originals and augmented copies alike) that calibrate the activations'
# ranges of a quantized model: a few hundred suffice (TF's guide suggests 100-500).
REPRESENTATIVE_DIGITS = 500


def representative_digits(images, seed, count=REPRESENTATIVE_DIGITS):
    """`count` training digits drawn at random (seeded) to calibrate a quantized model."""
    rng = np.random.default_rng(seed)
    return images[np.sort(rng.choice(len(images), min(count, len(images)), replace=False))]


def save_for_inference(model, path, representative_images=None):
    """Save name.keras without the optimizer's state (which would triple the file), and
    name.tflite beside it for the classifier's tflite backend; with representative_images,
    also the fully integer-quantized name_int8.tflite."""
    # Rebuilt from its config, the copy is not compiled (clone_model() would compile it).
    inference = type(model).from_config(model.get_config())
    inference.set_weights(model.get_weights())
    inference.save(path)
    # The converter prints the traced signature (and warns about calibration); the user
    # only needs the files.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        save_tflite(inference, Path(path).with_suffix('.tflite'))
        if representative_images is not None:
            save_tflite(inference, quantized_twin(path), representative_images)


def save_tflite(model, path: Union[str, Path],
                representative_images: Optional[np.ndarray] = None) -> Path:
    """Convert a Keras model to a .tflite file for the tflite backend.

    With representative_images (uint8 [N, 28, 28], a few hundred training digits that set the
    activations' ranges) the file is fully integer-quantized: uint8 in, uint8 out, int8 weights
    and arithmetic, as edge accelerators want it; the tflite backend quantizes the crops and
    dequantizes the probabilities with the scales stored in the file.
    """
    tf = import_tensorflow()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if representative_images is not None:
        images = np.asarray(check_crops(representative_images, tuple(model.input_shape[1:])),
                            np.float32)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([image[None]] for image in images)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    Path(path).write_bytes(converter.convert())
    return Path(path)
