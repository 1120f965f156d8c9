"""torchvision ``vgg19-*.pth`` / ``vgg16-*.pth`` state dicts -> ``VGGWeights``, without importing torch.

Two container formats exist. The zip format (torch >= 1.6) holds ``<dir>/data.pkl`` plus one raw
file ``<dir>/data/<key>`` per storage. The legacy format (older releases, e.g. the published
``vgg19-dcbb9e9d.pth``) is a run of pickles (magic number, protocol, system info, the state dict,
storage keys) followed by each storage as an int64 element count and its raw bytes. In both, the state
dict pickle names storages through persistent ids and rebuilds tensors with ``_rebuild_tensor_v2``
(``_rebuild_tensor`` before torch 0.4). The restricted unpickler maps those few globals to the stand-ins
below, and tensors become NumPy arrays once the raw storages are read.

torchvision numbers the ``features`` modules conv, ReLU, ..., pool: ``features.{0,2,5,7,10,...}``
are the convs in network order (weights OIHW already); ``classifier.*`` is ignored.
"""

from __future__ import annotations

import collections
import io
import os
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import WeightsError
from .architecture import architecture_for_conv_count, conv_layer_names, conv_weight_shapes
from .restricted_unpickler import restricted_load
from .vgg_weights import TORCHVISION, VGGWeights

#: First value pickled by the legacy format (torch.serialization.MAGIC_NUMBER) and its protocol.
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

_BFLOAT16 = object()  # marker: NumPy has no bfloat16, widened by hand below
_STORAGE_DTYPES: dict[str, Any] = {
    "FloatStorage": np.dtype("<f4"), "DoubleStorage": np.dtype("<f8"), "HalfStorage": np.dtype("<f2"),
    "BFloat16Storage": _BFLOAT16,
}


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def itemsize(self) -> int:
        dtype = _STORAGE_DTYPES[self.name]
        return 2 if dtype is _BFLOAT16 else dtype.itemsize

    def decode(self, raw: bytes) -> np.ndarray:
        dtype = _STORAGE_DTYPES[self.name]
        if dtype is _BFLOAT16:  # bfloat16 is the top half of a float32
            return (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        return np.frombuffer(raw, dtype)


@dataclass
class _Storage:
    kind: _StorageType
    key: str
    numel: int
    values: np.ndarray | None = None


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any, *rest: Any) -> _TensorRef:
    # rest: requires_grad, backward_hooks[, metadata] for _rebuild_tensor_v2; none for _rebuild_tensor
    if not isinstance(storage, _Storage):
        raise WeightsError(f"tensor rebuilt from {type(storage).__name__}, expected a storage")
    if len(rest) > 1 and rest[1]:
        raise WeightsError("tensor carries backward hooks; refusing")
    try:
        ref = _TensorRef(storage, int(storage_offset), tuple(int(s) for s in size), tuple(int(s) for s in stride))
    except (TypeError, ValueError):
        raise WeightsError(f"tensor with malformed offset/size/stride {storage_offset!r}, {size!r}, {stride!r}") from None
    if len(ref.size) != len(ref.stride) or min(ref.size + ref.stride + (ref.offset,), default=0) < 0:
        raise WeightsError(f"tensor with inconsistent size {ref.size} and stride {ref.stride}")
    return ref


_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("collections", "OrderedDict"): collections.OrderedDict,
    **{("torch", name): _StorageType(name) for name in _STORAGE_DTYPES},
}


