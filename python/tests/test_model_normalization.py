"""Every model reads the Caffe input range (issue 16, item 6): the cached torchvision VGG-16 is loaded
rescaled, exactly, against the float64 reference run on the file's own weights and input convention;
and the default options stylise with it about as much as with the Caffe VGG-19 (skipped without the
cached weights)."""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
import pytest

import reference as ref

pytest.importorskip("swiftnst._bindings", exc_type=ImportError)  # skips until libswiftnst.so is built
from swiftnst import Model, images  # noqa: E402
from swiftnst.demo_images import load_demo_content, render_swirl_painting  # noqa: E402
from swiftnst.transfer import stylize  # noqa: E402
from swiftnst.weights import CAFFE, TORCHVISION  # noqa: E402

LAYERS = ["conv1_1", "relu1_1", "relu2_1", "pool2", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
#: The torchvision input times these (per RGB channel) is the Caffe-range input; activations scale by
#: their geometric mean (reference.caffe_range, written from swiftnst.h's statement, not the engine).
INPUT_FACTORS, ACTIVATION_SCALE = ref.caffe_range(TORCHVISION)


@pytest.fixture(scope="module")
def vgg16(vgg16_weights, vgg16_weights_path):
    if vgg16_weights.convention != TORCHVISION:
        pytest.skip("the cached vgg16 weights are not torchvision's")
    with Model(vgg16_weights_path) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    return images.to_float(images.resize_longest_side(load_demo_content(), 40))


def test_the_factors():
    np.testing.assert_allclose(INPUT_FACTORS, [58.395, 57.12, 57.375])
    assert ACTIVATION_SCALE == pytest.approx(math.cbrt(58.395 * 57.12 * 57.375)) == pytest.approx(57.6274, abs=1e-4)
    factors, scale = ref.caffe_range(CAFFE)
    np.testing.assert_array_equal(factors, [1, 1, 1])
    assert scale == 1


def test_the_loaded_model_reads_the_caffe_range(vgg16, picture):
    assert (vgg16.architecture, vgg16.channel_order, vgg16.input_scale) == ("vgg16", "RGB", 255.0)
    np.testing.assert_allclose(vgg16.mean, 255 * np.array(TORCHVISION.mean), rtol=1e-6)
    np.testing.assert_array_equal(vgg16.std, [1, 1, 1])
    x = vgg16.preprocess(picture)
    np.testing.assert_allclose(x, INPUT_FACTORS[:, None, None] * ref.preprocess(picture, TORCHVISION), atol=1e-3)
    np.testing.assert_allclose(vgg16.deprocess(x), picture, atol=1e-5)


@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_activations_are_the_files_network_times_the_scale(vgg16, vgg16_weights, picture, pooling):
    got = vgg16.activations(vgg16.preprocess(picture), LAYERS, pooling)
    want, _ = ref.vgg_forward(ref.preprocess(picture, TORCHVISION), vgg16_weights.layers, LAYERS, pooling)
    for layer in LAYERS:
        expected = ACTIVATION_SCALE * want[layer]
        error = np.abs(got[layer] - expected).max() / np.abs(expected).max()
        assert error < 1e-4, f"{layer}: relative error {error:.3g}"


# MARK: - Same options, comparable look


@pytest.fixture(scope="module")
def look_meter(repo_root):
    """bench/look.py's ``LookMeter`` (scale-free style and content distances); skips without it."""
    path = repo_root / "bench" / "look.py"
    if not path.is_file():
        pytest.skip(f"{path} is not in this checkout")
    spec = importlib.util.spec_from_file_location("bench_look", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.LookMeter


def _style_moved(look_meter, weights_path, content: np.ndarray, style: np.ndarray, side: int) -> float:
    """How far the default options move the image from the content's style distance (1) towards the
    style's (0), judged by the model the image was made with."""
    result = stylize(content, style, model=weights_path, image_size=side, iterations=40, progress=False)
    with Model(weights_path) as judge:
        meter = look_meter(judge, content, style, side)
        return 1.0 - meter(result).style


def test_the_default_options_stylise_alike_with_every_model(look_meter, vgg19_weights_path, vgg16,
                                                            vgg16_weights_path):
    side = 80
    content = images.resize_longest_side(load_demo_content(), side)
    style = render_swirl_painting(side, side * 3 // 4)
    moved19 = _style_moved(look_meter, vgg19_weights_path, content, style, side)
    moved16 = _style_moved(look_meter, vgg16_weights_path, content, style, side)
    print(f"style distance moved by the default options: VGG-19 (Caffe) {moved19:.3f}, "
          f"VGG-16 (torchvision) {moved16:.3f}")
    assert moved19 > 0.5, "the default options stylise with the default model"
    assert 0.5 < moved16 / moved19 < 2, "comparable with the torchvision model"
