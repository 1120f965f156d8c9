"""Atomic file writes (images, weights, checksums): readers see the old file or the complete new one,
never a partial file."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator


_SUFFIX = ".tmp"


def leftover_temporaries(path: str | os.PathLike) -> list[Path]:
    """The temporary files of :func:`atomic_write` for ``path`` that a killed process left behind (only
    call it when no other process may be writing ``path``)."""
    path = Path(path)
    return sorted(path.parent.glob(f".{glob.escape(path.name)}.*{_SUFFIX}"))


def _umask() -> int:
    mask = os.umask(0o022)  # the only portable way to read the umask is to set it and restore it
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only when the ``with`` block completes.

    The temporary file lives in the destination directory (``os.replace`` is only atomic within
    one file system) and is removed if the block raises. The result gets the usual permissions
    (0o666 minus the umask) rather than mkstemp's private 0o600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_SUFFIX, dir=path.parent)
    try:
        os.chmod(temp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
