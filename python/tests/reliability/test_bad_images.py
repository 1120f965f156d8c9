"""Images are untrusted input: ``load_image`` either returns a correct RGB uint8 array or raises an
``ImageError`` (``ImageNotFoundError`` for a missing path) whose message names the file and the
problem. Odd-but-valid images are checked pixel by pixel against what images.py documents
(transparency composited on white, 16-bit scaled by 1/257, EXIF orientation applied)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from swiftnst.images import MAX_IMAGE_PIXELS, ImageError, ImageNotFoundError, load_image

from .conftest import handmade_png


def _expect_image_error(path: Path, pattern: str, kind: type = ImageError) -> None:
    with pytest.raises(kind) as info:
        load_image(path)
    message = str(info.value)
    assert str(path) in message, f"message does not name the file: {message}"
    assert re.search(pattern, message), f"{message!r} does not match {pattern!r}"


def _colours(rng_seed: int = 0, height: int = 5, width: int = 7) -> np.ndarray:
    return np.random.default_rng(rng_seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


# MARK: - Files that are not (complete) images


def test_missing_path(tmp_path):
    path = tmp_path / "absent.jpg"
    _expect_image_error(path, r"not found", ImageNotFoundError)
    with pytest.raises(FileNotFoundError):  # callers catching the builtin also catch it
        load_image(path)


def test_directory(tmp_path):
    _expect_image_error(tmp_path, r"is a directory")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.png"
    path.touch()
    _expect_image_error(path, r"empty \(0 bytes\)")


@pytest.mark.parametrize("fmt, suffix", [("JPEG", ".jpg"), ("PNG", ".png")])
@pytest.mark.parametrize("keep", [0.6, 0.95])
def test_truncated_file(tmp_path, fmt, suffix, keep):
    whole = tmp_path / f"whole{suffix}"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(whole, fmt)
    data = whole.read_bytes()
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[:int(len(data) * keep)])
    _expect_image_error(path, r"cannot load image .*(truncated|broken|corrupt|error)")


@pytest.mark.parametrize("content", [b"hello, this is text\n", b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
                                     b"\xff\xd8\xff" + b"\0" * 40])
def test_not_an_image(tmp_path, content):
    path = tmp_path / "fake.jpg"
    path.write_bytes(content)
    _expect_image_error(path, r"cannot load image")


# MARK: - Decompression bombs: refused from the header, before any pixel is allocated


@pytest.mark.parametrize("width, height", [(9000, 9000), (40000, 40000), (MAX_IMAGE_PIXELS + 1, 1)])
def test_beyond_the_pixel_limit_is_refused_before_decoding(tmp_path, width, height):
    path = tmp_path / "bomb.png"
    path.write_bytes(handmade_png(width, height, b"\0" * 64))  # a 200-byte file claiming up to 4.8 GB of pixels
    start = time.perf_counter()
    _expect_image_error(path, r"exceeds the limit|decompression bomb")
    assert time.perf_counter() - start < 1.0


def test_pixel_limit_is_configurable(tmp_path):
    path = tmp_path / "small.png"
    Image.fromarray(_colours(height=10, width=10)).save(path)
    with pytest.raises(ImageError, match=r"10x10 = 100 pixels exceeds the limit of 99"):
        load_image(path, max_pixels=99)
    assert load_image(path, max_pixels=100).shape == (10, 10, 3)


# MARK: - Unusual but valid images


def test_grey_l(tmp_path):
    grey = np.arange(35, dtype=np.uint8).reshape(5, 7) * 7
    path = tmp_path / "grey.png"
    Image.fromarray(grey, "L").save(path)
    np.testing.assert_array_equal(load_image(path), np.repeat(grey[..., None], 3, axis=2))


def test_grey_with_alpha_la_is_composited_on_white(tmp_path):
    la = np.stack([np.full((2, 3), 100, np.uint8), np.array([[0, 255, 128]] * 2, np.uint8)], axis=2)
    path = tmp_path / "la.png"
    Image.fromarray(la, "LA").save(path)
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded[:, 0], 255)          # fully transparent -> white
    np.testing.assert_array_equal(loaded[:, 1], 100)          # opaque -> the grey value
    np.testing.assert_allclose(loaded[:, 2], 100 * 128 / 255 + 255 * 127 / 255, atol=1)


def test_palette_p(tmp_path):
    rgb = _colours()
    path = tmp_path / "palette.png"
    Image.fromarray(rgb).quantize(16).save(path)
    expected = np.asarray(Image.open(path).convert("RGB"))
    np.testing.assert_array_equal(load_image(path), expected)


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, :, :3] = [10, 200, 30]
    rgba[0, :, 3] = [0, 255, 51]  # transparent, opaque, 20 %
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba, "RGBA").save(path)
    loaded = load_image(path).astype(int)
    assert loaded[0, 0].tolist() == [255, 255, 255]
    assert loaded[0, 1].tolist() == [10, 200, 30]
    expected = np.array([10, 200, 30]) * 0.2 + 255 * 0.8
    assert np.abs(loaded[0, 2] - expected).max() <= 1


def test_cmyk_jpeg(tmp_path):
    cmyk = np.zeros((16, 16, 4), np.uint8)
    cmyk[:8] = [255, 0, 0, 0]     # cyan
    cmyk[8:] = [0, 0, 0, 0]       # white
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(cmyk, "CMYK").save(path, quality=100)
    loaded = load_image(path).astype(int)
    assert loaded.shape == (16, 16, 3)
    assert np.abs(loaded[2, 2] - [0, 255, 255]).max() <= 8
    assert np.abs(loaded[13, 13] - [255, 255, 255]).max() <= 8


def test_sixteen_bit_grey_png(tmp_path):
    values = np.array([[0, 257 * 100, 65535]], np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(values).save(path)
    np.testing.assert_array_equal(load_image(path)[0], [[0, 0, 0], [100, 100, 100], [255, 255, 255]])


def test_sixteen_bit_rgb_png(tmp_path):
    pixels = np.array([[[65535, 0, 257 * 100], [257 * 7, 257 * 8, 257 * 9]]], np.uint16)
    path = tmp_path / "rgb48.png"
    path.write_bytes(handmade_png(2, 1, b"\0" + pixels[0].astype(">u2").tobytes(), bit_depth=16))
    np.testing.assert_array_equal(load_image(path)[0], [[255, 0, 100], [7, 8, 9]])


@pytest.mark.parametrize("height, width", [(1, 1), (1, 500), (500, 1), (2, 3)])
def test_tiny_and_very_thin_images(tmp_path, height, width):
    rgb = _colours(height=height, width=width)
    path = tmp_path / "thin.png"
    Image.fromarray(rgb).save(path)
    np.testing.assert_array_equal(load_image(path), rgb)


@pytest.mark.parametrize("orientation, turn", [(3, 2), (6, -1), (8, 1)])
def test_exif_orientation_is_applied(tmp_path, orientation, turn):
    stored = np.zeros((16, 32, 3), np.uint8)
    stored[:8, :8] = [255, 0, 0]  # a red block in the stored top-left corner
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(stored).save(path, quality=100, subsampling=0, exif=exif)
    loaded = load_image(path)
    expected = np.rot90(stored, k=turn)  # orientation 6 = stored rotated 90 degrees clockwise
    assert loaded.shape == expected.shape
    # compare 8x8 block means: JPEG rings at the block's edges, the blocks' colours are what matter
    blocks = [(a.reshape(a.shape[0] // 8, 8, a.shape[1] // 8, 8, 3).mean(axis=(1, 3))) for a in (loaded, expected)]
    assert np.abs(blocks[0] - blocks[1]).max() <= 8


# MARK: - Arrays


def test_bad_arrays_are_refused():
    for array, pattern in [(np.zeros((4, 4, 2), np.uint8), r"shape"), (np.zeros((0, 4, 3), np.uint8), r"shape"),
                           (np.zeros((4, 4, 3), np.int64), r"dtype"),
                           (np.full((4, 4, 3), np.nan, np.float32), r"NaN or Inf")]:
        with pytest.raises(ImageError, match=pattern):
            load_image(array)
    with pytest.raises(TypeError, match="expected a path, PIL image or NumPy array"):
        load_image(42)


# MARK: - Through the whole pipeline


@pytest.mark.parametrize("height, width", [(1, 500), (500, 1), (1, 1)])
def test_tiny_and_thin_images_through_stylize(swiftnst_engine, vgg16_random_path, tmp_path, height, width):
    content = tmp_path / "thin.png"
    Image.fromarray(_colours(height=height, width=width)).save(content)
    style = tmp_path / "style.png"
    Image.fromarray(_colours(height=32, width=32)).save(style)

    def run():
        return swiftnst_engine.stylize(content, style, model=str(vgg16_random_path), image_size=64, iterations=1,
                                       progress=False)

    # A single pixel is scaled up to 64 x 64 like any other image; a thin one keeps its aspect ratio,
    # so one side stays a pixel wide, which works because every scale is optimised padded to a
    # multiple of 16 (enough for relu5_1) and cropped back.
    expected = (64, 64) if height == width else (1, 64) if height == 1 else (64, 1)
    assert run().shape == (*expected, 3)
