"""Image loading (every odd format), atomic saving, resizing, grids and colour conversion."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from swiftnst import images
from swiftnst.images import ImageError, ImageNotFoundError, load_image, save_image

RNG = np.random.default_rng(1234)


def _rgb(height: int = 6, width: int = 8) -> np.ndarray:
    return RNG.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def _save_pil(tmp_path: Path, im: Image.Image, name: str, **kwargs) -> Path:
    path = tmp_path / name
    im.save(path, **kwargs)
    return path


# MARK: - Loading: modes


def test_rgb_png_round_trips_exactly(tmp_path):
    pixels = _rgb()
    loaded = load_image(_save_pil(tmp_path, Image.fromarray(pixels), "a.png"))
    assert loaded.dtype == np.uint8 and loaded.shape == (6, 8, 3)
    np.testing.assert_array_equal(loaded, pixels)


def test_grey_image_becomes_three_equal_channels(tmp_path):
    grey = RNG.integers(0, 256, size=(5, 7), dtype=np.uint8)
    loaded = load_image(_save_pil(tmp_path, Image.fromarray(grey, "L"), "g.png"))
    assert loaded.shape == (5, 7, 3)
    for c in range(3):
        np.testing.assert_array_equal(loaded[..., c], grey)


def test_grey_with_alpha_is_composited_on_white(tmp_path):
    la = Image.new("LA", (2, 1))
    la.putpixel((0, 0), (0, 0))      # fully transparent black -> white
    la.putpixel((1, 0), (0, 255))    # opaque black stays black
    loaded = load_image(_save_pil(tmp_path, la, "la.png"))
    np.testing.assert_array_equal(loaded[0, 0], [255, 255, 255])
    np.testing.assert_array_equal(loaded[0, 1], [0, 0, 0])


def test_rgba_half_transparent_blends_with_white(tmp_path):
    rgba = Image.new("RGBA", (1, 1), (255, 0, 0, 128))
    loaded = load_image(_save_pil(tmp_path, rgba, "rgba.png"))
    # 128/255 red over white: red stays 255, green/blue = 255 * (1 - 128/255) = 127.
    np.testing.assert_allclose(loaded[0, 0], [255, 127, 127], atol=1)


def test_palette_image_with_transparency(tmp_path):
    p = Image.new("P", (2, 1))
    p.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    p.putpixel((0, 0), 0)
    p.putpixel((1, 0), 1)
    opaque = load_image(_save_pil(tmp_path, p, "p.png"))
    np.testing.assert_array_equal(opaque[0], [[10, 20, 30], [200, 100, 50]])
    p.info["transparency"] = 0
    transparent = load_image(_save_pil(tmp_path, p, "pt.png", transparency=0))
    np.testing.assert_array_equal(transparent[0], [[255, 255, 255], [200, 100, 50]])


def test_cmyk_jpeg_is_converted_to_rgb(tmp_path):
    cmyk = Image.new("CMYK", (4, 4), (0, 255, 255, 0))   # pure red in CMYK
    loaded = load_image(_save_pil(tmp_path, cmyk, "c.jpg", quality=100))
    assert loaded.shape == (4, 4, 3)
    assert loaded[..., 0].min() > 200 and loaded[..., 1:].max() < 60


def test_sixteen_bit_png_is_scaled_to_eight_bits(tmp_path):
    values = np.array([[0, 257 * 128, 65535]], dtype=np.uint16)
    path = _save_pil(tmp_path, Image.fromarray(values), "i16.png")
    assert Image.open(path).mode in ("I;16", "I")
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded[0, :, 0], [0, 128, 255])
    np.testing.assert_array_equal(loaded[..., 0], loaded[..., 2])


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((2, 4, 3), dtype=np.uint8)    # landscape, red in the top-left corner
    pixels[0, 0] = [255, 0, 0]
    exif = Image.Exif()
    exif[0x0112] = 6                                 # "rotate 90 CW to display"
    path = _save_pil(tmp_path, Image.fromarray(pixels), "o.png", exif=exif.tobytes())
    loaded = load_image(path)
    assert loaded.shape == (4, 2, 3)                 # displayed upright: portrait
    np.testing.assert_array_equal(loaded[0, 1], [255, 0, 0])


# MARK: - Loading: other sources


def test_pil_image_and_arrays_are_accepted():
    pixels = _rgb()
    np.testing.assert_array_equal(load_image(Image.fromarray(pixels)), pixels)
    np.testing.assert_array_equal(load_image(pixels), pixels)
    np.testing.assert_array_equal(load_image(pixels.astype(np.float32) / 255), pixels)
    grey = load_image(np.full((2, 2), 0.5))
    np.testing.assert_array_equal(grey, np.full((2, 2, 3), 128))


def test_bad_arrays_are_refused():
    with pytest.raises(ImageError, match="shape"):
        load_image(np.zeros((2, 2, 2), dtype=np.uint8))
    with pytest.raises(ImageError, match="dtype"):
        load_image(np.zeros((2, 2, 3), dtype=np.int64))
    with pytest.raises(ImageError, match="NaN"):
        load_image(np.full((2, 2, 3), np.nan))
    with pytest.raises(TypeError):
        load_image(42)


# MARK: - Loading: failures name the file and the problem


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.jpg"
    with pytest.raises(ImageNotFoundError, match="nope.jpg") as info:
        load_image(missing)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)


def test_directory(tmp_path):
    with pytest.raises(ImageError, match="directory"):
        load_image(tmp_path)


def test_zero_byte_file(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty.png.*empty \(0 bytes\)"):
        load_image(empty)


def test_non_image_file(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("definitely not a JPEG")
    with pytest.raises(ImageError, match="notes.jpg.*not an image"):
        load_image(text)


def test_truncated_file(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(RNG.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)).save(buffer, "PNG")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match="cut.png"):
        load_image(truncated)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    path = _save_pil(tmp_path, Image.new("L", (100, 100)), "big.png")
    with pytest.raises(ImageError, match="exceeds the limit"):
        load_image(path, max_pixels=100 * 99)
    assert load_image(path, max_pixels=100 * 100).shape == (100, 100, 3)


# MARK: - Saving


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".JPEG", ".bmp", ".webp", ".tif"])
def test_save_format_follows_extension(tmp_path, suffix):
    pixels = _rgb(16, 16)
    path = save_image(pixels, tmp_path / f"out{suffix}")
    expected = Image.registered_extensions()[suffix.lower()]
    with Image.open(path) as im:
        assert im.format == expected and im.size == (16, 16)
    assert [p.name for p in tmp_path.iterdir()] == [f"out{suffix}"]   # no temporary left behind


def test_save_png_is_lossless_and_float_input_is_scaled(tmp_path):
    pixels = _rgb()
    np.testing.assert_array_equal(load_image(save_image(pixels, tmp_path / "a.png")), pixels)
    np.testing.assert_array_equal(load_image(save_image(pixels / 255.0, tmp_path / "b.png")), pixels)


def test_save_replaces_existing_file_with_normal_permissions(tmp_path):
    path = tmp_path / "x.png"
    save_image(_rgb(), path)
    second = _rgb()
    save_image(second, path)
    np.testing.assert_array_equal(load_image(path), second)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_save_errors(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        save_image(_rgb(), tmp_path / "missing" / "x.png")
    with pytest.raises(ImageError, match="extension"):
        save_image(_rgb(), tmp_path / "x.unknown")
    with pytest.raises(ImageError, match="RGB"):
        save_image(np.zeros((4, 4)), tmp_path / "x.png")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_save_permission_denied(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ImageError, match="permission denied"):
            save_image(_rgb(), locked / "x.png")
    finally:
        locked.chmod(0o700)


# MARK: - Resizing and grids


def test_fit_longest_side():
    assert images.fit_longest_side(300, 451, 64) == (43, 64)
    assert images.fit_longest_side(451, 300, 64) == (64, 43)
    assert images.fit_longest_side(1, 1000, 10) == (1, 10)
    with pytest.raises(ValueError):
        images.fit_longest_side(10, 10, 0)


def test_resize_keeps_dtype_and_exact_size():
    pixels = _rgb(30, 40)
    small = images.resize_longest_side(pixels, 20)
    assert small.dtype == np.uint8 and small.shape == (15, 20, 3)
    up = images.resize(images.to_float(pixels), 45, 61)
    assert up.dtype == np.float32 and up.shape == (45, 61, 3)
    assert up.min() >= 0.0 and up.max() <= 1.0


def test_float_resize_of_constant_image_is_exact():
    flat = np.full((7, 9, 3), 0.3141, dtype=np.float32)
    np.testing.assert_allclose(images.resize(flat, 20, 25), 0.3141, atol=1e-6)


def test_make_grid_layout():
    tiles = [_rgb(10, 20), _rgb(20, 20), _rgb(5, 5)]
    grid = images.make_grid(tiles, ["a", "b", "c"], columns=2, cell_height=10, padding=2)
    # widest scaled tile is 20 px; 2 columns, 2 rows of (10 + 16 label) px.
    assert grid.shape == (2 + 2 * (10 + 16 + 2), 2 + 2 * (20 + 2), 3)
    np.testing.assert_array_equal(grid[2:12, 2:22], tiles[0])
    assert (grid[-2:] == 255).all()
    with pytest.raises(ValueError):
        images.make_grid(tiles, ["a"])
    with pytest.raises(ValueError):
        images.make_grid([])


# MARK: - Colour


def test_ycbcr_round_trip_and_known_values():
    pixels = images.to_float(_rgb())
    np.testing.assert_allclose(images.ycbcr_to_rgb(images.rgb_to_ycbcr(pixels)), pixels, atol=1e-6)
    white = images.rgb_to_ycbcr(np.ones((1, 1, 3), dtype=np.float32))
    np.testing.assert_allclose(white[0, 0], [1.0, 0.5, 0.5], atol=1e-6)
    # Pillow's own (8-bit) conversion agrees to rounding.
    pil = np.asarray(Image.fromarray(images.to_uint8(pixels)).convert("YCbCr"), dtype=np.float32) / 255
    np.testing.assert_allclose(images.rgb_to_ycbcr(pixels), pil, atol=1.01 / 255)


def test_transfer_luminance_takes_luma_from_generated_and_chroma_from_content():
    content = images.to_float(_rgb())
    generated = np.full_like(content, 0.5)
    generated[..., 0] = 0.6                          # some luma, wrong colour
    out = images.transfer_luminance(generated, content)
    out_ycc, gen_ycc, content_ycc = (images.rgb_to_ycbcr(a) for a in (out, generated, content))
    inside = (out > 0.001).all(axis=2) & (out < 0.999).all(axis=2)   # away from clipping
    np.testing.assert_allclose(out_ycc[..., 0][inside], gen_ycc[..., 0][inside], atol=1e-5)
    np.testing.assert_allclose(out_ycc[..., 1:][inside], content_ycc[..., 1:][inside], atol=1e-5)


# MARK: - Demo images


def test_demo_style_painting_is_deterministic_and_painterly():
    from swiftnst.demo_images import render_swirl_painting
    painting = render_swirl_painting(96, 64)
    assert painting.shape == (64, 96, 3) and painting.dtype == np.uint8
    np.testing.assert_array_equal(render_swirl_painting(96, 64), painting)
    assert not np.array_equal(render_swirl_painting(96, 64, seed=2), painting)
    blue_dominant = (painting[..., 2] > painting[..., 0]).mean()
    assert blue_dominant > 0.5 and painting.std() > 20        # a blue night sky, with texture
    with pytest.raises(ValueError):
        render_swirl_painting(8, 8)


def test_demo_content_is_the_chelsea_photo(tmp_path):
    from swiftnst.demo_images import load_demo_content, write_demo_images
    assert load_demo_content().shape == (300, 451, 3)
    content, style = write_demo_images(tmp_path / "demo")
    assert load_image(content).shape == (300, 451, 3) and load_image(style).shape == (384, 512, 3)
