"""Keras model -> .tflite file for the classifier's tflite backend, float or fully quantized.

TensorFlow is imported lazily, when a model is converted.
"""

from pathlib import Path
from typing import Optional, Union

import numpy as np

from digit_recognition.core.model import check_crops, import_tensorflow


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
        images = np.asarray(check_crops(representative_images), np.float32)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([image[None]] for image in images)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    Path(path).write_bytes(converter.convert())
    return Path(path)
