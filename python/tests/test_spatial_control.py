"""Spatial control (issue 17, items 1, 4, 5): style masks confine each style to its region, alpha is
kept and transparent parts do not count, style image alpha limits its statistics, normalised gradients,
``style_size`` and the options' checks. End-to-end runs use the real VGG-19 at 64 px."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from swiftnst import images
from swiftnst._control_cli import control_options
from swiftnst.cli import build_parser
from swiftnst.options import StyleTransferOptions
from swiftnst.planner import plan_render
from swiftnst.session import Session
from swiftnst.transfer import stylize

FAST = dict(image_size=64, progress=False, multiscale=False)


def _texture(colour: tuple[float, float, float], seed: int, size: int = 64) -> np.ndarray:
    """A noisy texture around ``colour`` (float RGB)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 0.12, (size, size, 1)) * np.array([1.0, 1.0, 1.0])
    return np.clip(np.array(colour) + noise, 0, 1).astype(np.float32)


def test_two_masked_styles_each_rule_their_half(model, tmp_path):
    """Left half masked to a red texture, right half to a blue one, from a grey content: each half's
    colour follows its own style. Measured (red minus blue, mean over the half): masked +0.116 left and
    -0.234 right; the same run without masks -0.081 and -0.073 (both halves the blend)."""
    content = _texture((0.5, 0.5, 0.5), seed=1)
    red, blue = _texture((0.8, 0.2, 0.2), seed=2), _texture((0.2, 0.2, 0.8), seed=3)
    left = np.zeros((64, 64), np.float32)
    left[:, :32] = 1.0
    result = images.to_float(stylize(content, [red, blue], model=model, iterations=40, content_weight=0.5,
                                     style_masks=[left, 1.0 - left], **FAST))
    def red_minus_blue(region: np.ndarray) -> float:
        return float(region[..., 0].mean() - region[..., 2].mean())
    # The 8 columns at the border are left out: the network's receptive fields mix the halves there.
    left_half, right_half = result[:, :28], result[:, 36:]
    assert red_minus_blue(left_half) > 0.06, red_minus_blue(left_half)
    assert red_minus_blue(right_half) < -0.12, red_minus_blue(right_half)
    assert red_minus_blue(left_half) - red_minus_blue(right_half) > 0.25


def test_rgba_content_keeps_its_alpha_exactly(model, tmp_path):
    rng = np.random.default_rng(4)
    rgba = np.zeros((64, 48, 4), np.uint8)
    rgba[..., :3] = rng.integers(0, 256, (64, 48, 3))
    rgba[..., 3] = np.tile(np.linspace(0, 255, 48).astype(np.uint8), (64, 1))
    rgba[20:30, 10:20, 3] = 0
    path = tmp_path / "content.png"
    Image.fromarray(rgba, "RGBA").save(path)
    output = tmp_path / "result.png"
    result = stylize(path, _texture((0.3, 0.6, 0.3), seed=5), model=model, iterations=3, output=output, **FAST)
    assert result.shape == (64, 48, 4)
    np.testing.assert_array_equal(result[..., 3], rgba[..., 3])
    saved = np.asarray(Image.open(output))
    assert saved.shape == (64, 48, 4)
    np.testing.assert_array_equal(saved[..., 3], rgba[..., 3])
    # A JPEG cannot hold it: the result is saved as RGB.
    jpeg = stylize(path, _texture((0.3, 0.6, 0.3), seed=5), model=model, iterations=1, output=tmp_path / "r.jpg", **FAST)
    assert jpeg.shape == (64, 48, 3)


def test_rgba_content_weighs_its_content_term_per_opaque_position(model, monkeypatch):
    """The content term is divided by all positions, the style terms by their region's mass: with the
    content weight over the alpha's mean, an RGBA image is stylised as its opaque part alone would be."""
    from swiftnst import _session_pool
    from swiftnst._run_masks import RunMasks

    rgba = np.zeros((64, 48, 4), np.uint8)
    rgba[..., :3] = 128
    rgba[:, :12, 3] = 255                                     # a quarter opaque
    style = _texture((0.3, 0.6, 0.3), seed=5)
    assert RunMasks.load(rgba, (64, 48), [style], None, None).content_weight_factor == pytest.approx(4.0)
    assert RunMasks.load(rgba[..., :3], (64, 48), [style], None, None).content_weight_factor == 1.0
    made = []
    monkeypatch.setattr(_session_pool, "Session", lambda *a, **kw: made.append(kw) or Session(*a, **kw))
    stylize(rgba, style, model=model, iterations=1, content_weight=5.0, **FAST)
    assert [kw["content_weight"] for kw in made] == [pytest.approx(20.0)]


@pytest.mark.parametrize("which", ["content", "style"])
def test_an_image_transparent_everywhere_is_refused_before_any_work(model, which):
    clear = np.zeros((64, 48, 4), np.uint8)
    opaque = _texture((0.3, 0.6, 0.3), seed=5)
    content, style = (clear, opaque) if which == "content" else (opaque[:, :48], clear)
    with pytest.raises(ValueError, match=f"{'the content image' if which == 'content' else 'style image 1'} "
                                         "is transparent everywhere"):
        stylize(content, style, model=model, iterations=1, **FAST)


