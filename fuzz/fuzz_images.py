"""Fuzz ``swiftnst.images.load_image`` with mutated image files of every common format.

Oracle: the loader returns an (H, W, 3) uint8 array within the pixel limit, or raises ``ImageError``
naming the file. Any other exception (a Pillow decoder's ValueError, IndexError, ...) escaping
``load_image`` is a finding: callers are promised one exception type with a clear message.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from hypothesis import strategies as st

import driver

from swiftnst.images import MAX_IMAGE_PIXELS, ImageError, load_image  # noqa: E402  (driver set sys.path)
from PIL import Image  # noqa: E402


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _seeds() -> dict[str, bytes]:
    """Small valid files (12 x 9 pixels) covering the formats and modes the loader special-cases."""
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 256, (9, 12, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6
    return {
        "png": _encode(rgb, "PNG"),
        "png_rgba": _encode(rgb.convert("RGBA"), "PNG"),
        "png_palette": _encode(rgb.quantize(8), "PNG", transparency=0),
        "png_16bit": _encode(Image.fromarray(np.arange(108, dtype=np.uint16).reshape(9, 12) * 600), "PNG"),
        "jpeg": _encode(rgb, "JPEG", quality=90),
        "jpeg_exif": _encode(rgb, "JPEG", exif=exif),
        "jpeg_cmyk": _encode(rgb.convert("CMYK"), "JPEG"),
        "gif": _encode(rgb.convert("P"), "GIF"),
        "bmp": _encode(rgb, "BMP"),
        "tiff": _encode(rgb, "TIFF"),
        "webp": _encode(rgb, "WEBP"),
        "la": _encode(rgb.convert("LA"), "PNG"),
    }


warnings.simplefilter("ignore")  # Pillow warns about every corrupt EXIF/TIFF tag it skips
SEEDS = _seeds()
_DIRECTORY = driver.scratch_directory("images")


def check(example: tuple[str, list]) -> None:
    seed, edits = example
    path = _DIRECTORY / f"input.{seed.split('_')[0]}"
    path.write_bytes(driver.mutate(SEEDS[seed], edits))
    try:
        rgb = load_image(path)
    except ImageError as exc:
        assert str(path) in str(exc), f"message does not name the file: {exc}"
        return
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3, (rgb.dtype, rgb.shape)
    assert 0 < rgb.shape[0] * rgb.shape[1] <= MAX_IMAGE_PIXELS


TARGETS = {"load_image": (st.tuples(st.sampled_from(sorted(SEEDS)), driver.mutations()), check)}

if __name__ == "__main__":
    raise SystemExit(driver.main(TARGETS))
