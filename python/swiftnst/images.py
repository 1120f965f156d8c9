"""Image input/output for style transfer: loading any common image as RGB, atomic saving,
resizing, snapshot grids, and the YCbCr conversion used for colour preservation.

Every image handed to the rest of swiftnst is a NumPy array of shape (height, width, 3):
``uint8`` in 0..255, or ``float32`` in [0, 1] ("float image"). Loading normalises all the odd
cases Pillow can return (palette, grey, alpha, CMYK, 16-bit, rotated-by-EXIF) to that form, so the
engine never sees a surprise.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import BinaryIO, Callable, Sequence, TypeVar, Union

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from ._abi import NST_MAX_IMAGE_SIDE
from ._atomic import atomic_write
from ._errors import ImageError, ImageNotFoundError
from ._files import NotRegularFileError, open_regular_file
from ._outputs import image_format

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_IMAGE_PIXELS",
    "ImageError",
    "ImageNotFoundError",
    "ImageSource",
    "load_image",
    "save_image",
    "to_float",
    "to_uint8",
    "fit_longest_side",
    "resize",
    "resize_longest_side",
    "thumbnail",
    "make_grid",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "transfer_luminance",
]

#: Largest image (width * height) :func:`load_image` accepts: the engine's largest side
#: (``NST_MAX_IMAGE_SIDE``, 8192) squared. Anything bigger is refused from the file header, before
#: decoding, so a small file that would decompress to gigabytes ("decompression bomb") never gets
#: allocated.
MAX_IMAGE_PIXELS = NST_MAX_IMAGE_SIDE * NST_MAX_IMAGE_SIDE

#: How far a float image may stray outside [0, 1] (arithmetic noise, resampling overshoot) before it
#: is refused rather than clipped: half an 8-bit level, which rounds to the same uint8 anyway.
FLOAT_RANGE_TOLERANCE = 0.5 / 255

#: What :func:`load_image` accepts: a file path, an open PIL image, or an array (H, W), (H, W, 3)
#: or (H, W, 4), uint8 or float in [0, 1].
ImageSource = Union[str, os.PathLike, Image.Image, np.ndarray]

T = TypeVar("T")
_EXIF_ORIENTATION = 0x0112  # the EXIF tag ImageOps.exif_transpose reads


# MARK: - Loading


def load_image(source: ImageSource, *, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Load an image as an RGB ``uint8`` array of shape (height, width, 3).

    Conversions, so any image Pillow reads works:

    - EXIF orientation is applied (``ImageOps.exif_transpose``): phone photos come out upright. A
      malformed EXIF block is ignored with a warning on the ``swiftnst`` logger (the pixels are fine).
    - Transparency (RGBA, LA, PA, palette images with a transparent colour) is composited onto
      a **white** background, the way browsers and viewers usually show it; transparent pixels
      would otherwise carry arbitrary colours into the style statistics.
    - Grey (L, 1), palette (P), CMYK, YCbCr, LAB and HSV images are converted to RGB.
    - 16-bit grey (``I;16``, ``I`` as Pillow opens 16-bit PNGs) and 32-bit float (``F``) images
      are scaled to 0..255 (16-bit: divided by 257; float: values taken as 0..1).

    Args:
        source: a path, a PIL image, or an array (H, W), (H, W, 3) or (H, W, 4) of uint8, or of
            floats in [0, 1].
        max_pixels: refuse images with more pixels than this (see :data:`MAX_IMAGE_PIXELS`).

    Raises:
        ImageNotFoundError: the path does not exist.
        ImageError: the path is a directory, empty, truncated, not an image, too large, or the
            array has an unsupported shape or dtype, or is float with values outside [0, 1].
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source)
    if isinstance(source, Image.Image):
        return _pil_to_rgb(source, "<PIL image>", max_pixels)
    return _read_file(source, lambda im, name: _pil_to_rgb(im, name, max_pixels))


def image_shape(source: ImageSource) -> tuple[int, int]:
    """``(height, width)`` of the image :func:`load_image` would return, reading only a file's header.

    Raises:
        ImageNotFoundError, ImageError: as :func:`load_image`, for problems the header shows.
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source).shape[:2]
    if isinstance(source, Image.Image):
        return _oriented_shape(source)
    return _read_file(source, lambda im, _name: _oriented_shape(im))


def _read_file(source: ImageSource, read: Callable[[Image.Image, str], T]) -> T:
    """``read(image, name)`` on the image file at ``source``, with every failure an :class:`ImageError`."""
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"expected a path, PIL image or NumPy array, got {type(source).__name__}")
    path = Path(source)
    handle = _open_image_file(path)
    try:
        with handle, Image.open(handle) as im:
            return read(im, str(path))
    except UnidentifiedImageError:
        raise ImageError(f"cannot load image '{path}': not an image file Pillow can read") from None
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        # Pillow reports truncated and corrupt data as OSError ("image file is truncated", ...).
        raise ImageError(f"cannot load image '{path}': {exc}") from None


