"""``swiftnst.batch`` in one process with the real VGG-19 at 32-48 px (skipped without cached weights):
results bitwise ``stylize``'s, style targets reused, re-runs that redo nothing, failures, the CLI."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import swiftnst
from swiftnst import images
from swiftnst._manifest import MANIFEST_NAME
from swiftnst.cli import main
from swiftnst.demo_images import load_demo_content, render_swirl_painting

#: Every item: noise init (so the seed matters), one engine thread (bitwise comparable), few steps; at
#: 48 px "cat" and "square" are sessions of different (padded) sizes, "cat" and "mirrored" of one.
FAST = dict(image_size=48, iterations=4, init="noise:0.5", seed=7, threads=1, progress=False)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, str]:
    """Three contents (two of one size, one squarer) and two styles, as PNG files."""
    folder = tmp_path_factory.mktemp("inputs")
    photo = images.resize_longest_side(load_demo_content(), 48)
    pictures = {"cat": photo, "mirrored": np.ascontiguousarray(photo[:, ::-1]),
                "square": np.ascontiguousarray(photo[:, :photo.shape[0]]),
                "swirl": render_swirl_painting(48, 40), "swirl2": render_swirl_painting(40, 48)}
    return {name: str(images.save_image(picture, folder / f"{name}.png")) for name, picture in pictures.items()}


def _batch(inputs, out, model, contents=("cat", "mirrored", "square"), styles=("swirl", "swirl2"), **options):
    return swiftnst.batch([inputs[c] for c in contents], [inputs[s] for s in styles], out, model=model,
                          **{**FAST, **options})


def _manifest(out) -> list[dict]:
    return [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]


@pytest.mark.parametrize("multiscale", [False, True])
def test_every_result_is_bitwise_stylizes_and_style_targets_are_reused(inputs, tmp_path, vgg19_weights_path,
                                                                        multiscale):
    extra = dict(multiscale=True, multiscale_min_size=24) if multiscale else {}
    result = _batch(inputs, tmp_path, str(vgg19_weights_path), **extra)
    assert not result.failed and not result.skipped and len(result.rendered) == len(result.items) == 6
    records = {r["key"]: r for r in _manifest(tmp_path)}
    assert len(records) == 6
    with swiftnst.Model(vgg19_weights_path) as model:
        for item in result.items:
            alone = swiftnst.stylize(item.content, item.style, model=model, **{**FAST, **extra})
            assert np.array_equal(images.load_image(tmp_path / item.output), alone), item.output
    # Items run style by style; a content of the size before it takes that item's sessions (all scales).
    scales = 2 if multiscale else 1
    reused = [(r["content"]["path"].rsplit("/", 1)[-1], r["reused_sessions"]) for r in result.rendered]
    assert reused == [("cat.png", 0), ("mirrored.png", scales), ("square.png", 0)] * 2
    record = result.rendered[1]
    assert record["seed"] == 7 and record["threads"] == 1 and record["scales"] == scales
    assert record["content"]["sha256"] == result.items[1].content_sha256 and record["losses"]["total"] > 0
    assert record["iterations"] == 4 and record["seconds"] > 0 and record["losses_of"] == "best image"
    assert [r["weights_loaded"] for r in result.rendered] == [True] + [False] * 5


def test_a_rerun_redoes_nothing_and_a_deleted_result_is_rendered_again(inputs, tmp_path, vgg19_weights_path):
    first = _batch(inputs, tmp_path, str(vgg19_weights_path), styles=("swirl",))
    manifest = (tmp_path / MANIFEST_NAME).read_bytes()
    stamps = {item.output: (tmp_path / item.output).stat().st_mtime_ns for item in first.items}
    again = _batch(inputs, tmp_path, str(vgg19_weights_path), styles=("swirl",), threads=0)  # threads: not in the key
    assert again.rendered == () and len(again.skipped) == 3
    assert (tmp_path / MANIFEST_NAME).read_bytes() == manifest
    assert {o: (tmp_path / o).stat().st_mtime_ns for o in stamps} == stamps
    (tmp_path / first.items[1].output).unlink()
    third = _batch(inputs, tmp_path, str(vgg19_weights_path), styles=("swirl",))
    assert [r["output"] for r in third.rendered] == [first.items[1].output] and len(third.skipped) == 2
    assert (tmp_path / first.items[1].output).is_file()


def test_a_grid_renders_every_combination(inputs, tmp_path, vgg19_weights_path):
    result = _batch(inputs, tmp_path, str(vgg19_weights_path), contents=("cat",), styles=("swirl",),
                    grid={"style_weight": [10, 1000], "seed": [1, 2]})
    assert [(r["grid"]["style_weight"], r["grid"]["seed"]) for r in result.rendered] == [
        (10.0, 1), (10.0, 2), (1000.0, 1), (1000.0, 2)]
    assert result.rendered[0]["output"].startswith("cat__swirl__style_weight-10__seed-1__")
    pixels = [images.load_image(tmp_path / r["output"]) for r in result.rendered]
    assert not np.array_equal(pixels[0], pixels[1]) and not np.array_equal(pixels[0], pixels[2])


def test_a_failing_item_is_reported_and_not_recorded(inputs, tmp_path, vgg19_weights_path):
    """Items too large for the memory budget fail at their plan; the batch goes on and records none of them."""
    result = _batch(inputs, tmp_path, str(vgg19_weights_path), contents=("cat",), max_memory="10M")
    assert len(result.failed) == 2 and result.rendered == ()
    assert "needs at least" in result.failed[0][1]
    assert _manifest(tmp_path) == []
    with swiftnst.Model(vgg19_weights_path) as model, pytest.raises(TypeError, match="path or None"):
        _batch(inputs, tmp_path, model)


def test_bad_arguments_are_refused_before_any_work(inputs, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="blend"):
        _batch(inputs, tmp_path, None, style_blend_weights=[1.0])
    with pytest.raises(swiftnst.ImageNotFoundError):
        swiftnst.batch([inputs["cat"], str(tmp_path / "missing.png")], [inputs["swirl"]], tmp_path / "out")
    with pytest.raises(swiftnst.ImageError, match="extension"):
        _batch(inputs, tmp_path, None, image_format="nope")
    with pytest.raises(ValueError, match="not both"):
        _batch(inputs, tmp_path, None, workers=2, scheduler="tcp://127.0.0.1:1")
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if Dask were not installed
    with pytest.raises(ImportError, match=r"swiftnst\[distributed\]"):
        _batch(inputs, tmp_path, None, workers=2)
    assert not (tmp_path / "out").exists() and not (tmp_path / MANIFEST_NAME).exists()


def test_the_command_line(inputs, tmp_path, vgg19_weights_path, capsys, monkeypatch):
    args = ["batch", inputs["cat"], inputs["square"], "--style", inputs["swirl"], "-o", str(tmp_path),
            "--model", str(vgg19_weights_path), "-s", "32", "-n", "3", "--grid", "tv-weight=0.001,0.01",
            "--format", "jpg", "--threads", "1"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "4 rendered, 0 finished before, 0 failed" in out
    assert sorted(p.suffix for p in tmp_path.iterdir() if p.name != MANIFEST_NAME) == [".jpg"] * 4
    assert main(args) == 0 and "0 rendered, 4 finished before" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:  # argparse's usage error
        main([*args, "--grid", "colour=1"])
    assert usage.value.code == 2 and "cannot vary 'colour'" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main([*args, "--workers", "2"]) == 1
    assert "pip install 'swiftnst[distributed]'" in capsys.readouterr().err
