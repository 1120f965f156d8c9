"""Checking and converting Python arguments before they reach a C function.

ctypes converts silently where the C type cannot hold a value: ``2**64 + 32`` passed as an
``int32_t`` or ``int64_t`` arrives as 32, ``2**32`` as an ``int32_t`` arrives as 0, and a float
fails with a bare ``ArgumentError``. Every integer the caller supplies goes through
:func:`checked_int` first, which names the argument and the problem. Needs no native library.
"""

from __future__ import annotations

import ctypes
import numbers
from typing import Sequence

import numpy as np

from ._abi import (
    NST_LBFGS_STORAGE_BFLOAT16, NST_LBFGS_STORAGE_FLOAT32, NST_LINE_SEARCH_ARMIJO, NST_LINE_SEARCH_NONE,
    NST_OBJECTIVE_COURSERA, NST_OBJECTIVE_NEURAL_STYLE, NST_OPTIMIZER_ADAM, NST_OPTIMIZER_LBFGS, NST_POOLING_AVG,
    NST_POOLING_MAX, NST_STYLE_LOSS_GRAM, NST_STYLE_LOSS_GRAM_HISTOGRAM, NST_STYLE_LOSS_W2,
)
from ._errors import NSTInvalidArgumentError, NSTShapeError

#: Optimiser names -> ``NST_OPTIMIZER_*``.
OPTIMIZER_CODES = {"lbfgs": NST_OPTIMIZER_LBFGS, "adam": NST_OPTIMIZER_ADAM}
#: Objective conventions -> ``NST_OBJECTIVE_*``: what the content and style weights multiply
#: (neural-style's means, or the Coursera assignment's costs; docs/ARCHITECTURE.md, "Objective").
OBJECTIVE_CODES = {"neural-style": NST_OBJECTIVE_NEURAL_STYLE, "coursera": NST_OBJECTIVE_COURSERA}
#: L-BFGS line searches -> ``NST_LINE_SEARCH_*``: ``"none"`` (each move taken whole, neural-style) or
#: ``"armijo"`` (backtracking until the loss falls enough).
LINE_SEARCH_CODES = {"none": NST_LINE_SEARCH_NONE, "armijo": NST_LINE_SEARCH_ARMIJO}
#: Pooling names -> ``NST_POOLING_*`` (``pooling_code`` also takes ``"average"``).
POOLING_CODES = {"max": NST_POOLING_MAX, "avg": NST_POOLING_AVG}
#: L-BFGS pair storage names -> ``NST_LBFGS_STORAGE_*``.
LBFGS_STORAGE_CODES = {"float32": NST_LBFGS_STORAGE_FLOAT32, "bfloat16": NST_LBFGS_STORAGE_BFLOAT16}
#: Style loss names -> ``NST_STYLE_LOSS_*``.
STYLE_LOSS_CODES = {"gram": NST_STYLE_LOSS_GRAM, "w2": NST_STYLE_LOSS_W2, "gram+histogram": NST_STYLE_LOSS_GRAM_HISTOGRAM}


def checked_int(value: object, what: str, *, bits: int | None = None, minimum: int | None = None,
                maximum: int | None = None, maximum_note: str = "") -> int:
    """``value`` as a Python ``int``, or ``NSTInvalidArgumentError`` (a ``ValueError``) naming ``what``.

    Accepts ``int`` and NumPy integers, not ``bool`` or floats (``1.5`` and ``2.0`` alike).
    ``bits`` (32 or 64): the value must fit that C signed integer type. ``minimum``/``maximum``:
    tighter bounds; ``maximum_note`` says where the maximum comes from (e.g. " (the engine's limit)").
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise NSTInvalidArgumentError(f"{what} must be an integer, got {value!r}")
    number = int(value)
    if minimum is not None and number < minimum:
        raise NSTInvalidArgumentError(f"{what} must be an integer >= {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise NSTInvalidArgumentError(f"{what} must be <= {maximum}{maximum_note}, got {number}")
    if bits is not None and not -(1 << (bits - 1)) <= number < (1 << (bits - 1)):
        raise NSTInvalidArgumentError(f"{what} must fit a {bits}-bit C integer "
                                      f"({-(1 << (bits - 1))} to {(1 << (bits - 1)) - 1}), got {number}")
    return number


def _code(codes: dict[str, int], name: object, what: str) -> int:
    """``codes[name]``, or ``NSTInvalidArgumentError`` naming ``what`` and the accepted names."""
    try:
        return codes[name]  # type: ignore[index]
    except (KeyError, TypeError):
        raise NSTInvalidArgumentError(f"{what} must be {' or '.join(map(repr, codes))}, not {name!r}") from None


def pooling_code(pooling: str) -> int:
    """``"max"`` or ``"avg"`` (also ``"average"``) -> ``NST_POOLING_*``."""
    return _code(POOLING_CODES, "avg" if pooling == "average" else pooling, "pooling")


def optimizer_code(optimizer: str) -> int:
    """``"lbfgs"`` or ``"adam"`` -> ``NST_OPTIMIZER_*``."""
    return _code(OPTIMIZER_CODES, optimizer, "optimizer")


def style_loss_code(style_loss: str) -> int:
    """``"gram"``, ``"w2"`` or ``"gram+histogram"`` -> ``NST_STYLE_LOSS_*``."""
    return _code(STYLE_LOSS_CODES, style_loss, "style_loss")


def lbfgs_storage_code(storage: str) -> int:
    """``"float32"`` or ``"bfloat16"`` -> ``NST_LBFGS_STORAGE_*``."""
    return _code(LBFGS_STORAGE_CODES, storage, "lbfgs_storage")


def objective_code(objective: str) -> int:
    """``"neural-style"`` or ``"coursera"`` -> ``NST_OBJECTIVE_*``."""
    return _code(OBJECTIVE_CODES, objective, "objective")


def line_search_code(line_search: str) -> int:
    """``"none"`` or ``"armijo"`` -> ``NST_LINE_SEARCH_*``."""
    return _code(LINE_SEARCH_CODES, line_search, "lbfgs_line_search")


def check_image(x: np.ndarray, what: str = "image") -> np.ndarray:
    """``x`` as a C-contiguous float32 ``[3, H, W]`` array (a copy only when needed)."""
    array = np.ascontiguousarray(x, dtype=np.float32)
    if array.ndim != 3 or array.shape[0] != 3:
        raise NSTShapeError(f"{what} must have shape [3, height, width], not {list(np.shape(x))}")
    return array


def check_mask(mask: np.ndarray | None, shape: tuple[int, int], what: str) -> np.ndarray | None:
    """``mask`` as a C-contiguous float32 ``[height, width]`` array of ``shape`` (None stays None); the
    engine checks its values (finite, in [0, 1])."""
    if mask is None:
        return None
    array = np.ascontiguousarray(mask, dtype=np.float32)
    if array.shape != tuple(shape):
        raise NSTShapeError(f"{what} must have shape {list(shape)}, not {list(np.shape(mask))}")
    return array


def c_strings(names: Sequence[str]) -> ctypes.Array:
    """A ``const char *[]`` holding UTF-8 copies of ``names`` (alive as long as the returned array)."""
    return (ctypes.c_char_p * len(names))(*(name.encode("utf-8") for name in names))
