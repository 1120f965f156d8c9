"""Out-of-range, non-finite and inconsistent parameters are refused early with a message naming the
parameter: at the options level (``StyleTransferOptions``/``stylize``, ``ValueError``), on the command
line (exit 2 with a usage message), and at the engine level (``Session``, ``NSTError``) where a caller
bypassing the options still cannot hand the engine nonsense."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from .conftest import assert_clean_exit, run_python, small_image

transfer = pytest.importorskip("swiftnst.transfer", reason="swiftnst.transfer needs the engine library",
                               exc_type=ImportError)
StyleTransferOptions = transfer.StyleTransferOptions

NAN, INF = math.nan, math.inf
RGB = np.zeros((8, 8, 3), np.uint8)


# MARK: - Options (pure Python, before anything is loaded)


@pytest.mark.parametrize("field, value, message", [
    ("image_size", 0, r"image_size must be an integer >= 1, got 0"),
    ("image_size", -256, r"image_size must be an integer >= 1"),
    ("image_size", 8193, r"image_size must be <= 8192"),
    ("image_size", 256.0, r"image_size must be an integer"),
    ("image_size", True, r"image_size must be an integer"),
    ("iterations", 0, r"iterations must be an integer >= 1, got 0"),
    ("iterations", -1, r"iterations must be an integer >= 1"),
    ("lbfgs_history", 0, r"lbfgs_history must be an integer >= 1"),
    ("learning_rate", 0.0, r"learning_rate must be > 0"),
    ("learning_rate", -1.0, r"learning_rate must be > 0"),
    ("learning_rate", NAN, r"learning_rate must be a finite number, got nan"),
    ("learning_rate", INF, r"learning_rate must be a finite number, got inf"),
    ("content_weight", NAN, r"content_weight must be a finite number"),
    ("content_weight", -1.0, r"content_weight must be >= 0"),
    ("style_weight", INF, r"style_weight must be a finite number"),
    ("style_weight", -INF, r"style_weight must be a finite number"),
    ("tv_weight", NAN, r"tv_weight must be a finite number"),
    ("tv_weight", -1e-3, r"tv_weight must be >= 0"),
    ("style_scale", 0.0, r"style_scale must be > 0"),
    ("style_scale", NAN, r"style_scale must be a finite number"),
    ("optimizer", "sgd", r"optimizer must be 'lbfgs' or 'adam', got 'sgd'"),
    ("pooling", "min", r"pooling must be 'max' or 'avg', got 'min'"),
    ("init", "noise:2", r"noise ratio in init must be in \[0, 1\], got 2"),
    ("init", "noise:x", r"noise ratio in init must be a number"),
    ("init", "", r"init must be 'content', 'noise', 'noise:R' or an image path"),
    ("seed", -1, r"seed must be an integer >= 0"),
    ("threads", -2, r"threads must be an integer >= 0"),
    ("multiscale_min_size", 8, r"multiscale_min_size must be an integer >= 16"),
    ("save_every", 5, r"save_every > 0 needs a snapshot_dir"),
])
def test_option_is_refused(field, value, message):
    with pytest.raises(ValueError, match=message):
        StyleTransferOptions(**{field: value})


@pytest.mark.parametrize("spec, message", [
    ("", r"the layer list is empty"),
    ([], r"the layer list is empty"),
    ({}, r"the layer list is empty"),
    ("relu9_9", r"unknown layer name 'relu9_9'"),
    ("relu1_1,RELU2_1", r"unknown layer name 'RELU2_1'"),
    ("relu1_1,relu1_1", r"layer 'relu1_1' is listed twice"),
    ("relu1_1:abc", r"weight of layer 'relu1_1' must be a number, got 'abc'"),
    ("relu1_1:nan", r"weight of layer 'relu1_1' must be a finite number"),
    ({"relu1_1": -1.0}, r"weight of layer 'relu1_1' must be >= 0"),
    ([("relu1_1", INF)], r"weight of layer 'relu1_1' must be a finite number"),
])
@pytest.mark.parametrize("field", ["content_layers", "style_layers"])
def test_layer_lists_are_checked(field, spec, message):
    with pytest.raises(ValueError, match=message):
        StyleTransferOptions(**{field: spec})


@pytest.mark.parametrize("blend, message", [
    ([], r"style_blend_weights must contain at least one weight > 0"),
    ([0.0, 0.0], r"style_blend_weights must contain at least one weight > 0"),
    ([1.0, -1.0], r"style blend weight must be >= 0"),
    ([1.0, NAN], r"style blend weight must be a finite number"),
])
def test_bad_blend_weights(blend, message):
    with pytest.raises(ValueError, match=message):
        StyleTransferOptions(style_blend_weights=blend)


def test_blend_weights_must_match_the_styles_and_styles_must_exist():
    with pytest.raises(ValueError, match=r"got 1 style blend weights for 2 style images"):
        transfer.stylize(RGB, [RGB, RGB], style_blend_weights=[1.0], model="unused.safetensors")
    with pytest.raises(ValueError, match=r"got 3 style blend weights for 1 style images"):
        transfer.stylize(RGB, RGB, style_blend_weights=[1, 2, 3], model="unused.safetensors")
    with pytest.raises(ValueError, match=r"at least one style image is needed"):
        transfer.stylize(RGB, [], model="unused.safetensors")


def test_layer_missing_from_the_loaded_architecture(model, tmp_path):
    # relu5_4 exists in VGG-19 only; the suite's model is a VGG-16
    with pytest.raises(ValueError, match=r"the vgg16 model has no layer 'relu5_4'"):
        transfer.stylize(RGB, RGB, model=model, style_layers="relu1_1,relu5_4", image_size=8, iterations=1,
                         progress=False)


# MARK: - Command line: usage errors exit 2 naming the flag, nothing is written


@pytest.mark.parametrize("flags, message", [
    (["-s", "0"], r"image_size must be an integer >= 1"),
    (["-n", "-3"], r"iterations must be an integer >= 1"),
    (["--style-weight", "nan"], r"style_weight must be a finite number"),
    (["--learning-rate", "inf"], r"learning_rate must be a finite number"),
    (["--style-layers", "relu7_1"], r"unknown layer name 'relu7_1'"),
    (["--style-layers", ""], r"the layer list is empty"),
    (["--style-blend-weights", "1,2,3"], r"--style-blend-weights has 3 weights for 1 style images"),
    (["--style-blend-weights", "1,x"], r"--style-blend-weights must be comma-separated numbers"),
    (["--optimizer", "sgd"], r"invalid choice: 'sgd'"),
    (["-s", "abc"], r"invalid int value: 'abc'"),
])
def test_command_line_usage_errors(tmp_path, flags, message):
    output = tmp_path / "out.jpg"
    result = run_python(f"""
        import sys
        from swiftnst.cli import main
        sys.exit(main(["content.jpg", "style.jpg", "-o", {str(output)!r}, *{flags!r}]))
    """, cwd=tmp_path)
    assert_clean_exit(result, expected=2)
    assert re.search(message, result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert not output.exists()


# MARK: - Engine level: Session and Model refuse what the options layer would have caught


@pytest.mark.parametrize("kwargs, message", [
    ({"height": 0}, r"(?i)height"),
    ({"width": -5}, r"(?i)width"),
    ({"height": 8193}, r"(?i)height|8192"),
    ({"content_weight": NAN}, r"(?i)content[_ ]weight"),
    ({"style_weight": -1.0}, r"(?i)style[_ ]weight"),
    ({"tv_weight": INF}, r"(?i)tv[_ ]weight"),
    ({"learning_rate": 0.0, "optimizer": "adam"}, r"(?i)learning[_ ]rate"),
    ({"learning_rate": NAN, "optimizer": "adam"}, r"(?i)learning[_ ]rate"),
    ({"lbfgs_history": 0}, r"(?i)history"),
    ({"pooling": "min"}, r"(?i)pooling"),
    ({"optimizer": "sgd"}, r"(?i)optimi[sz]er"),
    ({"threads": -1}, r"(?i)thread"),
    ({"content_layers": ["relu9_9"]}, r"relu9_9"),
    ({"style_layers": {"relu1_1": NAN}}, r"(?i)weight|relu1_1"),
    ({"style_layers": {"relu1_1": -1.0}}, r"(?i)weight|relu1_1"),
])
def test_session_refuses_bad_parameters(swiftnst_engine, model, kwargs, message):
    arguments = {"height": 16, "width": 16, **kwargs}
    height, width = arguments.pop("height"), arguments.pop("width")
    with pytest.raises((swiftnst_engine.NSTError, ValueError), match=message):
        swiftnst_engine.Session(model, height, width, **arguments)


def test_session_inputs_are_checked(swiftnst_engine, model):
    with swiftnst_engine.Session(model, 16, 16) as session:
        with pytest.raises((swiftnst_engine.NSTError, ValueError), match=r"(?i)shape|size|count|16"):
            session.set_content(small_image(model, 16, 17))
        for weight in (0.0, -1.0, NAN, INF):
            with pytest.raises((swiftnst_engine.NSTError, ValueError), match=r"(?i)weight"):
                session.add_style(small_image(model, 16, 16), weight)
        poisoned = small_image(model, 16, 16)
        poisoned[1, 2, 3] = NAN
        with pytest.raises((swiftnst_engine.NSTError, ValueError), match=r"(?i)nan|finite"):
            session.set_image(poisoned)
        with pytest.raises((swiftnst_engine.NSTError, ValueError), match=r"(?i)nan|finite"):
            session.set_content(poisoned)
        with pytest.raises((swiftnst_engine.NSTError, ValueError), match=r"(?i)step"):
            session.step(-1)
        # nothing set yet: stepping needs a content target and a style image
        with pytest.raises(swiftnst_engine.NSTError, match=r"(?i)content|style"):
            session.step(1)


def test_model_queries_are_checked(swiftnst_engine, model):
    with pytest.raises((swiftnst_engine.NSTError, ValueError, KeyError), match=r"relu9_9"):
        model.layer_shape("relu9_9", 32, 32)
    with pytest.raises((swiftnst_engine.NSTError, ValueError), match=r"(?i)height|size|shape"):
        model.layer_shape("relu1_1", 0, 32)
    with pytest.raises((swiftnst_engine.NSTError, ValueError), match=r"relu9_9"):
        model.activations(small_image(model, 8, 8), ["relu9_9"])
    with pytest.raises((swiftnst_engine.NSTError, ValueError), match=r"(?i)layer"):
        model.activations(small_image(model, 8, 8), [])
    with pytest.raises((swiftnst_engine.NSTError, ValueError), match=r"(?i)pooling"):
        model.activations(small_image(model, 8, 8), ["relu1_1"], pooling="min")


@pytest.mark.parametrize("height, width", [(1, 1), (1, 64), (64, 1), (7, 7)])
def test_images_too_small_for_the_deep_layers_fail_cleanly(swiftnst_engine, vgg16_random_path, height, width):
    # after four 2x2 poolings nothing of a side < 16 is left for relu5_1: an error, not a crash (in a
    # child process, so a trap in the engine fails this test instead of ending the run)
    result = run_python(f"""
        import re, sys
        import numpy as np, swiftnst
        model = swiftnst.Model({str(vgg16_random_path)!r})
        x = model.preprocess(np.full(({height}, {width}, 3), 0.5, np.float32))
        try:
            with swiftnst.Session(model, {height}, {width}) as session:
                session.set_content(x)
                session.add_style(x)
                session.set_image(x)
                session.step(1)
        except swiftnst.NSTError as exc:
            print(exc)
            sys.exit(0 if re.search(r"(?i)small|shape|size|relu|pool", str(exc)) else 3)
        sys.exit(4)
    """)
    assert_clean_exit(result)
