"""Keras VGG-16/19 ``.h5`` weights (``*_weights_tf_dim_ordering_tf_kernels*.h5``) -> ``VGGWeights``.

Keras names the convs ``block{B}_conv{I}`` and stores kernels HWIO (TensorFlow ordering, cross-
correlation like ours, so no spatial flip); the weights come from Caffe, so inputs are BGR, 0..255,
minus the ImageNet mean (``CAFFE``). Read layouts: Keras 1/2 weights-only files (layer groups at the
top, datasets listed by the ``weight_names`` attribute, kernel first), full-model files (the same
under ``model_weights``), and Keras 3 ``.weights.h5`` files (``layers/<name>/vars/0`` kernel, ``1`` bias).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from . import WeightsError
from .architecture import architecture_for_conv_count, conv_layer_names, conv_weight_shapes
from .hdf5_structure import check_hdf5_structure
from .input_file import open_weights_file
from .layer_checks import check_declared_layer, check_layer_values, hwio_to_oihw
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
    with open_weights_file(path) as stream:
        try:
            handle = h5py.File(stream, "r")
        except OSError as exc:
            raise WeightsError(f"{where}: not a readable HDF5 file ({exc})") from None
        try:
            with handle:
                check_hdf5_structure(h5py, handle, where)  # before anything is read or followed
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
    shapes = conv_weight_shapes(architecture)
    for layer in conv_layer_names(architecture):
        name = _keras_name(layer)
        if name not in root:
            raise WeightsError(f"{where}: missing Keras layer {name}")
        group = root[name]
        # Keras 1/2 list kernel then bias in weight_names (paths relative to the layer group)
        weight_names = ["vars/0", "vars/1"] if keras3 else _weight_names(group, where, name)
        if len(weight_names) != 2:
            raise WeightsError(f"{where}: Keras layer {name} should hold a kernel and a bias, "
                               f"found {weight_names}")
        try:
            kernel, bias = (group[w] for w in weight_names)
        except (KeyError, OSError) as exc:
            raise WeightsError(f"{where}: cannot read Keras layer {name}: {exc}") from None
        if not all(isinstance(d, h5py.Dataset) for d in (kernel, bias)):
            raise WeightsError(f"{where}: Keras layer {name} names {weight_names}, which are not all datasets")
        # shapes and types come from the metadata: checked before a value is read (or allocated)
        check_declared_layer(where, layer, (hwio_to_oihw(kernel.shape), bias.shape), (kernel.dtype, bias.dtype),
                             shapes[layer])
        try:
            layers[layer] = (np.asarray(kernel[()]).transpose(3, 2, 0, 1), np.asarray(bias[()]))  # HWIO -> OIHW
        except (KeyError, OSError) as exc:
            raise WeightsError(f"{where}: cannot read Keras layer {name}: {exc}") from None
        check_layer_values(where, layer, *layers[layer])
    return layers, architecture


#: weight_names holds two paths; a longer list is refused before it is read.
_MAX_WEIGHT_NAMES = 16


def _weight_names(group, where: str, name: str) -> list[str]:
    if "weight_names" not in group.attrs:
        return []
    if math.prod(group.attrs.get_id("weight_names").shape or ()) > _MAX_WEIGHT_NAMES:
        raise WeightsError(f"{where}: Keras layer {name} lists more than {_MAX_WEIGHT_NAMES} weight names")
    return _names(group.attrs["weight_names"])
