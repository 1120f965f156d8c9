"""MatConvNet ``.mat`` VGG files -> VGGWeights, on synthetic files written with scipy.io.savemat in
each of the three layouts (old SimpleNN, new SimpleNN with ``meta``, DagNN ``params``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

scipy_io = pytest.importorskip("scipy.io")

from swiftnst.weights import WeightsError, layer_names  # noqa: E402
from swiftnst.weights.matconvnet import load_matconvnet  # noqa: E402

MEAN = np.array([123.68, 116.779, 103.939])


def _cell(items) -> np.ndarray:
    cell = np.empty((1, len(items)), dtype=object)
    for i, item in enumerate(items):
        cell[0, i] = item
    return cell


def _simplenn_layers(layers, architecture, *, old_fields=False, drop=()):
    entries = []
    for name in layer_names(architecture):
        if name in drop:
            continue
        if name.startswith("conv"):
            weight, bias = layers[name]
            kernel = np.einsum("oihw->hwio", weight)  # MatConvNet: [FH, FW, in, out]
            entry = {"name": name, "type": "conv", "stride": np.array([[1, 1]]), "pad": np.array([[1, 1, 1, 1]])}
            if old_fields:
                entry.update(filters=kernel, biases=bias.reshape(1, -1))
            else:
                entry["weights"] = _cell([kernel, bias.reshape(-1, 1)])
        else:
            entry = {"name": name, "type": "relu" if name.startswith("relu") else "pool"}
        entries.append(entry)
    return _cell(entries)


def _write(path: Path, content: dict) -> Path:
    scipy_io.savemat(path, content)
    return path


def _mean_image(height=4, width=6):
    rng = np.random.default_rng(3)
    noise = rng.normal(size=(height, width, 3))
    return MEAN + noise - noise.mean(axis=(0, 1))  # averages exactly to MEAN


def _check(weights, layers, architecture):
    assert weights.architecture == architecture
    assert weights.convention.channel_order == "RGB" and weights.convention.input_scale == 255
    np.testing.assert_allclose(weights.convention.mean, MEAN, rtol=1e-12)
    assert weights.convention.std == (1.0, 1.0, 1.0)
    for name, (weight, bias) in layers.items():
        np.testing.assert_array_equal(weights.layers[name][0], weight)
        np.testing.assert_array_equal(weights.layers[name][1], bias)


def test_old_simplenn_layout(tmp_path, random_vgg_layers):
    layers = random_vgg_layers("vgg19")
    path = _write(tmp_path / "imagenet-vgg-verydeep-19.mat",
                  {"layers": _simplenn_layers(layers, "vgg19"), "normalization": {"averageImage": _mean_image(),
                                                                                    "imageSize": [224, 224, 3]},
                   "classes": {"name": _cell(["n01", "n02"])}})
    weights = load_matconvnet(path)
    _check(weights, layers, "vgg19")
    assert weights.source == "imagenet-vgg-verydeep-19.mat"


def test_new_simplenn_layout_with_meta(tmp_path, random_vgg_layers):
    layers = random_vgg_layers("vgg16")
    path = _write(tmp_path / "v16.mat", {"layers": _simplenn_layers(layers, "vgg16"),
                                         "meta": {"normalization": {"averageImage": MEAN.reshape(1, 1, 3)}}})
    _check(load_matconvnet(path, source="s"), layers, "vgg16")


def test_oldest_filters_biases_fields(tmp_path, random_vgg_layers):
    layers = random_vgg_layers("vgg16")
    path = _write(tmp_path / "v.mat", {"layers": _simplenn_layers(layers, "vgg16", old_fields=True),
                                       "normalization": {"averageImage": MEAN.reshape(1, 1, 3)}})
    _check(load_matconvnet(path), layers, "vgg16")


def test_dagnn_layout(tmp_path, random_vgg_layers):
    layers = random_vgg_layers("vgg16")
    params = []
    for name, (weight, bias) in layers.items():
        params += [{"name": f"{name}f", "value": np.einsum("oihw->hwio", weight)},
                   {"name": f"{name}b", "value": bias.reshape(-1, 1)}]
    params.append({"name": "fc8f", "value": np.ones((1, 1, 2, 2))})
    path = _write(tmp_path / "dag.mat", {"params": _cell(params), "vars": _cell([{"name": "x0"}]),
                                         "meta": {"normalization": {"averageImage": MEAN.reshape(3, 1)}}})
    _check(load_matconvnet(path), layers, "vgg16")


def test_structural_errors(tmp_path, random_vgg_layers):
    layers = random_vgg_layers("vgg16")
    norm = {"averageImage": MEAN.reshape(1, 1, 3)}
    with pytest.raises(WeightsError, match="a.mat: found 12 conv layers"):
        load_matconvnet(_write(tmp_path / "a.mat", {"layers": _simplenn_layers(layers, "vgg16", drop={"conv3_2"}),
                                                    "normalization": norm}))
    with pytest.raises(WeightsError, match="averageImage is missing"):
        load_matconvnet(_write(tmp_path / "b.mat", {"layers": _simplenn_layers(layers, "vgg16")}))
    with pytest.raises(WeightsError, match="no 'layers' or 'params'"):
        load_matconvnet(_write(tmp_path / "c.mat", {"net": np.ones(3)}))
    bad = dict(layers)
    bad["conv2_1"] = (layers["conv2_1"][0][:, :, :2, :], layers["conv2_1"][1])
    with pytest.raises(WeightsError, match=r"d.mat: conv2_1.weight has shape \(128, 64, 2, 3\)"):
        load_matconvnet(_write(tmp_path / "d.mat", {"layers": _simplenn_layers(bad, "vgg16"), "normalization": norm}))
    nan = dict(layers)
    weight = layers["conv5_1"][0].copy()
    weight[0, 0, 0, 0] = np.nan
    nan["conv5_1"] = (weight, layers["conv5_1"][1])
    with pytest.raises(WeightsError, match="conv5_1.weight holds NaN"):
        load_matconvnet(_write(tmp_path / "e.mat", {"layers": _simplenn_layers(nan, "vgg16"), "normalization": norm}))


def test_unreadable_files(tmp_path):
    (tmp_path / "junk.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\0" * 20)
    with pytest.raises(WeightsError, match="junk.mat: not a readable MATLAB file"):
        load_matconvnet(tmp_path / "junk.mat")
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "v73.mat", "w") as f:  # MATLAB -v7.3 files are HDF5 with a 512-byte header
        f.create_dataset("layers", data=np.ones(2))
    with pytest.raises(WeightsError, match="v7.3|not a readable MATLAB file"):
        load_matconvnet(tmp_path / "v73.mat")


def test_parse_runs_in_a_child_whose_crash_or_timeout_is_a_weights_error(tmp_path, monkeypatch, random_vgg_layers):
    from swiftnst.weights import matconvnet

    path = tmp_path / "vgg16.mat"
    scipy_io.savemat(path, {"layers": _simplenn_layers(random_vgg_layers("vgg16"), "vgg16"),
                            "normalization": {"averageImage": MEAN}})
    crashing = tmp_path / "crashing-python"
    crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crashing.chmod(0o755)
    monkeypatch.setattr(matconvnet.sys, "executable", str(crashing))
    with pytest.raises(WeightsError, match=rf"^{path}: the MATLAB reader failed on this file"):
        load_matconvnet(path)
    monkeypatch.undo()
    monkeypatch.setattr(matconvnet, "PARSE_TIMEOUT_SECONDS", 0.01)
    with pytest.raises(WeightsError, match=rf"^{path}: parsing the MATLAB file took over"):
        load_matconvnet(path)
