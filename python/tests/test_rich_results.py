"""Results in notebooks: ``StyleTransferResult`` displays itself (``_repr_png_``, at most
``DISPLAY_MAX_SIDE`` px) and is array-like, and ``swiftnst.notebook.stylize`` returns one with the run's
loss history, chains a caller's callback (which may stop the run) and turns an interrupt into a result."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from swiftnst import images, notebook
from swiftnst.demo_images import load_demo_content, render_swirl_painting
from swiftnst.loss_history import LossHistory
from swiftnst.result import DISPLAY_MAX_SIDE, StyleTransferResult
from swiftnst.transfer import stylize

FAST = dict(image_size=48, iterations=6, progress=False, multiscale=False)


def _gradient(height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x % 256, y % 256, (x + y) % 256], axis=2).astype(np.uint8)


def _png(result: StyleTransferResult) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(result._repr_png_())))


# MARK: - The result object


def test_a_result_displays_its_image_as_png_and_is_array_like():
    image = _gradient(30, 40)
    result = StyleTransferResult(image, LossHistory())
    np.testing.assert_array_equal(_png(result), image)
    np.testing.assert_array_equal(np.asarray(result), image)
    assert np.asarray(result, dtype=np.float32).dtype == np.float32
    copied = np.array(result, copy=True)
    assert not np.shares_memory(copied, image) and np.shares_memory(np.asarray(result), image)
    with pytest.raises(ValueError):
        np.array(result, dtype=np.float32, copy=False)    # a conversion cannot avoid the copy
    np.testing.assert_array_equal(np.asarray(result.to_pil()), image)
    assert repr(result) == "<StyleTransferResult 40x30, 0 steps>"


def test_the_display_of_a_large_result_is_downscaled_but_the_image_is_not():
    image = _gradient(300, 3000)
    result = StyleTransferResult(image, LossHistory())
    shown = _png(result)
    assert max(shown.shape[:2]) == DISPLAY_MAX_SIDE and shown.shape[:2] == (102, 1024)
    assert result.image.shape == (300, 3000, 3) and result.to_pil().size == (3000, 300)


@pytest.mark.parametrize("image", [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.uint8),
                                   np.zeros((4, 4, 2), np.uint8), np.zeros((4, 4, 5), np.uint8)])
def test_a_result_refuses_what_is_not_an_rgb_or_rgba_uint8_image(image):
    with pytest.raises(ValueError, match="RGB or RGBA uint8"):
        StyleTransferResult(image, LossHistory())


def test_an_rgba_result_displays_and_converts_with_its_alpha():
    image = np.dstack([_gradient(30, 40), np.tile(np.arange(40, dtype=np.uint8) * 6, (30, 1))])
    result = StyleTransferResult(image, LossHistory())
    np.testing.assert_array_equal(_png(result), image)
    assert result.to_pil().mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(result.to_pil()), image)


# MARK: - notebook.stylize


@pytest.fixture(scope="module")
def pictures() -> tuple[np.ndarray, np.ndarray]:
    return images.resize_longest_side(load_demo_content(), 64), render_swirl_painting(48, 40)


@pytest.fixture(scope="module")
def model(vgg19_weights_path):
    from swiftnst import Model

    with Model(vgg19_weights_path) as net:
        yield net


def test_notebook_stylize_returns_the_image_of_stylize_with_its_history(model, pictures, tmp_path):
    expected = stylize(*pictures, model=model, **FAST)
    result = notebook.stylize(*pictures, model=model, output=tmp_path / "out.png", **FAST)
    np.testing.assert_array_equal(result.image, expected)
    assert [record.iteration for record in result.history] == list(range(1, 7))
    assert not result.interrupted and result.output == tmp_path / "out.png"
    np.testing.assert_array_equal(images.load_image(tmp_path / "out.png"), expected)
    np.testing.assert_array_equal(_png(result), expected)
    assert repr(result).startswith("<StyleTransferResult 48x32, 6 steps, final loss ")


def test_notebook_stylize_of_an_rgba_content_returns_its_rgba_result(model, pictures):
    content = np.dstack([pictures[0], np.full(pictures[0].shape[:2], 200, np.uint8)])
    expected = stylize(content, pictures[1], model=model, **FAST)
    result = notebook.stylize(content, pictures[1], model=model, **FAST)
    assert result.image.shape[2] == 4 and np.all(result.image[..., 3] == 200)
    np.testing.assert_array_equal(result.image, expected)


def test_notebook_stylize_runs_the_callers_callback_which_may_stop_the_run(model, pictures):
    seen = []
    result = notebook.stylize(*pictures, model=model, callback=lambda i, losses, _: seen.append(i) or i == 3, **FAST)
    assert seen == [1, 2, 3] and len(result.history) == 3 and not result.interrupted


def test_notebook_stylize_returns_the_best_image_when_interrupted(model, pictures, tmp_path):
    def interrupt_at_2(iteration, losses, image_fn):
        if iteration == 2:
            raise KeyboardInterrupt
    result = notebook.stylize(*pictures, model=model, callback=interrupt_at_2, raise_on_interrupt=False,
                              output=tmp_path / "out.png", **FAST)
    assert result.interrupted and len(result.history) == 2 and result.output == tmp_path / "out.png"
    assert result.image.shape == (32, 48, 3)
    np.testing.assert_array_equal(images.load_image(tmp_path / "out.png"), result.image)
