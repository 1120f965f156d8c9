"""Colour control (issue 17, item 2): ``luminance`` keeps the content's chroma, ``histogram`` gives the
style the content's colour mean and covariance, ``post`` is ``preserve_colors``."""

from __future__ import annotations

import numpy as np
import pytest

from swiftnst import images
from swiftnst.color_control import luminance_only, match_color_distribution, prepare_colors
from swiftnst.demo_images import load_demo_content, render_swirl_painting
from swiftnst.transfer import stylize


@pytest.fixture(scope="module")
def content() -> np.ndarray:
    return images.to_float(images.resize_longest_side(load_demo_content(), 64))


@pytest.fixture(scope="module")
def style() -> np.ndarray:
    return images.to_float(render_swirl_painting(64, 48))


def test_histogram_matching_gives_the_style_the_contents_mean_and_covariance(content):
    """On a low-contrast style (no clipping) the matched mean and covariance equal the content's to 1e-4."""
    rng = np.random.default_rng(1)
    style = (0.5 + 0.05 * rng.standard_normal((40, 30, 3)) @ np.array([[1, 0.3, 0], [0, 1, 0.2], [0.1, 0, 1]])).astype(np.float32)
    content = (0.5 + 0.1 * (content - content.mean(axis=(0, 1)))).astype(np.float32)  # no clipping either
    matched = match_color_distribution(style, content).reshape(-1, 3).astype(np.float64)
    reference = content.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(matched.mean(axis=0), reference.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(np.cov(matched, rowvar=False), np.cov(reference, rowvar=False), atol=1e-4)


def test_luminance_only_matches_mean_and_deviation_and_is_grey(content, style):
    grey = luminance_only(style, content)
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 0], grey[..., 2])
    y_content = images.rgb_to_ycbcr(content)[..., 0]
    assert grey[..., 0].mean() == pytest.approx(y_content.mean(), abs=0.02)  # clipping moves it a little
    assert grey[..., 0].std() == pytest.approx(y_content.std(), abs=0.02)
    same, styles = prepare_colors("none", content, [style])
    assert same is content and styles[0] is style


def test_luminance_mode_leaves_the_contents_chroma_unchanged(model, content, style):
    """The result's Cb and Cr equal the content's to the uint8 rounding (and the clipping of colours out of
    the RGB cube, which the bound allows for)."""
    result = stylize(content, style, model=model, image_size=64, iterations=10, progress=False, multiscale=False,
                     color_control="luminance")
    chroma_result = images.rgb_to_ycbcr(result)[..., 1:]
    chroma_content = images.rgb_to_ycbcr(images.to_uint8(content))[..., 1:]
    difference = np.abs(chroma_result - chroma_content)
    assert difference.mean() < 2 / 255, difference.mean()
    # Without colour control, the chroma follows the style.
    plain = stylize(content, style, model=model, image_size=64, iterations=10, progress=False, multiscale=False)
    assert np.abs(images.rgb_to_ycbcr(plain)[..., 1:] - chroma_content).mean() > 4 * difference.mean()
