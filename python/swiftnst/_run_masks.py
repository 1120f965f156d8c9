"""The masks of a run (``style_masks``, ``content_mask``, and the alpha channels of RGBA content and style
images), loaded once, resized to every scale and handed to the session (``Session.set_masks``,
``Session.add_style``'s ``mask`` and ``region``); and the alpha the result gets back.

What the engine receives at a scale (all in [0, 1], of the session's padded size):

- content weight: ``content_mask`` times the content's alpha (transparent parts do not drive the content term),
  and the run's ``content_weight`` divided by the alpha's mean (:attr:`RunMasks.content_weight_factor`): the
  content term, a sum over positions divided by all of them, is then as strong per opaque position as the
  style terms, whose Gram matrices are normalised by their region's mass, so that an RGBA image is
  stylised as its opaque part alone would be;
- without ``style_masks``: the content's alpha as the region the blended styles are matched over;
- with ``style_masks``: style i's region is mask i times the content's alpha;
- each style with an alpha channel: its alpha as the mask of its own pixels (only opaque ones count).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from . import images
from .images import ImageSource
from .session import Session

__all__ = ["RunMasks", "load_alpha", "load_mask"]

logger = logging.getLogger(__name__)

#: How a run pads its images to the session's size (``transfer._pad``), applied to (H, W, 1) masks too.
Padding = Callable[[np.ndarray], np.ndarray]

#: Output formats that keep an alpha channel; to others an RGBA result is saved without it (a warning).
ALPHA_FORMATS = frozenset({"PNG", "WEBP", "TIFF"})


def load_alpha(source: ImageSource) -> np.ndarray | None:
    """The alpha channel of ``source`` as uint8 (H, W), upright as :func:`images.load_image` turns the
    image; None for an image without one, or whose alpha is opaque everywhere."""
    if isinstance(source, np.ndarray):
        if source.ndim != 3 or source.shape[2] != 4:
            return None
        alpha = images.to_uint8(source[..., 3:4] if source.dtype == np.uint8 else images.to_float(source[..., 3:4]))[..., 0]
    elif isinstance(source, Image.Image):
        alpha = _pil_alpha(source)
    else:
        alpha = images._read_file(source, lambda im, name: _pil_alpha(im))
    return None if alpha is None or bool(np.all(alpha == 255)) else np.ascontiguousarray(alpha)


def _pil_alpha(im: Image.Image) -> np.ndarray | None:
    if im.mode not in ("RGBA", "LA", "PA", "RGBa", "La") and not (im.mode == "P" and "transparency" in im.info):
        return None
    return np.asarray(images._upright(im, "<alpha>").convert("RGBA"), dtype=np.uint8)[..., 3].copy()


def load_mask(source: ImageSource, what: str) -> np.ndarray:
    """A grayscale mask as float32 (H, W) in [0, 1] (a colour image's luminance); transparency is
    composited on white as for any image (see :func:`images.load_image`).

    Raises:
        ImageError, ImageNotFoundError: as :func:`images.load_image`, with ``what`` in the message.
    """
    try:
        rgb = images.load_image(source)
    except images.ImageError as error:
        raise type(error)(f"{what}: {error}") from None
    return images.rgb_to_ycbcr(rgb)[..., 0].clip(0.0, 1.0)


@dataclass
class RunMasks:
    """A run's masks at the size of the images they belong to, as loaded; each scale resizes them."""

    #: The content's alpha as loaded (uint8, the content image's own size), None if opaque.
    content_alpha: np.ndarray | None
    #: ``content_mask`` times the content's alpha and each style mask times it, float (H, W) at the
    #: content image's size; None where not given.
    content_weight: np.ndarray | None
    style_regions: list[np.ndarray] | None
    #: Without ``style_masks``, the region the blended styles are matched over (the content's alpha).
    blended_region: np.ndarray | None
    #: Each style's alpha as float (h, w) at the style image's size, None if opaque.
    style_alphas: list[np.ndarray | None]
    #: What the run's ``content_weight`` is multiplied by: 1 / the mean of the content's alpha (1 if opaque).
    content_weight_factor: float = 1.0

    @classmethod
    def load(cls, content: ImageSource, content_shape: tuple[int, int], styles: Sequence[ImageSource],
             content_mask: ImageSource | None, style_masks: Sequence[ImageSource] | None) -> "RunMasks":
        """Load every mask of a run; ``content_shape`` is the loaded content's (height, width).

        Raises:
            ValueError: ``style_masks`` does not hold one mask per style image; the content or a style image
                is transparent everywhere.
            ImageError, ImageNotFoundError: a mask cannot be loaded.
        """
        if style_masks is not None and len(style_masks) != len(styles):
            raise ValueError(f"got {len(style_masks)} style masks for {len(styles)} style images")
        alpha = load_alpha(content)
        alpha_float = None if alpha is None else _resized(alpha.astype(np.float32) / 255, content_shape)
        style_alphas = [None if a is None else a.astype(np.float32) / 255 for a in map(load_alpha, styles)]
        for what, a in [("the content image", alpha_float), *((f"style image {i + 1}", a) for i, a in enumerate(style_alphas))]:
            if a is not None and not np.any(a > 0):
                raise ValueError(f"{what} is transparent everywhere (its alpha channel is 0): there is nothing to "
                                 "match in it")
        weight = _product(None if content_mask is None else _resized(load_mask(content_mask, "content mask"), content_shape),
                          alpha_float)
        regions = None if style_masks is None else [
            _product(_resized(load_mask(mask, f"style mask {i + 1}"), content_shape), alpha_float)
            for i, mask in enumerate(style_masks)]
        return cls(alpha, weight, regions, alpha_float if regions is None else None, style_alphas,
                   1.0 if alpha_float is None else 1.0 / float(np.mean(alpha_float, dtype=np.float64)))

    def arrays(self) -> list[np.ndarray]:
        """Every mask and alpha the run uses (their hashes identify them in checkpoints)."""
        generated = [self.content_alpha, self.content_weight, self.blended_region, *(self.style_regions or [])]
        return [mask for mask in generated + self.style_alphas if mask is not None]

    def check_style_loss(self, style_loss: str) -> None:
        """Raise ``ValueError`` when the run would hand the engine a style mask (a style mask, or the alpha of
        the content or of a style image) that ``style_loss`` does not support (only ``"gram"`` does)."""
        if style_loss != "gram" and (self.style_regions is not None or self.blended_region is not None
                                     or any(alpha is not None for alpha in self.style_alphas)):
            raise ValueError(f"style_loss={style_loss!r} does not support style masks yet, and the alpha channel "
                             f"of the content or of a style image is one (give RGB images, or style_loss='gram')")

    def count(self) -> int:
        """How many masks the run hands the engine: any needs its whole-image evaluation (``planner``)."""
        generated = [self.content_weight, self.blended_region, *(self.style_regions or [])]
        return sum(mask is not None for mask in generated + self.style_alphas)

    def set_masks(self, session: Session, shape: tuple[int, int], pad: Padding) -> None:
        """Set the session's masks for a scale of ``shape`` (height, width), padded as its images by ``pad``."""
        if self.content_weight is not None or self.blended_region is not None:
            session.set_masks(content=_at_scale(self.content_weight, shape, pad),
                              style=_at_scale(self.blended_region, shape, pad))

    def style_arguments(self, index: int, style_shape: tuple[int, int], shape: tuple[int, int],
                        pad: Padding) -> dict[str, np.ndarray | None]:
        """``Session.add_style``'s ``mask`` (the style's alpha at ``style_shape``) and ``region`` (at the
        scale's ``shape``, padded by ``pad``) for style ``index``."""
        alpha = self.style_alphas[index]
        return {"mask": None if alpha is None else _resized(alpha, style_shape),
                "region": None if self.style_regions is None else _at_scale(self.style_regions[index], shape, pad)}

    def with_alpha(self, rgb: np.ndarray, output_format: str | None) -> np.ndarray:
        """The uint8 result with the content's alpha (resized to it; exact at the content's own size), or
        ``rgb`` unchanged without one, or for an ``output_format`` that cannot store it (a warning)."""
        if self.content_alpha is None:
            return rgb
        if output_format is not None and output_format not in ALPHA_FORMATS:
            logger.warning("the content image has an alpha channel, which %s cannot store: the result is saved "
                           "without it (use .png, .webp or .tif to keep it)", output_format)
            return rgb
        alpha = self.content_alpha
        if alpha.shape != rgb.shape[:2]:
            alpha = images.to_uint8(_resized(alpha.astype(np.float32) / 255, rgb.shape[:2]))
        return np.dstack([rgb, alpha])


def _resized(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A float (H, W) mask resized to ``shape`` (Lanczos, clipped to [0, 1] as every resize)."""
    if mask.shape[:2] == tuple(shape):
        return mask.astype(np.float32)
    return images.resize(mask.astype(np.float32)[..., None], shape[0], shape[1])[..., 0]


def _at_scale(mask: np.ndarray | None, shape: tuple[int, int], pad: Padding) -> np.ndarray | None:
    return None if mask is None else pad(_resized(mask, shape)[..., None])[..., 0]


def _product(mask: np.ndarray | None, alpha: np.ndarray | None) -> np.ndarray | None:
    """``mask * alpha``, either of which may be None (all ones)."""
    if mask is None:
        return alpha
    return mask if alpha is None else mask * alpha
