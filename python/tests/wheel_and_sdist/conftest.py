"""The distributions, built once per session: ``python -m build`` makes the sdist from this checkout and
then the wheel from that sdist (its default), so one Swift build serves both the sdist test and the
wheel tests. One library only (``SWIFTNST_TARGET_CPU=native``): the others differ in a compiler flag.
These tests take about two minutes (a release build of the library); ``-m "not packaging"`` leaves
them out.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
BUILD_TIMEOUT_SECONDS = 1800


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "packaging: builds the sdist and the wheel (slow: a Swift release build)")


@dataclass(frozen=True)
class Distributions:
    sdist: Path
    wheel: Path
    log: str


@pytest.fixture(scope="session")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    """The sdist of this checkout and the wheel built from it."""
    if not (sys.platform.startswith("linux") and platform.machine() == "x86_64"):
        pytest.skip("the wheel is built for x86-64 Linux")
    output = tmp_path_factory.mktemp("dist")
    environment = dict(os.environ, SWIFTNST_TARGET_CPU="native")
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(output), str(REPO)], env=environment,
                            capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"python -m build failed:\n{log[-6000:]}"
    (sdist,) = output.glob("*.tar.gz")
    (wheel,) = output.glob("*.whl")
    return Distributions(sdist, wheel, log)


@pytest.fixture(scope="session")
def unpacked_wheel(distributions: Distributions, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel's files."""
    directory = tmp_path_factory.mktemp("wheel")
    with zipfile.ZipFile(distributions.wheel) as archive:
        archive.extractall(directory)
    return directory


@pytest.fixture(scope="session")
def wheel_venv(distributions: Distributions, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (its dependencies, NumPy, Pillow and tqdm, from this
    Python's site-packages); returns its bin directory."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    # --ignore-installed: pip would otherwise take the development install it sees for "already satisfied".
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                    "--ignore-installed", "--disable-pip-version-check", str(distributions.wheel)],
                   env=environment_without_toolchain(venv / "bin"), check=True)
    return venv / "bin"


def swift_toolchain_root() -> Path | None:
    """The Swift toolchain's root directory (``<root>/usr/bin/swift``), if one is on PATH."""
    swift = shutil.which("swift")
    return Path(swift).resolve().parents[2] if swift else None


def environment_without_toolchain(venv_bin: Path) -> dict[str, str]:
    """This process's environment with the venv first on PATH, the toolchain's directories off it, and
    nothing that would point the dynamic loader or Python elsewhere."""
    root = swift_toolchain_root()
    path = [str(venv_bin)] + [entry for entry in os.environ.get("PATH", "").split(os.pathsep)
                              if entry and not (root and Path(entry).resolve().is_relative_to(root))]
    hidden = {"LD_LIBRARY_PATH", "LD_PRELOAD", "PYTHONPATH", "PYTHONHOME", "SWIFTNST_LIB_PATH", "SWIFT"}
    environment = {key: value for key, value in os.environ.items() if key not in hidden}
    environment["PATH"] = os.pathsep.join(path)
    return environment
