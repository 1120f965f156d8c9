"""The inputs of a render beyond its images: the style and content masks, the ``--model`` name, and the
options ``--style-size``, ``--color-control`` and ``--objective``. Each bad one stops the run with a message
naming it and the problem (exit 1, or 2 for a usage error), before the model is opened, and leaves the
output directory as it was: an existing result is neither replaced nor touched, no other file appears.

The runs name a model file that does not exist: an error about anything else shows the run stopped
before opening the model (the expensive part), and the few valid-but-odd masks are checked where they
are read (``load_mask``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

cli = pytest.importorskip("swiftnst.cli", reason="swiftnst.cli needs the engine library", exc_type=ImportError)
from swiftnst import ImageError, stylize  # noqa: E402
from swiftnst._run_masks import load_mask  # noqa: E402

from .conftest import file_snapshot, handmade_png  # noqa: E402

CONTENT_SHAPE = (40, 48)
OLD_RESULT = b"the result of an earlier run"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """content.png, style.png, the files a mask may be, and an earlier result out.png."""
    rng = np.random.default_rng(0)
    for name in ("content.png", "style.png", "style2.png"):
        Image.fromarray(rng.integers(0, 256, (*CONTENT_SHAPE, 3), dtype=np.uint8)).save(tmp_path / name)
    whole = (tmp_path / "style.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(whole[:len(whole) // 2])
    (tmp_path / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (tmp_path / "bomb.png").write_bytes(handmade_png(40000, 40000, b"\0" * 64))  # claims 4.8 GB of pixels
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "out.png").write_bytes(OLD_RESULT)
    return tmp_path


def _refused(run_dir: Path, capsys, flags: list[str], pattern: str, *, code: int = 1, styles: tuple = ("style.png",),
             output: str = "out.png") -> str:
    """Run the CLI in ``run_dir`` with ``flags``; it must exit ``code`` with ``pattern`` in its error and no
    traceback, and leave every file of ``run_dir`` as it was. Returns the error output."""
    before = file_snapshot(run_dir)
    argv = [str(run_dir / "content.png"), *(str(run_dir / s) for s in styles), "-o", str(run_dir / output),
            "--model", str(run_dir / "never-opened.safetensors"), "-s", "32", "-n", "1", "-q", *flags]
    try:
        status = cli.main(argv)
    except SystemExit as usage:  # argparse's usage errors
        status = usage.code
    err = capsys.readouterr().err
    assert status == code, err
    assert re.search(pattern, err), f"{err!r} does not match {pattern!r}"
    assert "Traceback" not in err and "never-opened" not in err, err
    assert file_snapshot(run_dir) == before, "the run changed files of its directory"
    return err


# MARK: - Mask files (--content-mask, --style-masks)


@pytest.mark.parametrize("flag, what", [("--content-mask", "content mask"), ("--style-masks", "style mask 1")])
@pytest.mark.parametrize("name, problem", [
    ("missing.png", r"not found"),
    ("folder.png", r"is a directory"),
    ("truncated.png", r"truncated"),
    ("garbage.png", r"not an image file"),
    ("bomb.png", r"exceeds|decompression bomb"),
])
def test_bad_mask_files_are_named(run_dir, capsys, flag, what, name, problem):
    _refused(run_dir, capsys, [flag, str(run_dir / name)], rf"{what}: .*{re.escape(name)}.*{problem}|"
                                                           rf"{what}: .*{problem}.*{re.escape(name)}")


@pytest.mark.parametrize("masks, styles, message", [
    ("m.png,m.png", ("style.png",), r"--style-masks has 2 masks for 1 style images"),
    ("m.png", ("style.png", "style2.png"), r"--style-masks has 1 masks for 2 style images"),
])
def test_a_mask_per_style(run_dir, capsys, masks, styles, message):
    _refused(run_dir, capsys, ["--style-masks", masks], message, code=2, styles=styles)


@pytest.mark.parametrize("flag", ["--content-mask", "--style-masks"])
def test_a_mask_is_an_input_the_result_may_not_replace(run_dir, capsys, flag):
    Image.fromarray(np.full(CONTENT_SHAPE, 255, np.uint8)).save(run_dir / "mask.png")
    _refused(run_dir, capsys, [flag, str(run_dir / "mask.png")], r"mask\.png.*input", output="mask.png")


@pytest.mark.parametrize("field, problem", [
    ("content_mask", r"content mask: .*NaN or Inf"),
    ("style_masks", r"style mask 1: .*NaN or Inf"),
])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_array_masks(run_dir, field, problem, bad):
    mask = np.full(CONTENT_SHAPE, 0.5, np.float32)
    mask[3, 4] = bad
    with pytest.raises(ImageError, match=problem):
        stylize(run_dir / "content.png", run_dir / "style.png", model=run_dir / "never-opened.safetensors",
                **{field: mask if field == "content_mask" else [mask]}, progress=False)


def test_odd_but_valid_masks_are_read_as_documented(run_dir):
    # 1x1: one value, stretched over the content by the run; RGBA: composited on white; 16-bit: / 65535.
    Image.fromarray(np.array([[64]], np.uint8), "L").save(run_dir / "one.png")
    np.testing.assert_allclose(load_mask(run_dir / "one.png", "m"), [[64 / 255]], atol=1e-6)
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 3] = [[0, 255], [255, 0]]  # black where opaque, white (the background) where transparent
    Image.fromarray(rgba, "RGBA").save(run_dir / "rgba.png")
    np.testing.assert_allclose(load_mask(run_dir / "rgba.png", "m"), [[1, 0], [0, 1]], atol=1e-6)
    Image.fromarray(np.array([[0, 65535, 257 * 128]], np.uint16)).save(run_dir / "grey16.png")
    np.testing.assert_allclose(load_mask(run_dir / "grey16.png", "m"), [[0, 1, 128 / 255]], atol=1e-6)


# MARK: - --model


@pytest.mark.parametrize("model, message", [
    ("vgg11", r"unknown model 'vgg11': the model names are vgg19, vgg16"),
    ("", r"model is empty: give a model name \(vgg19, vgg16\) or a weights file"),
    ("   ", r"unknown model '   '"),
])
def test_bad_model_names_are_refused_first(run_dir, capsys, model, message):
    # refused from the argument alone: the images are not even read
    _refused(run_dir, capsys, ["--model", model], message, styles=("missing-style.png",))


@pytest.mark.parametrize("model, message", [
    ("models/vgg16", r"models/vgg16: cannot read: no such file"),
    ("folder.png", r"folder\.png: is a directory"),
])
def test_model_paths_that_are_no_weights_file(run_dir, capsys, monkeypatch, model, message):
    monkeypatch.chdir(run_dir)
    _refused(run_dir, capsys, ["--model", model], message)


# MARK: - Options


@pytest.mark.parametrize("flags, message", [
    (["--style-size", "0"], r"style_size must be an integer >= 1, got 0"),
    (["--style-size", "-1"], r"style_size must be an integer >= 1, got -1"),
    (["--style-size", "99999999999"], r"style_size must be <= 8192 .*got 99999999999"),
    (["--style-size", "big"], r"argument --style-size: invalid int value: 'big'"),
    (["--color-control", "bogus"], r"argument --color-control: invalid choice: 'bogus'"),
    (["--objective", "bogus"], r"argument --objective: invalid choice: 'bogus'"),
])
def test_bad_options_are_usage_errors(run_dir, capsys, flags, message):
    _refused(run_dir, capsys, flags, message, code=2)
