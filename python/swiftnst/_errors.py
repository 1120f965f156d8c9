"""Every exception swiftnst raises on purpose: ``NSTError`` and its subclasses.

Each engine status (``nst_status`` in swiftnst.h) has its own subclass; so do the failures found in
Python (an image or weights file that cannot be read, no loadable library, Ctrl-C during a transfer).
Where a built-in exception means the same thing the subclass also derives from it (``NSTShapeError``
and ``ImageError`` are ``ValueError``s), so callers can catch either the swiftnst class or the
familiar one. Importing this module needs neither NumPy nor the native library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._abi import (
    NST_ERR_CANCELLED, NST_ERR_INTERNAL, NST_ERR_INVALID_ARGUMENT, NST_ERR_INVALID_HANDLE, NST_ERR_IO,
    NST_ERR_NULL_POINTER, NST_ERR_NUMERIC, NST_ERR_OUT_OF_MEMORY, NST_ERR_SHAPE, NST_ERR_STATE,
    NST_ERR_UNKNOWN_LAYER, NST_ERR_WEIGHTS_FORMAT, NST_OK,
)

if TYPE_CHECKING:
    from pathlib import Path

#: ``NSTError.status`` of errors found in Python rather than reported by an engine call.
NOT_AN_ENGINE_STATUS = -1


class NSTError(RuntimeError):
    """A swiftnst call failed. ``status`` is the C status code (``NOT_AN_ENGINE_STATUS`` for a failure
    found in Python), ``function`` the C function name (None when no C function was called)."""

    status: int = NOT_AN_ENGINE_STATUS
    function: str | None = None  # on the class too: ImageNotFoundError is built by OSError's __init__

    def __init__(self, message: str, *, function: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.function = function
        if status is not None:
            self.status = status


class NSTInvalidArgumentError(NSTError, ValueError):
    """A parameter is out of range, NaN/Inf, or inconsistent (``NST_ERR_INVALID_ARGUMENT``)."""

    status = NST_ERR_INVALID_ARGUMENT


class NSTNullPointerError(NSTError, ValueError):
    """A required pointer was NULL (``NST_ERR_NULL_POINTER``)."""

    status = NST_ERR_NULL_POINTER


class NSTInvalidHandleError(NSTError):
    """A NULL, freed or foreign model/session handle (``NST_ERR_INVALID_HANDLE``), or use after ``close()``."""

    status = NST_ERR_INVALID_HANDLE


class NSTShapeError(NSTError, ValueError):
    """A buffer's element count or an image size does not fit (``NST_ERR_SHAPE``)."""

    status = NST_ERR_SHAPE


class _PlainMessage:
    """Mixin for subclasses of built-ins that format their message their own way: KeyError would
    print it quoted, OSError as ``(errno, strerror)``; swiftnst's message is shown as it is."""

    def __str__(self) -> str:
        return RuntimeError.__str__(self)


class NSTUnknownLayerError(_PlainMessage, NSTError, KeyError):
    """A layer name the model does not have (``NST_ERR_UNKNOWN_LAYER``)."""

    status = NST_ERR_UNKNOWN_LAYER


class NSTIOError(_PlainMessage, NSTError, OSError):
    """A file could not be opened or read (``NST_ERR_IO``)."""

    status = NST_ERR_IO


class NSTWeightsFormatError(NSTError, ValueError):
    """A weights file is malformed, incomplete or holds NaN/Inf (``NST_ERR_WEIGHTS_FORMAT``)."""

    status = NST_ERR_WEIGHTS_FORMAT


class NSTStateError(NSTError):
    """The call needs something not yet set, e.g. no style image (``NST_ERR_STATE``)."""

    status = NST_ERR_STATE


class NSTCancelledError(NSTError):
    """The progress callback asked to stop (``NST_ERR_CANCELLED``)."""

    status = NST_ERR_CANCELLED


class NSTOutOfMemoryError(NSTError, MemoryError):
    """The request needs more memory than the engine will allocate (``NST_ERR_OUT_OF_MEMORY``)."""

    status = NST_ERR_OUT_OF_MEMORY


