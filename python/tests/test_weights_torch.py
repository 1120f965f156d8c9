"""torchvision ``.pth`` state dicts -> VGGWeights, without torch.

The test files are forged here byte for byte as torch writes them (zip and legacy formats): the
pickles name ``torch._utils._rebuild_tensor_v2`` and ``torch.FloatStorage`` via a pure-Python pickler
that emits those globals without importing torch.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from swiftnst.weights import TORCHVISION, WeightsError
from swiftnst.weights.torch_pth import LEGACY_MAGIC, LEGACY_PROTOCOL, _conv_indices, load_torch_pth

DTYPES = {"FloatStorage": "<f4", "HalfStorage": "<f2", "DoubleStorage": "<f8"}


@dataclass(frozen=True)
class _Global:
    module: str
    name: str

    def __call__(self, *args):  # pickle only accepts callables as reduce functions
        raise AssertionError("never called")


@dataclass(eq=False)
class _Storage:
    key: str
    values: np.ndarray  # 1-D, or raw bfloat16 bits (uint16) for BFloat16Storage
    kind: str = "FloatStorage"

    def raw(self) -> bytes:
        return self.values.tobytes()


@dataclass(eq=False)
class _Tensor:
    storage: _Storage
    offset: int
    size: tuple
    stride: tuple


class _Forger(pickle._Pickler):  # the pure-Python pickler, whose save() can be extended
    def __init__(self, file, legacy: bool) -> None:
        super().__init__(file, protocol=2)
        self.legacy = legacy

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            pid = ("storage", _Global("torch", obj.kind), obj.key, "cpu", obj.values.size)
            return pid + (None,) if self.legacy else pid
        return None

    def reducer_override(self, obj):
        if isinstance(obj, _Tensor):
            return (_Global("torch._utils", "_rebuild_tensor_v2"),
                    (obj.storage, obj.offset, obj.size, obj.stride, False, collections.OrderedDict()))
        return NotImplemented

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _Global):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            return
        super().save(obj, save_persistent_id)


def _forge(obj, legacy=False) -> bytes:
    buffer = io.BytesIO()
    _Forger(buffer, legacy).dump(obj)
    return buffer.getvalue()


def _storages(state) -> list[_Storage]:
    seen = {}
    for value in (state.values() if isinstance(state, dict) else state):
        if isinstance(value, _Tensor):
            seen.setdefault(value.storage.key, value.storage)
    return list(seen.values())


def write_zip(path: Path, state, *, drop_storage=None, cut_storage=None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("vgg/data.pkl", _forge(state))
        archive.writestr("vgg/byteorder", "little")
        for storage in _storages(state):
            if storage.key == drop_storage:
                continue
            raw = storage.raw()
            archive.writestr(f"vgg/data/{storage.key}", raw[:-4] if storage.key == cut_storage else raw)
        archive.writestr("vgg/version", "3\n")
    return path


def write_legacy(path: Path, state) -> Path:
    storages = _storages(state)
    parts = [pickle.dumps(LEGACY_MAGIC, protocol=2), pickle.dumps(LEGACY_PROTOCOL, protocol=2),
             pickle.dumps({"protocol_version": LEGACY_PROTOCOL, "little_endian": True,
                           "type_sizes": {"short": 2, "int": 4, "long": 8}}, protocol=2),
             _forge(state, legacy=True), pickle.dumps([s.key for s in storages], protocol=2)]
    for storage in storages:
        parts += [struct.pack("<q", storage.values.size), storage.raw()]
    path.write_bytes(b"".join(parts))
    return path


def torchvision_state(layers, architecture: str, *, classifier=True):
    """A torchvision VGG state dict: ``features.{i}.weight/bias`` for the convs, plus the classifier."""
    state = collections.OrderedDict()
    for (name, (weight, bias)), index in zip(layers.items(), _conv_indices(architecture)):
        state[f"features.{index}.weight"] = _Tensor(_Storage(f"{index}w", weight.ravel()), 0, weight.shape,
                                                    (weight[0].size, 9, 3, 1))
        state[f"features.{index}.bias"] = _Tensor(_Storage(f"{index}b", bias), 0, bias.shape, (1,))
    if classifier:
        fc = np.arange(6, dtype=np.float32)
        state["classifier.0.weight"] = _Tensor(_Storage("fc", fc), 0, (2, 3), (3, 1))
    return state


@pytest.fixture(scope="module")
def vgg16_state(random_vgg_layers):
    return torchvision_state(random_vgg_layers("vgg16"), "vgg16")


def _check(weights, layers, architecture):
    assert weights.architecture == architecture and weights.convention == TORCHVISION
    for name, (weight, bias) in layers.items():
        np.testing.assert_array_equal(weights.layers[name][0], weight)
        np.testing.assert_array_equal(weights.layers[name][1], bias)


@pytest.mark.parametrize("writer", [write_zip, write_legacy])
def test_vgg16_both_container_formats(tmp_path, vgg16_state, random_vgg_layers, writer):
    weights = load_torch_pth(writer(tmp_path / "vgg16-397923af.pth", vgg16_state))
    _check(weights, random_vgg_layers("vgg16"), "vgg16")
    assert weights.source == "vgg16-397923af.pth"


def test_vgg19_detected_from_its_conv_count(tmp_path, random_vgg_layers):
    layers = random_vgg_layers("vgg19")
    _check(load_torch_pth(write_zip(tmp_path / "v.pth", torchvision_state(layers, "vgg19", classifier=False))),
           layers, "vgg19")


def test_offsets_strides_shared_storages_and_other_float_types(tmp_path, vgg16_state):
    state = collections.OrderedDict(vgg16_state)
    # conv1_1: weight stored transposed (IOHW memory) and its bias in the same storage after it
    weight = np.arange(64 * 27, dtype=np.float64).reshape(64, 3, 3, 3) / 7
    shared = _Storage("shared", np.concatenate([weight.transpose(1, 0, 2, 3).ravel(), np.full(64, 0.5)]),
                      "DoubleStorage")
    state["features.0.weight"] = _Tensor(shared, 0, (64, 3, 3, 3), (9, 64 * 9, 3, 1))
    state["features.0.bias"] = _Tensor(shared, 64 * 27, (64,), (1,))
    half = np.linspace(-2, 2, 64).astype("<f2")
    state["features.2.bias"] = _Tensor(_Storage("half", half, "HalfStorage"), 0, (64,), (1,))
    bf16 = np.linspace(-3, 3, 128).astype(np.float32)
    bits = (bf16.view(np.uint32) >> 16).astype("<u2")
    state["features.5.bias"] = _Tensor(_Storage("bf16", bits, "BFloat16Storage"), 0, (128,), (1,))
    weights = load_torch_pth(write_zip(tmp_path / "v.pth", state))
    np.testing.assert_array_equal(weights.layers["conv1_1"][0], weight.astype(np.float32))
    np.testing.assert_array_equal(weights.layers["conv1_1"][1], np.full(64, 0.5, np.float32))
    np.testing.assert_array_equal(weights.layers["conv1_2"][1], half.astype(np.float32))
    np.testing.assert_array_equal(weights.layers["conv2_1"][1], (bits.astype(np.uint32) << 16).view(np.float32))


def test_batch_norm_and_foreign_state_dicts_are_rejected(tmp_path, vgg16_state):
    bn = collections.OrderedDict(vgg16_state)
    bn["features.1.running_mean"] = bn["features.0.bias"]
    with pytest.raises(WeightsError, match="bn.pth: unexpected entry 'features.1.running_mean'"):
        load_torch_pth(write_zip(tmp_path / "bn.pth", bn))
    shifted = collections.OrderedDict((k.replace("features.28.", "features.29."), v) for k, v in vgg16_state.items())
    with pytest.raises(WeightsError, match="do not match torchvision vgg16"):
        load_torch_pth(write_zip(tmp_path / "s.pth", shifted))
    short = collections.OrderedDict((k, v) for k, v in vgg16_state.items() if not k.startswith("features.28."))
    with pytest.raises(WeightsError, match="found 12 conv layers"):
        load_torch_pth(write_zip(tmp_path / "short.pth", short))
    no_bias = collections.OrderedDict((k, v) for k, v in vgg16_state.items() if k != "features.28.bias")
    with pytest.raises(WeightsError, match="features.28 needs both weight and bias"):
        load_torch_pth(write_zip(tmp_path / "nb.pth", no_bias))
    with pytest.raises(WeightsError, match="expected a state dict"):
        load_torch_pth(write_zip(tmp_path / "list.pth", [1, 2]))


def test_damaged_files(tmp_path, vgg16_state):
    with pytest.raises(WeightsError, match="storage 5b holds 508 bytes, expected 512"):
        load_torch_pth(write_zip(tmp_path / "cut.pth", vgg16_state, cut_storage="5b"))
    with pytest.raises(WeightsError, match="vgg/data/7w is missing"):
        load_torch_pth(write_zip(tmp_path / "gone.pth", vgg16_state, drop_storage="7w"))
    good = write_legacy(tmp_path / "legacy.pth", vgg16_state).read_bytes()
    (tmp_path / "legacy_cut.pth").write_bytes(good[:-100])
    with pytest.raises(WeightsError, match="legacy_cut.pth: storage .* holds .* bytes, expected"):
        load_torch_pth(tmp_path / "legacy_cut.pth")
    (tmp_path / "legacy_tail.pth").write_bytes(good + b"\0")
    with pytest.raises(WeightsError, match="unexpected bytes after the last storage"):
        load_torch_pth(tmp_path / "legacy_tail.pth")
    zipped = write_zip(tmp_path / "z.pth", vgg16_state).read_bytes()
    (tmp_path / "zip_cut.pth").write_bytes(zipped[: len(zipped) // 2])
    with pytest.raises(WeightsError, match="zip_cut.pth"):
        load_torch_pth(tmp_path / "zip_cut.pth")
    with pytest.raises(WeightsError, match="no such file"):
        load_torch_pth(tmp_path / "missing.pth")
    overrun = collections.OrderedDict(vgg16_state)
    overrun["features.0.bias"] = _Tensor(_Storage("tiny", np.zeros(3, np.float32)), 0, (64,), (1,))
    with pytest.raises(WeightsError, match="reaches past the end of storage tiny"):
        load_torch_pth(write_zip(tmp_path / "over.pth", overrun))


def test_malicious_globals_never_run(tmp_path, vgg16_state):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    state = collections.OrderedDict(vgg16_state)
    state["classifier.6.weight"] = Payload()
    for writer in (write_zip, write_legacy):
        with pytest.raises(WeightsError, match=r"evil.pth: pickle references (posix|os)\.system, which is not allowed"):
            load_torch_pth(writer(tmp_path / "evil.pth", state))
    assert not marker.exists()
    with zipfile.ZipFile(tmp_path / "evil2.pth", "w") as archive:  # torch.load's classic exploit: eval in data.pkl
        archive.writestr("a/data.pkl", b"cbuiltins\neval\n(V__import__('os').system('touch " + str(marker).encode()
                         + b"')\ntR.")
    with pytest.raises(WeightsError, match="builtins.eval"):
        load_torch_pth(tmp_path / "evil2.pth")
    assert not marker.exists()
