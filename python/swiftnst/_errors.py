"""Exceptions raised for the engine's status codes (``nst_status`` in swiftnst.h).

Each status has its own subclass of ``NSTError``; where a built-in exception means the same thing
the subclass also derives from it (``NSTShapeError`` is a ``ValueError``), so callers can catch
either the swiftnst class or the familiar one.
"""

from __future__ import annotations


class NSTError(RuntimeError):
    """A swiftnst call failed. ``status`` is the C status code, ``function`` the C function name."""

    status: int = -1

    def __init__(self, message: str, *, function: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.function = function
        if status is not None:
            self.status = status


class NSTInvalidArgumentError(NSTError, ValueError):
    """A parameter is out of range, NaN/Inf, or inconsistent (``NST_ERR_INVALID_ARGUMENT``)."""

    status = 1


class NSTNullPointerError(NSTError, ValueError):
    """A required pointer was NULL (``NST_ERR_NULL_POINTER``)."""

    status = 2


class NSTInvalidHandleError(NSTError):
    """A NULL, freed or foreign model/session handle (``NST_ERR_INVALID_HANDLE``), or use after ``close()``."""

    status = 3


class NSTShapeError(NSTError, ValueError):
    """A buffer's element count or an image size does not fit (``NST_ERR_SHAPE``)."""

    status = 4


class _PlainMessage:
    """Mixin for subclasses of built-ins that format their message their own way: KeyError would
    print it quoted, OSError as ``(errno, strerror)``; swiftnst's message is shown as it is."""

    def __str__(self) -> str:
        return RuntimeError.__str__(self)


class NSTUnknownLayerError(_PlainMessage, NSTError, KeyError):
    """A layer name the model does not have (``NST_ERR_UNKNOWN_LAYER``)."""

    status = 5


class NSTIOError(_PlainMessage, NSTError, OSError):
    """A file could not be opened or read (``NST_ERR_IO``)."""

    status = 6


class NSTWeightsFormatError(NSTError, ValueError):
    """A weights file is malformed, incomplete or holds NaN/Inf (``NST_ERR_WEIGHTS_FORMAT``)."""

    status = 7


class NSTStateError(NSTError):
    """The call needs something not yet set, e.g. no style image (``NST_ERR_STATE``)."""

    status = 8


class NSTCancelledError(NSTError):
    """The progress callback asked to stop (``NST_ERR_CANCELLED``)."""

    status = 9


class NSTOutOfMemoryError(NSTError, MemoryError):
    """The request needs more memory than the engine will allocate (``NST_ERR_OUT_OF_MEMORY``)."""

    status = 10


class NSTNumericError(NSTError, ArithmeticError):
    """The objective became NaN or Inf (``NST_ERR_NUMERIC``)."""

    status = 11


class NSTInternalError(NSTError):
    """A bug in swiftnst (``NST_ERR_INTERNAL``); please report it with the message."""

    status = 12


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
    if status == 0:
        return
    from . import _bindings  # here, not at import: the exception classes must not need the library

    detail = _bindings.nst_last_error().decode("utf-8", "replace").removeprefix(f"{function}: ")
    name = _bindings.nst_status_name(status).decode("ascii", "replace")
    cls = ERROR_CLASSES.get(status, NSTError)
    raise cls(f"{function} failed ({name}): {detail or 'no details'}", function=function, status=status)
