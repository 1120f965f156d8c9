"""The package's version, whose one source is ``pyproject.toml``, and the ``--version`` report.

In a source checkout (this package imported from ``<checkout>/python``, installed in editable mode or
not) the version is read from the checkout's ``pyproject.toml``, so it is never the stale copy an
earlier ``pip install`` recorded; an installed wheel has no checkout around it and reads its own
metadata (``importlib.metadata``), which the build wrote from the same ``pyproject.toml``.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

__all__ = ["UNKNOWN_VERSION", "package_version", "version_report"]

#: Reported when neither a checkout's pyproject.toml nor installed metadata names the version.
UNKNOWN_VERSION = "0+unknown"
_DISTRIBUTION = "swiftnst"
# The [project] table of pyproject.toml up to the next table, and its version line; a regex rather
# than tomllib, which Python 3.10 (the oldest supported) lacks.
_PROJECT_TABLE = re.compile(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", re.MULTILINE | re.DOTALL)
_NAME = re.compile(r'^name\s*=\s*"([^"]+)"', re.MULTILINE)
_VERSION = re.compile(r'^version\s*=\s*"([^"]+)"', re.MULTILINE)


def checkout_version(source_root: Path) -> str | None:
    """The version in ``source_root/pyproject.toml`` if that is swiftnst's, else None."""
    try:
        text = (source_root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    table = _PROJECT_TABLE.search(text)
    if table is None:
        return None
    name, version = _NAME.search(table.group(1)), _VERSION.search(table.group(1))
    return version.group(1) if name and name.group(1) == _DISTRIBUTION and version else None


def package_version(source_root: Path | None = None) -> str:
    """swiftnst's version: the checkout's ``pyproject.toml``, else the installed metadata, else
    :data:`UNKNOWN_VERSION`. ``source_root`` defaults to the checkout this package would be in."""
    from ._lib import SOURCE_ROOT

    version = checkout_version(SOURCE_ROOT if source_root is None else source_root)
    if version is not None:
        return version
    try:
        return metadata.version(_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN_VERSION


def version_report() -> str:
    """What ``swiftnst --version`` prints: the package's version, then the native library's version,
    C ABI version and path, and its BLAS; a library that cannot be loaded is reported, not raised."""
    from . import __version__
    from ._errors import LibraryNotFoundError

    lines = [f"swiftnst {__version__}"]
    try:
        from . import _bindings  # loads the library
    except LibraryNotFoundError as error:
        lines.append(f"library: not loaded: {error}")
    else:
        lines.append(f"library {_bindings.nst_version_string().decode('utf-8')}, C ABI "
                     f"{_bindings.nst_abi_version()}: {_bindings.lib._name}")
        lines.append(f"BLAS: {_bindings.nst_blas_info().decode('utf-8')}")
    return "\n".join(lines)
