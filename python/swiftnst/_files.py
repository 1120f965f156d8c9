"""Opening input files that may be anything: only regular files are read.

A path handed to swiftnst (an image, a weights file) may name a FIFO, a character device such as
``/dev/zero`` or ``/dev/urandom``, a socket or a directory. A plain ``open()`` of a FIFO blocks until
some writer appears, and reading a device never ends, so :func:`open_regular_file` opens without
blocking (``O_NONBLOCK``), asks the *opened* descriptor what it is (``fstat``, so nothing can swap
the file between the check and the read) and refuses anything but a regular file.
"""

from __future__ import annotations

import io
import os
import stat
from typing import BinaryIO

__all__ = ["NotRegularFileError", "open_regular_file"]

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class NotRegularFileError(OSError):
    """The path exists but is not a regular file; ``kind`` says what it is ("a FIFO (named pipe)", ...)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular_file(path: str | os.PathLike, what: str) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file; ``what`` names it in messages.

    Returns an ordinary buffered file object (in blocking mode again), positioned at the start. Raises ``FileNotFoundError``/``PermissionError``/... as ``open`` does, and
    :class:`NotRegularFileError` (message: ``<what> '<path>' is a FIFO (named pipe), not a regular
    file``) for anything else, without reading from it.
    """
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _kind(mode)
            raise NotRegularFileError(f"{what} '{os.fspath(path)}' is {kind}, not a regular file", kind)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    # Outside the try: from here the file object owns the descriptor, and a Ctrl-C landing as it is
    # returned closes it with the object. Closing it again in the handler failed (EBADF), and that
    # OSError replaced the KeyboardInterrupt: a batch recorded the interrupted item as unreadable.
    return io.open(fd, "rb")
