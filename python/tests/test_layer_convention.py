"""Layer naming conventions: the tutorials' ``conv4_2`` is the activation after the ReLU (swiftnst's
``relu4_2``), swiftnst's ``conv4_2`` the one before. ``layer_convention`` / ``--layer-convention``
chooses; without it swiftnst's names apply and a ``convB_I`` layer is warned about once."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from swiftnst import options as options_module
from swiftnst._tutorial_layers import LAYER_CONVENTIONS, ambiguous_layers, engine_layer_name
from swiftnst.cli import _options_from_args, build_parser
from swiftnst.options import StyleTransferOptions, parse_layer_weights
from swiftnst.transfer import stylize
from swiftnst.tutorial import NeuralStyleTransfer
from test_cli import inputs, swiftnst as run_cli  # noqa: F401 (inputs is a fixture: 96 px cat.jpg, stone.png)

WARNING_START = "content_layers: conv4_2 is read with swiftnst's names, as the convolution's output before its ReLU"


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Each test sees the once-per-process warnings as not yet logged."""
    monkeypatch.setattr(options_module, "_LOGGED_WARNINGS", set())


@pytest.mark.parametrize("name, engine", [
    ("conv4_2", "relu4_2"), ("conv1_1", "relu1_1"), ("block4_conv2", "relu4_2"), ("block5_conv4", "relu5_4"),
    ("block3_pool", "pool3"), ("relu2_1", "relu2_1"), ("pool5", "pool5"),
])
def test_the_keras_convention_maps_to_the_layer_after_the_relu(name, engine):
    assert engine_layer_name(name) == engine
    assert parse_layer_weights(f"{name}:0.5", "keras") == ((engine, 0.5),)


def test_the_torch_convention_and_no_convention_keep_swiftnst_names():
    spec = "conv4_2,relu4_2:2,pool3"
    expected = (("conv4_2", 1.0), ("relu4_2", 2.0), ("pool3", 1.0))
    assert parse_layer_weights(spec, "torch") == parse_layer_weights(spec) == expected
    with pytest.raises(ValueError, match="'block4_conv2'.*layer_convention 'keras'"):
        parse_layer_weights("block4_conv2", "torch")
    with pytest.raises(ValueError, match="'relu4_2' is listed twice"):
        parse_layer_weights("conv4_2,relu4_2", "keras")
    with pytest.raises(ValueError, match="layer_convention must be 'keras', 'torch' or None, got 'caffe'"):
        StyleTransferOptions(layer_convention="caffe")
    assert LAYER_CONVENTIONS == ("keras", "torch")
    assert ambiguous_layers(["conv1_1", "relu1_1", "block1_conv1", "pool1"]) == ["conv1_1"]


def test_a_conv_name_without_a_convention_is_warned_about_once(caplog):
    with caplog.at_level(logging.WARNING, logger="swiftnst"):
        options = StyleTransferOptions(content_layers="conv4_2", style_layers="relu1_1,conv2_1")
        dataclasses.replace(options, iterations=3)  # rebuilt options: no second warning
    assert options.content_layers == (("conv4_2", 1.0),)  # today's meaning: before the ReLU
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0].startswith(WARNING_START)
    assert "the activation after the ReLU (swiftnst's relu4_2)" in messages[0]
    assert "--layer-convention keras (layer_convention='keras')" in messages[0]
    assert messages[1].startswith("style_layers: conv2_1 is read")
    assert all(record.name == "swiftnst.options" for record in caplog.records)


@pytest.mark.parametrize("settings", [
    dict(content_layers="conv4_2", layer_convention="torch"),
    dict(content_layers="conv4_2", layer_convention="keras"),
    dict(content_layers="relu4_2", style_layers="tutorial"),
    dict(),
])
def test_no_warning_with_a_chosen_convention_or_without_conv_names(settings, caplog):
    with caplog.at_level(logging.WARNING, logger="swiftnst"):
        StyleTransferOptions(**settings)
    assert not caplog.records


def test_the_cli_flag_reaches_the_options():
    parser = build_parser()
    keras = _options_from_args(parser.parse_args(["a.jpg", "b.jpg", "--content-layers", "conv4_2",
                                                  "--style-layers", "conv1_1,block2_conv1", "--layer-convention",
                                                  "keras"]))
    assert keras.content_layers == (("relu4_2", 1.0),)
    assert keras.style_layers == (("relu1_1", 1.0), ("relu2_1", 1.0))
    torch = _options_from_args(parser.parse_args(["a.jpg", "b.jpg", "--content-layers", "conv4_2",
                                                  "--layer-convention", "torch"]))
    assert torch.content_layers == (("conv4_2", 1.0),)
    assert _options_from_args(parser.parse_args(["a.jpg", "b.jpg"])).layer_convention is None


def test_the_cli_warns_on_stderr_once(inputs, vgg19_weights_path, tmp_path):
    result = run_cli(*inputs, "--model", vgg19_weights_path, "-s", "32", "-n", "1", "-q", "-o", tmp_path / "out.png",
                     "--content-layers", "conv4_2")
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(f"swiftnst: {WARNING_START}") and result.stderr.count("\n") == 1


def test_the_keras_convention_renders_the_layer_after_the_relu(inputs, vgg19_weights_path):
    common = dict(model=vgg19_weights_path, image_size=32, iterations=3, progress=False, multiscale=False)
    keras = stylize(*inputs, content_layers="conv4_2", style_layers="conv1_1,conv3_1", layer_convention="keras",
                    **common)
    relu = stylize(*inputs, content_layers="relu4_2", style_layers="relu1_1,relu3_1", **common)
    pre_relu = stylize(*inputs, content_layers="conv4_2", style_layers="conv1_1,conv3_1", layer_convention="torch",
                       **common)
    np.testing.assert_array_equal(keras, relu)
    assert not np.array_equal(keras, pre_relu)


def test_the_tutorial_class_reads_the_tutorials_names(inputs):
    assert NeuralStyleTransfer(*inputs, content_layers="conv4_2").options.content_layers == (("relu4_2", 1.0),)
    chosen = NeuralStyleTransfer(*inputs, content_layers="conv4_2", layer_convention="torch")
    assert chosen.options.content_layers == (("conv4_2", 1.0),)
