"""Float64 NumPy references of the two other style losses (swiftnst.h, ``nst_session_params.style_loss``),
on one layer's activations ``F`` ``[C, H, W]``: value and gradient with respect to ``F``.

Written from the definitions, not from the engine: the W2 gradient goes through the centred features
``F - mu`` and ``np.linalg.eigh`` (the engine: raw second moments and LAPACK ``dsyevd``), and the histogram
remap through a stable ``argsort`` and ``np.interp``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

#: The covariances' regularisation relative to the style's mean channel variance (the engine's).
W2_RELATIVE_EPSILON = 1e-4


def _sym_function(a: np.ndarray, f) -> np.ndarray:
    values, vectors = np.linalg.eigh(a)
    return (vectors * f(values)) @ vectors.T


def w2_target(styles: Sequence[np.ndarray], blend: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The style's mean and covariance: means and second raw moments blended (normalised weights)."""
    b = np.ones(len(styles)) if blend is None else np.asarray(blend, dtype=np.float64)
    b = b / b.sum()
    mean = sum(w * s.reshape(s.shape[0], -1).mean(axis=1) for w, s in zip(b, styles))
    second = sum(w * (lambda f: f @ f.T / f.shape[1])(s.reshape(s.shape[0], -1)) for w, s in zip(b, styles))
    return mean, second - np.outer(mean, mean)


def w2_loss(f: np.ndarray, target: tuple[np.ndarray, np.ndarray], weight: float) -> tuple[float, np.ndarray]:
    """``weight * W2^2 / C`` between Gaussians fitted to ``f`` and ``target`` (mean, covariance), and its gradient."""
    mean_s, cov_s = target
    c = f.shape[0]
    flat = f.reshape(c, -1)
    p = flat.shape[1]
    eps = max(W2_RELATIVE_EPSILON * np.trace(cov_s) / c, 1e-12)
    mean = flat.mean(axis=1)
    centred = flat - mean[:, None]
    cov = centred @ centred.T / p + eps * np.eye(c)
    cov_s = cov_s + eps * np.eye(c)
    root_s = _sym_function(cov_s, lambda v: np.sqrt(np.maximum(v, 0)))
    m = root_s @ cov @ root_s
    m = (m + m.T) / 2
    floor = eps * eps
    w2 = float(np.sum((mean - mean_s) ** 2) + np.trace(cov) + np.trace(cov_s)
               - 2 * np.sum(np.sqrt(np.maximum(np.linalg.eigvalsh(m), floor))))
    scale = weight / c
    grad_cov = scale * (np.eye(c) - root_s @ _sym_function(m, lambda v: 1 / np.sqrt(np.maximum(v, floor))) @ root_s)
    # d cov = (dF Fc^T + Fc dF^T) / p (the mean's own change cancels in the centred product).
    grad = (grad_cov + grad_cov.T) @ centred / p + (2 * scale * (mean - mean_s) / p)[:, None]
    return scale * w2, grad.reshape(f.shape)


def histogram_quantiles(styles: Sequence[np.ndarray], count: int, blend: Sequence[float] | None = None) -> np.ndarray:
    """Per channel the style's quantile at each of ``count`` ranks, ``[C, count]``: rank r reads the sorted values
    at ``(r + 1/2) * M / count - 1/2`` (clipped, linearly interpolated); several styles average them."""
    b = np.ones(len(styles)) if blend is None else np.asarray(blend, dtype=np.float64)
    b = b / b.sum()
    table = 0.0
    for w, s in zip(b, styles):
        flat = np.sort(s.reshape(s.shape[0], -1), axis=1)
        m = flat.shape[1]
        t = np.clip((np.arange(count) + 0.5) * m / count - 0.5, 0, m - 1)
        table = table + w * np.stack([np.interp(t, np.arange(m), row) for row in flat])
    return table  # type: ignore[return-value]


def histogram_loss(f: np.ndarray, quantiles: np.ndarray, weight: float) -> tuple[float, np.ndarray]:
    """``weight * mean((F - R(F))^2)`` with ``R`` giving each channel's value of rank r the quantile r (ties by
    position), and its gradient with ``R(F)`` held constant."""
    flat = f.reshape(f.shape[0], -1)
    order = np.argsort(flat, axis=1, kind="stable")
    remapped = np.empty_like(flat)
    np.put_along_axis(remapped, order, quantiles, axis=1)
    diff = flat - remapped
    return weight * float(np.mean(diff * diff)), (2 * weight * diff / diff.size).reshape(f.shape)
