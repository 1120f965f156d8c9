"""The NumPy reference with the converted Keras VGG-19 against ``shared/golden`` (independent PyTorch).

This checks both the reference and the Keras converter end to end: a wrong transpose, channel
order or mean would move every number. Skips without ``../shared`` or the cached weights.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
# The golden values are float32 PyTorch results and the reference runs in float64, so agreement is
# bounded by float32 rounding in the golden run (observed about 2e-7); the README promises 1e-5..1e-4
# for float32 engines, and the reference must do at least as well as the best of them.
RTOL = 1e-5


def _relative_error(actual, expected) -> float:
    return float(np.abs(np.asarray(actual) - expected).max() / np.abs(expected).max())


@pytest.fixture(scope="module")
def images(golden, vgg19_keras_weights):
    convention = vgg19_keras_weights.convention  # Keras/Caffe: RGB -> BGR, 0..255, minus the mean, CHW
    return (ref.preprocess(golden["content_rgb_uint8"], convention),
            ref.preprocess(golden["style_rgb_uint8"], convention))


@pytest.fixture(scope="module")
def activations(golden, vgg19_keras_weights, images):
    layers = [*STYLE_LAYERS, "relu4_2"]
    content, style = images
    return (ref.vgg_forward(content, vgg19_keras_weights.layers, layers)[0],
            ref.vgg_forward(style, vgg19_keras_weights.layers, layers)[0])


def test_preprocessing_matches_the_golden_point(golden, images):
    # x_preprocessed = preprocessed content + 10 N(0, 1): the noise must look like N(0, 100)
    noise = golden["x_preprocessed_bgr_chw"] - images[0]
    assert abs(noise.mean()) < 0.5 and 9 < noise.std() < 11


@pytest.mark.parametrize("layer", ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"])
def test_content_activations(golden, activations, layer):
    expected = golden[f"content_{layer}"]
    actual = activations[0][layer]
    assert actual.shape == expected.shape
    error = _relative_error(actual, expected)
    assert error < RTOL, f"{layer}: relative error {error:.3g} (tolerance {RTOL:g})"


def test_tutorial_content_cost(golden, activations):
    content, style = activations
    cost = ref.tutorial_content_cost(content["relu4_2"], style["relu4_2"])
    assert cost == pytest.approx(float(golden["coursera_content_cost_relu4_2"]), rel=RTOL)


@pytest.mark.parametrize("layer", STYLE_LAYERS)
def test_tutorial_layer_style_cost(golden, activations, layer):
    content, style = activations
    cost = ref.tutorial_layer_style_cost(style[layer], content[layer])
    assert cost == pytest.approx(float(golden[f"coursera_style_cost_{layer}"]), rel=RTOL)


def test_neural_style_objective_and_gradient(golden, vgg19_keras_weights, images):
    content, style = images
    x = golden["x_preprocessed_bgr_chw"].astype(np.float64)
    losses, grad = ref.neural_style(x, vgg19_keras_weights.layers, content, [style], ref.Objective(tv_weight=0))
    assert losses["content"] == pytest.approx(5 * float(golden["jj_content_mse"]), rel=RTOL)
    assert losses["style"] == pytest.approx(100 * float(golden["jj_style_sum"]), rel=RTOL)
    assert losses["total"] == pytest.approx(float(golden["jj_total"]), rel=RTOL)
    error = _relative_error(grad, golden["jj_grad_wrt_x"])
    assert error < RTOL, f"gradient: relative error {error:.3g} (tolerance {RTOL:g})"
