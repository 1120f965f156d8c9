"""The ``w2`` and ``gram+histogram`` style losses (``Session(style_loss=...)``) against the float64 NumPy
references of ``reference_style_losses`` through the reference VGG (``reference.vgg_forward``/``vgg_backward``),
the references themselves against finite differences, and the options, CLI and planner around them.

Tolerances: as ``test_objective`` (float32 engine through up to 13 convolutions against float64): losses
1e-4 relative, the image gradient 1e-3 of its largest entry. W2 adds float32 second moments from which the
engine subtracts the mean's outer product (relative error ~1e-6 of the covariance); the histogram term's
ranks can swap between two values closer than float32 rounding, moving the remapped target by one quantile
step for those two positions only, far below 1e-3 of the gradient.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from PIL import Image

import reference as ref
import reference_style_losses as styles_ref

pytest.importorskip("swiftnst._bindings", exc_type=ImportError)  # skips until libswiftnst.so is built
from swiftnst import NSTInvalidArgumentError, Session, StyleTransferOptions, stylize  # noqa: E402

H, W = 40, 36


@pytest.fixture(scope="module")
def images(model):
    rng = np.random.default_rng(17)
    styles = [model.preprocess(rng.random((32, 44, 3)) ** 2), model.preprocess(rng.random((H, W, 3)))]
    x = model.preprocess(rng.random((H, W, 3)))
    return styles, x


def _rel_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).max() / np.abs(want).max())


def _directional_check(value, gradient: np.ndarray, x: np.ndarray, step: float) -> None:
    """Central differences along three random directions equal the gradient's projection (float64: 1e-6)."""
    rng = np.random.default_rng(5)
    for _ in range(3):
        d = rng.standard_normal(x.shape)
        numeric = (value(x + step * d) - value(x - step * d)) / (2 * step)
        assert numeric == pytest.approx(float(np.vdot(gradient, d)), rel=1e-6)


def test_w2_reference_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    f = rng.random((5, 4, 3)) * 2
    target = styles_ref.w2_target([rng.random((5, 7, 3)) * 3, rng.random((5, 2, 9))], blend=[1, 2])
    _, grad = styles_ref.w2_loss(f, target, 3.0)
    _directional_check(lambda v: styles_ref.w2_loss(v, target, 3.0)[0], grad, f, 1e-5)


def test_w2_reference_is_zero_at_the_style_and_a_closed_form_in_one_channel():
    rng = np.random.default_rng(2)
    f = rng.random((4, 6, 5))
    value, grad = styles_ref.w2_loss(f, styles_ref.w2_target([f]), 1.0)
    assert abs(value) < 1e-12 and np.abs(grad).max() < 1e-12
    g, s = rng.random((1, 3, 3)), rng.random((1, 5, 2)) * 4
    eps = 1e-4 * s.var()
    want = (g.mean() - s.mean()) ** 2 + (np.sqrt(g.var() + eps) - np.sqrt(s.var() + eps)) ** 2
    assert styles_ref.w2_loss(g, styles_ref.w2_target([s]), 2.0)[0] == pytest.approx(2 * want, rel=1e-12)


def test_histogram_reference_remaps_by_rank():
    f = np.array([[[3.0, 1.0, 2.0, 1.0]]])
    quantiles = styles_ref.histogram_quantiles([np.array([[[10.0, 40.0, 30.0, 20.0]]])], 4)
    np.testing.assert_array_equal(quantiles, [[10, 20, 30, 40]])
    value, grad = styles_ref.histogram_loss(f, quantiles, 1.0)
    # ranks: 3 -> 40, first 1 -> 10, 2 -> 30, second 1 -> 20
    np.testing.assert_array_equal(grad, 2 * (f - np.array([[[40, 10, 30, 20]]])) / 4)
    assert value == pytest.approx((37**2 + 9**2 + 28**2 + 19**2) / 4)


def _assert_engine_matches_reference(model, weights, images, blend, layers, reference, **session_options) -> None:
    """The engine's style loss and image gradient (``Session(**session_options)``, content and tv off) against
    ``reference(layer, f, style_activations, layer_weight) -> (value, grad)`` summed over ``layers`` and
    back-propagated through the reference VGG."""
    style_images, x = images
    style_images = style_images[: len(blend)]
    with Session(model, H, W, content_weight=0.0, tv_weight=0.0, **session_options) as session:
        for style, weight in zip(style_images, blend):
            session.add_style(style, weight)
        losses, grad = session.evaluate(x)
    style_acts = [ref.vgg_forward(s.astype(np.float64), weights.layers, list(layers))[0] for s in style_images]
    acts, tape = ref.vgg_forward(x.astype(np.float64), weights.layers, list(layers))
    want, grads = 0.0, {}
    for layer, w in layers.items():
        value, grads[layer] = reference(acts[layer], [a[layer] for a in style_acts], w)
        want += value
    assert losses.style == pytest.approx(want, rel=1e-4)
    assert _rel_error(grad, ref.vgg_backward(tape, grads)) < 1e-3


@pytest.mark.parametrize("layers, blend", [
    ({"relu1_1": 1.0, "relu3_1": 0.5, "relu5_1": 2.0}, [1.0]),
    ({"relu2_1": 1.0, "relu4_1": 1.0}, [3.0, 1.0]),
])
def test_w2_objective_matches_reference(model, vgg19_keras_weights, images, layers, blend):
    def reference(f, styles, w):
        return styles_ref.w2_loss(f, styles_ref.w2_target(styles, blend), 7.0 * w)

    _assert_engine_matches_reference(model, vgg19_keras_weights, images, blend, layers, reference,
                                     style_layers=layers, style_weight=7.0, style_loss="w2")


