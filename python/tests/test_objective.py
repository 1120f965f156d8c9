"""The full style-transfer objective (``Session.evaluate``): losses and gradient against the float64
NumPy reference (docs/ARCHITECTURE.md "Objective") and against central finite differences.

Tolerances: the engine works in float32 through up to 13 convolutions (relu5_1), so losses must
agree with the float64 reference to 1e-4 relative and the gradient to 1e-3 relative to its largest
entry; directional finite differences (step 1 in 0..255 units) to 1e-2, as ReLU kinks and float32
rounding of the losses limit how closely a difference quotient can follow the gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference as ref

pytest.importorskip("swiftnst._bindings", exc_type=ImportError)  # skips until libswiftnst.so is built
from swiftnst import Session  # noqa: E402

H, W = 24, 20


@pytest.fixture(scope="module")
def images(model):
    rng = np.random.default_rng(7)
    content = model.preprocess(rng.random((H, W, 3)))
    styles = [model.preprocess(rng.random((16, 28, 3))), model.preprocess(rng.random((H, W, 3)))]
    x = model.preprocess(rng.random((H, W, 3)))
    return content, styles, x


def _rel_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).max() / np.abs(want).max())


@pytest.mark.parametrize("objective, blend", [
    (ref.Objective(), [1.0]),
    (ref.Objective(content_layers={"relu2_2": 0.5, "relu4_2": 1.0}, style_layers={"relu1_1": 2.0, "relu3_1": 0.5},
                   content_weight=2.0, style_weight=50.0, tv_weight=0.1, pooling="avg"), [3.0, 1.0]),
])
def test_losses_and_gradient_match_reference(model, vgg19_keras_weights, images, objective, blend):
    content, styles, x = images
    styles = styles[: len(blend)]
    with Session(model, H, W, content_layers=dict(objective.content_layers),
                 style_layers=dict(objective.style_layers), content_weight=objective.content_weight,
                 style_weight=objective.style_weight, tv_weight=objective.tv_weight,
                 pooling=objective.pooling) as session:
        session.set_content(content)
        for style, weight in zip(styles, blend):
            session.add_style(style, weight)
        losses, grad = session.evaluate(x)
    want, want_grad = ref.neural_style(x.astype(np.float64), vgg19_keras_weights.layers, content.astype(np.float64),
                                       [s.astype(np.float64) for s in styles], objective, blend)
    for term in ("total", "content", "style", "tv"):
        assert getattr(losses, term) == pytest.approx(want[term], rel=1e-4), term
    assert grad.shape == x.shape and grad.dtype == np.float32
    assert _rel_error(grad, want_grad) < 1e-3


def test_gradient_matches_finite_differences(model, images):
    content, styles, x = images
    with Session(model, H, W, style_layers=["relu1_1", "relu2_1", "relu3_1"]) as session:
        session.set_content(content)
        session.add_style(styles[0])
        _, grad = session.evaluate(x)
        rng = np.random.default_rng(3)
        for _ in range(3):
            d = rng.standard_normal(x.shape).astype(np.float32)
            d /= np.linalg.norm(d)
            plus, _ = session.evaluate(x + d, gradient=False)
            minus, _ = session.evaluate(x - d, gradient=False)
            numeric = (plus.total - minus.total) / 2
            analytic = float(np.vdot(grad.astype(np.float64), d))
            assert numeric == pytest.approx(analytic, rel=1e-2, abs=1e-6 * abs(plus.total))


def test_tv_only_objective_needs_no_targets(model, images):
    _, _, x = images
    with Session(model, H, W, content_weight=0.0, style_weight=0.0, tv_weight=0.5) as session:
        losses, grad = session.evaluate(x)
    tv, tv_grad = ref.total_variation(x.astype(np.float64))
    assert losses.content == 0 and losses.style == 0
    assert losses.tv == pytest.approx(0.5 * tv, rel=1e-5) and losses.total == pytest.approx(losses.tv)
    np.testing.assert_allclose(grad, 0.5 * tv_grad, rtol=1e-5, atol=1e-5 * np.abs(tv_grad).max())


def test_evaluate_without_gradient_and_leaves_state(model, images):
    content, styles, x = images
    with Session(model, H, W) as session:
        session.set_content(content)
        session.add_style(styles[0])
        session.set_image(content)
        losses, grad = session.evaluate(x, gradient=False)
        again, _ = session.evaluate(x)
        assert grad is None
        assert losses.total == pytest.approx(again.total, rel=1e-6)
        np.testing.assert_array_equal(session.image, content)  # evaluate does not move the image


@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_coursera_objective_matches_the_tutorial_formulas(model, vgg19_keras_weights, images, pooling):
    """``objective="coursera"``: the tutorial's J (its normalisations, alpha 10, beta 40, lambda 0.2 on
    its five layers, conv4_2 = relu4_2 for content) and its gradient, against the float64 formulas;
    the tolerances are the neural-style objective's above (float32 through up to 13 convolutions)."""
    content, styles, x = images
    style = styles[1]  # the generated image's size, as the tutorial requires
    style_layers = {f"relu{block}_1": 0.2 for block in range(1, 6)}
    with Session(model, H, W, objective="coursera", content_layers={"relu4_2": 1.0}, style_layers=style_layers,
                 content_weight=10.0, style_weight=40.0, tv_weight=0.0, pooling=pooling) as session:
        session.set_content(content)
        session.add_style(style)
        losses, grad = session.evaluate(x)
    want, want_grad = ref.coursera(x.astype(np.float64), vgg19_keras_weights.layers, content.astype(np.float64),
                                   style.astype(np.float64), {"relu4_2": 1.0}, style_layers, 10.0, 40.0, pooling)
    for term in ("total", "content", "style"):
        assert getattr(losses, term) == pytest.approx(want[term], rel=1e-4), term
    assert losses.tv == 0
    assert _rel_error(grad, want_grad) < 1e-3


def test_coursera_objective_with_masks_scales_each_masked_term(model, images):
    """Masks and a region under ``objective="coursera"``: each term is the masked neural-style term times
    the convention's factor of its layer (1/4 on content, C^2/4 on style; one style layer of C = 128
    channels, relu2_1), to float32 rounding (the same terms times exact powers of two)."""
    content, styles, x = images
    rng = np.random.default_rng(11)
    content_mask, style_mask = rng.random((H, W), np.float32), rng.random((H, W), np.float32)
    region = np.zeros((H, W), np.float32)
    region[:, : W // 2] = 1.0
    losses = {}
    for objective in ("neural-style", "coursera"):
        with Session(model, H, W, objective=objective, content_layers={"relu2_1": 1.0},
                     style_layers={"relu2_1": 0.5}, tv_weight=0.0) as session:
            session.set_masks(content=content_mask, style=style_mask)
            session.set_content(content)
            session.add_style(styles[0], 1.0, region=region)
            session.add_style(styles[1], 2.0)
            losses[objective], _ = session.evaluate(x, gradient=False)
    assert losses["neural-style"].content > 0 and losses["neural-style"].style > 0
    assert losses["coursera"].content == pytest.approx(losses["neural-style"].content / 4, rel=1e-6)
    assert losses["coursera"].style == pytest.approx(losses["neural-style"].style * 128**2 / 4, rel=1e-6)
