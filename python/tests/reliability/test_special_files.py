"""A FIFO or a character device given as an image or weights path is refused up front, with a
message saying what it is, instead of blocking forever (FIFO) or reading without end (/dev/zero).

Every attempt runs in a child process with a timeout, so a regression fails the test instead of
hanging the suite.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from .conftest import assert_clean_exit, run_python

TIMEOUT_SECONDS = 60


@pytest.fixture
def fifo(tmp_path):
    """A FIFO nobody writes to, named like each input kind (the extension picks the loader)."""
    def make(name: str):
        path = tmp_path / name
        os.mkfifo(path)
        return path
    return make


def _refused(imports: str, call: str, pattern: str) -> None:
    """Run ``call`` in a child; it must raise an exception whose message matches ``pattern``."""
    code = f"""
import re, sys
{imports}
try:
    {call}
except Exception as exc:
    print(type(exc).__name__, exc)
    sys.exit(0 if re.search({pattern!r}, str(exc)) else 3)
sys.exit(4)
"""
    try:
        result = run_python(code, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"blocked for {TIMEOUT_SECONDS} s instead of refusing the special file")
    assert_clean_exit(result)


def _kinds(fifo, name: str) -> list[tuple[str, str]]:
    return [(str(fifo(name)), "a FIFO \\(named pipe\\), not a regular file"),
            ("/dev/zero", "a character device, not a regular file")]


def test_image_path(fifo):
    for path, kind in _kinds(fifo, "content.png"):
        _refused("from swiftnst.images import load_image", f"load_image({path!r})",
                 f"cannot load image '{path}': it is {kind}")


@pytest.mark.parametrize("extension", [".h5", ".mat", ".pth", ".ckpt", ".safetensors"])
def test_weights_path_for_convert(fifo, tmp_path, extension):
    for path, kind in _kinds(fifo, f"vgg{extension}"):
        output = tmp_path / "out.safetensors"
        _refused("from swiftnst.weights import convert", f"convert({path!r}, {str(output)!r})", f"{path}: is {kind}")
        assert not output.exists()


@pytest.mark.parametrize("loader", ["load_keras_h5", "load_matconvnet", "load_torch_pth", "load_lpips_ckpt",
                                    "load_weights"])
def test_each_loader_on_its_own(fifo, loader):
    """Each loader refuses by itself, not only behind convert's check."""
    module = {"load_keras_h5": "keras_h5", "load_matconvnet": "matconvnet", "load_torch_pth": "torch_pth",
              "load_lpips_ckpt": "lpips_ckpt", "load_weights": "safetensors_io"}[loader]
    path = fifo(f"{loader}.bin")
    _refused(f"from swiftnst.weights.{module} import {loader}", f"{loader}({str(path)!r})", f"{path}: is a FIFO")


def test_safetensors_for_the_engine(swiftnst_engine, fifo):
    for path, kind in _kinds(fifo, "vgg16.safetensors"):
        _refused("import swiftnst", f"swiftnst.Model({path!r})", f"'{path}' is {kind}")


def test_video_source(fifo):
    # before ffmpeg opens it: a FIFO blocked it forever, /dev/zero got ffmpeg's "cannot handle the uri"
    pytest.importorskip("imageio_ffmpeg")
    for path, kind in _kinds(fifo, "clip.mp4"):
        _refused("from swiftnst._video_io import read_frames", f"read_frames({path!r})", f"video '{path}' is {kind}")


def test_batch_manifest(fifo, tmp_path):
    # a FIFO blocked the batch's read of it; /dev/zero filled its memory
    manifest = tmp_path / "out" / "manifest.jsonl"
    manifest.parent.mkdir()
    for make in (lambda: os.mkfifo(manifest), lambda: manifest.symlink_to("/dev/zero")):
        make()
        _refused("from swiftnst._manifest import Manifest", f"Manifest({str(manifest.parent)!r})",
                 f"'{manifest}' is not a regular file")
        manifest.unlink()
