import array
import subprocess
import sys

import cv2
import numpy as np
import pytest

from digit_recognition.core.image_encodings import (
    compressed_size, decode_compressed, encode_jpeg, JPEG_FORMAT, MAX_PIXELS,
    parse_compressed_format, to_bgr8, to_mono8)

BGR = np.zeros((4, 6, 3), np.uint8)
BGR[:, :, 0], BGR[:, :, 1], BGR[:, :, 2] = 10, 120, 240  # blue, green, red


def fields(image, encoding, step=None):
    image = np.ascontiguousarray(image)
    row = image.shape[1] * (image.shape[2] if image.ndim == 3 else 1) * image.itemsize
    step = row if step is None else step
    padded = np.zeros((image.shape[0], step), np.uint8)
    padded[:, :row] = image.reshape(image.shape[0], -1).view(np.uint8)
    return dict(encoding=encoding, height=image.shape[0], width=image.shape[1], step=step,
                data=padded.tobytes())


@pytest.mark.parametrize('encoding, image', [
    ('bgr8', BGR),
    ('rgb8', BGR[:, :, ::-1]),
    ('bgra8', cv2.cvtColor(BGR, cv2.COLOR_BGR2BGRA)),
    ('rgba8', cv2.cvtColor(BGR, cv2.COLOR_BGR2RGBA)),
    ('bgr16', BGR.astype(np.uint16) << 8),
    ('rgb16', BGR[:, :, ::-1].astype(np.uint16) << 8),
])
def test_colour_encodings_become_the_same_bgr8(encoding, image):
    np.testing.assert_array_equal(to_bgr8(**fields(image, encoding)), BGR)


@pytest.mark.parametrize('encoding, image', [
    ('mono8', np.full((4, 6), 77, np.uint8)),
    ('mono16', np.full((4, 6), 77 << 8, np.uint16)),
    ('16UC1', np.full((4, 6), (77 << 8) + 200, np.uint16)),
])
def test_mono_encodings(encoding, image):
    assert to_mono8(**fields(image, encoding)).tolist() == [[77] * 6] * 4
    assert to_bgr8(**fields(image, encoding)).shape == (4, 6, 3)


def test_big_endian_mono16():
    image = np.full((2, 2), 77 << 8, np.dtype('>u2'))
    assert to_mono8(**fields(image, 'mono16'), is_bigendian=True).tolist() == [[77, 77]] * 2


@pytest.mark.parametrize('encoding, conversion', [
    ('yuv422', cv2.COLOR_YUV2BGR_UYVY), ('yuv422_yuy2', cv2.COLOR_YUV2BGR_YUYV)])
def test_packed_yuv422(encoding, conversion):
    packed = np.random.default_rng(0).integers(0, 256, (4, 6, 2), dtype=np.uint8)
    np.testing.assert_array_equal(to_bgr8(**fields(packed, encoding)),
                                  cv2.cvtColor(packed, conversion))


def test_row_padding_is_skipped():
    np.testing.assert_array_equal(to_bgr8(**fields(BGR, 'bgr8', step=32)), BGR)


@pytest.mark.parametrize('change, message', [
    (dict(encoding='32FC7'), 'unsupported encoding'),
    (dict(height=0, width=0, data=b''), 'empty'),
    (dict(step=10), 'step 10 is smaller'),
    (dict(data=bytes(50)), 'truncated image: 50 bytes'),
    (dict(height=MAX_PIXELS, width=2), 'larger than'),
])
def test_bad_images_raise_value_error(change, message):
    with pytest.raises(ValueError, match=message):
        to_bgr8(**{**fields(BGR, 'bgr8'), **change})


def test_odd_width_yuv_is_refused():
    with pytest.raises(ValueError, match='even width'):
        to_bgr8('yuv422', 2, 3, 6, bytes(12))


# --- sensor_msgs/CompressedImage ---------------------------------------------------------------

