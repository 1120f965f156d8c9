"""``Model``: the real VGG-19 forward pass against the float64 NumPy reference, layer names and shapes,
and the input convention (preprocess/deprocess) against the reference's."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import reference as ref

pytest.importorskip("swiftnst._bindings", exc_type=ImportError)  # skips until libswiftnst.so is built
from swiftnst import Model, NSTInvalidHandleError, NSTShapeError, NSTUnknownLayerError  # noqa: E402
from swiftnst.weights import layer_names  # noqa: E402

LAYERS = ["relu1_1", "conv2_1", "relu2_1", "pool2", "relu3_1", "relu4_1", "relu4_2", "relu5_1", "pool5"]


@pytest.fixture(scope="module")
def image64() -> np.ndarray:
    """A fixed 64x64 RGB image in [0, 1]: smooth gradients plus deterministic noise."""
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    noise = np.random.default_rng(64).random((64, 64, 3))
    return np.clip(np.stack([yy, xx, 1 - yy * xx], axis=-1) * 0.7 + 0.3 * noise, 0, 1)


def test_info_matches_the_weights_file(model, vgg19_keras_weights):
    convention = vgg19_keras_weights.convention
    assert model.architecture == "vgg19"
    assert model.channel_order == convention.channel_order == "BGR"
    assert model.input_scale == convention.input_scale == 255
    np.testing.assert_allclose(model.mean, convention.mean, rtol=1e-6)
    np.testing.assert_allclose(model.std, convention.std, rtol=1e-6)
    assert model.layer_names == layer_names("vgg19")
    assert len(model.layer_names) == 16 * 2 + 5


@pytest.mark.parametrize("height, width", [(64, 64), (37, 53), (1, 1)])
def test_layer_shapes_follow_floor_pooling(model, height, width):
    channels = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
    for name in model.layer_names:
        block = int(name[4])  # conv1_1, relu1_1, pool1: the block digit is the 5th character
        pools = block if name.startswith("pool") else block - 1
        h, w = height, width
        for _ in range(pools):
            h, w = h // 2, w // 2
        if h == 0 or w == 0:  # the engine refuses layers an image is too small to reach
            with pytest.raises(NSTShapeError, match="too small"):
                model.layer_shape(name, height, width)
        else:
            assert model.layer_shape(name, height, width) == (channels[block], h, w), name


def test_forward_matches_reference_on_64x64(model, vgg19_keras_weights, image64):
    x = model.preprocess(image64)
    got = model.activations(x, LAYERS)
    want, _ = ref.vgg_forward(x.astype(np.float64), vgg19_keras_weights.layers, LAYERS)
    assert list(got) == LAYERS
    for layer in LAYERS:
        assert got[layer].dtype == np.float32 and got[layer].shape == want[layer].shape, layer
        error = np.abs(got[layer] - want[layer]).max() / np.abs(want[layer]).max()
        assert error < 1e-4, f"{layer}: relative error {error:.3g}"


def test_average_pooling_and_partial_depth(model, vgg19_keras_weights, image64):
    x = model.preprocess(image64[:20, :30])
    got = model.activations(x, ["pool2", "relu1_2"], pooling="avg")
    want, _ = ref.vgg_forward(x.astype(np.float64), vgg19_keras_weights.layers, ["pool2", "relu1_2"], "avg")
    for layer in want:
        np.testing.assert_allclose(got[layer], want[layer], rtol=0, atol=1e-4 * np.abs(want[layer]).max())


def test_preprocess_and_deprocess_match_reference(model, vgg19_keras_weights, image64):
    convention = vgg19_keras_weights.convention
    x = model.preprocess(image64)
    assert x.dtype == np.float32 and x.shape == (3, 64, 64) and x.flags.c_contiguous
    np.testing.assert_allclose(x, ref.preprocess(image64, convention), rtol=1e-5, atol=1e-3)
    as_uint8 = (image64 * 255).round().astype(np.uint8)
    np.testing.assert_allclose(model.preprocess(as_uint8), ref.preprocess(as_uint8, convention), atol=1e-3)
    back = model.deprocess(x)
    assert back.dtype == np.float32 and back.shape == (64, 64, 3)
    np.testing.assert_allclose(back, image64, atol=1e-5)
    assert model.deprocess(x * 10).max() <= 1.0 and model.deprocess(x * 10).min() >= 0.0


def test_bad_inputs_raise(model):
    with pytest.raises(NSTUnknownLayerError, match="relu9_9"):
        model.activations(np.zeros((3, 8, 8), np.float32), ["relu9_9"])
    with pytest.raises(NSTShapeError):
        model.activations(np.zeros((8, 8, 3), np.float32), ["relu1_1"])
    with pytest.raises(NSTShapeError):
        model.preprocess(np.zeros((8, 8)))


def test_lifetime(vgg19_weights_path):
    m = Model(vgg19_weights_path)
    m.close()
    m.close()  # idempotent
    assert m.closed
    with pytest.raises(NSTInvalidHandleError, match="closed"):
        m.activations(np.zeros((3, 8, 8), np.float32), ["relu1_1"])
    with pytest.raises(NSTInvalidHandleError):
        m.layer_shape("relu1_1", 8, 8)
    with Model(vgg19_weights_path) as m2:
        assert not m2.closed
    assert m2.closed
    Model(vgg19_weights_path)  # unreferenced: freed by __del__ without error
    gc.collect()
