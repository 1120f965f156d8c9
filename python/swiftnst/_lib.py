"""Finds and loads ``libswiftnst.so`` once: of a wheel's builds, the best this CPU runs; it refuses a
library built from another ABI version or for instructions this CPU lacks. Before the first load it
picks OpenBLAS's kernels for this CPU (``_cpu.select_blas_kernels``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
from pathlib import Path

from ._abi import NST_ABI_VERSION
from ._cpu import TARGET_CPU_FLAGS, cpu_flags, missing_cpu_features, select_blas_kernels, warn_if_generic_blas
from ._errors import LibraryNotFoundError

PACKAGE_DIR = Path(__file__).resolve().parent
#: The repository root when this package is imported from a source checkout (python/swiftnst -> root).
SOURCE_ROOT = PACKAGE_DIR.parents[1]
#: Where a source checkout keeps the release build.
REPO_BUILD_DIR = SOURCE_ROOT / ".build" / "release"

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_library: ctypes.CDLL | None = None


def library_file_name() -> str:
    """The platform's file name of the shared library."""
    if sys.platform == "darwin":
        return "libswiftnst.dylib"
    if sys.platform == "win32":
        return "swiftnst.dll"
    return "libswiftnst.so"


def candidate_paths() -> list[Path]:
    """The paths tried, in order: ``$SWIFTNST_LIB_PATH`` (a file or a directory), the package's
    libraries (``packaged_libraries``), then ``<repo>/.build/release`` of a source checkout."""
    name = library_file_name()
    paths: list[Path] = []
    override = os.environ.get("SWIFTNST_LIB_PATH")
    if override:
        path = Path(override).expanduser()
        paths.append(path / name if path.is_dir() else path)
    paths += packaged_libraries()
    paths.append(REPO_BUILD_DIR / name)
    return paths


def packaged_libraries(directory: Path = PACKAGE_DIR / "_lib") -> list[Path]:
    """The libraries ``pip`` put in the package's ``directory``: a wheel's, one per ``-target-cpu``
    in ``<directory>/<target>/``, best first (``_load_first`` passes over those this CPU cannot run);
    else the one library of an editable install, ``<directory>/libswiftnst.so``."""
    name = library_file_name()
    builds = [directory / target / name for target in TARGET_CPU_FLAGS if (directory / target / name).is_file()]
    return builds or [directory / name]


def load_library() -> ctypes.CDLL:
    """Load the library the first time it is needed and return it (the same object afterwards).

    Raises ``LibraryNotFoundError`` listing every path tried (and why each failed), or when the
    library's ``nst_abi_version()`` differs from ``NST_ABI_VERSION``.
    """
    global _library
    with _lock:
        if _library is None:
            if sys.platform.startswith("linux"):
                select_blas_kernels()
            library = _load_first(candidate_paths())
            library.nst_blas_info.argtypes = []
            library.nst_blas_info.restype = ctypes.c_char_p
            blas = library.nst_blas_info().decode("utf-8", "replace")
            warn_if_generic_blas(blas, cpu_flags())
            logger.debug("loaded %s (C ABI %d; BLAS: %s)", library._name, NST_ABI_VERSION, blas)
            _library = library
        return _library


def _load_first(paths: list[Path]) -> ctypes.CDLL:
    failures: list[str] = []
    for path in paths:
        if not path.is_file():
            failures.append(f"  {path}: not found")
            continue
        missing = missing_cpu_features(path, cpu_flags()) if sys.platform.startswith("linux") else frozenset()
        if missing:
            failures.append(f"  {path}: built for another CPU, this one lacks {', '.join(sorted(missing))} "
                            "(rebuild here, or with SWIFTNST_TARGET_CPU=x86-64 for any x86-64)")
            continue
        try:
            library = ctypes.CDLL(str(path))
        except OSError as exc:
            failures.append(f"  {path}: {exc}")
            continue
        library.nst_abi_version.argtypes = []
        library.nst_abi_version.restype = ctypes.c_int32
        version = library.nst_abi_version()
        if version != NST_ABI_VERSION:
            raise LibraryNotFoundError(
                f"{path} has ABI version {version}, but these bindings need {NST_ABI_VERSION}; "
                "rebuild the library or reinstall swiftnst")
        return library
    raise LibraryNotFoundError(
        "could not load the swiftnst library; tried:\n" + "\n".join(failures)
        + "\nBuild it with `swift build -c release` in the repository, install the package with "
          "`pip install .`, or point SWIFTNST_LIB_PATH at libswiftnst.so.")
