"""What a torch state-dict pickle may contain, as stand-ins that never import torch.

torch pickles rebuild tensors with ``torch._utils._rebuild_tensor_v2`` (``_rebuild_tensor`` before
torch 0.4) from a storage named by a persistent id ``("storage", torch.FloatStorage, key, location,
numel)``. The restricted unpickler maps exactly those globals (``TORCH_GLOBALS``) to the stand-ins
below: a tensor becomes a ``TensorRef`` (storage, offset, size, stride) and each storage a ``Storage``
whose values the container reader fills in later, once it knows the storage is one it needs and of
a size it expects.
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import WeightsError

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
class Storage:
    kind: _StorageType
    key: str
    numel: int
    values: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        """The size of the storage's data as the pickle declares it."""
        return self.numel * self.kind.itemsize


@dataclass(frozen=True)
class TensorRef:
    storage: Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any, *rest: Any) -> TensorRef:
    # rest: requires_grad, backward_hooks[, metadata] for _rebuild_tensor_v2; none for _rebuild_tensor
    if not isinstance(storage, Storage):
        raise WeightsError(f"tensor rebuilt from {type(storage).__name__}, expected a storage")
    if len(rest) > 1 and rest[1]:
        raise WeightsError("tensor carries backward hooks; refusing")
    try:
        ref = TensorRef(storage, int(storage_offset), tuple(int(s) for s in size), tuple(int(s) for s in stride))
    except (TypeError, ValueError):
        raise WeightsError(f"tensor with malformed offset/size/stride {storage_offset!r}, {size!r}, {stride!r}") from None
    if len(ref.size) != len(ref.stride) or min(ref.size + ref.stride + (ref.offset,), default=0) < 0:
        raise WeightsError(f"tensor with inconsistent size {ref.size} and stride {ref.stride}")
    return ref


TORCH_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("collections", "OrderedDict"): collections.OrderedDict,
    **{("torch", name): _StorageType(name) for name in _STORAGE_DTYPES},
}


class Storages:
    """Persistent-id resolver: one ``_Storage`` per key, filled with values later."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.by_key: dict[str, Storage] = {}

    def __call__(self, pid: Any) -> Storage:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise WeightsError(f"{self.where}: unsupported persistent id {pid!r:.80}")
        if len(pid) == 6 and pid[5] is not None:
            raise WeightsError(f"{self.where}: storage views (legacy view_metadata) are not supported")
        kind, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(numel, int) or numel < 0:
            raise WeightsError(f"{self.where}: storage {key} has bad size {numel!r}")
        storage = self.by_key.setdefault(key, Storage(kind, key, numel))
        if storage.kind != kind or storage.numel != numel:
            raise WeightsError(f"{self.where}: storage {key} is declared twice with different types or sizes")
        return storage


def materialise(ref: TensorRef, shape: tuple[int, ...], label: str, where: str,
                read: Callable[[Storage], bytes]) -> np.ndarray:
    """The float32 values of ``ref``, whose layer has the expected ``shape``.

    The size is bounded by ``shape`` *before* anything is allocated (a stride-0 tensor may claim any
    size over a tiny storage). ``read(storage)`` returns the storage's bytes; it bounds what storages
    may declare. VGGWeights checks the exact shape, layer by layer, afterwards.
    """
    if math.prod(ref.size) > math.prod(shape):
        raise WeightsError(f"{where}: {label} has size {ref.size}, more elements than the expected shape {shape}")
    storage = ref.storage
    if storage.values is None:
        storage.values = storage.kind.decode(read(storage))
    values = storage.values
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride)) if all(ref.size) else -1
    if last >= len(values):
        raise WeightsError(f"{where}: a tensor reaches past the end of storage {ref.storage.key}")
    if last < 0:
        return np.zeros(ref.size, np.float32)
    item = values.itemsize
    view = np.lib.stride_tricks.as_strided(values[ref.offset:], ref.size, tuple(s * item for s in ref.stride))
    return np.array(view, dtype=np.float32)
