"""Raw sensor_msgs/Image fields -> a numpy image the pipeline can use. numpy/OpenCV only.

cv_bridge converts the common encodings but fails on others with assorted exception types,
and trusts `step` and the data length. Here every check is explicit and every failure is a
ValueError that says what was wrong, so a node can drop the frame with one clear warning.
"""

import cv2
import numpy as np

# encoding -> (channels, numpy dtype, cv2 conversion to BGR or None for already BGR/mono)
_ENCODINGS = {
    'bgr8': (3, np.uint8, None),
    'rgb8': (3, np.uint8, cv2.COLOR_RGB2BGR),
    'bgra8': (4, np.uint8, cv2.COLOR_BGRA2BGR),
    'rgba8': (4, np.uint8, cv2.COLOR_RGBA2BGR),
    'mono8': (1, np.uint8, None),
    '8UC1': (1, np.uint8, None),
    '8UC3': (3, np.uint8, None),
    'mono16': (1, np.uint16, None),
    '16UC1': (1, np.uint16, None),
    'bgr16': (3, np.uint16, None),
    'rgb16': (3, np.uint16, cv2.COLOR_RGB2BGR),
    # 4:2:2 packed, two bytes per pixel: UYVY is ROS's yuv422, YUYV its yuv422_yuy2.
    'yuv422': (2, np.uint8, cv2.COLOR_YUV2BGR_UYVY),
    'uyvy': (2, np.uint8, cv2.COLOR_YUV2BGR_UYVY),
    'yuv422_yuy2': (2, np.uint8, cv2.COLOR_YUV2BGR_YUYV),
    'yuyv': (2, np.uint8, cv2.COLOR_YUV2BGR_YUYV),
}
SUPPORTED_ENCODINGS = tuple(_ENCODINGS)
# Beyond any camera this package is for; refuse rather than run out. The camera shares it:
# it refuses a larger image_width x image_height and scales larger native frames down.
MAX_PIXELS = 4096 * 4096


_PACKED_YUV = ('yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv')


def _pixels(encoding, height, width, step, data, is_bigendian):
    """Check the fields and return the pixels as [H, W, channels] of the encoding's dtype."""
    if encoding not in _ENCODINGS:
        raise ValueError(f'unsupported encoding {encoding!r} (supported: '
                         f'{", ".join(SUPPORTED_ENCODINGS)})')
    if height <= 0 or width <= 0:
        raise ValueError(f'empty {width}x{height} image')
    if height * width > MAX_PIXELS:
        raise ValueError(f'{width}x{height} image is larger than {MAX_PIXELS} pixels')
    channels, dtype, _ = _ENCODINGS[encoding]
    if encoding in _PACKED_YUV and width % 2:
        raise ValueError(f'{encoding} needs an even width, got {width}')
    dtype = np.dtype(dtype).newbyteorder('>' if is_bigendian else '<')
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        raise ValueError(f'step {step} is smaller than a {encoding} row of width {width} '
                         f'({row_bytes} bytes)')
    if len(data) < step * height:
        raise ValueError(f'truncated image: {len(data)} bytes of data, step x height is '
                         f'{step * height}')
    rows = np.frombuffer(data, np.uint8, count=step * height).reshape(height, step)
    pixels = np.ascontiguousarray(rows[:, :row_bytes]).view(dtype)
    pixels = pixels.reshape(height, width, channels)
    if dtype.itemsize == 2:
        # 16-bit: keep the top 8 bits, as an image viewer would show it.
        pixels = (pixels >> 8).astype(np.uint8)
    return pixels


def _as_bgr8(pixels, encoding):
    if pixels.shape[2] == 1:
        return cv2.cvtColor(pixels[:, :, 0], cv2.COLOR_GRAY2BGR)
    conversion = _ENCODINGS[encoding][2]
    return pixels if conversion is None else cv2.cvtColor(pixels, conversion)


def to_bgr8(encoding, height, width, step, data, is_bigendian=False):
    """A bgr8 [H, W, 3] image from the fields of a sensor_msgs/Image.

    Raises ValueError for an unsupported encoding, a zero or huge size, a step too small
    for the width, or data shorter than step x height.
    """
    return _as_bgr8(_pixels(encoding, height, width, step, data, is_bigendian), encoding)


def to_mono8(encoding, height, width, step, data, is_bigendian=False):
    """A mono8 [H, W] image from the fields of a sensor_msgs/Image (checked as to_bgr8)."""
    pixels = _pixels(encoding, height, width, step, data, is_bigendian)
    if pixels.shape[2] == 1:  # the common case for crops: no round trip through colour
        return pixels[:, :, 0]
    return cv2.cvtColor(_as_bgr8(pixels, encoding), cv2.COLOR_BGR2GRAY)
