"""Opening a weights file for a converter or reader: regular files only, errors as ``WeightsError``.

Every loader goes through :func:`open_weights_file`, so a FIFO, ``/dev/zero`` or a directory given as
weights is refused up front with a message saying what it is, instead of blocking or reading forever.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from .._files import NotRegularFileError, open_regular_file
from . import WeightsError


def open_weights_file(path: str | os.PathLike) -> BinaryIO:
    """The opened regular file at ``path``, or ``WeightsError`` naming it and the problem."""
    where = os.fspath(path)
    try:
        return open_regular_file(path, "weights file")
    except FileNotFoundError:
        raise WeightsError(f"{where}: cannot read: no such file") from None
    except NotRegularFileError as exc:
        raise WeightsError(f"{where}: is {exc.kind}, not a regular file") from None
    except OSError as exc:
        raise WeightsError(f"{where}: cannot read: {exc.strerror or exc}") from None
