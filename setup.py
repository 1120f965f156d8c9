"""Builds the Swift library with the Python package (metadata lives in pyproject.toml).

``pip install .`` and ``pip install -e .`` run ``swift build -c release --product swiftnst`` in this
checkout, then place ``libswiftnst.so`` in the package's ``_lib/`` (where ``swiftnst._lib`` looks
first after ``$SWIFTNST_LIB_PATH``) and the C header in ``swiftnst/include/swiftnst.h``.
For a regular install they are copied into the wheel; for an editable one they are symlinked next to
the sources.
Set ``SWIFT`` to choose the ``swift`` executable.

Like llama.cpp's default native build, the library is compiled for the building machine's CPU
(``-target-cpu skylake-avx512`` with AVX-512, ``haswell`` with AVX2; the table is
``swiftnst._cpu.TARGET_CPU_FLAGS``): measured 4-8% faster per evaluation than a portable build. The
choice is recorded beside the library (``libswiftnst.so.target-cpu``) and ``swiftnst`` refuses, with
a clear error instead of a SIGILL, to load such a library on a CPU that lacks those instructions. Set
``SWIFTNST_TARGET_CPU=portable`` for a library that runs on any x86-64 (or to another ``-target-cpu``).
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
HEADER = ROOT / "Sources" / "CSwiftNST" / "include" / "swiftnst.h"
LIBRARY_NAME = {"darwin": "libswiftnst.dylib", "win32": "swiftnst.dll"}.get(sys.platform, "libswiftnst.so")


def swift_executable() -> str:
    """``$SWIFT``, else ``swift`` on PATH, else the toolchain at /opt/swift."""
    candidates = [os.environ.get("SWIFT"), shutil.which("swift"), "/opt/swift/usr/bin/swift"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise RuntimeError("swiftnst needs the Swift toolchain to build its library: install Swift 6 "
                       "(https://swift.org/install) or set SWIFT to the swift executable")


def target_cpu() -> str | None:
    """``$SWIFTNST_TARGET_CPU`` ("portable" = none), else the best target this machine's CPU runs."""
    requested = os.environ.get("SWIFTNST_TARGET_CPU", "native")
    if requested != "native":
        return None if requested == "portable" else requested
    if not (sys.platform.startswith("linux") and platform.machine() == "x86_64"):
        return None
    # swiftnst/_cpu.py by path: importing the package would need its runtime dependencies here.
    spec = importlib.util.spec_from_file_location("swiftnst_cpu", ROOT / "python" / "swiftnst" / "_cpu.py")
    cpu = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cpu)
    return cpu.best_target_cpu(cpu.cpu_flags())


def build_swift_library(cpu: str | None) -> Path:
    """Build the release library (for ``cpu`` if given) and return its path."""
    command = [swift_executable(), "build", "-c", "release", "--product", "swiftnst", "--package-path", str(ROOT)]
    if cpu:
        command += ["-Xswiftc", "-target-cpu", "-Xswiftc", cpu]
    print("building the Swift library:", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    output = subprocess.run([*command, "--show-bin-path"], check=True, cwd=ROOT, capture_output=True, text=True)
    library = Path(output.stdout.strip().splitlines()[-1]) / LIBRARY_NAME
    if not library.is_file():
        raise RuntimeError(f"swift build succeeded but {library} does not exist")
    return library


class BuildPyWithSwift(build_py):
    """``build_py`` that also builds the Swift library and copies it and the header into the package."""

    def run(self) -> None:
        super().run()
        cpu = target_cpu()
        library = build_swift_library(cpu)
        package = ROOT / "python" / "swiftnst" if self.editable_mode else Path(self.build_lib) / "swiftnst"
        # Editable: symlinks, so that a later `swift build -c release` is picked up without reinstalling
        # (a copy in _lib/ would shadow the fresh build: _lib/ is searched before .build/release).
        place(library, package / "_lib" / LIBRARY_NAME, link=self.editable_mode)
        place(HEADER, package / "include" / "swiftnst.h", link=self.editable_mode)
        record = package / "_lib" / (LIBRARY_NAME + ".target-cpu")
        if cpu:
            record.write_text(cpu + "\n", encoding="utf-8")
        elif record.exists():
            record.unlink()


def place(source: Path, target: Path, *, link: bool) -> None:
    """Copy ``source`` to ``target``, or symlink it there, replacing what was there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    if link:
        target.symlink_to(source.resolve())
    else:
        shutil.copy2(source, target)


class BinaryDistribution(Distribution):
    """Marks the wheel as platform-specific: it carries a native library."""

    def has_ext_modules(self) -> bool:
        return True


setup(cmdclass={"build_py": BuildPyWithSwift}, distclass=BinaryDistribution)
