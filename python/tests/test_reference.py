"""The NumPy reference checked against naive loops and central finite differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref
from swiftnst.weights import CAFFE, TORCHVISION, conv_weight_shapes

RNG = np.random.default_rng(20261123)


def _numeric_gradient(f, x: np.ndarray, indices, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f`` at the given flat indices of ``x``."""
    out = []
    for index in indices:
        plus, minus = x.copy(), x.copy()
        plus.flat[index] += eps
        minus.flat[index] -= eps
        out.append((f(plus) - f(minus)) / (2 * eps))
    return np.array(out)


def _assert_gradient(f, grad: np.ndarray, x: np.ndarray, count: int | None = None, rtol: float = 1e-6) -> None:
    indices = range(x.size) if count is None else RNG.choice(x.size, size=count, replace=False)
    indices = list(indices)
    numeric = _numeric_gradient(f, x, indices)
    analytic = grad.ravel()[indices]
    scale = max(np.abs(analytic).max(), 1e-12)
    error = np.abs(numeric - analytic).max() / scale
    assert error < rtol, f"gradient mismatch: relative error {error:.3g} > {rtol:g}"


def _naive_conv(x, weight, bias):
    c, h, w = x.shape
    out = np.zeros((weight.shape[0], h, w))
    for o in range(weight.shape[0]):
        for i in range(c):
            for y in range(h):
                for z in range(w):
                    for k in range(3):
                        for l in range(3):
                            yy, zz = y + k - 1, z + l - 1
                            if 0 <= yy < h and 0 <= zz < w:
                                out[o, y, z] += weight[o, i, k, l] * x[i, yy, zz]
        out[o] += bias[o]
    return out


# MARK: - Input convention


@pytest.mark.parametrize("convention", [CAFFE, TORCHVISION], ids=["caffe", "torchvision"])
def test_preprocess_and_deprocess(convention):
    rgb = RNG.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    x = ref.preprocess(rgb, convention)
    assert x.shape == (3, 4, 5)
    order = [2, 1, 0] if convention.channel_order == "BGR" else [0, 1, 2]
    channel = 1 / 255 * convention.input_scale * rgb[1, 2, order[0]]
    assert x[0, 1, 2] == pytest.approx((channel - convention.mean[0]) / convention.std[0])
    np.testing.assert_allclose(ref.deprocess(x, convention), rgb / 255.0, atol=1e-12)
    np.testing.assert_allclose(ref.preprocess(rgb / 255.0, convention), x)
    assert ref.deprocess(x + 1e3, convention).max() == 1.0


# MARK: - Layers