def _oriented_shape(im: Image.Image) -> tuple[int, int]:
    """(height, width) after ``exif_transpose``: EXIF orientations 5-8 turn the image by 90 degrees.

    A malformed EXIF block leaves the image unturned, as :func:`_upright` does when loading it:
    ``exif_transpose`` fails on such a block when it writes it back without the orientation, so
    ``tobytes`` is tried here too (without decoding any pixels).
    """
    width, height = im.size
    try:
        exif = im.getexif()
        orientation = exif.get(_EXIF_ORIENTATION, 1)
        if orientation != 1:
            exif.tobytes()
    except Exception:  # Pillow's EXIF parser raises many kinds (struct.error, KeyError, ValueError...)
        orientation = 1
    return (width, height) if orientation in (5, 6, 7, 8) else (height, width)


def _open_image_file(path: Path) -> BinaryIO:
    """The opened regular file at ``path``; a FIFO or device is refused without reading from it."""
    try:
        handle = open_regular_file(path, "image")
    except FileNotFoundError:
        raise ImageNotFoundError(errno.ENOENT, "image file not found", str(path)) from None
    except NotRegularFileError as exc:
        raise ImageError(f"cannot load image '{path}': it is {exc.kind}, not a regular file") from None
    except OSError as exc:
        raise ImageError(f"cannot load image '{path}': {exc.strerror or exc}") from None
    if os.fstat(handle.fileno()).st_size == 0:
        handle.close()
        raise ImageError(f"cannot load image '{path}': the file is empty (0 bytes)")
    return handle