def test_histogram_objective_matches_reference(model, vgg19_keras_weights, images):
    layers, blend = {"relu1_1": 1.0, "relu3_1": 0.5}, [1.0, 2.0]

    def reference(f, styles, w):
        quantiles = styles_ref.histogram_quantiles(styles, f.shape[1] * f.shape[2], blend)
        return styles_ref.histogram_loss(f, quantiles, 3.0 * w)

    _assert_engine_matches_reference(model, vgg19_keras_weights, images, blend, layers, reference, style_weight=0.0,
                                     style_loss="gram+histogram", histogram_layers=layers, histogram_weight=3.0)


def test_gram_histogram_is_the_gram_loss_plus_the_histogram_loss(model, images):
    style_images, x = images

    def style(**kwargs) -> float:
        with Session(model, H, W, content_weight=0.0, **kwargs) as session:
            session.add_style(style_images[0])
            return session.evaluate(x, gradient=False)[0].style

    gram = style(style_loss="gram")
    histogram = style(style_loss="gram+histogram", style_weight=0.0)
    assert histogram > 0
    assert style(style_loss="gram+histogram") == pytest.approx(gram + histogram, rel=1e-6)
    assert style(style_loss="w2") != pytest.approx(gram, rel=1e-2)


def test_predicted_memory_counts_the_new_state(model):
    def peak(**kwargs) -> int:
        with Session(model, 256, 256, **kwargs) as session:
            return session.predict_peak_bytes()

    gram = peak(style_loss="gram")
    # relu1_1's quantile table and difference buffer: 2 x 64 x 256 x 256 floats (and relu4_1's, and sort keys)
    assert peak(style_loss="gram+histogram") - gram >= 2 * 64 * 256 * 256 * 4
    # per style layer sqrt(S_s) in float64, and the eigendecomposition's work for relu5_1 (512 channels)
    assert peak(style_loss="w2") - gram >= 20 * 512 * 512 * 4


def test_options_and_session_refuse_unknown_style_losses(model):
    with pytest.raises(ValueError, match="style_loss must be 'gram' or 'w2' or 'gram\\+histogram'"):
        StyleTransferOptions(style_loss="wasserstein")
    with pytest.raises(ValueError, match="histogram_weight must be >= 0"):
        StyleTransferOptions(histogram_weight=-1)
    with pytest.raises(ValueError, match="histogram_layers: unknown layer name 'relu9_1'"):
        StyleTransferOptions(histogram_layers="relu9_1")
    with pytest.raises(NSTInvalidArgumentError, match="style_loss must be"):
        Session(model, 32, 32, style_loss="W2")
    defaults = StyleTransferOptions()
    assert (defaults.style_loss, defaults.histogram_layers, defaults.histogram_weight) == (
        "gram", (("relu1_1", 1.0), ("relu4_1", 1.0)), 100.0)
    assert dataclasses.replace(defaults, style_loss="w2").active_histogram_layers() == ()


def test_cli_flags_reach_the_options():
    from swiftnst.cli import _options_from_args, build_parser

    args = build_parser().parse_args(["c.png", "s.png", "-o", "out.png", "--style-loss", "gram+histogram",
                                      "--histogram-layers", "relu2_1:0.5", "--histogram-weight", "4"])
    options = _options_from_args(args)
    assert (options.style_loss, options.histogram_layers, options.histogram_weight) == (
        "gram+histogram", (("relu2_1", 0.5),), 4.0)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["c.png", "s.png", "--style-loss", "histogram"])


@pytest.mark.parametrize("style_loss", ["w2", "gram+histogram"])
def test_only_the_gram_loss_takes_style_masks_normalization_and_the_coursera_objective(model, tmp_path, style_loss):
    refused = {"style masks": {"style_masks": ["left.png"]}, "normalize_gradients": {"normalize_gradients": True},
               "objective='coursera'": {"objective": "coursera"}}
    for what, kwargs in refused.items():
        with pytest.raises(ValueError, match=re.escape(f"style_loss={style_loss!r} does not support {what} yet")):
            StyleTransferOptions(style_loss=style_loss, **kwargs)
    assert StyleTransferOptions(style_loss=style_loss, content_mask="mask.png").content_mask == "mask.png"
    for kwargs in ({"normalize_gradients": True}, {"objective": "coursera"}):
        with pytest.raises(NSTInvalidArgumentError, match="does not support"):
            Session(model, 32, 32, style_loss=style_loss, **kwargs)
    ones = np.ones((32, 32), np.float32)
    style = model.preprocess(np.random.default_rng(3).random((32, 32, 3)))
    with Session(model, 32, 32, style_loss=style_loss) as session:
        session.set_masks(content=ones)
        with pytest.raises(NSTInvalidArgumentError, match="does not support style masks yet"):
            session.set_masks(style=ones)
        with pytest.raises(NSTInvalidArgumentError, match="does not support style masks yet"):
            session.add_style(style, region=ones)
        with pytest.raises(NSTInvalidArgumentError, match="does not support a style image mask"):
            session.add_style(style, mask=ones)
    # An RGBA content's alpha would become the styles' mask: refused before the model is even looked for.
    rgba = np.full((24, 24, 4), 200, np.uint8)
    rgba[:, :12, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "content.png")
    Image.fromarray(rgba[..., :3]).save(tmp_path / "style.png")
    with pytest.raises(ValueError, match=re.escape(f"style_loss={style_loss!r} does not support style masks yet")):
        stylize(tmp_path / "content.png", tmp_path / "style.png", model=tmp_path / "missing.safetensors",
                style_loss=style_loss, image_size=24, iterations=1)
