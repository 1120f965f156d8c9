"""Outputs are written atomically: a reader (or an interrupted run) sees the old file or the complete
new one, never a partial file, and no temporary file is left behind whatever goes wrong. Failures
to write say which path and why."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from swiftnst.images import ImageError, save_image
from swiftnst.weights import WeightsError
from swiftnst.weights.safetensors_io import read_safetensors, write_safetensors

RGB = np.random.default_rng(0).integers(0, 256, (8, 12, 3), dtype=np.uint8)


def _only(directory: Path, *names: str) -> None:
    assert sorted(p.name for p in directory.iterdir()) == sorted(names), "temporary files were left behind"


@pytest.fixture
def existing(tmp_path) -> Path:
    """An output from an earlier run that a failed save must leave untouched."""
    path = tmp_path / "result.png"
    Image.fromarray(255 - RGB).save(path)
    return path


def _failing_save(exception: BaseException):
    def save(self, fp, format=None, **params):
        fp.write(b"\x89PNG\r\n\x1a\n partial")  # some bytes reach the disk, then the failure
        raise exception
    return save


@pytest.mark.parametrize("exception", [OSError(28, "No space left on device"), ValueError("encoder error")])
def test_failure_mid_write_keeps_the_old_file(existing, monkeypatch, exception):
    before = existing.read_bytes()
    monkeypatch.setattr(Image.Image, "save", _failing_save(exception))
    with pytest.raises(ImageError, match=rf"cannot save image '{existing}'"):
        save_image(RGB, existing)
    assert existing.read_bytes() == before
    _only(existing.parent, existing.name)


def test_ctrl_c_mid_write_keeps_the_old_file_and_leaves_no_temporary(existing, monkeypatch):
    before = existing.read_bytes()
    monkeypatch.setattr(Image.Image, "save", _failing_save(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        save_image(RGB, existing)
    assert existing.read_bytes() == before
    _only(existing.parent, existing.name)


def test_successful_save_replaces_completely_with_normal_permissions(existing):
    save_image(RGB, existing)
    np.testing.assert_array_equal(np.asarray(Image.open(existing)), RGB)
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o666 & ~mask
    _only(existing.parent, existing.name)


def test_missing_directory(tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "out.jpg"
    with pytest.raises(ImageError, match=r"cannot save image .*out\.jpg': directory '.*dir' does not exist"):
        save_image(RGB, target)
    assert not (tmp_path / "no").exists()


def test_destination_is_a_directory(tmp_path):
    target = tmp_path / "taken.png"
    target.mkdir()
    with pytest.raises(ImageError, match=rf"cannot save image '{target}'"):
        save_image(RGB, target)
    _only(tmp_path, "taken.png")


def test_unknown_extension_and_bad_array(tmp_path):
    with pytest.raises(ImageError, match=r"unknown or unsupported file extension '\.xyz'"):
        save_image(RGB, tmp_path / "out.xyz")
    with pytest.raises(ImageError, match=r"expected an \(H, W, 3\) RGB or \(H, W, 4\) RGBA array, got \(8, 12\)"):
        save_image(RGB[..., 0], tmp_path / "out.png")
    _only(tmp_path)


def test_permission_denied_is_reported(tmp_path, monkeypatch):
    # Simulated, because the suite may run as root, which ignores directory permissions.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # the module _atomic creates the temporary with
    with pytest.raises(ImageError, match=r"permission denied for directory"):
        save_image(RGB, tmp_path / "out.png")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ImageError, match=r"permission denied"):
            save_image(RGB, locked / "out.png")
    finally:
        locked.chmod(0o700)
    _only(locked)


def test_weights_writer_failure_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    write_safetensors(path, {"a": np.arange(4, dtype=np.float32)}, {"k": "old"})
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_safetensors(path, {"a": np.zeros(1000, np.float32)}, {"k": "new"})
    assert path.read_bytes() == before
    assert read_safetensors(path)[1] == {"k": "old"}
    _only(tmp_path, "w.safetensors")


def test_weights_writer_refuses_bad_input_without_touching_the_file(tmp_path):
    path = tmp_path / "w.safetensors"
    write_safetensors(path, {"a": np.arange(4, dtype=np.float32)})
    before = path.read_bytes()
    with pytest.raises(WeightsError, match="unsupported dtype"):
        write_safetensors(path, {"a": np.array(["text"], dtype=object)})
    assert path.read_bytes() == before
    _only(tmp_path, "w.safetensors")
