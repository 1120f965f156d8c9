"""The image sizes a run derives from its options and inputs, checked before anything is allocated.

A run never works on the images as given: the content is fitted to ``image_size``, every style image
to ``style_scale`` times that (and at least far enough for its short side to reach the deepest style
layer), every scale of a multi-scale run to its own size. Each of those derived sizes is bounded here
by the engine's limit (``NST_MAX_IMAGE_SIDE``) and counted in a memory estimate, so a run that
cannot fit fails at once, naming the option and the size, instead of being killed by the system
minutes later (a ``style_scale`` of 1000 once meant a 64,000-pixel style image).
"""

from __future__ import annotations

import os
from typing import Sequence

from ._abi import NST_MAX_IMAGE_SIDE
from ._errors import NSTOutOfMemoryError
from .images import fit_longest_side

#: Every scale is optimised at its size padded (bottom and right, mirrored) up to a multiple of
#: this, then cropped back. VGG's 2x2 pooling floors odd sizes, so otherwise the last ``H % 16``
#: rows (``W % 16`` columns) never reach relu5_1 (4 pools deep), the last ``H % 8`` not relu4_x
#: either, ...: they got little style gradient and stayed a content-coloured band.
PAD_MULTIPLE = 16

#: Bytes per pixel an image of a run needs at the least while the engine runs VGG on it: the
#: activations of the first two convolutions (64 float32 channels each, both alive at once at full
#: resolution), plus the image itself in Python as uint8, float RGB and model-space float (3 + 12 + 12).
#: The true peak is higher (deeper layers, gradients); this is a floor, so a refusal is always right.
MIN_BYTES_PER_PIXEL = 2 * 64 * 4 + 3 + 12 + 12


def longest_side_for_short_side(shape: Sequence[int], short: int) -> int:
    """The longest side at which an image of ``shape`` (height, width, ...) has its shorter side at
    least ``short`` pixels: a style image scaled for a result of a few pixels must still reach the
    deepest style layer (relu5_1 is 4 poolings deep, so it needs 16 pixels each way)."""
    height, width = shape[0], shape[1]
    return -(-short * max(height, width) // min(height, width))


def style_side(style_shape: Sequence[int], result_side: int, style_scale: float) -> int:
    """Longest side of a style image (of ``style_shape``) for a result whose longest side is ``result_side``."""
    return max(1, round(style_scale * result_side), longest_side_for_short_side(style_shape, PAD_MULTIPLE))


def check_run_sizes(image_size: int, style_scale: float, content_shape: Sequence[int],
                    style_shapes: Sequence[Sequence[int]], style_names: Sequence[str]) -> list[int]:
    """Check every image size a run derives; return each style image's largest side (at ``image_size``).

    The sizes grow with the scale, so the final (largest) scale bounds them all.

    Raises:
        ValueError: a derived side exceeds ``NST_MAX_IMAGE_SIDE``; the message names the option
            (``style_scale``) or the style image (too thin to reach the deepest layer) and the size.
        NSTOutOfMemoryError: the largest derived image needs more memory than is available.
    """
    sides = []
    for shape, name in zip(style_shapes, style_names):
        side = style_side(shape, image_size, style_scale)
        if side > NST_MAX_IMAGE_SIDE:
            thin = longest_side_for_short_side(shape, PAD_MULTIPLE)
            if thin > NST_MAX_IMAGE_SIDE:
                raise ValueError(
                    f"{name} is {shape[1]}x{shape[0]} px: to be at least {PAD_MULTIPLE} px on its short side "
                    f"(the deepest style layer needs that) it would be {thin} px on its long side, beyond the "
                    f"engine's limit of {NST_MAX_IMAGE_SIDE} px; crop it to a less extreme aspect ratio")
            raise ValueError(
                f"style_scale {style_scale:g} with image_size {image_size} resizes {name} to {side} px on its "
                f"longest side, beyond the engine's limit of {NST_MAX_IMAGE_SIDE} px; use style_scale <= "
                f"{NST_MAX_IMAGE_SIDE / image_size:.4g}")
        sides.append(side)
    pixels = [(_pixels(content_shape, image_size), f"the result at image_size {image_size}")]
    pixels += [(_pixels(shape, side), f"{name} at {side} px (from style_scale {style_scale:g} and image_size "
                                      f"{image_size})") for shape, side, name in zip(style_shapes, sides, style_names)]
    _check_memory(*max(pixels, key=lambda item: item[0]))
    return sides


def _pixels(shape: Sequence[int], side: int) -> int:
    height, width = fit_longest_side(shape[0], shape[1], side)
    return height * width


def _check_memory(pixels: int, what: str) -> None:
    """Refuse when the largest image of the run cannot fit (see :data:`MIN_BYTES_PER_PIXEL`)."""
    needed = pixels * MIN_BYTES_PER_PIXEL
    available = available_bytes()
    if needed > available:
        raise NSTOutOfMemoryError(
            f"{what} needs at least {needed / 2**30:.1f} GiB for the network's activations, only "
            f"{available / 2**30:.1f} GiB of memory is available; use a smaller image_size or style_scale")


def available_bytes() -> int:
    """Memory the process may still claim: ``MemAvailable`` (Linux), else the physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