@pytest.mark.parametrize("c,o,h,w", [(1, 1, 1, 1), (1, 2, 1, 3), (2, 3, 3, 2), (3, 2, 4, 5)])
def test_conv3x3_matches_naive_loops(c, o, h, w):
    x, weight, bias = RNG.normal(size=(c, h, w)), RNG.normal(size=(o, c, 3, 3)), RNG.normal(size=o)
    np.testing.assert_allclose(ref.conv3x3(x, weight, bias), _naive_conv(x, weight, bias), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("c,o,h,w", [(1, 1, 1, 1), (2, 3, 3, 2), (3, 2, 4, 5)])
def test_conv3x3_input_gradient(c, o, h, w):
    x, weight, bias = RNG.normal(size=(c, h, w)), RNG.normal(size=(o, c, 3, 3)), RNG.normal(size=o)
    probe = RNG.normal(size=(o, h, w))
    grad = ref.conv3x3_backward_input(probe, weight)
    _assert_gradient(lambda v: float((ref.conv3x3(v, weight, bias) * probe).sum()), grad, x)


def test_relu_and_its_gradient():
    x = RNG.normal(size=(2, 3, 4))
    np.testing.assert_array_equal(ref.relu(x), np.where(x > 0, x, 0))
    probe = RNG.normal(size=x.shape)
    _assert_gradient(lambda v: float((ref.relu(v) * probe).sum()), ref.relu_backward(probe, x), x)


@pytest.mark.parametrize("h,w", [(2, 2), (4, 6), (5, 7), (1, 3)])
def test_max_pool_forward_and_gradient(h, w):
    x = RNG.normal(size=(3, h, w))
    out = ref.max_pool(x)
    assert out.shape == (3, h // 2, w // 2)
    for i in range(h // 2):
        for j in range(w // 2):
            np.testing.assert_array_equal(out[:, i, j], x[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max(axis=(1, 2)))
    probe = RNG.normal(size=out.shape)
    _assert_gradient(lambda v: float((ref.max_pool(v) * probe).sum()), ref.max_pool_backward(probe, x), x)


def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order():
    x = np.ones((1, 2, 2))
    grad = ref.max_pool_backward(np.array([[[5.0]]]), x)
    np.testing.assert_array_equal(grad, [[[5.0, 0.0], [0.0, 0.0]]])


@pytest.mark.parametrize("h,w", [(2, 2), (4, 6), (5, 7)])
def test_avg_pool_forward_and_gradient(h, w):
    x = RNG.normal(size=(2, h, w))
    out = ref.avg_pool(x)
    np.testing.assert_allclose(out[:, 0, 0], x[:, :2, :2].mean(axis=(1, 2)))
    probe = RNG.normal(size=out.shape)
    grad = ref.avg_pool_backward(probe, x)
    _assert_gradient(lambda v: float((ref.avg_pool(v) * probe).sum()), grad, x)
    if h % 2:
        assert not grad[:, -1, :].any()  # the dropped row gets no gradient


def test_gram_and_its_gradient():
    f = RNG.normal(size=(3, 4, 5))
    flat = f.reshape(3, 20)
    np.testing.assert_allclose(ref.gram(f), flat @ flat.T)
    probe = RNG.normal(size=(3, 3))  # not symmetric, so both terms of the backward matter
    _assert_gradient(lambda v: float((ref.gram(v) * probe).sum()), ref.gram_backward(probe, f), f)


def test_total_variation_value_and_gradient():
    x = RNG.normal(size=(3, 4, 5))
    value, grad = ref.total_variation(x)
    expected = 0.5 * sum(((x[c, i, j + 1] - x[c, i, j]) ** 2 if j + 1 < 5 else 0)
                         + ((x[c, i + 1, j] - x[c, i, j]) ** 2 if i + 1 < 4 else 0)
                         for c in range(3) for i in range(4) for j in range(5))
    assert value == pytest.approx(expected, rel=1e-12)
    _assert_gradient(lambda v: ref.total_variation(v)[0], grad, x)


# MARK: - Network and objective on random weights of the real shapes


def _random_weights(architecture: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    # He initialisation keeps activations alive through all 16 convs
    return {name: (rng.normal(size=shape) * np.sqrt(2 / (shape[1] * 9)), rng.normal(size=shape[0]) * 0.1)
            for name, shape in conv_weight_shapes(architecture).items()}


@pytest.fixture(scope="module")
def weights19():
    return _random_weights("vgg19")


def test_vgg_forward_layer_shapes_and_composition(weights19):
    x = RNG.normal(size=(3, 20, 18))
    acts, _ = ref.vgg_forward(x, weights19, ["conv1_1", "relu1_1", "pool1", "relu3_4", "pool5"])
    assert acts["conv1_1"].shape == (64, 20, 18)
    assert acts["pool1"].shape == (64, 10, 9)
    assert acts["relu3_4"].shape == (256, 5, 4)
    assert acts["pool5"].shape == (512, 0, 0)  # 20 -> 10 -> 5 -> 2 -> 1 -> 0 (floor)
    np.testing.assert_allclose(acts["conv1_1"], ref.conv3x3(x, *weights19["conv1_1"]))
    np.testing.assert_array_equal(acts["relu1_1"], np.maximum(acts["conv1_1"], 0))


def test_vgg_forward_rejects_unknown_layers(weights19):
    with pytest.raises(ValueError, match="relu3_4"):
        ref.vgg_forward(np.zeros((3, 8, 8)), _random_weights("vgg16"), ["relu3_4"])


@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_vgg_backward_injected_at_several_layers(weights19, pooling):
    x = RNG.normal(size=(3, 12, 10)) * 50
    layers = ["relu1_2", "relu2_1", "conv3_1"]
    _, tape = ref.vgg_forward(x, weights19, layers, pooling)
    probes = {layer: RNG.normal(size=a.shape) for layer, a in ref.vgg_forward(x, weights19, layers, pooling)[0].items()}
    grad = ref.vgg_backward(tape, probes)

    def f(v):
        acts, _ = ref.vgg_forward(v, weights19, layers, pooling)
        return sum(float((acts[layer] * probes[layer]).sum()) for layer in layers)

    _assert_gradient(f, grad, x, count=12, rtol=1e-5)


def test_neural_style_objective_gradient(weights19):
    content, style, x = (RNG.normal(size=(3, 16, 16)) * 50 for _ in range(3))
    other_style = RNG.normal(size=(3, 24, 16)) * 50  # another size: relu5_1 is 1x1
    objective = ref.Objective(content_layers={"relu2_1": 1.0, "relu4_2": 0.5},
                              style_layers={"relu1_1": 1.0, "relu3_1": 0.3, "relu5_1": 2.0})
    losses, grad = ref.neural_style(x, weights19, content, [style, other_style], objective, blend=[3, 1])
    assert losses["total"] == pytest.approx(losses["content"] + losses["style"] + losses["tv"])
    assert min(losses["content"], losses["style"], losses["tv"]) > 0
    _assert_gradient(lambda v: ref.neural_style(v, weights19, content, [style, other_style], objective,
                                                blend=[3, 1])[0]["total"],
                     grad, x, count=6, rtol=1e-5)


def test_neural_style_terms_follow_their_definitions(weights19):
    content, style, x = (RNG.normal(size=(3, 8, 8)) * 50 for _ in range(3))
    objective = ref.Objective(content_layers={"relu1_1": 2.0}, style_layers={"relu1_2": 3.0},
                              content_weight=5, style_weight=100, tv_weight=0.25)
    losses, _ = ref.neural_style(x, weights19, content, [style], objective)
    acts = lambda img, layer: ref.vgg_forward(img, weights19, [layer])[0][layer]  # noqa: E731
    fx, fc = acts(x, "relu1_1"), acts(content, "relu1_1")
    assert losses["content"] == pytest.approx(5 * 2 * np.mean((fx - fc) ** 2))
    gx, gs = acts(x, "relu1_2"), acts(style, "relu1_2")
    n = gx.size
    assert losses["style"] == pytest.approx(100 * 3 * np.mean((ref.gram(gx) / n - ref.gram(gs) / n) ** 2))
    assert losses["tv"] == pytest.approx(0.25 * ref.total_variation(x)[0])


def test_style_blend_weights_are_normalised(weights19):
    a, b = RNG.normal(size=(3, 8, 8)), RNG.normal(size=(3, 8, 8))
    objective = ref.Objective(style_layers={"relu1_1": 1.0})
    blended = ref.style_targets(weights19, [a, b], objective, blend=[2, 6])["relu1_1"]
    ga = ref.style_targets(weights19, [a], objective)["relu1_1"]
    gb = ref.style_targets(weights19, [b], objective)["relu1_1"]
    np.testing.assert_allclose(blended, 0.25 * ga + 0.75 * gb)


# MARK: - Tutorial costs


def test_tutorial_costs_match_their_formulas():
    a_c, a_g = RNG.normal(size=(4, 3, 5)), RNG.normal(size=(4, 3, 5))
    assert ref.tutorial_content_cost(a_c, a_g) == pytest.approx(((a_c - a_g) ** 2).sum() / (4 * 3 * 5 * 4))
    g_s = np.einsum("chw,dhw->cd", a_c, a_c)
    g_g = np.einsum("chw,dhw->cd", a_g, a_g)
    layer = ((g_s - g_g) ** 2).sum() / (4 * 16 * 15 ** 2)
    assert ref.tutorial_layer_style_cost(a_c, a_g) == pytest.approx(layer)
    acts_s, acts_g = {"a": a_c, "b": a_g}, {"a": a_g, "b": a_g}
    assert ref.tutorial_style_cost(acts_s, acts_g, {"a": 0.3, "b": 0.7}) == pytest.approx(0.3 * layer)
    assert ref.tutorial_total_cost(2.0, 3.0) == 10 * 2 + 40 * 3