class _Storages:
    """Persistent-id resolver: one ``_Storage`` per key, filled with values later."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.by_key: dict[str, _Storage] = {}

    def __call__(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise WeightsError(f"{self.where}: unsupported persistent id {pid!r:.80}")
        if len(pid) == 6 and pid[5] is not None:
            raise WeightsError(f"{self.where}: storage views (legacy view_metadata) are not supported")
        kind, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(numel, int) or numel < 0:
            raise WeightsError(f"{self.where}: storage {key} has bad size {numel!r}")
        storage = self.by_key.setdefault(key, _Storage(kind, key, numel))
        if storage.kind != kind or storage.numel != numel:
            raise WeightsError(f"{self.where}: storage {key} is declared twice with different types or sizes")
        return storage

    def fill(self, key: str, raw: bytes) -> None:
        storage = self.by_key[key]
        if len(raw) != storage.numel * storage.kind.itemsize:
            raise WeightsError(f"{self.where}: storage {key} holds {len(raw)} bytes, expected "
                               f"{storage.numel * storage.kind.itemsize} (truncated or damaged file)")
        storage.values = storage.kind.decode(raw)


def _materialise(ref: _TensorRef, shape: tuple[int, ...], label: str, where: str) -> np.ndarray:
    # A stride-0 tensor may claim any size over a tiny storage, so the allocation is bounded by the
    # expected layer before it happens; VGGWeights checks the exact shape, layer by layer, afterwards.
    if int(np.prod(ref.size, dtype=object)) > int(np.prod(shape)):
        raise WeightsError(f"{where}: {label} has size {ref.size}, more elements than the expected shape {shape}")
    values = ref.storage.values
    if values is None:
        raise WeightsError(f"{where}: storage {ref.storage.key} has no data in the file")
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride)) if all(ref.size) else -1
    if last >= len(values):
        raise WeightsError(f"{where}: a tensor reaches past the end of storage {ref.storage.key}")
    if last < 0:
        return np.zeros(ref.size, np.float32)
    item = values.itemsize
    view = np.lib.stride_tricks.as_strided(values[ref.offset:], ref.size, tuple(s * item for s in ref.stride))
    return np.array(view, dtype=np.float32)


def _read_zip(path: Path, where: str) -> tuple[Any, _Storages]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise WeightsError(f"{where}: not a readable zip archive ({exc})") from None
    with archive:
        pickles = [name for name in archive.namelist() if name.endswith("/data.pkl") and name.count("/") == 1]
        if len(pickles) != 1:
            raise WeightsError(f"{where}: expected one <dir>/data.pkl in the torch zip, found {len(pickles)}")
        prefix = pickles[0][: -len("data.pkl")]
        try:
            if f"{prefix}byteorder" in archive.namelist() and archive.read(f"{prefix}byteorder") != b"little":
                raise WeightsError(f"{where}: big-endian torch files are not supported")
            storages = _Storages(where)
            state = restricted_load(archive.read(pickles[0]), _GLOBALS, where, storages)
            for key in storages.by_key:
                try:
                    raw = archive.read(f"{prefix}data/{key}")
                except KeyError:
                    raise WeightsError(f"{where}: storage data {prefix}data/{key} is missing") from None
                storages.fill(key, raw)
        except WeightsError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:  # e.g. a CRC or inflate error
            raise WeightsError(f"{where}: damaged torch zip archive ({exc})") from None
    return state, storages


def _read_legacy(path: Path, where: str) -> tuple[Any, _Storages]:
    stream: BinaryIO = io.BytesIO(path.read_bytes())
    if restricted_load(stream, {}, where) != LEGACY_MAGIC:
        raise WeightsError(f"{where}: not a torch file (bad magic number)")
    if restricted_load(stream, {}, where) != LEGACY_PROTOCOL:
        raise WeightsError(f"{where}: unsupported legacy torch protocol")
    info = restricted_load(stream, {}, where)
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise WeightsError(f"{where}: big-endian or malformed legacy torch file")
    storages = _Storages(where)
    state = restricted_load(stream, _GLOBALS, where, storages)
    keys = restricted_load(stream, {}, where)
    if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(storages.by_key):
        raise WeightsError(f"{where}: storage key list does not match the storages the tensors use")
    for key in map(str, keys):
        header = stream.read(8)
        if len(header) != 8:
            raise WeightsError(f"{where}: truncated before storage {key}")
        (numel,) = struct.unpack("<q", header)
        storages.fill(key, stream.read(max(numel, 0) * storages.by_key[key].kind.itemsize))
    if stream.read(1):
        raise WeightsError(f"{where}: unexpected bytes after the last storage")
    return state, storages


_FEATURE_KEY = re.compile(r"features\.(\d+)\.(weight|bias)")


def _conv_indices(architecture: str) -> list[int]:
    """torchvision ``features`` indices of the convs: each conv is followed by a ReLU, each block by a pool."""
    indices, position = [], 0
    for name in conv_layer_names(architecture):
        if name.endswith("_1") and name != "conv1_1":
            position += 1  # the pool closing the previous block
        indices.append(position)
        position += 2
    return indices


def load_torch_pth(path: str | os.PathLike, source: str | None = None) -> VGGWeights:
    """Read a torchvision VGG-19/16 state dict (zip or legacy format) via the restricted unpickler."""
    path, where = Path(path), str(path)
    if not path.is_file():
        raise WeightsError(f"{where}: no such file")
    state, _ = _read_zip(path, where) if zipfile.is_zipfile(path) else _read_legacy(path, where)
    if not isinstance(state, dict):
        raise WeightsError(f"{where}: expected a state dict, found {type(state).__name__}")
    features: dict[int, dict[str, _TensorRef]] = {}
    for key, value in state.items():
        match = _FEATURE_KEY.fullmatch(str(key))
        if match is None:
            if str(key).startswith("classifier."):
                continue
            raise WeightsError(f"{where}: unexpected entry {key!r} (not a plain torchvision VGG state dict)")
        if not isinstance(value, _TensorRef):
            raise WeightsError(f"{where}: {key} is not a tensor")
        features.setdefault(int(match[1]), {})[match[2]] = value
    architecture = architecture_for_conv_count(len(features))
    if architecture is None:
        raise WeightsError(f"{where}: found {len(features)} conv layers in features.*, expected 16 or 13")
    indices = _conv_indices(architecture)
    if sorted(features) != indices:
        raise WeightsError(f"{where}: features.* indices {sorted(features)} do not match torchvision "
                           f"{architecture} ({indices})")
    layers = {}
    shapes = conv_weight_shapes(architecture)
    for name, index in zip(conv_layer_names(architecture), indices):
        entry = features[index]
        if set(entry) != {"weight", "bias"}:
            raise WeightsError(f"{where}: features.{index} needs both weight and bias")
        shape = shapes[name]
        layers[name] = (_materialise(entry["weight"], shape, f"features.{index}.weight", where),
                        _materialise(entry["bias"], shape[:1], f"features.{index}.bias", where))
    return VGGWeights(architecture, layers, TORCHVISION, source or path.name, where)
