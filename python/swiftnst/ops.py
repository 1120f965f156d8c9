"""NumPy wrappers of the engine's single-layer operations and the tutorial's cost functions.

Every function validates its arrays (real dtype, shape), converts them once to C-contiguous
float32, runs the Swift implementation and returns new arrays; the conventions (OIHW weights,
2x2 floor pooling, first-maximum routing) are those of swiftnst.h's "Layer operations" and
"Tutorial costs" sections. Activations are channel-major ``[C, H, W]``.
"""

from __future__ import annotations

import ctypes

import numpy as np

from . import _bindings as C
from ._errors import NSTInvalidArgumentError, NSTShapeError, check
from ._arguments import pooling_code

__all__ = [
    "conv3x3", "conv3x3_backward_input", "relu", "relu_backward", "pool2x2", "pool2x2_backward",
    "gram_matrix", "gram_backward", "content_cost", "layer_style_cost",
]


def _f32(x: np.ndarray, ndim: int, name: str) -> np.ndarray:
    """``x`` as C-contiguous float32 with ``ndim`` dimensions; rejects non-real dtypes."""
    array = np.asarray(x)
    if array.dtype.kind not in "fiub":
        raise NSTInvalidArgumentError(f"{name} must hold real numbers, not {array.dtype}")
    if array.ndim != ndim:
        raise NSTShapeError(f"{name} must have {ndim} dimensions, got shape {list(array.shape)}")
    return np.ascontiguousarray(array, dtype=np.float32)


def _same_shape(a: np.ndarray, b: np.ndarray, names: str) -> None:
    if a.shape != b.shape:
        raise NSTShapeError(f"{names} must have the same shape, got {list(a.shape)} and {list(b.shape)}")


