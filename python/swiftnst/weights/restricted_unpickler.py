"""Loading pickles without ever running code from them.

A pickle can call any importable function (``os.system`` included) through its GLOBAL/STACK_GLOBAL
opcodes, which all resolve names via ``Unpickler.find_class``. ``restricted_load`` answers those
lookups from an explicit allowlist of harmless constructors and refuses everything else before it
is called, so a malicious file fails with a ``WeightsError`` instead of executing.
"""

from __future__ import annotations

import io
import math
import pickle
from typing import Any, BinaryIO, Callable, Mapping

import numpy as np

from . import WeightsError

Global = tuple[str, str]


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, stream: BinaryIO, allowed: Mapping[Global, Any], where: str,
                 persistent_load: Callable[[Any], Any] | None) -> None:
        super().__init__(stream)
        self._allowed = allowed
        self._where = where
        self._persistent = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise WeightsError(f"{self._where}: pickle references {module}.{name}, which is not allowed in a "
                               "weights file; refusing to load it (pickles can run arbitrary code)") from None

    def persistent_load(self, pid: Any) -> Any:
        if self._persistent is None:
            raise WeightsError(f"{self._where}: pickle uses persistent ids, which this format does not allow")
        return self._persistent(pid)


def restricted_load(source: bytes | BinaryIO, allowed: Mapping[Global, Any], where: str,
                    persistent_load: Callable[[Any], Any] | None = None) -> Any:
    """Unpickle ``source`` resolving globals only through ``allowed`` (``(module, name) -> object``).

    ``where`` names the file in error messages. Given ``bytes``, the pickle must end at the last byte
    (trailing bytes mean a damaged file or not what it claims to be); given a stream, reading stops
    after the pickle so that a caller can read what follows it.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        result = _RestrictedUnpickler(stream, allowed, where, persistent_load).load()
    except WeightsError as exc:  # raised by an allowed constructor, which does not know the file name
        if str(exc).startswith(f"{where}: "):
            raise
        raise WeightsError(f"{where}: {exc}") from None
    except EOFError:
        raise WeightsError(f"{where}: truncated pickle") from None
    except Exception as exc:  # any malformed stream: UnpicklingError, ValueError, TypeError, IndexError, ...
        raise WeightsError(f"{where}: malformed pickle ({type(exc).__name__}: {exc})") from None
    if isinstance(source, bytes) and stream.tell() != len(source):
        raise WeightsError(f"{where}: {len(source) - stream.tell()} unexpected bytes after the pickle")
    return result


def _multiarray() -> Any:
    # numpy 2 moved the module to numpy._core; importing numpy.core there only warns, so avoid it
    core = getattr(np, "_core", None) or np.core
    return core.multiarray


#: Largest array a weights pickle may build: the largest VGG conv kernel (512 x 512 x 3 x 3) in
#: float64. An array is allocated from its declared shape before its data is read, so the bound
#: applies to the declaration.
MAX_ARRAY_BYTES = 512 * 512 * 3 * 3 * 8


class _NdarrayType:
    """Stands in for ``numpy.ndarray``, which pickles name only as the type to reconstruct; calling
    it (``ndarray(shape)``) would allocate whatever shape the file asks for."""

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise WeightsError("pickle calls numpy.ndarray directly; only numpy's reconstructors are allowed")


_NDARRAY = _NdarrayType()


def _check_size(shape: Any, dtype: Any) -> None:
    try:
        count = math.prod(int(n) for n in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        itemsize = np.dtype(dtype).itemsize
    except (TypeError, ValueError) as exc:
        raise WeightsError(f"pickle rebuilds an array with shape {shape!r:.80} and dtype {dtype!r:.80} ({exc})") from None
    if count * itemsize > MAX_ARRAY_BYTES or count < 0:
        raise WeightsError(f"pickle declares an array of shape {shape!r:.80} and dtype {dtype}, over the "
                           f"{MAX_ARRAY_BYTES} bytes of the largest VGG kernel; refusing to allocate it")


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    if subtype is not _NDARRAY:
        raise WeightsError(f"pickle reconstructs {subtype!r}; only numpy.ndarray is allowed")
    _check_size(shape, dtype)
    return _multiarray()._reconstruct(np.ndarray, shape, dtype)


def _plain_dtype(spec: Any, align: bool = False, copy: bool = False) -> np.dtype:
    dtype = np.dtype(spec, align, copy)
    if dtype.hasobject:
        raise WeightsError(f"pickle asks for the object dtype {dtype}; refusing (it could hold arbitrary objects)")
    return dtype


def _frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any, axis_order: Any = None) -> np.ndarray:
    # protocol 5 pickles of arrays: raw bytes plus dtype, shape and memory order (NumPy 2 adds
    # order "K" with the axis permutation of a non-contiguous array)
    if not isinstance(dtype, np.dtype) or dtype.hasobject or order not in ("C", "F", "K"):
        raise WeightsError(f"pickle rebuilds an array with dtype {dtype!r} and order {order!r}; refusing")
    array = np.frombuffer(buffer, dtype=dtype)
    if order == "K" and axis_order is not None:
        return array.reshape(shape, order="C").transpose(tuple(axis_order))
    return array.reshape(shape, order="C" if order == "K" else order)


def _latin1_bytes(text: Any, encoding: str = "latin1") -> bytes:
    # protocol-2 pickles spell bytes objects as _codecs.encode(text, "latin1"); nothing else is needed
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise WeightsError(f"pickle calls _codecs.encode with {encoding!r}; only latin1 is allowed")
    return text.encode("latin1")


#: The globals a pickle of plain NumPy arrays needs: both spellings of NumPy's private modules (1.x
#: and 2.x), the protocol-5 buffer path and the bytes constructor of protocol 2.
NUMPY_GLOBALS: Mapping[Global, Any] = {
    ("_codecs", "encode"): _latin1_bytes,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _plain_dtype,
}
