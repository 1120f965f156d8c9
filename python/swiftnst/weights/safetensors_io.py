"""The safetensors container, in pure Python/NumPy: an atomic writer and a strict reader.

Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the raw little-endian
tensor bytes. The reader accepts a file only if the header is well-formed and the tensors tile the
data region exactly (no gaps, overlaps or trailing bytes), so a truncated or spliced file is rejected
with a message rather than read as garbage. ``save_weights``/``load_weights`` add the swiftnst rules of
docs/ARCHITECTURE.md on top (F32 only, required metadata, exactly the architecture's conv tensors).
"""

from __future__ import annotations

import json
import math
import os
import struct
from typing import Any, Mapping

import numpy as np

from . import WeightsError
from .._atomic import atomic_write
from .input_file import open_weights_file
from .vgg_weights import VGGWeights

_DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}

#: Headers larger than this are refused before being read (real ones are a few kB).
MAX_HEADER_BYTES = 100 * 1024 * 1024
_ALIGNMENT = 8  # header padded with spaces so the data starts 8-byte aligned (for mmap readers)


def write_safetensors(path: str | os.PathLike, tensors: Mapping[str, np.ndarray],
                      metadata: Mapping[str, str] | None = None) -> None:
    """Write ``tensors`` (name -> array, any supported dtype) and string ``metadata`` atomically."""
    header: dict[str, Any] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise WeightsError(f"{path}: metadata keys and values must be strings")
        header["__metadata__"] = dict(metadata)
    arrays = []
    offset = 0
    for name, array in tensors.items():
        if name == "__metadata__":
            raise WeightsError(f"{path}: '__metadata__' is not a valid tensor name")
        array = np.ascontiguousarray(array)
        little = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        if little not in _NAMES:
            raise WeightsError(f"{path}: tensor {name!r} has unsupported dtype {array.dtype}")
        array = array.astype(little, copy=False)
        header[name] = {"dtype": _NAMES[little], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
        arrays.append(array)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % _ALIGNMENT)
    with atomic_write(path) as handle:
        handle.write(struct.pack("<Q", len(text)))
        handle.write(text)
        for array in arrays:
            handle.write(array.tobytes())


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_safetensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read and fully validate a safetensors file; returns ``(tensors, metadata)``.

    Raises ``WeightsError`` naming the file for a missing file, bad header, unknown dtype, shape and
    size mismatch, overlapping/gapped data, or truncation.
    """
    where = str(path)
    with open_weights_file(path) as handle:
        data = handle.read()
    if len(data) < 8:
        raise WeightsError(f"{where}: truncated: {len(data)} bytes, too short for a safetensors header")
    (header_len,) = struct.unpack_from("<Q", data)
    if header_len < 2 or header_len > MAX_HEADER_BYTES:
        raise WeightsError(f"{where}: not a safetensors file (header length {header_len})")
    if 8 + header_len > len(data):
        raise WeightsError(f"{where}: truncated: header needs {header_len} bytes, file has {len(data) - 8}")
    try:
        header = json.loads(data[8:8 + header_len].decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: deeply nested JSON
        raise WeightsError(f"{where}: malformed safetensors header: {type(exc).__name__}: {exc}") from None
    if not isinstance(header, dict):
        raise WeightsError(f"{where}: malformed safetensors header: not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise WeightsError(f"{where}: __metadata__ must map strings to strings")

    body = memoryview(data)[8 + header_len:]
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise WeightsError(f"{where}: tensor {name!r}: entry needs exactly dtype, shape, data_offsets")
        dtype = _DTYPES.get(info["dtype"]) if isinstance(info["dtype"], str) else None
        if dtype is None:
            raise WeightsError(f"{where}: tensor {name!r}: unknown dtype {info['dtype']!r}")
        shape, offsets = info["shape"], info["data_offsets"]
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise WeightsError(f"{where}: tensor {name!r}: bad shape {shape!r}")
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(o) for o in offsets)
                or offsets[0] > offsets[1]):
            raise WeightsError(f"{where}: tensor {name!r}: bad data_offsets {offsets!r}")
        nbytes = math.prod(shape) * dtype.itemsize  # Python ints: a hostile shape cannot overflow
        if offsets[1] - offsets[0] != nbytes:
            raise WeightsError(f"{where}: tensor {name!r}: shape {shape} needs {nbytes} bytes, "
                               f"data_offsets span {offsets[1] - offsets[0]}")
        entries.append((offsets[0], offsets[1], name, dtype, tuple(shape)))

    entries.sort()
    position = 0
    for begin, end, name, _, _ in entries:
        if begin != position:
            problem = "overlaps the previous tensor" if begin < position else "leaves a gap before it"
            raise WeightsError(f"{where}: tensor {name!r} {problem} (data_offsets start {begin}, expected {position})")
        position = end
    if position > len(body):
        raise WeightsError(f"{where}: truncated: tensors need {position} data bytes, file has {len(body)}")
    if position < len(body):
        raise WeightsError(f"{where}: {len(body) - position} unexpected bytes after the last tensor")
    tensors = {name: np.frombuffer(body[begin:end], dtype=dtype).reshape(shape)
               for begin, end, name, dtype, shape in entries}
    return tensors, metadata


def save_weights(path: str | os.PathLike, weights: VGGWeights) -> None:
    """Write ``weights`` atomically in the swiftnst format (F32 tensors + required metadata)."""
    write_safetensors(path, weights.tensors(), weights.metadata())


def load_weights(path: str | os.PathLike) -> VGGWeights:
    """Read a swiftnst weights file, enforcing every rule of docs/ARCHITECTURE.md."""
    tensors, metadata = read_safetensors(path)
    for name, array in tensors.items():
        if array.dtype != np.float32:
            raise WeightsError(f"{path}: tensor {name!r} is {_NAMES[array.dtype]}, the format requires F32")
    return VGGWeights.from_tensors(tensors, metadata, str(path))
