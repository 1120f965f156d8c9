"""Importing what an optional extra installs, with an error that says how to install it."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["import_extra"]


def import_extra(module: str, what: str, install: str) -> ModuleType:
    """The module ``module``, or ``ImportError`` saying that ``what`` (e.g. "swiftnst video needs OpenCV")
    is not installed and how to install it (``install``, e.g. ``pip install 'swiftnst[video]'``)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{what}, which is not installed: {install}") from exc
