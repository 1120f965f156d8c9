"""Keras ``.h5`` VGG weights -> VGGWeights, on synthetic files in the real Keras layout.

(The real file is covered end to end by test_golden.py, which runs the converted weights against
activations computed independently in PyTorch.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from swiftnst.weights import CAFFE, WeightsError  # noqa: E402
from swiftnst.weights.keras_h5 import load_keras_h5  # noqa: E402


def _write_keras(path: Path, layers, *, full_model: bool = False, skip=(), replace=None) -> Path:
    """Write ``layers`` ({convB_I: (OIHW, bias)}) as Keras does: groups block{B}_conv{I}, kernels HWIO."""
    replace = replace or {}
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights") if full_model else f
        names = []
        for layer, (weight, bias) in layers.items():
            block, index = layer[4:].split("_")
            name = f"block{block}_conv{index}"
            if name in skip:
                continue
            names.append(name)
            group = root.create_group(name)
            kernel = replace.get(name, np.einsum("oihw->hwio", weight))
            group.create_dataset(f"{name}_W_1:0", data=kernel)
            group.create_dataset(f"{name}_b_1:0", data=bias)
            group.attrs["weight_names"] = np.array([f"{name}_W_1:0", f"{name}_b_1:0"], dtype="S")
        root.create_group("block1_pool").attrs["weight_names"] = np.array([], dtype=np.float64)
        root.attrs["layer_names"] = np.array(names, dtype="S")
    return path


@pytest.fixture(scope="module")
def vgg16_h5(tmp_path_factory, random_vgg_layers):
    return _write_keras(tmp_path_factory.mktemp("keras") / "vgg16.h5", random_vgg_layers("vgg16"))


def test_converts_vgg16_kernels_to_oihw(vgg16_h5, random_vgg_layers):
    weights = load_keras_h5(vgg16_h5)
    assert weights.architecture == "vgg16"
    assert weights.convention == CAFFE
    assert weights.source == "vgg16.h5"
    for name, (weight, bias) in random_vgg_layers("vgg16").items():
        np.testing.assert_array_equal(weights.layers[name][0], weight)
        np.testing.assert_array_equal(weights.layers[name][1], bias)


def test_full_model_layout_and_vgg19(tmp_path, random_vgg_layers):
    path = _write_keras(tmp_path / "model.h5", random_vgg_layers("vgg19"), full_model=True)
    weights = load_keras_h5(path, source="custom")
    assert (weights.architecture, weights.source) == ("vgg19", "custom")
    np.testing.assert_array_equal(weights.layers["conv5_4"][0], random_vgg_layers("vgg19")["conv5_4"][0])


def test_keras3_weights_layout(tmp_path, random_vgg_layers):
    layers = random_vgg_layers("vgg16")
    with h5py.File(tmp_path / "vgg16.weights.h5", "w") as f:
        for layer, (weight, bias) in layers.items():
            block, index = layer[4:].split("_")
            group = f.create_group(f"layers/block{block}_conv{index}/vars")
            group.create_dataset("0", data=np.einsum("oihw->hwio", weight))
            group.create_dataset("1", data=bias)
        f.create_group("layers/block1_pool/vars")
    weights = load_keras_h5(tmp_path / "vgg16.weights.h5")
    np.testing.assert_array_equal(weights.layers["conv4_3"][0], layers["conv4_3"][0])


def test_integer_kernels_are_rejected(tmp_path, random_vgg_layers):
    layers = random_vgg_layers("vgg16")
    kernel = np.einsum("oihw->hwio", layers["conv1_1"][0]).astype(np.int32)
    path = _write_keras(tmp_path / "int.h5", layers, replace={"block1_conv1": kernel})
    with pytest.raises(WeightsError, match="int.h5: conv1_1 holds int32/float32 values, expected floats"):
        load_keras_h5(path)


def test_missing_layer(tmp_path, random_vgg_layers):
    layers = dict(random_vgg_layers("vgg19"))
    layers["conv6_1"] = layers.pop("conv3_4")  # right count, wrong names
    path = _write_keras(tmp_path / "v.h5", layers)
    with pytest.raises(WeightsError, match="v.h5: missing Keras layer block3_conv4"):
        load_keras_h5(path)


def test_wrong_layer_count(tmp_path, random_vgg_layers):
    path = _write_keras(tmp_path / "v.h5", random_vgg_layers("vgg16"), skip={"block5_conv3"})
    with pytest.raises(WeightsError, match="found 12 Keras conv layers"):
        load_keras_h5(path)


def test_theano_ordered_kernels_are_rejected_by_shape(tmp_path, random_vgg_layers):
    layers = random_vgg_layers("vgg16")
    path = _write_keras(tmp_path / "th.h5", layers, replace={"block1_conv1": layers["conv1_1"][0]})
    with pytest.raises(WeightsError, match=r"th.h5: conv1_1.weight has shape"):
        load_keras_h5(path)


def test_non_finite_values(tmp_path, random_vgg_layers):
    layers = random_vgg_layers("vgg16")
    kernel = np.einsum("oihw->hwio", layers["conv2_2"][0]).copy()
    kernel[0, 0, 0, 0] = np.nan
    path = _write_keras(tmp_path / "nan.h5", layers, replace={"block2_conv2": kernel})
    with pytest.raises(WeightsError, match="nan.h5: conv2_2.weight holds NaN or Inf"):
        load_keras_h5(path)


def test_not_hdf5_and_truncated(tmp_path, vgg16_h5):
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(WeightsError, match="text.h5: not a readable HDF5 file"):
        load_keras_h5(tmp_path / "text.h5")
    truncated = tmp_path / "cut.h5"
    truncated.write_bytes(vgg16_h5.read_bytes()[: vgg16_h5.stat().st_size // 2])
    with pytest.raises(WeightsError, match="cut.h5"):
        load_keras_h5(truncated)
