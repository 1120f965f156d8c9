"""The tutorial's cost functions (computed by the engine) against a float64 NumPy transcription of
the formulas of seed 004, and against the independent PyTorch golden values when ../shared exists."""

from __future__ import annotations


import numpy as np
import pytest

import reference as ref
from swiftnst.tutorial import (STYLE_LAYERS, STYLE_LAYERS_TUTORIAL, compute_activations, compute_content_cost,
                               compute_layer_style_cost, compute_style_cost, engine_layer_name, generate_noise_image,
                               gram_matrix, total_cost)

RNG = np.random.default_rng(2024)


# The formulas of seed 004, written out in float64 on channels-last activations.
def content_cost_reference(a_c: np.ndarray, a_g: np.ndarray) -> float:
    n_h, n_w, n_c = a_c.shape[-3:]
    return float(np.sum((a_c.astype(np.float64) - a_g) ** 2) / (4 * n_h * n_w * n_c))


def gram_reference(a: np.ndarray) -> np.ndarray:
    unrolled = a.reshape(-1, a.shape[-1]).T.astype(np.float64)       # (n_C, n_H * n_W)
    return unrolled @ unrolled.T


def layer_style_cost_reference(a_s: np.ndarray, a_g: np.ndarray) -> float:
    n_h, n_w, n_c = a_s.shape[-3:]
    return float(np.sum((gram_reference(a_s) - gram_reference(a_g)) ** 2) / (4 * n_c ** 2 * (n_h * n_w) ** 2))


def _activations(*shape: int) -> np.ndarray:
    # Post-ReLU-like: non-negative, some exact zeros.
    return np.maximum(RNG.normal(size=shape), 0).astype(np.float32)


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 5, 7), (8, 6, 64), (1, 4, 4, 3)])
def test_content_cost_matches_formula(shape):
    a_c, a_g = _activations(*shape), _activations(*shape)
    assert compute_content_cost(a_c, a_g) == pytest.approx(content_cost_reference(a_c, a_g), rel=1e-6)
    assert compute_content_cost(a_c, a_c) == 0.0


@pytest.mark.parametrize("n_c, n_positions", [(1, 1), (3, 10), (64, 49)])
def test_gram_matrix_matches_a_a_transpose(n_c, n_positions):
    a = RNG.normal(size=(n_c, n_positions)).astype(np.float32)
    gram = gram_matrix(a)
    assert gram.shape == (n_c, n_c)
    np.testing.assert_allclose(gram, a.astype(np.float64) @ a.T, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(1, 1, 1), (4, 3, 5), (7, 7, 32), (1, 2, 3, 4)])
def test_layer_style_cost_matches_formula(shape):
    a_s, a_g = _activations(*shape), _activations(*shape)
    assert compute_layer_style_cost(a_s, a_g) == pytest.approx(layer_style_cost_reference(a_s, a_g), rel=1e-5)


def test_style_cost_is_the_weighted_sum_over_layers():
    shapes = {"conv1_1": (8, 8, 4), "conv2_1": (4, 4, 8), "conv3_1": (2, 2, 16), "conv4_1": (2, 2, 16),
              "conv5_1": (1, 1, 16)}
    a_s = {name: _activations(*shape) for name, shape in shapes.items()}
    a_g = {name: _activations(*shape) for name, shape in shapes.items()}
    expected = sum(w * layer_style_cost_reference(a_s[n], a_g[n]) for n, w in STYLE_LAYERS)
    assert compute_style_cost(a_s, a_g) == pytest.approx(expected, rel=1e-5)
    # Same with swiftnst names as keys, with sequences aligned with the layers, and custom weights.
    relu_s = {engine_layer_name(n): a for n, a in a_s.items()}
    relu_g = {engine_layer_name(n): a for n, a in a_g.items()}
    assert compute_style_cost(relu_s, relu_g, STYLE_LAYERS) == pytest.approx(expected, rel=1e-5)
    assert compute_style_cost(list(a_s.values()), list(a_g.values())) == pytest.approx(expected, rel=1e-5)
    two = [("conv1_1", 3.0), ("conv5_1", 0.5)]
    assert compute_style_cost(a_s, a_g, STYLE_LAYERS=two) == pytest.approx(
        3.0 * layer_style_cost_reference(a_s["conv1_1"], a_g["conv1_1"])
        + 0.5 * layer_style_cost_reference(a_s["conv5_1"], a_g["conv5_1"]), rel=1e-5)


def test_total_cost():
    assert total_cost(2.0, 3.0) == 10 * 2.0 + 40 * 3.0
    assert total_cost(2.0, 3.0, alpha=1, beta=2) == 8.0


def test_layer_presets_and_names():
    assert [n for n, _ in STYLE_LAYERS] == ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]
    assert sum(w for _, w in STYLE_LAYERS) == pytest.approx(1.0)
    assert [n for n, _ in STYLE_LAYERS_TUTORIAL] == ["conv1_1", "conv2_1", "conv3_1", "conv3_4",
                                                    "conv4_1", "conv5_1", "conv5_2", "conv5_4"]
    assert all(w == 0.125 for _, w in STYLE_LAYERS_TUTORIAL)
    assert engine_layer_name("conv4_2") == "relu4_2"
    assert engine_layer_name("relu4_2") == "relu4_2" and engine_layer_name("pool3") == "pool3"


