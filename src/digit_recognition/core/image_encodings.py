"""Raw sensor_msgs/Image fields -> a numpy image the pipeline can use. numpy/OpenCV only.

cv_bridge converts the common encodings but fails on others with assorted exception types,
and trusts `step` and the data length. Here every check is explicit and every failure is a
ValueError that says what was wrong, so a node can drop the frame with one clear warning.
"""

from typing import Tuple

import numpy as np

# Beyond any camera this package is for; refuse rather than run out (sizes.py).
from digit_recognition.core.sizes import MAX_PIXELS


def _cv2():
    """OpenCV, imported on first use: the classifier reads mono8 crops without it, and an
    import of OpenCV is a quarter of that node's resident memory."""
    import cv2  # noqa: PLC0415
    return cv2


# encoding -> (channels, numpy dtype, name of the cv2 conversion to BGR or None for already
# BGR/mono)
_ENCODINGS = {
    'bgr8': (3, np.uint8, None),
    'rgb8': (3, np.uint8, 'COLOR_RGB2BGR'),
    'bgra8': (4, np.uint8, 'COLOR_BGRA2BGR'),
    'rgba8': (4, np.uint8, 'COLOR_RGBA2BGR'),
    'mono8': (1, np.uint8, None),
    '8UC1': (1, np.uint8, None),
    '8UC3': (3, np.uint8, None),
    'mono16': (1, np.uint16, None),
    '16UC1': (1, np.uint16, None),
    'bgr16': (3, np.uint16, None),
    'rgb16': (3, np.uint16, 'COLOR_RGB2BGR'),
    # 4:2:2 packed, two bytes per pixel: UYVY is ROS's yuv422, YUYV its yuv422_yuy2.
    'yuv422': (2, np.uint8, 'COLOR_YUV2BGR_UYVY'),
    'uyvy': (2, np.uint8, 'COLOR_YUV2BGR_UYVY'),
    'yuv422_yuy2': (2, np.uint8, 'COLOR_YUV2BGR_YUYV'),
    'yuyv': (2, np.uint8, 'COLOR_YUV2BGR_YUYV'),
}
SUPPORTED_ENCODINGS = tuple(_ENCODINGS)


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
    conversion = _ENCODINGS[encoding][2]
    if pixels.shape[2] != 1 and conversion is None:
        return pixels
    cv2 = _cv2()
    if pixels.shape[2] == 1:
        return cv2.cvtColor(pixels[:, :, 0], cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(pixels, getattr(cv2, conversion))


def to_bgr8(encoding: str, height: int, width: int, step: int, data,
            is_bigendian: bool = False) -> np.ndarray:
    """A bgr8 [H, W, 3] image from the fields of a sensor_msgs/Image.

    Raises ValueError for an unsupported encoding, a zero or huge size, a step too small
    for the width, or data shorter than step x height.
    """
    return _as_bgr8(_pixels(encoding, height, width, step, data, is_bigendian), encoding)


def to_mono8(encoding: str, height: int, width: int, step: int, data,
             is_bigendian: bool = False) -> np.ndarray:
    """A mono8 [H, W] image from the fields of a sensor_msgs/Image (checked as to_bgr8)."""
    pixels = _pixels(encoding, height, width, step, data, is_bigendian)
    if pixels.shape[2] == 1:  # the common case for crops: no round trip through colour
        return pixels[:, :, 0]
    cv2 = _cv2()
    return cv2.cvtColor(_as_bgr8(pixels, encoding), cv2.COLOR_BGR2GRAY)


# sensor_msgs/CompressedImage, as image_transport's compressed plugin writes it: `format` is
# "<encoding>; <codec> compressed <channel order>" ("bgr8; jpeg compressed bgr8",
# "rgb8; jpeg compressed bgr8", "mono8; png compressed ") or, from older plugins and other
# tools, just "jpeg" or "png". Only JPEG and PNG are read: OpenCV would decode a dozen other
# formats (TIFF, OpenEXR, ...) that nobody sends here, each one more parser exposed.
COMPRESSED_FORMATS = ('jpeg', 'png')
JPEG_FORMAT = 'bgr8; jpeg compressed bgr8'  # what the camera writes, as image_transport does
_CODEC_NAMES = {'jpeg': 'jpeg', 'jpg': 'jpeg', 'png': 'png'}
_SIGNATURES = {'jpeg': b'\xff\xd8\xff', 'png': b'\x89PNG\r\n\x1a\n'}
_PNG_END = b'\x00\x00\x00\x00IEND\xaeB`\x82'  # the IEND chunk every whole PNG ends with
# JPEG start-of-frame markers (they carry the size): C0-CF except DHT, JPG and DAC.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_NO_LENGTH = frozenset([0x01, *range(0xD0, 0xD8)])  # TEM, RSTn: markers without a length


def parse_compressed_format(format_: str) -> Tuple[str, bool]:
    """(codec, rgb): `jpeg` or `png`, and whether the data's channels are in RGB order.

    The channel order is the one named after "compressed" ("compressed bgr8": as OpenCV
    decodes; "compressed rgb8": red first), else the encoding's ("rgb8; png compressed ");
    a bare "jpeg" or "png" is an ordinary file, in OpenCV's order. image_transport's own
    subscriber decides the same way. Raises ValueError for anything but JPEG or PNG.
    """
    text = format_.strip().lower()
    if 'compresseddepth' in text:
        raise ValueError(f'compressed format {format_!r} is a compressedDepth image (depth '
                         f'in PNG behind a header of its own): not supported')
    encoding, _, rest = text.partition(';') if ';' in text else ('', '', text)
    words = rest.split()
    codec = _CODEC_NAMES.get(words[0] if words else '')
    if codec is None:
        raise ValueError(f'unsupported compressed format {format_!r} (supported: '
                         f'{", ".join(COMPRESSED_FORMATS)}, as "jpeg" or '
                         f'"bgr8; jpeg compressed bgr8")')
    named = words[words.index('compressed') + 1:] if 'compressed' in words else []
    order = named[0] if named else encoding.strip()
    return codec, order.startswith('rgb')


def compressed_size(codec: str, data) -> Tuple[int, int]:
    """(width, height) read from a JPEG's or PNG's header, without decoding it.

    Raises ValueError if the data is not a whole image of that codec (another signature, a
    header cut short, a JPEG without end marker, a PNG without IEND chunk).
    """
    data = memoryview(data).cast('B')
    name = codec.upper()
    if len(data) == 0:
        raise ValueError(f'empty {name} data')
    if bytes(data[:len(_SIGNATURES[codec])]) != _SIGNATURES[codec]:
        for other, signature in _SIGNATURES.items():
            if bytes(data[:len(signature)]) == signature:
                raise ValueError(f'format says {codec} but the data is {other.upper()}')
        raise ValueError(f'not {name} data (starts with {bytes(data[:8]).hex(" ")})')
    if codec == 'png':
        # The IHDR chunk comes first: length 13, "IHDR", width, height (big-endian).
        if len(data) < 33 or bytes(data[12:16]) != b'IHDR':
            raise ValueError(f'truncated or corrupt PNG: no IHDR chunk in {len(data)} bytes')
        if bytes(data[-12:]) != _PNG_END:
            raise ValueError(f'truncated PNG: {len(data)} bytes without the IEND chunk')
        return (int.from_bytes(data[16:20], 'big'), int.from_bytes(data[20:24], 'big'))
    if not bytes(data[-64:]).rstrip(b'\x00').endswith(b'\xff\xd9'):
        raise ValueError(f'truncated JPEG: {len(data)} bytes without its end marker')
    return _jpeg_size(data)


def _jpeg_size(data):
    """(width, height) from the first start-of-frame segment, walking the header segments."""
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise ValueError(f'corrupt JPEG: no segment marker at byte {at}')
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _JPEG_NO_LENGTH:
            at += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no size came before
            raise ValueError('corrupt JPEG: no frame header (SOF) before its image data')
        length = (data[at + 2] << 8) | data[at + 3]
        if length < 2:
            raise ValueError(f'corrupt JPEG: segment of length {length} at byte {at}')
        if marker in _JPEG_SOF:
            if at + 9 > len(data) or length < 7:
                break
            height = (data[at + 5] << 8) | data[at + 6]
            width = (data[at + 7] << 8) | data[at + 8]
            return width, height
        at += 2 + length
    raise ValueError(f'truncated or corrupt JPEG: no frame header (SOF) in {len(data)} bytes')


def decode_compressed(format_: str, data, grey: bool = False) -> np.ndarray:
    """A bgr8 [H, W, 3] image from the fields of a sensor_msgs/CompressedImage.

    With `grey`, a mono8 [H, W] image instead, the same as converting the bgr8 one: a JPEG's
    brightness is decoded without its colour, which halves the decoding time.

    `data` is bytes-like (bytes, array.array('B') as rclpy gives it). Grey images become
    three equal channels; 16-bit PNGs keep their top 8 bits; data in RGB order (format
    "...compressed rgb8") is swapped to BGR. Raises ValueError for a format other than
    JPEG or PNG, data that is not a whole image of that format, a size that is zero or over
    MAX_PIXELS (read from the header, before any pixel is decoded), or data OpenCV cannot
    decode.
    """
    codec, rgb = parse_compressed_format(format_)
    width, height = compressed_size(codec, data)
    if width <= 0 or height <= 0:
        raise ValueError(f'empty {width}x{height} {codec.upper()} image')
    if width * height > MAX_PIXELS:
        raise ValueError(f'{width}x{height} {codec.upper()} image is larger than {MAX_PIXELS} '
                         f'pixels')
    # Data in RGB order was encoded as if it were BGR: its stored brightness weighs red and
    # blue the wrong way round, so it is decoded in colour and converted here.
    direct_grey = grey and not rgb
    cv2 = _cv2()
    # 8-bit, pixels as stored (no EXIF rotation)
    flags = (cv2.IMREAD_GRAYSCALE if direct_grey else cv2.IMREAD_COLOR) | (
        cv2.IMREAD_IGNORE_ORIENTATION)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:
        raise ValueError(f'corrupt {codec.upper()}: {" ".join(str(exc).split())}') from None
    if image is None or image.size == 0:
        raise ValueError(f'corrupt {codec.upper()}: {len(data)} bytes OpenCV cannot decode')
    if image.shape[:2] != (height, width):  # a second frame header, or a lying one
        raise ValueError(f'corrupt {codec.upper()}: header says {width}x{height}, data '
                         f'decodes to {image.shape[1]}x{image.shape[0]}')
    if direct_grey:
        return image
    if rgb:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if grey else image


def encode_jpeg(image_bgr8: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of a bgr8 [H, W, 3] (or mono8 [H, W]) image, quality 1-100, for a
    CompressedImage with format JPEG_FORMAT (for bgr8). Raises ValueError if it cannot."""
    if not 1 <= quality <= 100:
        raise ValueError(f'JPEG quality must be 1-100, got {quality}')
    cv2 = _cv2()
    ok, encoded = cv2.imencode('.jpg', image_bgr8, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f'OpenCV could not encode a {image_bgr8.shape} image as JPEG')
    return encoded.tobytes()


def image_from_msg(msg, encoding: str) -> np.ndarray:
    """A sensor_msgs/Image as a numpy image, `bgr8` or `mono8`; ValueError if it cannot be.

    image_encodings checks size, step and data length before touching the data (cv_bridge
    trusts them, and reports other failures with assorted exception types).
    """
    convert = {'bgr8': to_bgr8, 'mono8': to_mono8}[encoding]
    return convert(msg.encoding, msg.height, msg.width, msg.step, msg.data,
                   bool(msg.is_bigendian))


def image_from_compressed_msg(msg, grey: bool = False) -> np.ndarray:
    """A sensor_msgs/CompressedImage (JPEG or PNG) as a bgr8 image (mono8 with `grey`);
    ValueError if it cannot be."""
    return decode_compressed(msg.format, msg.data, grey)


# The encoding of a crop with its context (core/patches.py): channel 0 the crop, 1-2 the
# context. The preprocess node publishes `digit_crop` so; a mono8 crop is the crop alone.
CROP_WITH_CONTEXT_ENCODING = '8UC3'


def crop_from_msg(msg) -> np.ndarray:
    """A `digit_crop` message's pixels: uint8 [H, W, 3] for CROP_WITH_CONTEXT_ENCODING (the
    crop and its context), else the crop alone as mono8 [H, W] (any encoding image_from_msg
    reads); ValueError if it cannot be."""
    if msg.encoding == CROP_WITH_CONTEXT_ENCODING:
        return _pixels(msg.encoding, msg.height, msg.width, msg.step, msg.data,
                       bool(msg.is_bigendian))
    return image_from_msg(msg, 'mono8')
