"""The safetensors writer and strict reader, and the swiftnst format rules on top of them."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from swiftnst.weights import (CAFFE, TORCHVISION, VGGWeights, WeightsError, load_weights, read_safetensors,
                              save_weights, write_safetensors)
from swiftnst.weights.vgg_weights import InputConvention


def _raw_file(path: Path, header: dict, body: bytes) -> Path:
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + body)
    return path


def _entry(dtype="F32", shape=(2,), begin=0, end=8):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": [begin, end]}


# MARK: - Container


def test_round_trip_of_several_dtypes(tmp_path):
    tensors = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1.5, -2], dtype=np.float64),
               "c": np.array([[7]], dtype=np.int64), "empty": np.zeros((0, 3), np.float32)}
    write_safetensors(tmp_path / "t.safetensors", tensors, {"k": "v"})
    read, metadata = read_safetensors(tmp_path / "t.safetensors")
    assert metadata == {"k": "v"}
    assert list(read) == list(tensors)
    for name, array in tensors.items():
        assert read[name].dtype == array.dtype and read[name].shape == array.shape
        np.testing.assert_array_equal(read[name], array)


def test_writer_layout_is_standard_safetensors(tmp_path):
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"w": np.array([1, 2], np.float32)}, {"m": "x"})
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    assert (8 + n) % 8 == 0  # data aligned for memory-mapping readers
    header = json.loads(data[8:8 + n])
    assert header == {"__metadata__": {"m": "x"}, "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
    assert data[8 + n:] == np.array([1, 2], "<f4").tobytes()


def test_big_endian_input_is_written_little_endian(tmp_path):
    write_safetensors(tmp_path / "t.safetensors", {"w": np.array([1.25, 3], ">f4")})
    read, _ = read_safetensors(tmp_path / "t.safetensors")
    np.testing.assert_array_equal(read["w"], [1.25, 3])


def test_atomic_writer_leaves_old_file_and_no_temporary_on_failure(tmp_path):
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"w": np.ones(2, np.float32)})
    before = path.read_bytes()
    with pytest.raises(WeightsError, match="unsupported dtype"):
        write_safetensors(path, {"ok": np.ones(2, np.float32), "bad": np.array(["x"])})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["t.safetensors"]


def test_written_file_has_normal_permissions(tmp_path):
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"w": np.ones(2, np.float32)})
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("header,body,message", [
    ({"w": _entry()}, b"\0" * 4, "truncated"),
    ({"w": _entry()}, b"\0" * 12, "unexpected bytes after"),
    ({"w": _entry(shape=(3,))}, b"\0" * 8, "needs 12 bytes"),
    ({"w": _entry(dtype="F8")}, b"\0" * 8, "unknown dtype"),
    ({"w": _entry(shape=(-2,))}, b"\0" * 8, "bad shape"),
    ({"w": _entry(shape=(2 ** 62, 4))}, b"\0" * 8, "needs 73786976294838206464 bytes"),
    ({"w": _entry(begin=8, end=0)}, b"\0" * 8, "bad data_offsets"),
    ({"w": _entry(), "v": _entry(begin=4, end=12)}, b"\0" * 12, "overlaps"),
    ({"w": _entry(begin=4, end=12)}, b"\0" * 12, "gap"),
    ({"w": {"dtype": "F32", "shape": [2]}}, b"\0" * 8, "exactly dtype, shape, data_offsets"),
    ({"__metadata__": {"a": 1}, "w": _entry()}, b"\0" * 8, "strings to strings"),
])
def test_reader_rejects_malformed_files(tmp_path, header, body, message):
    path = _raw_file(tmp_path / "bad.safetensors", header, body)
    with pytest.raises(WeightsError, match=message) as info:
        read_safetensors(path)
    assert str(path) in str(info.value)


def test_reader_rejects_duplicate_keys_and_bad_headers(tmp_path):
    text = b'{"w": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "w": {}}'
    path = tmp_path / "dup.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text)
    with pytest.raises(WeightsError, match="duplicate key"):
        read_safetensors(path)
    path.write_bytes(struct.pack("<Q", 5) + b"[1,2]")
    with pytest.raises(WeightsError, match="not a JSON object"):
        read_safetensors(path)
    path.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    with pytest.raises(WeightsError, match="header length"):
        read_safetensors(path)
    path.write_bytes(struct.pack("<Q", 100) + b"{}")
    with pytest.raises(WeightsError, match="truncated"):
        read_safetensors(path)
    path.write_bytes(b"abc")
    with pytest.raises(WeightsError, match="too short"):
        read_safetensors(path)
    with pytest.raises(WeightsError, match="cannot read"):
        read_safetensors(tmp_path / "missing.safetensors")


# MARK: - swiftnst format


@pytest.mark.parametrize("architecture,convention", [("vgg16", TORCHVISION), ("vgg19", CAFFE)])
def test_weights_round_trip(tmp_path, random_vgg_layers, architecture, convention):
    weights = VGGWeights(architecture, random_vgg_layers(architecture), convention, "test source, sha256 00")
    path = tmp_path / "w.safetensors"
    save_weights(path, weights)
    loaded = load_weights(path)
    assert (loaded.architecture, loaded.convention, loaded.source) == (architecture, convention, weights.source)
    assert list(loaded.layers) == list(weights.layers)
    for name, (weight, bias) in weights.layers.items():
        np.testing.assert_array_equal(loaded.layers[name][0], weight)
        np.testing.assert_array_equal(loaded.layers[name][1], bias)
    _, metadata = read_safetensors(path)
    assert metadata["swiftnst.format"] == "1"
    if convention is CAFFE:
        assert metadata | {"source": ""} == {"swiftnst.format": "1", "architecture": "vgg19", "channel_order": "BGR",
                                             "input_scale": "255", "mean": "103.939,116.779,123.68",
                                             "std": "1,1,1", "source": ""}


@pytest.fixture(scope="module")
def vgg16_file(tmp_path_factory, random_vgg_layers):
    """The tensors and metadata of a valid VGG-16 file, for the tests to damage."""
    weights = VGGWeights("vgg16", random_vgg_layers("vgg16"), TORCHVISION, "src")
    return weights.tensors(), weights.metadata()


def _load_modified(tmp_path, tensors, metadata):
    path = tmp_path / "w.safetensors"
    write_safetensors(path, tensors, metadata)
    return load_weights(path)


@pytest.mark.parametrize("key", ["swiftnst.format", "architecture", "channel_order", "input_scale", "mean",
                                 "std", "source"])
def test_every_metadata_key_is_required(tmp_path, vgg16_file, key):
    tensors, metadata = vgg16_file
    with pytest.raises(WeightsError, match=f"lacks {key}"):
        _load_modified(tmp_path, tensors, {k: v for k, v in metadata.items() if k != key})


@pytest.mark.parametrize("key,value,message", [
    ("swiftnst.format", "2", "not supported"),
    ("architecture", "vgg11", "unknown architecture"),
    ("architecture", "vgg19", "missing vgg19 layers conv3_4"),
    ("channel_order", "GBR", "RGB or BGR"),
    ("input_scale", "2", "1 or 255"),
    ("input_scale", "x", "not a number"),
    ("mean", "1,2", "three numbers"),
    ("mean", "1,2,nan", "metadata 'mean' must be three numbers in 0..1"),
    ("std", "1,0,1", "metadata 'std' must be three numbers in 0.001..1"),
])
def test_bad_metadata_values(tmp_path, vgg16_file, key, value, message):
    tensors, metadata = vgg16_file
    with pytest.raises(WeightsError, match=message):
        _load_modified(tmp_path, tensors, {**metadata, key: value})


def test_missing_extra_misshapen_and_non_finite_tensors(tmp_path, vgg16_file):
    tensors, metadata = vgg16_file
    without = {k: v for k, v in tensors.items() if not k.startswith("conv5_3")}
    with pytest.raises(WeightsError, match="missing vgg16 layers conv5_3"):
        _load_modified(tmp_path, without, metadata)
    with pytest.raises(WeightsError, match="needs both"):
        _load_modified(tmp_path, {k: v for k, v in tensors.items() if k != "conv5_3.bias"}, metadata)
    with pytest.raises(WeightsError, match="unexpected tensor 'fc6'"):
        _load_modified(tmp_path, {**tensors, "fc6": np.zeros(1, np.float32)}, metadata)
    with pytest.raises(WeightsError, match="unexpected layers conv6_1"):
        _load_modified(tmp_path, {**tensors, "conv6_1.weight": np.zeros(1, np.float32),
                                  "conv6_1.bias": np.zeros(1, np.float32)}, metadata)
    with pytest.raises(WeightsError, match=r"conv2_1.weight has shape \(128, 64, 3, 1\)"):
        _load_modified(tmp_path, {**tensors, "conv2_1.weight": tensors["conv2_1.weight"][..., :1]}, metadata)
    for bad in (np.nan, np.inf):
        bias = tensors["conv4_1.bias"].copy()
        bias[3] = bad
        with pytest.raises(WeightsError, match="conv4_1.bias holds NaN or Inf"):
            _load_modified(tmp_path, {**tensors, "conv4_1.bias": bias}, metadata)
    with pytest.raises(WeightsError, match="requires F32"):
        _load_modified(tmp_path, {**tensors, "conv1_1.bias": tensors["conv1_1.bias"].astype(np.float64)}, metadata)


def test_input_convention_checks():
    with pytest.raises(WeightsError, match="three values"):
        InputConvention("RGB", 1.0, (1.0, 2.0))  # type: ignore[arg-type]
    assert InputConvention("RGB", 255.0, (1, 2, 3)).std == (1.0, 1.0, 1.0)
