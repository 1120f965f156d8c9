"""A streaming reader of MATLAB v5 ``.mat`` files that never materialises the arrays nobody needs.

The published ``imagenet-vgg-verydeep-19.mat`` holds 575 MB, 480 MB of it the classifier (fc6 alone is
7x7x512x4096 floats); the 16 convs a style transfer uses hold 80 MB. scipy's reader builds every array
of a variable, so this reader walks the elements itself (``miCOMPRESSED`` variables are inflated as
they are read, in 1 MiB steps) and replaces every numeric array of more than ``MAX_KEPT_ELEMENTS``
values - more than the largest VGG conv kernel - by a :class:`SkippedArray` that keeps only its
declared shape: its bytes are inflated into nothing or seeked over, never allocated.

Values come back the way ``scipy.io.loadmat(simplify_cells=True)`` gives them (squeezed arrays,
scalars as Python numbers, char arrays as ``str``, 1x1 structs as dicts, cell and struct arrays as lists,
a one-element cell as its element). Only the top-level variables asked for are parsed; sparse,
complex, object and function arrays are skipped (``None``). Every size is checked against its parent
element before it is read, and the number of elements, the nesting depth and the values kept are
bounded, so a crafted file gets a ``WeightsError``, not a long loop or a large allocation.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from dataclasses import dataclass
from typing import Any, BinaryIO, Collection

import numpy as np

from . import WeightsError

#: Numeric arrays above this many values (512*512*3*3: conv5's kernels) are skipped, not read.
MAX_KEPT_ELEMENTS = 512 * 512 * 3 * 3
#: Values kept in total: VGG-19's 20 M conv parameters and a full mean image, with room to spare.
MAX_KEPT_TOTAL = 32 * 2**20
#: MATLAB arrays parsed in total (a VGG file has a few thousand: the class names are the most).
MAX_ARRAYS = 100_000
MAX_DEPTH = 32

_HEADER_BYTES = 128
_STEP = 1 << 20
_MATRIX, _COMPRESSED = 14, 15
_NUMERIC_TYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_CLASS_DTYPES = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8", 15: "u8"}
_CELL, _STRUCT, _CHAR = 1, 2, 4
_CHAR_ENCODINGS = {16: "utf-8", 4: "utf-16", 17: "utf-16", 18: "utf-32"}  # other types: one byte a character
_LOGICAL, _COMPLEX = 0x200, 0x800


@dataclass(frozen=True)
class SkippedArray:
    """A numeric array too large to be a VGG conv layer, left unread: only what it declares."""

    shape: tuple[int, ...]
    dtype: np.dtype


class _Plain:
    """``size`` bytes of the file from its current position."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream, self.position, self.size = stream, 0, size

    def read(self, count: int) -> bytes:
        data = self.stream.read(count) if self.position + count <= self.size else b""
        if len(data) != count:
            raise EOFError
        self.position += count
        return data

    def skip(self, count: int) -> None:
        if self.position + count > self.size:
            raise EOFError
        self.stream.seek(count, os.SEEK_CUR)
        self.position += count