def test_shape_errors():
    with pytest.raises(ValueError, match="same shape"):
        compute_content_cost(_activations(2, 2, 3), _activations(2, 3, 3))
    with pytest.raises(ValueError, match="batch of one"):
        compute_layer_style_cost(_activations(2, 2, 2, 3), _activations(2, 2, 2, 3))
    with pytest.raises(ValueError, match="n_H, n_W, n_C"):
        compute_content_cost(np.zeros(5, np.float32), np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="n_C, n_H"):
        gram_matrix(np.zeros((2, 2, 2), np.float32))
    with pytest.raises(KeyError, match="conv2_1"):
        compute_style_cost({"conv1_1": _activations(2, 2, 2)}, {"conv1_1": _activations(2, 2, 2)})
    with pytest.raises(TypeError):
        compute_style_cost(_activations(2, 2, 2))


# MARK: - With the real VGG-19


def test_model_form_equals_activation_form(model):
    style = (RNG.random((40, 40, 3)) * 255).astype(np.uint8)
    generated = (RNG.random((40, 40, 3)) * 255).astype(np.uint8)
    layers = [("conv1_1", 0.5), ("conv3_1", 1.0), ("relu5_1", 2.0)]
    a_s = compute_activations(model, style, [n for n, _ in layers])
    a_g = compute_activations(model, generated, [n for n, _ in layers])
    c, h, w = model.layer_shape("relu3_1", 40, 40)
    assert a_s["conv3_1"].shape == (h, w, c)
    expected = sum(wt * layer_style_cost_reference(a_s[n], a_g[n]) for n, wt in layers)
    assert compute_style_cost(model, style, generated, layers) == pytest.approx(expected, rel=1e-5)


def test_costs_match_independent_pytorch_golden_values(model, golden):
    content, style = golden["content_rgb_uint8"], golden["style_rgb_uint8"]
    layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
    a_content = compute_activations(model, content, layers)
    a_style = compute_activations(model, style, layers)
    assert compute_content_cost(a_content["relu4_2"], a_style["relu4_2"]) == pytest.approx(
        float(golden["coursera_content_cost_relu4_2"]), rel=1e-3)
    for layer in ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"):
        assert compute_layer_style_cost(a_style[layer], a_content[layer]) == pytest.approx(
            float(golden[f"coursera_style_cost_{layer}"]), rel=1e-3), layer
    # Tutorial naming of the same layers gives the same total.
    tutorial_total = compute_style_cost(model, style, content)
    assert tutorial_total == pytest.approx(
        sum(0.2 * float(golden[f"coursera_style_cost_relu{b}_1"]) for b in range(1, 6)), rel=1e-3)


def test_generate_noise_image_is_the_assignments_formula(model, vgg19_keras_weights):
    """G0 = 0.6 * uniform(-20, 20) + 0.4 * (content - MEANS) in the mean-subtracted input space, with the
    float64 reference preprocessing and the same draws; float32 rounding of values up to ~150 allows 1e-4."""
    content = RNG.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)
    g0 = generate_noise_image(model, content, seed=11)
    noise = np.random.default_rng(11).uniform(-20, 20, size=(3, 12, 10))
    want = 0.6 * noise + 0.4 * ref.preprocess(content, vgg19_keras_weights.convention)
    assert g0.shape == (3, 12, 10) and g0.dtype == np.float32
    np.testing.assert_allclose(g0, want, rtol=0, atol=1e-4)
    # As a picture: the content pulled 60 % towards the mean colour, within [0, 1] so nothing is clipped.
    rgb_mean = np.asarray(vgg19_keras_weights.convention.mean)[::-1] / 255
    pulled = 0.4 * content / 255 + 0.6 * rgb_mean
    assert np.abs(model.deprocess(g0) - pulled).max() <= 0.6 * 20 / 255 + 1e-5
    np.testing.assert_array_equal(generate_noise_image(model, content, noise_ratio=0.0), model.preprocess(content))
    with pytest.raises(ValueError, match="noise_ratio"):
        generate_noise_image(model, content, noise_ratio=1.5)


def test_stylize_starts_from_the_tutorial_image(model):
    """``init="tutorial"``: one step evaluates the start, so the best image of a 1-step run is G0."""
    from swiftnst import stylize

    content = RNG.integers(0, 256, size=(40, 48, 3), dtype=np.uint8)
    style = RNG.integers(0, 256, size=(40, 48, 3), dtype=np.uint8)
    result = stylize(content, style, model=model, image_size=48, iterations=1, init="tutorial", seed=5,
                     multiscale=False, progress=False)
    g0 = model.deprocess(generate_noise_image(model, content, seed=5))
    assert np.abs(result.astype(np.float64) - g0 * 255).max() <= 0.5 + 1e-3
