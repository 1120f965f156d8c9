"""The preview anchor of large renders: the factor each scale gets, the engine's anchored objective
against an independent composition, the planner's use of it, and a render that uses it."""

from __future__ import annotations

import numpy as np
import pytest

import swiftnst
from swiftnst import Model, NSTInvalidArgumentError, NSTShapeError, NSTStateError, Session, schedule
from swiftnst.options import StyleTransferOptions
from swiftnst.planner import plan_render
from swiftnst.schedule import ANCHOR_SIDE, LARGE_OUTPUT_ABOVE, anchor_factor

H, W = 64, 96


@pytest.fixture(scope="module")
def model(vgg19_weights_path) -> Model:
    with Model(vgg19_weights_path) as net:
        yield net


def block_means(x: np.ndarray, factor: int) -> np.ndarray:
    """[3, h, w] averaged over factor x factor blocks, the last partial rows and columns left out."""
    c, h, w = x.shape
    h, w = h // factor * factor, w // factor * factor
    return x[:, :h, :w].reshape(c, h // factor, factor, w // factor, factor).mean(axis=(2, 4), dtype=np.float64)


@pytest.mark.parametrize("image_size, height, width, factor", [
    (2048, 1536, 2048, 4), (2048, 768, 1024, 2), (2048, 384, 512, 0),   # 2048 px, preview 512
    (3840, 2160, 3840, 8), (3840, 1088, 1920, 4), (3840, 272, 480, 0),  # 4K UHD, preview 480
    (2048, 1546, 2048, 2),                                              # 4 does not divide 1546
    (1024, 768, 1024, 0),                                               # not a large render
])
def test_anchor_factor(image_size, height, width, factor):
    assert ANCHOR_SIDE == 512 and LARGE_OUTPUT_ABOVE == 1024
    assert anchor_factor(image_size, height, width) == factor


def test_anchored_session_is_the_sum_of_both_sizes(model):
    rng = np.random.default_rng(5)
    content, start = (model.preprocess(rng.random((H, W, 3), dtype=np.float32)) for _ in range(2))
    style = model.preprocess(rng.random((81, 75, 3), dtype=np.float32))  # odd: the anchor crops it to 80x74

    def session(height: int, width: int, factor: int = 0, scale: int = 1) -> Session:
        s = Session(model, height, width)
        if factor:
            s.set_anchor(factor, 0.7)
        s.set_content(block_means(content, scale).astype(np.float32))
        s.add_style(block_means(style, scale).astype(np.float32))
        return s

    with session(H, W, factor=2) as anchored, session(H, W) as plain, session(H // 2, W // 2, scale=2) as preview:
        la, ga = anchored.evaluate(start)
        lp, gp = plain.evaluate(start)
        lq, gq = preview.evaluate(block_means(start, 2).astype(np.float32))
    # Float32 engine sums over ~1e5 terms: 1e-5 relative.
    for term in ("content", "style", "tv", "total"):
        assert getattr(la, term) == pytest.approx(getattr(lp, term) + 0.7 * getattr(lq, term), rel=1e-5)
    expected = gp + 0.7 * np.repeat(np.repeat(gq, 2, axis=1), 2, axis=2) / 4
    assert np.abs(ga - expected).max() <= 1e-5 * np.abs(expected).max()


def test_set_anchor_errors(model):
    with Session(model, H, W) as s:
        with pytest.raises(NSTInvalidArgumentError, match="factor"):
            s.set_anchor(1)
        with pytest.raises(NSTInvalidArgumentError, match="factor"):
            s.set_anchor(-2)
        with pytest.raises(NSTInvalidArgumentError, match="weight"):
            s.set_anchor(2, 0.0)
        with pytest.raises(NSTShapeError, match="divide"):
            s.set_anchor(5)
        s.set_anchor(2)
        s.set_content(np.zeros((3, H, W), dtype=np.float32))
        with pytest.raises(NSTStateError, match="before the content"):
            s.set_anchor(2)


def test_large_plans_anchor_their_large_scales(model):
    options = StyleTransferOptions(image_size=2048, iterations=100)
    plan = plan_render(model, options, (1536, 2048), [(640, 1024)], "64G")
    assert [(s.width, s.anchor_factor) for s in plan.scales] == [(256, 0), (512, 0), (1024, 2), (2048, 4)]
    assert "anchored at 1/4" in str(plan)
    off = plan_render(model, StyleTransferOptions(image_size=2048, iterations=100, anchor_weight=0),
                      (1536, 2048), [(640, 1024)], "64G")
    assert all(s.anchor_factor == 0 for s in off.scales)
    # The anchor's buffers and evaluation are in the prediction.
    assert plan.scales[-1].engine_bytes > off.scales[-1].engine_bytes
    assert plan.scales[-1].seconds_per_step > off.scales[-1].seconds_per_step
    with pytest.raises(ValueError, match="anchor_weight"):
        StyleTransferOptions(anchor_weight=-1.0)


def test_a_render_uses_the_anchor_on_its_large_scales(model, monkeypatch):
    """Thresholds scaled down so a 128 px render is "large": its 64 and 128 px scales are anchored at
    32 px (by the planner's prediction sessions and the render's own)."""
    monkeypatch.setattr(schedule, "LARGE_OUTPUT_ABOVE", 64)
    monkeypatch.setattr(schedule, "ANCHOR_SIDE", 32)
    calls = []
    original = Session.set_anchor
    monkeypatch.setattr(Session, "set_anchor", lambda self, factor, weight=1.0: (calls.append((self.height, factor, weight)),
                                                                                 original(self, factor, weight))[1])
    rng = np.random.default_rng(3)
    content, style = rng.random((128, 128, 3), dtype=np.float32), rng.random((100, 90, 3), dtype=np.float32)
    out = swiftnst.stylize(content, style, model=model, image_size=128, iterations=12, multiscale=True,
                           multiscale_min_size=64, anchor_weight=0.5, progress=False)
    assert out.shape == (128, 128, 3)
    assert set(calls) == {(64, 2, 0.5), (128, 4, 0.5)}