FRAME = np.zeros((48, 64, 3), np.uint8)
FRAME[:, :32] = (10, 120, 240)  # left half orange (BGR), right half black
JPEG = cv2.imencode('.jpg', FRAME, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
PNG = cv2.imencode('.png', FRAME)[1].tobytes()


def assert_like_frame(image, tolerance=12):
    """Orange left, black right, away from the edge JPEG blurs (and in BGR order)."""
    assert np.abs(image[:, :24].astype(int) - (10, 120, 240)).max() <= tolerance
    assert image[:, 40:].max() <= tolerance


@pytest.mark.parametrize('format_, expected', [
    ('bgr8; jpeg compressed bgr8', ('jpeg', False)),   # image_transport, a bgr8 camera
    ('rgb8; jpeg compressed bgr8', ('jpeg', False)),   # an rgb8 camera: still stored as BGR
    ('rgb8; png compressed rgb8', ('png', True)),
    ('rgb8; png compressed ', ('png', True)),          # older plugins: the encoding's order
    ('mono8; png compressed ', ('png', False)),
    ('jpeg', ('jpeg', False)),                          # a plain file's format
    ('JPG', ('jpeg', False)),
    (' png ', ('png', False)),
])
def test_compressed_formats_as_image_transport_writes_them(format_, expected):
    assert parse_compressed_format(format_) == expected


@pytest.mark.parametrize('format_, message', [
    ('16UC1; compressedDepth png', 'compressedDepth'),
    ('tiff', 'unsupported compressed format'),
    ('', 'unsupported compressed format'),
    ('bgr8; theora compressed bgr8', 'unsupported'),
])
def test_other_compressed_formats_are_refused_by_name(format_, message):
    with pytest.raises(ValueError, match=message):
        parse_compressed_format(format_)


@pytest.mark.parametrize('format_, data', [
    ('bgr8; jpeg compressed bgr8', JPEG), ('jpeg', JPEG),
    ('bgr8; png compressed bgr8', PNG), ('png', PNG)])
def test_jpeg_and_png_decode_to_the_frame_as_bgr8(format_, data):
    image = decode_compressed(format_, array.array('B', data))  # as rclpy gives msg.data
    assert image.shape == FRAME.shape and image.dtype == np.uint8
    assert_like_frame(image)


def test_rgb_ordered_data_is_swapped_to_bgr():
    rgb_png = cv2.imencode('.png', FRAME[:, :, ::-1])[1].tobytes()
    np.testing.assert_array_equal(decode_compressed('rgb8; png compressed rgb8', rgb_png), FRAME)


def test_grey_and_16_bit_pngs_become_bgr8():
    grey = cv2.imencode('.png', np.full((8, 8), 77, np.uint8))[1].tobytes()
    deep = cv2.imencode('.png', np.full((8, 8), 77 << 8, np.uint16))[1].tobytes()
    for data in (grey, deep):
        image = decode_compressed('png', data)
        assert image.shape == (8, 8, 3) and (image == 77).all()


def test_sizes_are_read_from_the_headers():
    assert compressed_size('jpeg', JPEG) == (64, 48)
    assert compressed_size('png', PNG) == (64, 48)


def oversized_png():
    """A PNG whose header claims 8192x8192: the size is refused before any pixel is decoded."""
    data = bytearray(PNG)
    data[16:24] = (8192).to_bytes(4, 'big') * 2
    return bytes(data)


@pytest.mark.parametrize('format_, data, message', [
    ('jpeg', b'', 'empty JPEG'),
    ('jpeg', JPEG[:len(JPEG) // 2], 'truncated JPEG'),
    ('png', PNG[:len(PNG) // 2], 'truncated PNG'),
    ('png', PNG[:20], 'truncated or corrupt PNG'),
    ('jpeg', PNG, 'format says jpeg but the data is PNG'),
    ('png', b'GIF89a' + bytes(40), 'not PNG data'),
    ('jpeg', JPEG[:2] + bytes(200) + b'\xff\xd9', 'not JPEG data'),
    ('jpeg', JPEG[:3] + b'\xe0\x00\x01' + bytes(200) + b'\xff\xd9', 'corrupt JPEG'),
    ('png', oversized_png(), 'larger than'),
])
def test_corrupt_or_absurd_compressed_data_raises_value_error(format_, data, message):
    with pytest.raises(ValueError, match=message):
        decode_compressed(format_, data)


def test_random_bytes_behind_valid_headers_never_raise_anything_but_value_error():
    rng = np.random.default_rng(0)
    for data in (JPEG, PNG):
        for _ in range(200):
            corrupt = bytearray(data)
            at = rng.integers(0, len(corrupt), 8)
            corrupt[at[0]:at[0] + 16] = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
            corrupt[at[1]] ^= 0xFF
            try:
                image = decode_compressed('jpeg' if data is JPEG else 'png', bytes(corrupt))
            except ValueError:
                continue
            assert image.dtype == np.uint8 and image.shape[2] == 3


def test_jpeg_encoding_round_trips_and_refuses_a_bad_quality():
    data = encode_jpeg(FRAME, 90)
    assert compressed_size('jpeg', data) == (64, 48)
    assert_like_frame(decode_compressed(JPEG_FORMAT, data))
    assert len(encode_jpeg(FRAME, 10)) < len(data)
    with pytest.raises(ValueError, match='1-100'):
        encode_jpeg(FRAME, 0)


@pytest.mark.parametrize('format_, data', [
    ('jpeg', JPEG), ('png', PNG),
    ('rgb8; png compressed rgb8', cv2.imencode('.png', FRAME[:, :, ::-1])[1].tobytes())])
def test_grey_decoding_gives_the_brightness_of_the_colour_image(format_, data):
    grey = decode_compressed(format_, data, grey=True)
    colour = cv2.cvtColor(decode_compressed(format_, data), cv2.COLOR_BGR2GRAY)
    assert grey.shape == (48, 64) and grey.dtype == np.uint8
    difference = np.abs(grey.astype(int) - colour)
    assert difference.mean() < 1 and difference.max() <= 8  # JPEG's colour edge, upsampled


def test_the_classifier_reads_mono8_crops_without_importing_opencv():
    # OpenCV's import is ~30 MB of the tflite classifier's resident memory; a crop is mono8.
    script = ('import sys; import numpy as np\n'
              'import digit_recognition.nodes.classifier_node\n'
              'from digit_recognition.core.image_encodings import to_mono8\n'
              'crop = to_mono8("mono8", 28, 28, 28, bytes(range(28)) * 28)\n'
              'assert crop.shape == (28, 28) and crop[0, 27] == 27\n'
              'print(sorted({m.split(".")[0] for m in sys.modules} & {"cv2", "cv_bridge", '
              '"tensorflow", "keras"}))\n')
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[]'
