import cv2
import numpy as np
import pytest

from digit_recognition.image_encodings import MAX_PIXELS, to_bgr8, to_mono8

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
