"""The padding of a render's images to the engine's size multiple, and its inverse."""

from __future__ import annotations

import numpy as np

from . import images
from ._sizes import PAD_MULTIPLE

__all__ = ["PAD_MULTIPLE", "crop", "float_at_most", "pad", "pad_mask"]


def pad(rgb: np.ndarray) -> np.ndarray:
    """Pad an (H, W, C) image on the bottom and right up to multiples of :data:`PAD_MULTIPLE`:
    mirrored without repeating the edge pixel ("reflect"), or with it ("symmetric", which also
    works for a side of 1 pixel) when the image is not larger than the pad."""
    height, width = rgb.shape[:2]
    pad_h, pad_w = -height % PAD_MULTIPLE, -width % PAD_MULTIPLE
    if not (pad_h or pad_w):
        return rgb
    mode = "reflect" if pad_h < height and pad_w < width else "symmetric"
    return np.pad(rgb, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode)


def pad_mask(mask: np.ndarray) -> np.ndarray:
    """An (H, W) per-pixel weight padded like :func:`pad` pads its image, with zeros: the padding is
    no part of the picture, so nothing there is asked of the result."""
    height, width = mask.shape
    return np.pad(mask, ((0, -height % PAD_MULTIPLE), (0, -width % PAD_MULTIPLE)))


def float_at_most(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` as float, downscaled first if its longest side is above ``side`` (the largest the run needs)."""
    if max(rgb.shape[:2]) > side:
        return images.resize_longest_side(images.to_float(rgb), side)
    return images.to_float(rgb)


def crop(rgb: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Undo :func:`pad`: the top-left ``shape`` (height, width) of the image (a contiguous copy)."""
    return np.ascontiguousarray(rgb[:shape[0], :shape[1]])
