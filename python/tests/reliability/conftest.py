"""Fixtures of the reliability suite: the engine (skipped when the library is not built), a small
valid weights file, and a way to run code that might crash the process in a subprocess."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest

from .weights_files import he_layers, write_st

REPO = Path(__file__).resolve().parents[3]
PYTHON_DIR = REPO / "python"


@pytest.fixture
def python_sigint():
    """The in-process Ctrl-C tests need Python's own SIGINT handler, which a process started as a background
    job (SIGINT ignored, see child_process) does not have."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="session")
def swiftnst_engine():
    """The ``swiftnst`` package with its engine loaded; skips when libswiftnst is not built."""
    try:
        import swiftnst
        from swiftnst import _lib

        _lib.load_library()
    except (ImportError, OSError, AttributeError) as exc:
        pytest.skip(f"the swiftnst engine library is not available ({exc})")
    return swiftnst


@pytest.fixture(scope="session")
def vgg16_random_path(tmp_path_factory) -> Path:
    """A valid swiftnst VGG-16 file with He-scaled random weights (58 MB, written once per run).

    Random weights keep the suite independent of the fetched ones; the He scaling keeps
    activations finite through all 13 convs so an engine run is numerically ordinary.
    """
    return write_st(tmp_path_factory.mktemp("weights") / "vgg16-random.safetensors", he_layers("vgg16"))


@pytest.fixture(scope="session")
def model(swiftnst_engine, vgg16_random_path):
    """A loaded engine model (VGG-16, random weights, Caffe convention), shared by the suite."""
    loaded = swiftnst_engine.Model(vgg16_random_path)
    yield loaded
    loaded.close()


def small_image(model, height: int = 24, width: int = 32, seed: int = 0) -> np.ndarray:
    """A random RGB image preprocessed into ``model``'s input space ([3, height, width] float32)."""
    rgb = np.random.default_rng(seed).random((height, width, 3), dtype=np.float32)
    return model.preprocess(rgb)


def run_python(code: str, *, timeout: float = 120, env: dict[str, str] | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that imports swiftnst from this checkout.

    Used for anything that could take the process down (a Swift trap, a segfault), so that a crash
    fails the calling test with the child's output instead of killing pytest.
    """
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PYTHON_DIR), os.environ.get("PYTHONPATH")])))
    environment.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=environment, cwd=cwd)


def assert_clean_exit(result: subprocess.CompletedProcess, expected: int = 0) -> None:
    """Fail with the child's output unless it exited with ``expected`` (a signal is a crash)."""
    if result.returncode < 0:
        name = signal.Signals(-result.returncode).name
        pytest.fail(f"child crashed with {name}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr[-4000:]}")
    assert result.returncode == expected, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr[-4000:]}"


def run_group_in_child(module: str, group: str, weights: Path, *, raw_abi: bool = True, timeout: float = 120) -> None:
    """Run the function ``group`` of ``reliability.<module>`` in a child process, given a
    ``raw_abi.RawABI`` on ``weights`` (or, with ``raw_abi=False``, the weights path). A crash, an
    error or no answer within ``timeout`` seconds (a deadlock) fails the caller with the child's output,
    whose last "case" line names the call that was running."""
    argument = f"raw_abi.RawABI({str(weights)!r})" if raw_abi else repr(str(weights))
    try:
        result = run_python(f"""
            from reliability import raw_abi
            from reliability.{module} import {group}
            print("running {group}", flush=True)
            {group}({argument})
            print("passed {group}", flush=True)
        """, env={"PYTHONPATH": f"{PYTHON_DIR}:{PYTHON_DIR / 'tests'}"}, timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"{module}.{group}: no answer in {expired.timeout} s (deadlock?)\n{expired.stdout}")
    assert_clean_exit(result)
    assert f"passed {group}" in result.stdout, result.stdout


def handmade_png(width: int, height: int, rows: bytes, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG written by hand, so the header may claim anything (Pillow refuses to write lies)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def file_snapshot(directory: Path) -> dict[str, bytes | None]:
    """Every entry under ``directory`` with its bytes (None for a folder or a special file, which is not
    read): equal snapshots before and after a refused command show it wrote, replaced and left behind nothing."""
    return {str(p.relative_to(directory)): p.read_bytes() if p.is_file() else None for p in directory.rglob("*")}
