"""Builds the Swift library with the Python package (metadata lives in pyproject.toml).

``pip install -e .`` (what scripts/setup.sh runs) builds one library, ``swift build -c release
--product swiftnst`` in this checkout, for this machine's CPU (``-target-cpu skylake-avx512`` with
AVX-512, ``haswell`` with AVX2, else ``x86-64``: the table is ``swiftnst._cpu.TARGET_CPU_FLAGS``;
measured 4-8% faster per evaluation than a portable build), and symlinks it into ``swiftnst/_lib/``
with the C header in ``swiftnst/include/``, so a later ``swift build -c release`` is picked up.

``pip wheel .``, ``python -m build`` and ``pip install .`` build a wheel that runs on any x86-64 Linux
without a Swift toolchain: one library per entry of the table, each in ``swiftnst/_lib/<target>/``,
built in ``.build/wheel/<target>`` with the Swift runtime linked in statically
(``SWIFTNST_WHEEL_LIBRARY=1``, see Package.swift); ``swiftnst._lib`` loads the best one the CPU runs.
The wheel is tagged ``py3-none`` (the library is loaded with ctypes, it is no CPython extension) and
repaired by ``auditwheel``, which copies OpenBLAS (and its Fortran runtime) into it and gives it its
``manylinux`` tag.

Every library records its target beside it (``libswiftnst.so.target-cpu``) and ``swiftnst`` refuses,
with a clear error instead of a SIGILL, to load one on a CPU that lacks its instructions.

Environment: ``SWIFTNST_TARGET_CPU`` chooses the targets, comma-separated, ``native`` meaning this
machine's best (default: ``native`` for an editable install, every target for a wheel; e.g.
``SWIFTNST_TARGET_CPU=native pip wheel .`` for a quick wheel for this machine only). ``SWIFT``
chooses the ``swift`` executable.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
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


def cpu_module():
    """swiftnst/_cpu.py, loaded by path: importing the package would need its runtime dependencies."""
    spec = importlib.util.spec_from_file_location("swiftnst_cpu", ROOT / "python" / "swiftnst" / "_cpu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def requested_targets(*, editable: bool) -> list[str | None]:
    """The ``-target-cpu`` of each library to build, from ``$SWIFTNST_TARGET_CPU`` (see the top of this
    file); ``[None]`` (the compiler's default) off x86-64 Linux."""
    if not (sys.platform.startswith("linux") and platform.machine() == "x86_64"):
        return [None]
    cpu = cpu_module()
    default = "native" if editable else ",".join(cpu.TARGET_CPU_FLAGS)
    targets: list[str | None] = []
    for name in filter(None, (part.strip() for part in os.environ.get("SWIFTNST_TARGET_CPU", default).split(","))):
        target = cpu.best_target_cpu(cpu.cpu_flags()) if name == "native" else name
        if target not in cpu.TARGET_CPU_FLAGS:
            raise RuntimeError(f"SWIFTNST_TARGET_CPU: unknown target {name!r}; use native or any of "
                               + ", ".join(cpu.TARGET_CPU_FLAGS))
        if target not in targets:
            targets.append(target)
    if len(targets) != 1 and editable:
        raise RuntimeError(f"SWIFTNST_TARGET_CPU: an editable install builds one library, not {len(targets)}")
    return targets


def build_swift_library(target: str | None, *, for_wheel: bool) -> Path:
    """Build the release library (for ``target`` if given) and return its path: in the checkout's
    ``.build`` for an editable install, self-contained in ``.build/wheel/<target>`` for a wheel."""
    command = [swift_executable(), "build", "-c", "release", "--product", "swiftnst", "--package-path", str(ROOT)]
    environment = dict(os.environ, SWIFTNST_WHEEL_LIBRARY="1" if for_wheel else "0")
    if for_wheel:
        command += ["--scratch-path", str(ROOT / ".build" / "wheel" / (target or "default"))]
    if target:
        command += ["-Xswiftc", "-target-cpu", "-Xswiftc", target]
    print("building the Swift library:", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT, env=environment)
    output = subprocess.run([*command, "--show-bin-path"], check=True, cwd=ROOT, env=environment,
                            capture_output=True, text=True)
    library = Path(output.stdout.strip().splitlines()[-1]) / LIBRARY_NAME
    if not library.is_file():
        raise RuntimeError(f"swift build succeeded but {library} does not exist")
    return library


class BuildPyWithSwift(build_py):
    """``build_py`` that also builds the Swift libraries and puts them and the header into the package."""

    def run(self) -> None:
        super().run()
        package = ROOT / "python" / "swiftnst" if self.editable_mode else Path(self.build_lib) / "swiftnst"
        libraries = package / "_lib"
        # Only this command writes there; a wheel built before with other targets must not leave its own.
        shutil.rmtree(libraries, ignore_errors=True)
        for target in requested_targets(editable=self.editable_mode):
            library = build_swift_library(target, for_wheel=not self.editable_mode)
            if self.editable_mode:
                placed = libraries / LIBRARY_NAME
            else:
                placed = libraries / target / LIBRARY_NAME if target else libraries / LIBRARY_NAME
            # Editable: symlinks, so that a later `swift build -c release` is picked up without reinstalling.
            place(library, placed, link=self.editable_mode)
            if target:
                placed.with_name(LIBRARY_NAME + ".target-cpu").write_text(target + "\n", encoding="utf-8")
        place(HEADER, package / "include" / "swiftnst.h", link=self.editable_mode)


def place(source: Path, target: Path, *, link: bool) -> None:
    """Copy ``source`` to ``target``, or symlink it there, replacing what was there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    if link:
        target.symlink_to(source.resolve())
    else:
        shutil.copy2(source, target)


class PortableWheel(bdist_wheel):
    """``bdist_wheel`` that tags the wheel ``py3-none`` and, on Linux, repairs it with auditwheel."""

    def get_tag(self) -> tuple[str, str, str]:
        return "py3", "none", super().get_tag()[2]

    def run(self) -> None:
        super().run()
        if sys.platform.startswith("linux"):
            command, python_version, wheel = self.distribution.dist_files[-1]
            self.distribution.dist_files[-1] = (command, python_version, str(repair_wheel(Path(wheel))))


def repair_wheel(wheel: Path) -> Path:
    """Replace ``wheel`` by ``auditwheel repair``'s manylinux wheel in the same directory (the PEP 517
    backend returns the one wheel it finds there) and return the new path."""
    with tempfile.TemporaryDirectory(dir=wheel.parent) as output:
        subprocess.run([sys.executable, "-m", "auditwheel", "repair", "--wheel-dir", output, str(wheel)], check=True)
        (repaired,) = Path(output).glob("*.whl")
        wheel.unlink()
        return Path(shutil.move(str(repaired), wheel.parent / repaired.name))


class BinaryDistribution(Distribution):
    """Marks the wheel as platform-specific: it carries a native library."""

    def has_ext_modules(self) -> bool:
        return True


setup(cmdclass={"build_py": BuildPyWithSwift, "bdist_wheel": PortableWheel}, distclass=BinaryDistribution)