class _Inflated:
    """The inflated bytes of the ``size``-byte zlib stream at the file's current position."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream, self.left, self.position = stream, size, 0
        self.inflater = zlib.decompressobj()

    def _next(self, limit: int) -> bytes:
        while True:
            if self.inflater.unconsumed_tail:
                data = self.inflater.decompress(self.inflater.unconsumed_tail, limit)
            else:
                chunk = self.stream.read(min(_STEP, self.left)) if self.left > 0 else b""
                if not chunk or self.inflater.eof:
                    raise EOFError
                self.left -= len(chunk)
                data = self.inflater.decompress(chunk, limit)
            if data:
                self.position += len(data)
                return data

    def read(self, count: int) -> bytes:
        parts, needed = [], count
        while needed > 0:
            parts.append(self._next(min(needed, _STEP)))
            needed -= len(parts[-1])
        return b"".join(parts)

    def skip(self, count: int) -> None:
        while count > 0:
            count -= len(self._next(min(count, _STEP)))


class _Reader:
    def __init__(self, order: str, where: str) -> None:
        self.order, self.where = order, where
        self.arrays = self.kept = 0

    def fail(self, problem: str) -> WeightsError:
        return WeightsError(f"{self.where}: {problem}; not a readable MATLAB file")

    def tag(self, source: Any, end: int) -> tuple[int, int, bytes | None]:
        """``(type, byte count, data of a small element or None)``, checked to fit before ``end``."""
        (word,) = struct.unpack(self.order + "I", source.read(4))
        if word >> 16:  # small data element: type and count share the first word, 4 data bytes follow
            if word >> 16 > 4 or source.position + 4 > end:
                raise self.fail("malformed small data element")
            return word & 0xFFFF, word >> 16, source.read(4)[:word >> 16]
        (count,) = struct.unpack(self.order + "I", source.read(4))
        if source.position + count > end:
            raise self.fail(f"an element of {count} bytes overruns the array holding it")
        return word, count, None

    def data(self, source: Any, end: int) -> tuple[int, bytes]:
        kind, count, small = self.tag(source, end)
        if small is not None:
            return kind, small
        data = source.read(count)
        source.skip(min(-count % 8, end - source.position))
        return kind, data

    def matrix(self, source: Any, end: int, depth: int, wanted: Collection[str] | None = None) -> tuple[str, Any]:
        """The name and value of the ``miMATRIX`` whose content runs from here to ``end``."""
        self.arrays += 1
        if self.arrays > MAX_ARRAYS or depth > MAX_DEPTH:
            raise self.fail(f"more than {MAX_ARRAYS} arrays or {MAX_DEPTH} levels of nesting")
        if source.position == end:
            return "", np.empty((0, 0))
        kind, flags = self.data(source, end)
        kind_dims, raw_dims = self.data(source, end)
        _, raw_name = self.data(source, end)
        if kind != 6 or len(flags) != 8 or kind_dims != 5 or len(raw_dims) % 4 or not 8 <= len(raw_dims) <= 128:
            raise self.fail("malformed array header")
        dims = struct.unpack(f"{self.order}{len(raw_dims) // 4}i", raw_dims)
        name = raw_name.decode("latin-1")
        word = struct.unpack(self.order + "I", flags[:4])[0]
        array_class = word & 0xFF
        if min(dims) < 0:
            raise self.fail(f"array {name!r} has negative dimensions {dims}")
        if (wanted is not None and name not in wanted) or word & _COMPLEX:
            value = None
        elif array_class == _CELL:
            value = self.cells(source, end, math.prod(dims), depth)
        elif array_class == _STRUCT:
            value = self.structs(source, end, math.prod(dims), depth)
        elif array_class == _CHAR:
            value = self.chars(source, end, dims)
        elif array_class in _CLASS_DTYPES:
            value = self.numbers(source, end, dims, "?" if word & _LOGICAL else _CLASS_DTYPES[array_class])
        else:  # sparse, object, function handle, opaque
            value = None
        source.skip(end - source.position)
        return name, value

    def element(self, source: Any, end: int, depth: int) -> Any:
        kind, count, small = self.tag(source, end)
        if kind != _MATRIX or small is not None:
            raise self.fail(f"found element type {kind} where an array belongs")
        _, value = self.matrix(source, source.position + count, depth + 1)
        source.skip(min(-count % 8, end - source.position))
        return value

    def cells(self, source: Any, end: int, count: int, depth: int) -> Any:
        if self.arrays + count > MAX_ARRAYS:
            raise self.fail(f"a cell array of {count} cells, more than the {MAX_ARRAYS} arrays allowed")
        items = [self.element(source, end, depth) for _ in range(count)]
        return items[0] if count == 1 else items

    def structs(self, source: Any, end: int, count: int, depth: int) -> Any:
        _, raw_length = self.data(source, end)
        _, raw_names = self.data(source, end)
        length = struct.unpack(self.order + "i", raw_length.ljust(4, b"\0")[:4])[0]
        if not 0 < length <= 64 or len(raw_names) % length:
            raise self.fail(f"struct field names of length {length}")
        fields = [raw_names[i:i + length].split(b"\0")[0].decode("latin-1") for i in range(0, len(raw_names), length)]
        if self.arrays + count * len(fields) > MAX_ARRAYS:
            raise self.fail(f"a struct array of {count} x {len(fields)} fields, more than {MAX_ARRAYS} arrays")
        items = [{field: self.element(source, end, depth) for field in fields} for _ in range(count)]
        return items[0] if count == 1 else items

    def chars(self, source: Any, end: int, dims: tuple[int, ...]) -> Any:
        kind, data = self.data(source, end)
        encoding = _CHAR_ENCODINGS.get(kind)
        suffix = "" if encoding in (None, "utf-8") else "-le" if self.order == "<" else "-be"
        text = data.decode((encoding or "latin-1") + suffix, errors="replace")
        if len(dims) == 2 and dims[0] > 1 and len(text) == math.prod(dims):
            return ["".join(text[row::dims[0]]) for row in range(dims[0])]  # column-major rows
        return text

    def numbers(self, source: Any, end: int, dims: tuple[int, ...], dtype: str) -> Any:
        kind, count, small = self.tag(source, end)
        stored = _NUMERIC_TYPES.get(kind)
        values = math.prod(dims)
        if stored is None or count != values * np.dtype(stored).itemsize:
            raise self.fail(f"an array of shape {dims} holds {count} bytes of element type {kind}")
        shape = tuple(n for n in dims if n != 1)
        if values > MAX_KEPT_ELEMENTS:
            source.skip(count)
            source.skip(min(-count % 8, end - source.position))
            return SkippedArray(shape, np.dtype(dtype))
        self.kept += values
        if self.kept > MAX_KEPT_TOTAL:
            raise self.fail(f"the arrays hold over {MAX_KEPT_TOTAL} values, more than any VGG network needs")
        raw = small if small is not None else source.read(count)
        if small is None:
            source.skip(min(-count % 8, end - source.position))
        array = np.frombuffer(raw, np.dtype(stored).newbyteorder(self.order)).astype(dtype)
        array = array.reshape(dims, order="F").reshape(shape)
        return array.item() if array.ndim == 0 else array


def read_mat5(stream: BinaryIO, where: str, wanted: Collection[str]) -> dict[str, Any]:
    """The top-level variables named in ``wanted`` of the v5 MAT file ``stream`` (others are skipped)."""
    stream.seek(0)
    header = stream.read(_HEADER_BYTES)
    order = {b"IM": "<", b"MI": ">"}.get(header[126:128]) if len(header) == _HEADER_BYTES else None
    if order is None:
        raise WeightsError(f"{where}: not a readable MATLAB file (no v5 header; MATLAB v7.3 (HDF5) .mat files are "
                           f"not supported, re-save with -v7)")
    reader, variables = _Reader(order, where), {}
    end, position = os.fstat(stream.fileno()).st_size, _HEADER_BYTES
    try:
        while position + 8 <= end:
            stream.seek(position)
            kind, count = struct.unpack(order + "II", stream.read(8))
            compressed = kind == _COMPRESSED
            source: Any = _Inflated(stream, count) if compressed else _Plain(stream, count)
            position += 8 + count + (0 if compressed else -count % 8)
            if compressed:
                kind, count, small = reader.tag(source, math.inf)  # type: ignore[arg-type]
            if kind == _MATRIX:
                name, value = reader.matrix(source, source.position + count, 0, wanted)
                if name in wanted:
                    variables[name] = value
    except EOFError:
        raise reader.fail("truncated or damaged data") from None
    except zlib.error as exc:
        raise reader.fail(f"damaged compressed data ({exc})") from None
    return variables
