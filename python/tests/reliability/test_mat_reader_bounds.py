"""``mat5_reader`` on crafted MATLAB v5 files: every count is bounded before it is acted on.

The files are written element by element (tag, array flags, dimensions, name, content), so each one
can declare what no MATLAB writer would: a billion cells, forty levels of nesting, a kernel larger
than the array holding it.
"""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from swiftnst.weights import WeightsError, convert

_HEADER = b"MATLAB 5.0 MAT-file, swiftnst test".ljust(116, b" ") + bytes(8) + struct.pack("<H", 0x0100) + b"IM"
_CELL, _DOUBLE = 1, 6


def _element(kind: int, data: bytes) -> bytes:
    return struct.pack("<II", kind, len(data)) + data + bytes(-len(data) % 8)


def _matrix(array_class: int, dims: tuple[int, ...], content: bytes, name: bytes = b"", declared: int | None = None):
    body = (_element(6, struct.pack("<II", array_class, 0)) + _element(5, struct.pack(f"<{len(dims)}i", *dims))
            + _element(1, name) + content)
    return struct.pack("<II", 14, len(body) if declared is None else declared) + body


def _write(path: Path, variable: bytes) -> Path:
    path.write_bytes(_HEADER + variable)
    return path


def _refused(path: Path, pattern: str) -> None:
    start = time.monotonic()
    with pytest.raises(WeightsError, match=rf"^{path}: .*{pattern}"):
        convert(path, path.with_suffix(".safetensors"))
    assert time.monotonic() - start < 30
    assert not path.with_suffix(".safetensors").exists()


def test_a_cell_array_declaring_a_billion_cells(tmp_path):
    cell = _matrix(_CELL, (1, 10**9), _matrix(_DOUBLE, (0, 0), b""), b"layers")
    _refused(_write(tmp_path / "cells.mat", cell), r"more than the 100000 arrays allowed")


def test_cells_nested_forty_deep(tmp_path):
    inner = _matrix(_DOUBLE, (1, 1), _element(9, struct.pack("<d", 1.0)))
    for _ in range(40):
        inner = _matrix(_CELL, (1, 1), inner)
    _refused(_write(tmp_path / "deep.mat", _matrix(_CELL, (1, 1), inner, b"layers")), r"levels of nesting")


def test_an_array_larger_than_the_element_holding_it(tmp_path):
    kernel = _matrix(_DOUBLE, (3, 3, 3, 64), _element(9, bytes(8 * 3 * 3 * 3 * 64)))
    lying = kernel[:4] + struct.pack("<I", 64) + kernel[8:]  # the kernel claims 64 bytes, holds 14 kB
    _refused(_write(tmp_path / "overrun.mat", _matrix(_CELL, (1, 1), lying, b"layers")), r"overruns|truncated")


def test_values_that_do_not_match_their_dimensions(tmp_path):
    kernel = _matrix(_DOUBLE, (3, 3, 3, 64), _element(9, bytes(8 * 10)))
    _refused(_write(tmp_path / "short.mat", _matrix(_CELL, (1, 1), kernel, b"layers")),
             r"shape \(3, 3, 3, 64\) holds 80 bytes")
