"""Caffe-convention ``.pth`` files (neural-style-pt's ``vgg19-d01eb7cb.pth``, ``vgg16-00b39a1b.pth``):
torchvision key names, but BGR 0..255 Caffe weights. Built here from the cached Keras VGG-19 (the
same Oxford weights) and the cached torchvision VGG-16 with the torch-format writer of the
reliability tests."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

import swiftnst
from reliability import weights_files as wf
from swiftnst import cli
from swiftnst.weights import CAFFE, TORCHVISION, convert, load_weights, read_source
from swiftnst.weights.pth_convention import BGR_BELOW, RGB_ABOVE, channel_spread_ratio


def _bgr_to_rgb(layers):
    """The same network reading RGB: conv1_1's input channels reversed."""
    weight, bias = layers["conv1_1"]
    return dict(layers, conv1_1=(weight[:, ::-1].copy(), bias))


def test_the_channel_statistic_separates_the_published_weights(vgg19_keras_weights, vgg16_weights):
    caffe = channel_spread_ratio(vgg19_keras_weights.layers["conv1_1"][0])
    torchvision = channel_spread_ratio(vgg16_weights.layers["conv1_1"][0])
    print(f"channel spread ratio: Caffe VGG-19 {caffe:.3f}, torchvision VGG-16 {torchvision:.3f}")
    assert caffe < BGR_BELOW and torchvision > RGB_ABOVE
    # the statistic reads the colour order: the same weights in the other order get the other verdict
    assert channel_spread_ratio(_bgr_to_rgb(vgg19_keras_weights.layers)["conv1_1"][0]) > RGB_ABOVE
    assert channel_spread_ratio(_bgr_to_rgb(vgg16_weights.layers)["conv1_1"][0]) < BGR_BELOW


@pytest.mark.parametrize("name, warned", [("vgg19-d01eb7cb.pth", False), ("my-vgg19.pth", True)])
def test_a_caffe_pth_reads_as_caffe_and_matches_the_keras_network(tmp_path, caplog, vgg19_keras_weights,
                                                                   vgg19_weights_path, name, warned):
    source = wf.write_pth(tmp_path / name, vgg19_keras_weights.layers)
    with caplog.at_level(logging.WARNING, logger="swiftnst"):
        weights = load_weights(convert(source, tmp_path / "out.safetensors"))
    assert weights.convention == CAFFE
    assert ("reading it as a caffe-convention file" in caplog.text) == warned
    for layer, (weight, bias) in vgg19_keras_weights.layers.items():
        np.testing.assert_array_equal(weights.layers[layer][0], weight)
        np.testing.assert_array_equal(weights.layers[layer][1], bias)
    pytest.importorskip("swiftnst._bindings", exc_type=ImportError)
    from swiftnst import Model

    rgb = np.random.default_rng(5).random((24, 32, 3), dtype=np.float32)
    with Model(vgg19_weights_path) as keras, Model(tmp_path / "out.safetensors") as converted:
        expected = keras.activations(keras.preprocess(rgb), ["relu1_1", "relu3_1"])
        found = converted.activations(converted.preprocess(rgb), ["relu1_1", "relu3_1"])
    for layer in expected:
        np.testing.assert_allclose(found[layer], expected[layer], rtol=1e-5, atol=1e-4 * np.abs(expected[layer]).max())


@pytest.mark.parametrize("name, warned", [("vgg16-397923af.pth", False), ("weights.pth", True)])
def test_a_torchvision_pth_still_reads_as_torchvision(tmp_path, caplog, vgg16_weights, name, warned):
    source = wf.write_pth(tmp_path / name, vgg16_weights.layers)
    with caplog.at_level(logging.WARNING, logger="swiftnst"):
        assert read_source(source).convention == TORCHVISION
    assert ("reading it as a torchvision-convention file" in caplog.text) == warned


def _colourless_layers():
    """Random VGG-16 weights whose conv1_1 weighs red and blue alike (channel 2 = channel 0 reordered)."""
    layers = wf.he_layers("vgg16")
    weight, bias = layers["conv1_1"]
    weight = weight.copy()
    weight[:, 2] = weight[::-1, 0]
    assert channel_spread_ratio(weight) == pytest.approx(1.0)
    return dict(layers, conv1_1=(weight, bias))


def test_an_unrecognised_pth_is_assumed_torchvision_with_a_notice_and_can_be_overridden(tmp_path, caplog,
                                                                                      monkeypatch):
    monkeypatch.setenv("SWIFTNST_HOME", str(tmp_path / "home"))
    source = wf.write_pth(tmp_path / "mine.pth", _colourless_layers())
    with caplog.at_level(logging.WARNING, logger="swiftnst"):
        assert read_source(source).convention == TORCHVISION
    notice = f"{source}: reading it as a torchvision-convention file, since its conv1_1 weights do not tell"
    assert notice in caplog.text
    assert "pass --input-convention caffe (input_convention='caffe')" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="swiftnst"):
        assert read_source(source, input_convention="caffe").convention == CAFFE
        assert read_source(source, input_convention="torchvision").convention == TORCHVISION
    assert not caplog.text
    # the published name is overridden too, and the cache keeps one file per convention
    caffe_named = wf.write_pth(tmp_path / "vgg16-00b39a1b.pth", _colourless_layers())
    assert read_source(caffe_named, input_convention="torchvision").convention == TORCHVISION
    assert convert(source, input_convention="caffe") != convert(source, input_convention="torchvision")


def test_input_convention_is_refused_where_it_means_nothing(tmp_path):
    mat = wf.write_mat(tmp_path / "net.mat", wf.tiny_layers())
    with pytest.raises(ValueError, match=r"net\.mat: input_convention applies to \.pth files only"):
        read_source(mat, input_convention="caffe")
    pth = wf.write_pth(tmp_path / "net.pth", wf.he_layers("vgg16"))
    with pytest.raises(ValueError, match=r"input_convention must be one of caffe, torchvision, got 'BGR'"):
        convert(pth, input_convention="BGR")
    rgb = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match=r"input_convention applies to a \.pth weights file given as model"):
        swiftnst.stylize(rgb, rgb, model=None, input_convention="caffe")


def test_cli_flag(tmp_path, capsys):
    source = wf.write_pth(tmp_path / "mine.pth", _colourless_layers())
    output = tmp_path / "mine.safetensors"
    assert cli.main(["weights", "convert", str(source), "-o", str(output), "--input-convention", "caffe"]) == 0
    assert load_weights(output).convention == CAFFE
    assert cli.main(["weights", "convert", str(source), "-o", str(output)]) == 0
    assert load_weights(output).convention == TORCHVISION
    assert "--input-convention caffe" in capsys.readouterr().err
    args = cli.build_parser().parse_args(["c.png", "s.png", "--model", str(source), "--input-convention", "caffe"])
    assert args.input_convention == "caffe"
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["c.png", "s.png", "--input-convention", "bgr"])
