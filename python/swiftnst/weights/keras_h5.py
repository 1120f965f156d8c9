"""Keras VGG-16/19 ``.h5`` weights (``*_weights_tf_dim_ordering_tf_kernels*.h5``) -> ``VGGWeights``.

Keras names the convs ``block{B}_conv{I}`` and stores kernels HWIO (TensorFlow ordering, cross-
correlation like ours, so no spatial flip); the weights come from Caffe, so inputs are BGR, 0..255,
minus the ImageNet mean (``CAFFE``). Read layouts: Keras 1/2 weights-only files (layer groups at the
top, datasets listed by the ``weight_names`` attribute, kernel first), full-model files (the same
under ``model_weights``), and Keras 3 ``.weights.h5`` files (``layers/<name>/vars/0`` kernel, ``1`` bias).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import WeightsError
from .architecture import architecture_for_conv_count, conv_layer_names
from .vgg_weights import CAFFE, VGGWeights


def _keras_name(layer: str) -> str:
    block, index = layer[len("conv"):].split("_")
    return f"block{block}_conv{index}"


def _names(attribute) -> list[str]:
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in np.asarray(attribute).ravel()]


def load_keras_h5(path: str | os.PathLike, source: str | None = None) -> VGGWeights:
    """Read a Keras VGG ``.h5`` file; the architecture follows from its number of conv layers.

    ``source`` overrides the provenance text stored in the output metadata.
    """
    try:
        import h5py
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise WeightsError(f"{path}: reading Keras .h5 files needs h5py (pip install h5py)") from None
    where = str(path)
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise WeightsError(f"{where}: not a readable HDF5 file ({exc})") from None
    try:
        with handle:
            layers, architecture = _read_layers(h5py, handle, where)
    except WeightsError:
        raise
    except Exception as exc:  # h5py raises RuntimeError, KeyError, ValueError, ... deep inside damaged files
        raise WeightsError(f"{where}: damaged HDF5 file ({type(exc).__name__}: {exc})") from None
    if source is None:
        source = Path(path).name
    return VGGWeights(architecture, layers, CAFFE, source, where)


def _read_layers(h5py, handle, where: str) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
    """The OIHW conv layers and the architecture of an open Keras file."""
    keras3 = "layers" in handle and "block1_conv1" in handle["layers"]
    root = handle["layers"] if keras3 else handle["model_weights"] if "model_weights" in handle else handle
    groups = [name for name in root if name.startswith("block") and "_conv" in name]
    architecture = architecture_for_conv_count(len(groups))
    if architecture is None:
        raise WeightsError(f"{where}: found {len(groups)} Keras conv layers (block*_conv*), "
                           "expected 16 (VGG-19) or 13 (VGG-16)")
    layers = {}
    for layer in conv_layer_names(architecture):
        name = _keras_name(layer)
        if name not in root:
            raise WeightsError(f"{where}: missing Keras layer {name}")
        group = root[name]
        # Keras 1/2 list kernel then bias in weight_names (paths relative to the layer group)
        weight_names = ["vars/0", "vars/1"] if keras3 else _names(group.attrs.get("weight_names", []))
        if len(weight_names) != 2:
            raise WeightsError(f"{where}: Keras layer {name} should hold a kernel and a bias, "
                               f"found {weight_names}")
        try:
            datasets = [group[w] for w in weight_names]
        except (KeyError, OSError) as exc:
            raise WeightsError(f"{where}: cannot read Keras layer {name}: {exc}") from None
        if not all(isinstance(d, h5py.Dataset) for d in datasets):
            raise WeightsError(f"{where}: Keras layer {name} names {weight_names}, which are not all datasets")
        try:
            kernel, bias = (np.asarray(d[()]) for d in datasets)
        except (KeyError, OSError) as exc:
            raise WeightsError(f"{where}: cannot read Keras layer {name}: {exc}") from None
        if kernel.ndim != 4:
            raise WeightsError(f"{where}: {name} kernel has shape {kernel.shape}, expected [3, 3, in, out]")
        layers[layer] = (kernel.transpose(3, 2, 0, 1), bias)  # HWIO -> OIHW
    return layers, architecture
