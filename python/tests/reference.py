"""Independent NumPy reference of everything the engine computes, for the tests to compare against.

Written for clarity, not speed: float64 by default (pass float32 arrays to stay in float32), arrays
channel-major ``[C, H, W]`` as in the engine. Each operation's backward sits next to its forward
(micrograd style). Conventions follow docs/ARCHITECTURE.md:

- conv3x3: stride 1, zero padding 1, cross-correlation, weights OIHW, plus bias;
- pooling: 2x2, stride 2, floor (a trailing odd row/column is dropped and gets zero gradient);
  max pooling sends the gradient to the first maximum of each window in row-major order;
- VGG layer names ``conv1_1, relu1_1, ..., pool1, ...`` (``convB_I`` pre-activation);
- the neural-style objective (content/style/tv with the ``N_l = C*H*W`` normalisations);
- the tutorial (Coursera) costs with their ``4 n_H n_W n_C`` normalisations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from swiftnst.weights.architecture import architecture_for_conv_count, layer_names

Weights = Mapping[str, tuple[np.ndarray, np.ndarray]]


# MARK: - Input convention (docs/ARCHITECTURE.md "Weights file")


def preprocess(rgb: np.ndarray, convention) -> np.ndarray:
    """HxWx3 RGB (uint8 0..255, or floats in 0..1) -> ``[3, H, W]`` model input, float64.

    ``x = ((rgb01 * input_scale)[channel order] - mean) / std``; ``convention`` is a
    ``swiftnst.weights.InputConvention`` (or anything with its attributes).
    """
    rgb01 = rgb / 255.0 if rgb.dtype == np.uint8 else np.asarray(rgb, np.float64)
    x = rgb01 * convention.input_scale
    if convention.channel_order == "BGR":
        x = x[:, :, ::-1]
    return ((x - np.asarray(convention.mean)) / np.asarray(convention.std)).transpose(2, 0, 1)


def deprocess(x: np.ndarray, convention) -> np.ndarray:
    """Inverse of ``preprocess``: ``[3, H, W]`` -> HxWx3 RGB floats, clipped to 0..1."""
    hwc = np.asarray(x, np.float64).transpose(1, 2, 0) * np.asarray(convention.std) + np.asarray(convention.mean)
    if convention.channel_order == "BGR":
        hwc = hwc[:, :, ::-1]
    return np.clip(hwc / convention.input_scale, 0.0, 1.0)


def caffe_range(convention) -> tuple[np.ndarray, float]:
    """How the engine loads a model of ``convention`` (swiftnst.h, ``nst_model_load_from_file``), derived
    here from the statement, not from the engine: the file's input times ``input_factors`` (per channel,
    255 * std / input_scale) is the loaded model's input, and its activations are the file's network's
    times ``activation_scale`` (the factors' geometric mean). Returns ``(input_factors, activation_scale)``;
    all ones for the Caffe convention."""
    factors = 255.0 * np.asarray(convention.std, np.float64) / convention.input_scale
    return factors, float(np.prod(factors) ** (1 / 3))


def loaded_vgg_forward(x: np.ndarray, weights, layers: Sequence[str], pooling: str = "max") -> dict[str, np.ndarray]:
    """The activations of ``weights`` (a ``VGGWeights``) as the engine loads them, on ``x`` in the loaded
    model's input space: the file's network on ``x / input_factors``, times ``activation_scale``."""
    factors, scale = caffe_range(weights.convention)
    acts, _ = vgg_forward(x / factors[:, None, None], weights.layers, layers, pooling)
    return {layer: scale * a for layer, a in acts.items()}


# MARK: - Layers


def conv3x3(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """``out[o, h, w] = bias[o] + sum_{i,k,l} weight[o, i, k, l] * x[i, h + k - 1, w + l - 1]`` (zero padding)."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    windows = sliding_window_view(padded, (3, 3), axis=(1, 2))  # [C, H, W, 3, 3]
    out = np.einsum("oikl,ihwkl->ohw", weight, windows, optimize=True)
    return out if bias is None else out + bias[:, None, None]


def conv3x3_backward_input(grad_out: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Gradient w.r.t. the conv input: a conv of ``grad_out`` with the kernels flipped and in/out swapped."""
    return conv3x3(grad_out, weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def relu_backward(grad_out: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of relu at ``x`` (zero where ``x <= 0``)."""
    return grad_out * (x > 0)


def _windows(x: np.ndarray) -> np.ndarray:
    """``[C, H, W]`` -> ``[C, H//2, W//2, 4]``: the 2x2 windows in row-major order."""
    c, h, w = x.shape
    x = x[:, : h - h % 2, : w - w % 2]
    return x.reshape(c, h // 2, 2, w // 2, 2).transpose(0, 1, 3, 2, 4).reshape(c, h // 2, w // 2, 4)


def _unwindows(g: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Inverse of ``_windows`` for gradients; dropped rows/columns get zero."""
    c, h, w = shape
    out = np.zeros(shape, dtype=g.dtype)
    out[:, : h - h % 2, : w - w % 2] = (
        g.reshape(c, h // 2, w // 2, 2, 2).transpose(0, 1, 3, 2, 4).reshape(c, h - h % 2, w - w % 2))
    return out


def max_pool(x: np.ndarray) -> np.ndarray:
    return _windows(x).max(axis=-1)


def max_pool_backward(grad_out: np.ndarray, x: np.ndarray) -> np.ndarray:
    windows = _windows(x)
    first_max = np.argmax(windows, axis=-1)  # argmax returns the first maximum: the tie rule
    routed = np.zeros_like(windows, dtype=grad_out.dtype)
    np.put_along_axis(routed, first_max[..., None], grad_out[..., None], axis=-1)
    return _unwindows(routed, x.shape)


def avg_pool(x: np.ndarray) -> np.ndarray:
    return _windows(x).mean(axis=-1)


def avg_pool_backward(grad_out: np.ndarray, x: np.ndarray) -> np.ndarray:
    spread = np.repeat(grad_out[..., None] / 4, 4, axis=-1)
    return _unwindows(spread, x.shape)


def gram(f: np.ndarray) -> np.ndarray:
    """``F F^T`` of the ``[C, H*W]`` unrolled activation (no normalisation)."""
    flat = f.reshape(f.shape[0], -1)
    return flat @ flat.T


def gram_backward(grad_gram: np.ndarray, f: np.ndarray) -> np.ndarray:
    """d/dF of ``<grad_gram, F F^T>``: ``(grad_gram + grad_gram^T) F``."""
    flat = f.reshape(f.shape[0], -1)
    return ((grad_gram + grad_gram.T) @ flat).reshape(f.shape)


# MARK: - VGG feature network


@dataclass
class Tape:
    """What ``vgg_backward`` needs: each layer's name and input, in network order."""

    weights: Weights
    pooling: str
    records: list[tuple[str, np.ndarray]] = field(default_factory=list)


def architecture_of(weights: Weights) -> str:
    architecture = architecture_for_conv_count(sum(1 for name in weights if name.startswith("conv")))
    if architecture is None:
        raise ValueError(f"weights hold {len(weights)} conv layers; expected 16 (vgg19) or 13 (vgg16)")
    return architecture


def vgg_forward(x: np.ndarray, weights: Weights, layers: Sequence[str],
                pooling: str = "max") -> tuple[dict[str, np.ndarray], Tape]:
    """Run the VGG features on ``x`` ``[3, H, W]`` up to the deepest of ``layers``.

    Returns the activations of ``layers`` and a ``Tape`` for ``vgg_backward``. ``weights`` maps
    ``convB_I`` to ``(weight OIHW, bias)``; the architecture follows from the number of convs.
    """
    names = layer_names(architecture_of(weights))
    unknown = [layer for layer in layers if layer not in names]
    if unknown:
        raise ValueError(f"unknown layers {unknown}")
    deepest = max(names.index(layer) for layer in layers)
    tape = Tape(weights, pooling)
    wanted: dict[str, np.ndarray] = {}
    for name in names[: deepest + 1]:
        tape.records.append((name, x))
        if name.startswith("conv"):
            weight, bias = weights[name]
            x = conv3x3(x, weight.astype(x.dtype, copy=False), bias.astype(x.dtype, copy=False))
        elif name.startswith("relu"):
            x = relu(x)
        else:
            x = max_pool(x) if pooling == "max" else avg_pool(x)
        if name in layers:
            wanted[name] = x
    return wanted, tape


def vgg_backward(tape: Tape, grads: Mapping[str, np.ndarray]) -> np.ndarray:
    """Gradient w.r.t. the image of ``sum_l <grads[l], F_l(x)>`` (gradients injected at several layers)."""
    grad: np.ndarray | None = None
    for name, layer_input in reversed(tape.records):
        if name in grads:
            grad = grads[name] if grad is None else grad + grads[name]
        if grad is None:
            continue
        if name.startswith("conv"):
            grad = conv3x3_backward_input(grad, tape.weights[name][0].astype(grad.dtype, copy=False))
        elif name.startswith("relu"):
            grad = relu_backward(grad, layer_input)
        elif tape.pooling == "max":
            grad = max_pool_backward(grad, layer_input)
        else:
            grad = avg_pool_backward(grad, layer_input)
    if grad is None:
        raise ValueError("no gradient was injected at a layer on the tape")
    return grad


# MARK: - Neural-style objective (docs/ARCHITECTURE.md)


@dataclass(frozen=True)
class Objective:
    """The neural-style hyperparameters, defaults as in docs/ARCHITECTURE.md."""

    content_layers: Mapping[str, float] = field(default_factory=lambda: {"relu4_2": 1.0})
    style_layers: Mapping[str, float] = field(
        default_factory=lambda: {f"relu{b}_1": 1.0 for b in range(1, 6)})
    content_weight: float = 5.0
    style_weight: float = 100.0
    tv_weight: float = 1e-3
    pooling: str = "max"


def style_targets(weights: Weights, styles: Sequence[np.ndarray], objective: Objective,
                  blend: Sequence[float] | None = None) -> dict[str, np.ndarray]:
    """``T_l = sum_s b_s G_l(s) / N_l(s)`` with the blend weights ``b`` normalised to sum 1."""
    b = np.ones(len(styles)) if blend is None else np.asarray(blend, dtype=np.float64)
    b = b / b.sum()
    layers = list(objective.style_layers)
    targets = {layer: 0.0 for layer in layers}
    for weight, style in zip(b, styles):
        acts, _ = vgg_forward(style, weights, layers, objective.pooling)
        for layer in layers:
            targets[layer] = targets[layer] + weight * gram(acts[layer]) / acts[layer].size
    return targets  # type: ignore[return-value]


def total_variation(x: np.ndarray) -> tuple[float, np.ndarray]:
    """``0.5 * sum((x[:, i, j+1] - x[:, i, j])^2 + (x[:, i+1, j] - x[:, i, j])^2)`` and its gradient."""
    dx = x[:, :, 1:] - x[:, :, :-1]
    dy = x[:, 1:, :] - x[:, :-1, :]
    grad = np.zeros_like(x)
    grad[:, :, 1:] += dx
    grad[:, :, :-1] -= dx
    grad[:, 1:, :] += dy
    grad[:, :-1, :] -= dy
    return 0.5 * float((dx * dx).sum() + (dy * dy).sum()), grad


def neural_style(x: np.ndarray, weights: Weights, content: np.ndarray, styles: Sequence[np.ndarray],
                 objective: Objective = Objective(),
                 blend: Sequence[float] | None = None) -> tuple[dict[str, float], np.ndarray]:
    """The objective of docs/ARCHITECTURE.md at ``x`` and its gradient (same shape as ``x``).

    Returns ``({"total", "content", "style", "tv"}, gradient)``; each term already carries its weight.
    """
    content_acts, _ = vgg_forward(content, weights, list(objective.content_layers), objective.pooling)
    targets = style_targets(weights, styles, objective, blend)
    layers = list(dict.fromkeys([*objective.content_layers, *objective.style_layers]))
    acts, tape = vgg_forward(x, weights, layers, objective.pooling)

    losses = {"content": 0.0, "style": 0.0}
    grads: dict[str, np.ndarray] = {}

    def inject(layer: str, g: np.ndarray) -> None:
        grads[layer] = grads[layer] + g if layer in grads else g

    for layer, w in objective.content_layers.items():
        diff = acts[layer] - content_acts[layer]
        scale = objective.content_weight * w
        losses["content"] += scale * float(np.mean(diff * diff))
        inject(layer, scale * 2 * diff / diff.size)
    for layer, w in objective.style_layers.items():
        f = acts[layer]
        n = f.size  # N_l = C*H*W, used forward and backward alike
        diff = gram(f) / n - targets[layer]
        scale = objective.style_weight * w
        losses["style"] += scale * float(np.mean(diff * diff))
        inject(layer, gram_backward(scale * 2 * diff / diff.size / n, f))
    grad = vgg_backward(tape, grads)
    tv, tv_grad = total_variation(x)
    losses["tv"] = objective.tv_weight * tv
    losses["total"] = losses["content"] + losses["style"] + losses["tv"]
    return losses, grad + objective.tv_weight * tv_grad


# MARK: - Tutorial (Coursera) costs, on [C, H, W] activations, float64


def tutorial_content_cost(a_c: np.ndarray, a_g: np.ndarray) -> float:
    """``sum((a_C - a_G)^2) / (4 n_H n_W n_C)``."""
    diff = np.asarray(a_c, np.float64) - np.asarray(a_g, np.float64)
    return float((diff * diff).sum() / (4 * diff.size))


def tutorial_layer_style_cost(a_s: np.ndarray, a_g: np.ndarray) -> float:
    """``sum((G_S - G_G)^2) / (4 n_C^2 (n_H n_W)^2)`` with ``G = A A^T`` unnormalised."""
    a_s, a_g = np.asarray(a_s, np.float64), np.asarray(a_g, np.float64)
    c, hw = a_s.shape[0], a_s[0].size
    diff = gram(a_s) - gram(a_g)
    return float((diff * diff).sum() / (4 * c * c * hw * hw))


def tutorial_style_cost(acts_s: Mapping[str, np.ndarray], acts_g: Mapping[str, np.ndarray],
                        layer_weights: Mapping[str, float]) -> float:
    """``sum_l lambda_l J_style^[l]``."""
    return sum(w * tutorial_layer_style_cost(acts_s[layer], acts_g[layer]) for layer, w in layer_weights.items())


def tutorial_total_cost(j_content: float, j_style: float, alpha: float = 10.0, beta: float = 40.0) -> float:
    """``alpha J_content + beta J_style`` (the tutorial's defaults alpha 10, beta 40)."""
    return alpha * j_content + beta * j_style


def coursera(x: np.ndarray, weights: Weights, content: np.ndarray, style: np.ndarray,
             content_layers: Mapping[str, float], style_layers: Mapping[str, float], alpha: float, beta: float,
             pooling: str = "max") -> tuple[dict[str, float], np.ndarray]:
    """The Coursera assignment's ``J = alpha sum_l w_l J_content + beta sum_l lambda_l J_style^[l]`` at ``x``
    (a style image of ``x``'s size, as in the tutorial) and its gradient, from the tutorial's formulas:
    ``dJ_content/da_G = (a_G - a_C) / (2 n_H n_W n_C)``, ``dJ_style^[l]/dG_G = (G_G - G_S) / (2 n_C^2 (n_H n_W)^2)``.

    Returns ``({"total", "content", "style"}, gradient)``; no total-variation term.
    """
    content_acts, _ = vgg_forward(content, weights, list(content_layers), pooling)
    style_acts, _ = vgg_forward(style, weights, list(style_layers), pooling)
    acts, tape = vgg_forward(x, weights, list(dict.fromkeys([*content_layers, *style_layers])), pooling)
    losses = {"content": 0.0, "style": 0.0}
    grads: dict[str, np.ndarray] = {}
    for layer, w in content_layers.items():
        losses["content"] += alpha * w * tutorial_content_cost(content_acts[layer], acts[layer])
        grads[layer] = alpha * w * (acts[layer] - content_acts[layer]) / (2 * acts[layer].size)
    for layer, w in style_layers.items():
        f = acts[layer]
        c, hw = f.shape[0], f[0].size
        losses["style"] += beta * w * tutorial_layer_style_cost(style_acts[layer], f)
        grad_gram = beta * w * (gram(f) - gram(style_acts[layer])) / (2 * c * c * hw * hw)
        grads[layer] = grads.get(layer, 0) + gram_backward(grad_gram, f)
    losses["total"] = losses["content"] + losses["style"]
    return losses, vgg_backward(tape, grads)
