"""Ownership of native handles: ``NativeHandle`` frees its ``nst_model *`` or ``nst_session *``
exactly once, by ``close()``, ``with`` or garbage collection, whichever comes first."""

from __future__ import annotations

from typing import TypeVar

from ._errors import NSTInvalidHandleError

_Owner = TypeVar("_Owner", bound="NativeHandle")


class NativeHandle:
    """Owns one native handle (``nst_model *`` or ``nst_session *``), freed by ``close()``, ``with``
    or garbage collection, whichever comes first; subclasses say how to free it in ``_free``."""

    _handle: int | None = None  # on the class, so close() works on a half-built object

    def _free(self, handle: int) -> None:
        raise NotImplementedError

    @property
    def handle(self) -> int:
        """The native handle for raw calls; raises ``NSTInvalidHandleError`` after ``close()``."""
        if self._handle is None:
            raise NSTInvalidHandleError(f"this {type(self).__name__} is closed")
        return self._handle

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has freed the native object."""
        return self._handle is None

    def close(self) -> None:
        """Free the native object; calling it again does nothing."""
        handle, self._handle = self._handle, None
        if handle is not None:
            self._free(handle)

    def __enter__(self: _Owner) -> _Owner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