def _pil_to_rgb(im: Image.Image, name: str, max_pixels: int) -> np.ndarray:
    width, height = im.size
    if width * height > max_pixels:
        raise ImageError(
            f"cannot load image '{name}': {width}x{height} = {width * height} pixels exceeds the "
            f"limit of {max_pixels} (possible decompression bomb)")
    if width == 0 or height == 0:
        raise ImageError(f"cannot load image '{name}': it has no pixels ({width}x{height})")
    im = _upright(im, name)
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        grey = np.asarray(im, dtype=np.float64) / 257.0
        return np.repeat(_round_to_uint8(grey)[..., None], 3, axis=2)
    if im.mode == "F":
        grey = np.asarray(im, dtype=np.float64) * 255.0
        return np.repeat(_round_to_uint8(grey)[..., None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"), dtype=np.uint8).copy()
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def _upright(im: Image.Image, name: str) -> Image.Image:
    """``im`` turned as its EXIF orientation says; unturned, with a warning, if the EXIF block is malformed."""
    try:
        return ImageOps.exif_transpose(im)
    except Exception as exc:  # Pillow's EXIF parser raises many kinds (struct.error, KeyError, ValueError...)
        logger.warning("image '%s': ignoring its malformed EXIF orientation (%s: %s)", name, type(exc).__name__, exc)
        return im


def _array_to_rgb(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4) or array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageError(f"expected an image array of shape (H, W), (H, W, 3) or (H, W, 4), got {array.shape}")
    if array.dtype == np.uint8 and array.shape[2] == 3:
        return np.array(array, copy=True, order="C")
    if array.dtype == np.uint8:
        pixels = array.astype(np.float64) / 255.0
    elif np.issubdtype(array.dtype, np.floating):
        pixels = _checked_unit_range(array).astype(np.float64)
    else:
        raise ImageError(f"expected a uint8 or float image array, got dtype {array.dtype}")
    if pixels.shape[2] == 4:
        # Same white compositing as for files with an alpha channel.
        alpha = pixels[..., 3:4]
        pixels = pixels[..., :3] * alpha + (1.0 - alpha)
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return _round_to_uint8(pixels * 255.0)


# MARK: - Conversions


def to_float(image: np.ndarray) -> np.ndarray:
    """Return an RGB image as float32 in [0, 1] (uint8 is divided by 255).

    Raises:
        ImageError: a float image with NaN/Inf or values outside [0, 1] (beyond
            :data:`FLOAT_RANGE_TOLERANCE`, within which they are clipped), e.g. 0..255 floats.
    """
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image.astype(np.float32) / np.float32(255.0)
    return _checked_unit_range(image.astype(np.float32, copy=False))


def _checked_unit_range(pixels: np.ndarray) -> np.ndarray:
    """Float pixels clipped to [0, 1]; refused when they are not finite or clearly outside that range."""
    if not np.issubdtype(pixels.dtype, np.floating):
        raise ImageError(f"expected a uint8 or float image array, got dtype {pixels.dtype}")
    if pixels.size and not np.all(np.isfinite(pixels)):
        raise ImageError("the image array contains NaN or Inf")
    if pixels.size:
        low, high = float(pixels.min()), float(pixels.max())
        if high > 1.0 + FLOAT_RANGE_TOLERANCE or low < -FLOAT_RANGE_TOLERANCE:
            hint = " - divide by 255 or pass uint8" if high > 1.0 + FLOAT_RANGE_TOLERANCE else ""
            extreme = f"up to {high}" if high > 1.0 + FLOAT_RANGE_TOLERANCE else f"down to {low}"
            raise ImageError(f"float images must be in [0, 1]; got values {extreme}{hint}")
    return np.clip(pixels, 0.0, 1.0)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Return an RGB image as uint8 (floats in [0, 1] are scaled and rounded; see :func:`to_float`
    for the floats refused)."""
    if image.dtype == np.uint8:
        return image
    return _round_to_uint8(_checked_unit_range(np.asarray(image)).astype(np.float64) * 255.0)


def _round_to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


# MARK: - Saving


def save_image(image: np.ndarray, path: str | os.PathLike, *, quality: int = 95) -> Path:
    """Save an RGB image atomically; the format comes from the file extension.

    The image is written to a temporary file in the destination directory and moved into place
    with ``os.replace`` (``_atomic.atomic_write``), so readers (and an interrupted run) never see a
    half-written file; on any failure, Ctrl-C included, the old file stays and no temporary is left.

    Args:
        image: (H, W, 3) RGB or (H, W, 4) RGBA, uint8 or float in [0, 1].
        path: destination; its extension picks the format (``.jpg``, ``.png``, ``.webp``, ...).
        quality: JPEG/WebP quality (1..100).

    Returns:
        The destination path.

    Raises:
        ImageError: unknown extension, missing destination directory, permission denied, or any
            other failure to write.
    """
    path = Path(path)
    pixels = np.asarray(image)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ImageError(f"cannot save image '{path}': expected an (H, W, 3) RGB or (H, W, 4) RGBA array, got {pixels.shape}")
    pixels = np.ascontiguousarray(to_uint8(pixels))
    fmt = image_format(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ImageError(f"cannot save image '{path}': directory '{directory}' does not exist")
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    writing = False  # a PermissionError before the temporary file exists is the directory's
    try:
        with atomic_write(path) as file:
            writing = True
            Image.fromarray(pixels, "RGB" if pixels.shape[2] == 3 else "RGBA").save(file, format=fmt, **options)
    except PermissionError:
        where = "" if writing else f" for directory '{directory}'"
        raise ImageError(f"cannot save image '{path}': permission denied{where}") from None
    except (OSError, ValueError) as exc:
        raise ImageError(f"cannot save image '{path}': {exc}") from None
    return path


# MARK: - Resizing


def fit_longest_side(height: int, width: int, size: int) -> tuple[int, int]:
    """Return (height, width) scaled so the longer side is ``size``, keeping the aspect ratio
    (the shorter side is rounded half up and at least 1)."""
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    longest = max(height, width)
    return max(1, (height * size * 2 + longest) // (2 * longest)), max(1, (width * size * 2 + longest) // (2 * longest))


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an RGB image to exactly (height, width) with Lanczos filtering.

    uint8 images stay uint8. Float images are resized per channel in 32-bit float (Pillow mode
    ``F``), so upsampling an intermediate result loses no precision to 8-bit rounding; the result
    is clipped to [0, 1] because Lanczos overshoots at edges.
    """
    if image.shape[0] == height and image.shape[1] == width:
        return image.copy()
    if image.dtype == np.uint8:
        return np.asarray(Image.fromarray(image, "RGB").resize((width, height), Image.Resampling.LANCZOS))
    channels = [
        np.asarray(Image.fromarray(np.ascontiguousarray(image[..., c], dtype=np.float32), "F")
                   .resize((width, height), Image.Resampling.LANCZOS))
        for c in range(image.shape[2])
    ]
    return np.clip(np.stack(channels, axis=2), 0.0, 1.0).astype(np.float32)


def resize_longest_side(image: np.ndarray, size: int) -> np.ndarray:
    """Resize so that the longer side is ``size`` pixels (see :func:`fit_longest_side`)."""
    return resize(image, *fit_longest_side(image.shape[0], image.shape[1], size))


# MARK: - Grids

#: A grid cell (and a :func:`thumbnail`) is at most this many times as wide as it is high, so an
#: extreme aspect ratio cannot make a grid of a few snapshots gigapixels wide.
MAX_THUMBNAIL_ASPECT = 8


def thumbnail(image: np.ndarray, height: int) -> np.ndarray:
    """``image`` as RGB uint8 scaled to ``height`` rows keeping its aspect ratio, but at most
    :data:`MAX_THUMBNAIL_ASPECT` times as wide (then as wide as that, and lower)."""
    rgb = _array_to_rgb(np.asarray(image))
    return resize(rgb, *_thumbnail_shape(rgb.shape, height))


def _thumbnail_shape(shape: Sequence[int], height: int) -> tuple[int, int]:
    rows, columns = max(1, shape[0]), max(1, shape[1])
    width = max(1, round(columns * height / rows))
    if width > MAX_THUMBNAIL_ASPECT * height:
        return fit_longest_side(rows, columns, MAX_THUMBNAIL_ASPECT * height)
    return height, width


def make_grid(images: Sequence[np.ndarray], labels: Sequence[str] | None = None, *,
              columns: int | None = None, cell_height: int = 192, padding: int = 8) -> np.ndarray:
    """Arrange images in a labelled grid on white (like a figure of snapshots every N iterations).

    Every image is scaled to ``cell_height`` rows keeping its aspect ratio (snapshots of a
    multi-scale run have different sizes; see :func:`thumbnail` for very wide ones) and centred in a
    cell as wide as the widest one.

    Args:
        images: RGB images, uint8 or float.
        labels: one caption per image (drawn under it), or None.
        columns: images per row; default: up to 5, as many rows as needed.
        cell_height: height in pixels of every image in the grid.
        padding: white space between cells and around the grid.

    Returns:
        The grid as an RGB uint8 array.

    Raises:
        ValueError: bad arguments, or a grid of more than :data:`MAX_IMAGE_PIXELS` pixels.
    """
    if not images:
        raise ValueError("make_grid needs at least one image")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"make_grid got {len(images)} images but {len(labels)} labels")
    if cell_height < 1 or padding < 0:
        raise ValueError("cell_height must be >= 1 and padding >= 0")
    columns = columns or min(5, len(images))
    if columns < 1:
        raise ValueError(f"columns must be >= 1, got {columns}")
    label_height = 16 if labels is not None else 0
    rows = -(-len(images) // columns)
    grid_height = padding + rows * (cell_height + label_height + padding)
    cell_width = max(_thumbnail_shape(np.shape(im), cell_height)[1] for im in images)
    if grid_height * (padding + columns * (cell_width + padding)) > MAX_IMAGE_PIXELS:
        raise ValueError(f"a grid of {len(images)} images in {columns} columns with cell_height {cell_height} "
                         f"would exceed {MAX_IMAGE_PIXELS} pixels; use fewer images or a smaller cell_height")
    tiles = [thumbnail(im, cell_height) for im in images]
    canvas = Image.new("RGB", (padding + columns * (cell_width + padding), grid_height), "white")
    draw = ImageDraw.Draw(canvas)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        x = padding + column * (cell_width + padding)
        y = padding + row * (cell_height + label_height + padding)
        canvas.paste(Image.fromarray(tile, "RGB"), (x + (cell_width - tile.shape[1]) // 2, y))
        if labels is not None:
            draw.text((x + cell_width // 2, y + cell_height + 2), labels[index], fill="black", anchor="ma")
    return np.asarray(canvas)


# MARK: - Colour (luminance transfer)

# Full-range ITU-R BT.601 (the JPEG/JFIF YCbCr), on values in [0, 1] with chroma centred on 0.5.
_RGB_TO_YCBCR = np.array([[0.299, 0.587, 0.114],
                          [-0.168735892, -0.331264108, 0.5],
                          [0.5, -0.418687589, -0.081312411]])
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR)


def rgb_to_ycbcr(image: np.ndarray) -> np.ndarray:
    """Convert an RGB image to float YCbCr in [0, 1] (JPEG convention, Cb/Cr offset by 0.5)."""
    ycbcr = to_float(image).astype(np.float64) @ _RGB_TO_YCBCR.T
    ycbcr[..., 1:] += 0.5
    return ycbcr.astype(np.float32)


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr`; returns float32 RGB clipped to [0, 1]."""
    centred = np.asarray(ycbcr, dtype=np.float64).copy()
    centred[..., 1:] -= 0.5
    return np.clip(centred @ _YCBCR_TO_RGB.T, 0.0, 1.0).astype(np.float32)


def transfer_luminance(generated: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Keep the content's colours: the generated image's luminance (Y) with the content's
    chroma (CbCr), as in Gatys et al., "Preserving Color in Neural Artistic Style Transfer" (2016).

    ``content`` is resized to the generated image's size if needed. Returns float32 RGB in [0, 1].
    """
    content = to_float(content)
    if content.shape[:2] != generated.shape[:2]:
        content = resize(content, generated.shape[0], generated.shape[1])
    combined = rgb_to_ycbcr(content)
    combined[..., 0] = rgb_to_ycbcr(generated)[..., 0]
    return ycbcr_to_rgb(combined)
