"""Weights that cannot be a trained VGG are refused by name, by every converter and by the engine.

All-zero or constant conv weights give a "style transfer" whose losses are 0 from the first step;
absurd input conventions (std 0 or 1e30, mean 1e30, non-finite) surfaced later as "objective is not
finite". Both are now blamed on the weights file. The limits (``layer_checks.MIN_WEIGHT_STD`` = 1e-4
per layer; mean in 0..input_scale, std in input_scale/1000..input_scale, input_scale 1 or 255) are
checked against the real VGG-19/16 weights below, which must keep loading.
"""

from __future__ import annotations

import numpy as np
import pytest

from swiftnst.weights import WeightsError, load_weights, read_source
from swiftnst.weights.layer_checks import MIN_WEIGHT_STD

from . import weights_files as wf
from .test_untrusted_weights import SOURCE_FORMATS, _engine_rejects, _expect_weights_error, _with

DEGENERATE = {
    "all_zero": (np.zeros((64, 3, 3, 3), np.float32), r"conv1_1\.weight has standard deviation 0 \(all zero\)"),
    "constant": (np.full((64, 3, 3, 3), 0.02, np.float32), r"conv1_1\.weight has standard deviation 0 \(constant\)"),
    "nearly_constant": (np.float32(0.02) + np.random.default_rng(3).standard_normal((64, 3, 3, 3), dtype=np.float32)
                        * np.float32(1e-6), r"conv1_1\.weight has standard deviation [0-9.e-]+, below the 0\.0001"),
}


@pytest.mark.parametrize("case", sorted(DEGENERATE))
@pytest.mark.parametrize("extension", SOURCE_FORMATS)
def test_converters_refuse_degenerate_layers(tmp_path, extension, case):
    weight, pattern = DEGENERATE[case]
    layers = _with(wf.tiny_layers(), "conv1_1", weight)  # conv1_1 is checked before conv1_2's wrong shape
    _expect_weights_error(wf.WRITERS[extension](tmp_path / f"{case}{extension}", layers), pattern)


ABSURD_METADATA = [("std", "0,0,0"), ("std", "1e30,1,1"), ("std", "1e-30,1,1"), ("std", "nan,1,1"),
                   ("mean", "1e30,116.779,123.68"), ("mean", "inf,1,1"), ("mean", "-1e30,1,1"), ("input_scale", "1e30")]


@pytest.mark.parametrize("key, value", ABSURD_METADATA)
def test_python_reader_blames_absurd_metadata_on_the_file(tmp_path, key, value):
    path = wf.write_st(tmp_path / "w.safetensors", wf.tiny_layers(), dict(wf.CAFFE_METADATA, **{key: value}))
    with pytest.raises(WeightsError, match=rf"^{path}: .*'?{key}'? .*{'1 or 255' if key == 'input_scale' else 'numbers in'}"):
        load_weights(path)


@pytest.fixture(scope="module")
def full_size_cases(tmp_path_factory):
    """Structurally valid VGG-16 files (58 MB) with one degenerate layer, and with absurd metadata."""
    directory = tmp_path_factory.mktemp("degenerate")
    layers = wf.he_layers("vgg16")
    cases = {"zero_conv4_2": (wf.write_st(directory / "zero.safetensors", _with(
        layers, "conv4_2", np.zeros((512, 512, 3, 3), np.float32), np.zeros(512, np.float32))),
        r"'conv4_2\.weight' has standard deviation 0\.0 \(constant\)")}
    for key, value in ABSURD_METADATA:
        path = directory / f"{key}-{value}.safetensors"
        cases[f"{key}={value}"] = (wf.write_st(path, layers, dict(wf.CAFFE_METADATA, **{key: value})),
                                   rf"metadata '{key}' is '{value}', expected")
    return cases


@pytest.mark.parametrize("case", ["zero_conv4_2"] + [f"{k}={v}" for k, v in ABSURD_METADATA])
def test_engine_blames_the_weights_file(swiftnst_engine, full_size_cases, case):
    path, pattern = full_size_cases[case]
    _engine_rejects(path, pattern)


def test_engine_status_is_weights_format(swiftnst_engine, full_size_cases):
    with pytest.raises(swiftnst_engine.NSTWeightsFormatError, match=r"'std'"):
        swiftnst_engine.Model(full_size_cases["std=1e30,1,1"][0])


@pytest.mark.parametrize("architecture", ["vgg19", "vgg16"])
def test_real_weights_pass_every_limit(swiftnst_engine, architecture):
    from swiftnst.weights import cached_weights_path, verify_cached

    path = cached_weights_path(architecture)
    if not verify_cached(path):
        pytest.skip(f"no cached {architecture} weights at {path}")
    weights = read_source(path)  # no skip on WeightsError here: a limit too tight must fail
    spreads = [float(np.std(w, dtype=np.float64)) for w, _ in weights.layers.values()]
    assert min(spreads) > 50 * MIN_WEIGHT_STD
    swiftnst_engine.Model(path).close()
