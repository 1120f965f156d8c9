"""Colour control (Gatys et al. 2016, "Preserving Color in Neural Artistic Style Transfer"): image
processing before and after the optimisation, all on float RGB in [0, 1].

- ``"post"``: the result's luminance with the content's chroma (:func:`swiftnst.images.transfer_luminance`).
- ``"luminance"``: the optimisation sees luminance only: the content and style images become grey
  (their luminance Y in every channel), the style's Y first matched to the content's mean and standard
  deviation (:func:`luminance_only`); the result's Y is then recombined with the content's chroma.
- ``"histogram"``: each style image's colours are matched to the content's distribution before optimising
  (:func:`match_color_distribution`: the linear map taking the style's mean and covariance of RGB to the
  content's).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .images import rgb_to_ycbcr

__all__ = ["CHROMA_FROM_CONTENT", "COLOR_CONTROLS", "luminance_only", "match_color_distribution", "prepare_colors"]

#: The values of ``StyleTransferOptions.color_control``.
COLOR_CONTROLS = ("none", "post", "luminance", "histogram")

#: The modes whose result takes the content's chroma (recombined after the optimisation).
CHROMA_FROM_CONTENT = ("post", "luminance")

#: Keeps the covariance square roots finite for flat images (a single colour has zero covariance).
_COVARIANCE_FLOOR = 1e-6


def prepare_colors(mode: str, content: np.ndarray, styles: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The content and style images (float RGB) the optimisation sees under colour control ``mode``:
    grey luminance for ``"luminance"``, the styles' colours matched to the content for ``"histogram"``,
    unchanged otherwise."""
    if mode == "luminance":
        return luminance_only(content, content), [luminance_only(style, content) for style in styles]
    if mode == "histogram":
        return content, [match_color_distribution(style, content) for style in styles]
    return content, list(styles)


def luminance_only(style: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The style image as grey RGB: its luminance Y, affinely matched to the content's mean and standard
    deviation (``(Y_s - mean_s) * std_c / std_s + mean_c``, clipped to [0, 1]), in all three channels.
    With ``style`` the content itself this is just the content's luminance."""
    y_style, y_content = rgb_to_ycbcr(style)[..., 0], rgb_to_ycbcr(content)[..., 0]
    spread = float(y_style.std())
    scale = float(y_content.std()) / spread if spread > 0 else 1.0
    matched = (y_style - float(y_style.mean())) * scale + float(y_content.mean())
    return _grey(np.clip(matched, 0.0, 1.0))


def _grey(luminance: np.ndarray) -> np.ndarray:
    return np.repeat(luminance.astype(np.float32)[..., None], 3, axis=2)


def match_color_distribution(style: np.ndarray, content: np.ndarray) -> np.ndarray:
    """``style`` with its RGB mean and covariance made the content's: ``x' = A (x - mean_s) + mean_c`` with
    ``A = cov_c^(1/2) cov_s^(-1/2)`` (symmetric square roots, Gatys et al. 2016's "image analogies" choice),
    clipped to [0, 1]. Returns float32 RGB of the style's shape."""
    pixels_s = style.reshape(-1, 3).astype(np.float64)
    pixels_c = content.reshape(-1, 3).astype(np.float64)
    mean_s, mean_c = pixels_s.mean(axis=0), pixels_c.mean(axis=0)
    transform = _matrix_power(np.cov(pixels_c, rowvar=False), 0.5) @ _matrix_power(np.cov(pixels_s, rowvar=False), -0.5)
    matched = (pixels_s - mean_s) @ transform.T + mean_c
    return np.clip(matched, 0.0, 1.0).reshape(style.shape).astype(np.float32)


def _matrix_power(covariance: np.ndarray, power: float) -> np.ndarray:
    """``covariance ** power`` of a symmetric positive semi-definite matrix, eigenvalues floored."""
    values, vectors = np.linalg.eigh(covariance)
    return (vectors * np.maximum(values, _COVARIANCE_FLOOR) ** power) @ vectors.T