class MemoryBudgetError(NSTOutOfMemoryError):
    """A render cannot be planned within the memory budget (``max_memory``); raised before any work.
    ``needed`` is the smallest budget, in bytes, with which the same render would be planned. Found in
    Python (by the planner), so its ``status`` is ``NOT_AN_ENGINE_STATUS``."""

    status = NOT_AN_ENGINE_STATUS

    def __init__(self, message: str, needed: int) -> None:
        super().__init__(message)
        self.needed = needed


class NSTNumericError(NSTError, ArithmeticError):
    """The objective became NaN or Inf (``NST_ERR_NUMERIC``)."""

    status = NST_ERR_NUMERIC


class NSTInternalError(NSTError):
    """A bug in swiftnst (``NST_ERR_INTERNAL``); please report it with the message."""

    status = NST_ERR_INTERNAL


class LibraryNotFoundError(NSTError, ImportError):
    """No loadable ``libswiftnst`` was found, or the one found has another ABI version or needs
    instructions this CPU lacks. Also an ``ImportError``: importing the bindings raises it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.msg = message  # what ImportError's own __init__, not reached through NSTError's, would set


class ImageError(NSTError, ValueError):
    """An image could not be loaded, converted or saved; the message names the file and the problem."""


class CheckpointError(NSTError, ValueError):
    """A checkpoint file that cannot be read, is damaged, or does not fit the run resuming from it
    (other inputs or options); the message says which."""


class ImageNotFoundError(FileNotFoundError, ImageError):
    """The image path does not exist (also a :class:`FileNotFoundError`, built like one:
    ``ImageNotFoundError(errno.ENOENT, message, path)``)."""


class WeightsError(NSTError, ValueError):
    """A weights file is missing, malformed, of an unknown format, or fails a hash check.

    The message names the file and the problem. (``NSTWeightsFormatError`` is the engine's own
    verdict on a file it was asked to load; this one comes from the Python readers and converters.)
    """


class StyleTransferInterrupted(NSTError, KeyboardInterrupt):
    """Ctrl-C stopped a transfer; carries the best image reached (``image``, RGB uint8), the
    ``iteration`` reached and the ``output`` path it was saved to (None if no output was given).

    A ``KeyboardInterrupt``, so uncaught it behaves like a normal Ctrl-C, and an ``NSTError`` like
    every swiftnst exception. The two bases do not conflict (the MRO is this class, NSTError,
    RuntimeError, Exception, KeyboardInterrupt, BaseException), but through NSTError it is also an
    ``Exception``, which a plain Ctrl-C is not: an ``except Exception`` around ``stylize`` catches it.
    """

    def __init__(self, image: Any, iteration: int, output: Path | None) -> None:
        super().__init__(f"interrupted after {iteration} iterations")
        self.image = image
        self.iteration = iteration
        self.output = output


#: Status code -> exception class, for every error status of swiftnst.h.
ERROR_CLASSES: dict[int, type[NSTError]] = {
    cls.status: cls for cls in (
        NSTInvalidArgumentError, NSTNullPointerError, NSTInvalidHandleError, NSTShapeError,
        NSTUnknownLayerError, NSTIOError, NSTWeightsFormatError, NSTStateError, NSTCancelledError,
        NSTOutOfMemoryError, NSTNumericError, NSTInternalError)
}


def check(status: int, function: str) -> None:
    """Raise the ``NSTError`` subclass for ``status`` (returned by C ``function``) unless it is ``NST_OK``.

    The message is the engine's own (``nst_last_error()``, read on this thread right after the call).
    """
    if status == NST_OK:
        return
    from . import _bindings  # here, not at import: the exception classes must not need the library

    detail = _bindings.nst_last_error().decode("utf-8", "replace").removeprefix(f"{function}: ")
    name = _bindings.nst_status_name(status).decode("ascii", "replace")
    cls = ERROR_CLASSES.get(status, NSTError)
    raise cls(f"{function} failed ({name}): {detail or 'no details'}", function=function, status=status)