def test_transparent_content_pixels_do_not_drive_the_losses(model):
    """With the content's alpha as the content mask and the style region, changing the image only where
    it is transparent (two pixels away from the opaque part, beyond relu1_1's 3x3 window) changes no loss."""
    alpha = np.zeros((32, 32), np.float32)
    alpha[:, :14] = 1.0
    content = model.preprocess(_texture((0.5, 0.4, 0.3), seed=6, size=32))
    with Session(model, 32, 32, content_layers=["relu1_1"], style_layers=["relu1_1"], tv_weight=0.0) as session:
        session.set_masks(content=alpha, style=alpha)
        session.set_content(content)
        session.add_style(model.preprocess(_texture((0.2, 0.2, 0.8), seed=7, size=32)))
        changed = content.copy()
        changed[:, :, 16:] += 40.0
        before, _ = session.evaluate(content, gradient=False)
        after, _ = session.evaluate(changed, gradient=False)
    # Equal up to rounding: the Winograd convolution's tiles mix a few more pixels into the rounding.
    assert before.content == 0.0 and after.content == pytest.approx(0.0, abs=1e-6)
    assert after.style == pytest.approx(before.style, rel=1e-5)


def test_style_alpha_limits_its_statistics_to_opaque_pixels(model):
    """Two style images that differ only where their alpha is 0 (two pixels away from the opaque part)
    give the same style loss at relu1_1."""
    style = _texture((0.7, 0.5, 0.2), seed=8, size=32)
    other = style.copy()
    other[:, 18:] = [0.0, 1.0, 1.0]
    mask = np.zeros((32, 32), np.float32)
    mask[:, :16] = 1.0
    x = model.preprocess(_texture((0.5, 0.5, 0.5), seed=9, size=32))
    losses = []
    for image in (style, other):
        with Session(model, 32, 32, content_layers=[], style_layers=["relu1_1"]) as session:
            session.add_style(model.preprocess(image), mask=mask)
            losses.append(session.evaluate(x, gradient=False)[0].style)
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    with Session(model, 32, 32, content_layers=[], style_layers=["relu1_1"]) as session:
        session.add_style(model.preprocess(other))
        assert session.evaluate(x, gradient=False)[0].style != pytest.approx(losses[0], rel=1e-2)


def test_normalized_gradients_keep_the_losses_and_rescale_the_gradient(model):
    x = model.preprocess(_texture((0.5, 0.5, 0.5), seed=10, size=32))
    results = []
    for normalize in (False, True):
        with Session(model, 32, 32, normalize_gradients=normalize) as session:
            session.set_content(model.preprocess(_texture((0.4, 0.5, 0.6), seed=11, size=32)))
            session.add_style(model.preprocess(_texture((0.8, 0.2, 0.2), seed=12, size=32)))
            results.append(session.evaluate(x))
    (plain, plain_gradient), (normalized, normalized_gradient) = results
    assert normalized.total == plain.total
    assert not np.allclose(normalized_gradient, plain_gradient)


def test_masked_runs_are_planned_on_the_whole_image(model):
    options = StyleTransferOptions(image_size=2048, iterations=10, progress=False)
    plan = plan_render(model, options, (2048, 2048), [(512, 512)], max_memory="24G", masks=2)
    assert all(scale.strategy.split_layer is None for scale in plan.scales)


def test_control_options_and_flags():
    assert StyleTransferOptions(style_size=300).style_scale_at(600) == 0.5
    assert StyleTransferOptions(style_scale=2.0).style_scale_at(600) == 2.0
    with pytest.raises(ValueError, match="style_size or style_scale"):
        StyleTransferOptions(style_size=300, style_scale=2.0)
    with pytest.raises(ValueError, match="color_control"):
        StyleTransferOptions(color_control="sepia")
    with pytest.raises(ValueError, match="preserve_colors"):
        StyleTransferOptions(preserve_colors=True, color_control="luminance")
    assert StyleTransferOptions(preserve_colors=True).color_control == "post"
    assert StyleTransferOptions(color_control="post").preserve_colors
    with pytest.raises(ValueError, match="file paths"):
        StyleTransferOptions(style_masks=[np.ones((4, 4))], checkpoint="run.ckpt")
    args = build_parser().parse_args(["c.png", "a.png", "b.png", "--style-masks", "m1.png, m2.png", "--content-mask",
                                      "k.png", "--color-control", "histogram", "--style-size", "256",
                                      "--normalize-gradients"])
    assert control_options(args) == dict(style_masks=["m1.png", "m2.png"], content_mask="k.png",
                                         color_control="histogram", style_size=256, normalize_gradients=True)
    with pytest.raises(ValueError, match="2 masks for 1 style"):
        control_options(build_parser().parse_args(["c.png", "a.png", "--style-masks", "m1.png,m2.png"]))
    options = StyleTransferOptions(style_masks=["m.png"])
    assert dataclasses.replace(options, iterations=5).style_masks == ("m.png",)


def test_a_checkpoint_refuses_other_masks():
    from swiftnst.checkpoint import CheckpointError, check_inputs, input_hashes

    content, style, mask = np.zeros((4, 4, 3), np.uint8), np.ones((4, 4, 3), np.uint8), np.ones((4, 4), np.float32)

    class Saved:  # the one field check_inputs reads
        inputs = input_hashes(content, [style], [mask])

    check_inputs(Saved, input_hashes(content, [style], [mask.copy()]))
    with pytest.raises(CheckpointError, match="masks"):
        check_inputs(Saved, input_hashes(content, [style], [0.5 * mask]))
    with pytest.raises(CheckpointError, match="masks"):
        check_inputs(Saved, input_hashes(content, [style]))
