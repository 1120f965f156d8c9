"""Sizes that are not multiples of 16: every scale is optimised padded (reflect) to a multiple of 16
and cropped back, so the bottom/right edge gets styled like the rest (VGG's floor pooling would
otherwise keep the last rows/columns out of the deep layers: a content-coloured band) and users
only ever see the true size."""

from __future__ import annotations

import numpy as np
import pytest

from swiftnst import images
from swiftnst.demo_images import load_demo_content, render_swirl_painting
from swiftnst.transfer import StyleTransferInterrupted, stylize

# 47 = 2 * 16 + 15 and 79 = 4 * 16 + 15: unpadded, the last 15 rows/columns miss relu5_1, the last
# 7 relu4_x, the last 3 relu3_1 and the last one relu2_1 too.
HEIGHT, WIDTH = 47, 79
EDGE = 3
MULTIPLE = 16


@pytest.fixture(scope="module")
def content() -> np.ndarray:
    return images.resize(images.to_float(load_demo_content()), HEIGHT, WIDTH)


@pytest.fixture(scope="module")
def style() -> np.ndarray:
    return render_swirl_painting(64, 48)            # saturated blues and yellows


@pytest.mark.parametrize("shape", [(47, 79), (33, 20), (32, 48), (1, 1), (5, 3), (17, 1), (16, 33)])
def test_pad_reaches_a_multiple_of_16_and_crop_undoes_it(shape):
    from swiftnst._padding import PAD_MULTIPLE, crop, pad

    assert PAD_MULTIPLE == MULTIPLE
    rgb = np.random.default_rng(sum(shape)).random((*shape, 3)).astype(np.float32)
    padded = pad(rgb)
    assert [n % MULTIPLE for n in padded.shape[:2]] == [0, 0]
    assert all(0 <= p - n < MULTIPLE for p, n in zip(padded.shape[:2], shape))
    np.testing.assert_array_equal(crop(padded, shape), rgb)
    if shape == (33, 20):                           # mirrored about the last row/column
        np.testing.assert_array_equal(padded[33:, :20], rgb[31:16:-1])
        np.testing.assert_array_equal(padded[:33, 20:], rgb[:, 18:6:-1])


def test_bottom_and_right_edges_are_styled_like_the_interior(model, content, style):
    out = stylize(content, style, model=model, image_size=WIDTH, iterations=10, multiscale=False, progress=False)
    assert out.shape == (HEIGHT, WIDTH, 3)
    change = np.abs(images.to_float(out) - content).mean(axis=2)
    interior = change[EDGE:-MULTIPLE, EDGE:-MULTIPLE].mean()
    bottom, right = change[-EDGE:].mean() / interior, change[:, -EDGE:].mean() / interior
    # Unpadded, the edges change 0.12 / 0.17 times as much as the interior; padded about 0.65.
    assert bottom > 0.45 and right > 0.45, (
        f"content-coloured band: the last {EDGE} rows / columns changed {bottom:.2f} / {right:.2f} "
        "times as much as the interior")


def test_callbacks_snapshots_and_results_have_the_true_size(model, content, style, tmp_path):
    # Two scales, neither a multiple of 16: 23 x 39 then 47 x 79.
    seen: list = []
    out = stylize(content, style, model=model, image_size=WIDTH, iterations=4, multiscale=True,
                  multiscale_min_size=39, progress=False, save_every=1, snapshot_dir=tmp_path,
                  callback=lambda i, losses, image_fn: seen.append(image_fn().shape[:2]))
    assert out.shape == (HEIGHT, WIDTH, 3)
    assert seen == [(23, 39)] * 2 + [(HEIGHT, WIDTH)] * 2
    snapshots = [images.load_image(tmp_path / f"iter_{i:05d}.png").shape[:2] for i in range(1, 5)]
    assert snapshots == seen

    def stop_at_2(iteration, losses, image_fn):
        if iteration == 2:
            raise KeyboardInterrupt
    for keep_best in (True, False):                 # interrupted at the end of the coarse scale
        with pytest.raises(StyleTransferInterrupted) as info:
            stylize(content, style, model=model, image_size=WIDTH, iterations=4, multiscale=True,
                    multiscale_min_size=39, progress=False, keep_best=keep_best, callback=stop_at_2)
        assert info.value.image.shape == (HEIGHT, WIDTH, 3)


@pytest.mark.parametrize("size", [1, 8, 15])
def test_results_smaller_than_the_deepest_layer_work(model, content, style, size):
    """The content is padded to 16 px; the style image is kept at least 16 px on its shorter side."""
    out = stylize(content, style, model=model, image_size=size, iterations=2, multiscale=False, progress=False)
    assert max(out.shape[:2]) == size and out.dtype == np.uint8
