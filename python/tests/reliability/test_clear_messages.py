"""Wrong inputs get a message that names the input and the problem in words a user can act on, not a
raw traceback from deep inside a library: a malformed EXIF block, a ``.mat`` whose ``layers`` is not a
cell array, a float image in 0..255, option values of the wrong type, a model that is not a path."""

from __future__ import annotations

import io
import logging

import numpy as np
import pytest
from PIL import Image

transfer = pytest.importorskip("swiftnst.transfer", reason="swiftnst.transfer needs the engine library",
                               exc_type=ImportError)
import swiftnst  # noqa: E402
from swiftnst import ImageError, StyleTransferOptions, WeightsError, images  # noqa: E402

# EXIF blocks found by mutating a valid one (orientation 6 + an Exif IFD): Pillow 13's parser raises
# struct.error on the first (in a JPEG) and AttributeError on the second (in a WebP) from exif_transpose.
_BAD_EXIF = {
    "JPEG": "45786966000049492a000800000003001201030001000000060000006987040001000000320000003d01050001000000"
            "3c00000000000000010001920a0001000000460000000000000000000000000000000000000000000000000000000000"
            "0000000000000000000000000000",
    "WEBP": "49492a000800000003001201030001000000060000006987040001000000320000000e010500010000003c000000000000"
            "00010001920a00010000004600000000000000000000000000000000000000000000000000000000000000000000000000"
            "000000000000",
}


@pytest.mark.parametrize("fmt", sorted(_BAD_EXIF))
def test_a_malformed_exif_block_is_ignored_with_a_warning(fmt, tmp_path, caplog):
    pixels = np.random.default_rng(0).integers(0, 256, (8, 12, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt, exif=bytes.fromhex(_BAD_EXIF[fmt]), quality=100, lossless=True)
    path = tmp_path / f"photo.{fmt.lower()}"
    path.write_bytes(buffer.getvalue())
    with caplog.at_level(logging.WARNING, logger="swiftnst"):
        loaded = images.load_image(path)
    assert loaded.shape == (8, 12, 3)
    assert f"image '{path}': ignoring its malformed EXIF orientation" in caplog.text
    assert images.image_shape(path) == (8, 12)  # the planner's header-only size agrees with the loaded image


def test_a_mat_file_whose_layers_is_not_a_cell_array_says_so(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    path = tmp_path / "net.mat"
    scipy_io.savemat(path, {"layers": 1.5, "normalization": {"averageImage": np.array([123.7, 116.8, 103.9])}})
    with pytest.raises(WeightsError, match=r"net\.mat: 'layers' is a float, expected a cell array of structs"):
        swiftnst.weights.convert(path, tmp_path / "net.safetensors")


def test_step_refuses_a_fractional_count(model):
    with swiftnst.Session(model, 16, 16) as session:
        with pytest.raises(ValueError, match=r"step\(\): n must be an integer, got 1\.5"):
            session.step(1.5)


FLOAT_MESSAGE = r"float images must be in \[0, 1\]; got values up to 255\.0 - divide by 255 or pass uint8"


def test_a_float_image_in_0_255_is_refused_everywhere(model, tmp_path):
    white = np.full((16, 16, 3), 255.0, dtype=np.float32)
    for call in (lambda: images.load_image(white), lambda: images.to_float(white), lambda: images.to_uint8(white),
                 lambda: model.preprocess(white), lambda: images.save_image(white, tmp_path / "x.png"),
                 lambda: transfer.stylize(white, white.astype(np.uint8), model=model, image_size=16, iterations=1,
                                          progress=False)):
        with pytest.raises(ImageError, match=FLOAT_MESSAGE):
            call()
    with pytest.raises(ImageError, match=r"got values down to -0\.5"):
        images.to_float(np.full((4, 4, 3), -0.5, dtype=np.float32))
    # Within half an 8-bit level of [0, 1] (resampling overshoot) is clipped, not refused.
    assert images.to_float(np.full((4, 4, 3), 1.0015, dtype=np.float32)).max() == 1.0


@pytest.mark.parametrize("options, message", [
    (dict(style_layers=5), r"style_layers: a layer list must be a preset name.*got int"),
    (dict(style_layers=[("relu1_1",)]), r"style_layers: a layer list entry must be a layer name or a \(name, weight\)"),
    (dict(content_layers={"relu4_2": "x"}), r"content_layers: weight of layer 'relu4_2' must be a finite number, got 'x'"),
    (dict(style_layers=[3]), r"style_layers: a layer list entry .* got 3"),
    (dict(style_blend_weights="1,2"), r"style_blend_weights must be a list of numbers"),
    (dict(style_blend_weights=[1, "x"]), r"style blend weight must be a finite number, got 'x'"),
])
def test_options_of_the_wrong_type_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        StyleTransferOptions(**options)


def test_a_model_that_is_not_a_path_is_named(tmp_path):
    with pytest.raises(TypeError, match=r"model must be a Model, a weights file path, a model name or None, got int"):
        transfer.stylize(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8), model=3)
    with pytest.raises(TypeError,
                       match=r"Model\(path\): path must be a weights file path, a model name or None, got int"):
        swiftnst.Model(3)