def conv3x3(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """3x3 convolution, stride 1, zero padding 1: ``[I, H, W]`` with weight ``[O, I, 3, 3]``, bias ``[O]``
    -> ``[O, H, W]``."""
    x, weight, bias = _f32(x, 3, "x"), _f32(weight, 4, "weight"), _f32(bias, 1, "bias")
    out_channels = weight.shape[0]
    if weight.shape[1:] != (x.shape[0], 3, 3) or bias.shape != (out_channels,):
        raise NSTShapeError(f"weight {list(weight.shape)} and bias {list(bias.shape)} do not fit an input of "
                            f"{x.shape[0]} channels (expected [O, {x.shape[0]}, 3, 3] and [O])")
    out = np.empty((out_channels, *x.shape[1:]), dtype=np.float32)
    check(C.nst_op_conv3x3_forward(x, x.shape[0], x.shape[1], x.shape[2], weight, bias, out_channels,
                                   out, out.size), "nst_op_conv3x3_forward")
    return out


def conv3x3_backward_input(grad_output: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Gradient of ``conv3x3`` w.r.t. its input: ``[O, H, W]`` and weight ``[O, I, 3, 3]`` -> ``[I, H, W]``."""
    grad_output, weight = _f32(grad_output, 3, "grad_output"), _f32(weight, 4, "weight")
    if weight.shape[0] != grad_output.shape[0] or weight.shape[2:] != (3, 3):
        raise NSTShapeError(f"weight {list(weight.shape)} does not fit grad_output of {grad_output.shape[0]} "
                            "channels (expected [O, I, 3, 3])")
    grad_input = np.empty((weight.shape[1], *grad_output.shape[1:]), dtype=np.float32)
    check(C.nst_op_conv3x3_backward_input(grad_output, grad_output.shape[0], grad_output.shape[1],
                                          grad_output.shape[2], weight, weight.shape[1], grad_input,
                                          grad_input.size), "nst_op_conv3x3_backward_input")
    return grad_input


def relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)`` elementwise (any shape)."""
    x = _f32(x, np.ndim(x), "x")
    out = np.empty_like(x)
    check(C.nst_op_relu_forward(x, out, x.size), "nst_op_relu_forward")
    return out


def relu_backward(x: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
    """``grad_output`` where the ReLU's input ``x`` > 0, else 0."""
    x, grad_output = _f32(x, np.ndim(x), "x"), _f32(grad_output, np.ndim(grad_output), "grad_output")
    _same_shape(x, grad_output, "x and grad_output")
    grad_input = np.empty_like(x)
    check(C.nst_op_relu_backward(x, grad_output, grad_input, x.size), "nst_op_relu_backward")
    return grad_input


def pool2x2(x: np.ndarray, pooling: str = "max") -> np.ndarray:
    """2x2 pooling, stride 2 (``"max"`` or ``"avg"``): ``[C, H, W]`` -> ``[C, H//2, W//2]``."""
    x = _f32(x, 3, "x")
    channels, height, width = x.shape
    out = np.empty((channels, height // 2, width // 2), dtype=np.float32)
    check(C.nst_op_pool2x2_forward(pooling_code(pooling), x, channels, height, width, out, out.size),
          "nst_op_pool2x2_forward")
    return out


def pool2x2_backward(x: np.ndarray, grad_output: np.ndarray, pooling: str = "max") -> np.ndarray:
    """Gradient of ``pool2x2`` w.r.t. its input ``x`` ``[C, H, W]`` from ``grad_output`` ``[C, H//2, W//2]``.

    Dropped odd rows/columns get 0; max pooling routes to the first maximum of each window.
    """
    x, grad_output = _f32(x, 3, "x"), _f32(grad_output, 3, "grad_output")
    channels, height, width = x.shape
    if grad_output.shape != (channels, height // 2, width // 2):
        raise NSTShapeError(f"grad_output must have shape {[channels, height // 2, width // 2]}, "
                            f"got {list(grad_output.shape)}")
    grad_input = np.empty_like(x)
    check(C.nst_op_pool2x2_backward(pooling_code(pooling), x, channels, height, width, grad_output,
                                    grad_output.size, grad_input, grad_input.size), "nst_op_pool2x2_backward")
    return grad_input


def _features(features: np.ndarray) -> np.ndarray:
    """``[C, N]`` or ``[C, H, W]`` (unrolled to ``[C, H*W]``) as float32."""
    array = np.asarray(features)
    if array.ndim not in (2, 3):
        raise NSTShapeError(f"features must be [C, N] or [C, H, W], got shape {list(array.shape)}")
    flat = _f32(array, array.ndim, "features")
    return flat.reshape(flat.shape[0], -1)


def gram_matrix(features: np.ndarray) -> np.ndarray:
    """Gram matrix ``F F^T`` ``[C, C]`` of features ``[C, N]`` (or ``[C, H, W]``, unrolled)."""
    f = _features(features)
    out = np.empty((f.shape[0], f.shape[0]), dtype=np.float32)
    check(C.nst_gram_matrix(f, f.shape[0], f.shape[1], out, out.size), "nst_gram_matrix")
    return out


def gram_backward(features: np.ndarray, grad_gram: np.ndarray) -> np.ndarray:
    """Gradient of a scalar ``L(F F^T)`` w.r.t. the features: ``(grad_gram + grad_gram^T) F``, shaped like ``features``."""
    shape = np.shape(features)
    f = _features(features)
    grad_gram = _f32(grad_gram, 2, "grad_gram")
    if grad_gram.shape != (f.shape[0], f.shape[0]):
        raise NSTShapeError(f"grad_gram must have shape {[f.shape[0], f.shape[0]]}, got {list(grad_gram.shape)}")
    out = np.empty_like(f)
    check(C.nst_op_gram_backward(f, f.shape[0], f.shape[1], grad_gram, out, out.size), "nst_op_gram_backward")
    return out.reshape(shape)


def _cost(function, name: str, a: np.ndarray, b: np.ndarray) -> float:
    a, b = _f32(a, 3, "first activation"), _f32(b, 3, "second activation")
    _same_shape(a, b, "the two activations")
    cost = ctypes.c_double()
    check(function(a, b, a.shape[0], a.shape[1], a.shape[2], ctypes.byref(cost)), name)
    return cost.value


def content_cost(a_c: np.ndarray, a_g: np.ndarray) -> float:
    """The tutorial's ``sum((a_c - a_g)^2) / (4 n_H n_W n_C)`` for activations ``[C, H, W]``."""
    return _cost(C.nst_content_cost, "nst_content_cost", a_c, a_g)


def layer_style_cost(a_s: np.ndarray, a_g: np.ndarray) -> float:
    """The tutorial's ``sum((G(a_s) - G(a_g))^2) / (4 n_C^2 (n_H n_W)^2)`` for activations ``[C, H, W]``."""
    return _cost(C.nst_layer_style_cost, "nst_layer_style_cost", a_s, a_g)
