"""Every output of a run (the result, the snapshot directory, the checkpoint file) is checked before the
model is loaded, by ``stylize``, the CLI and the tutorial class alike: an unsupported extension, a
directory, an input image or mask (also through a link), a directory that cannot be created or written,
snapshots or a checkpoint that would overwrite an input (or the result). An input is never overwritten; an existing output is replaced with a notice.

The model path given to the refused runs does not exist: the refusal must come first."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

transfer = pytest.importorskip("swiftnst.transfer", reason="swiftnst.transfer needs the engine library",
                               exc_type=ImportError)
from swiftnst import ImageError, images  # noqa: E402
from swiftnst.cli import main  # noqa: E402
from swiftnst.tutorial import NeuralStyleTransfer  # noqa: E402

FAST = dict(image_size=16, iterations=1, progress=False)


@pytest.fixture
def inputs(tmp_path):
    rng = np.random.default_rng(3)
    paths = []
    for name in ("content.png", "style.png"):
        paths.append(images.save_image(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8), tmp_path / name))
    return paths


def _refused(inputs, tmp_path, output, match, **options):
    with pytest.raises(ImageError, match=match):
        transfer.stylize(*inputs, model=tmp_path / "absent.safetensors", output=output, **FAST, **options)


def test_an_unsupported_extension_is_refused(inputs, tmp_path):
    _refused(inputs, tmp_path, tmp_path / "result.xyz", r"result\.xyz.*unsupported file extension '\.xyz'")


def test_a_directory_is_refused(inputs, tmp_path):
    (tmp_path / "out.png").mkdir()
    _refused(inputs, tmp_path, tmp_path / "out.png", r"out\.png.*is a directory")


@pytest.mark.parametrize("which", [0, 1])
def test_an_input_image_is_never_the_output(inputs, tmp_path, which):
    before = inputs[which].read_bytes()
    _refused(inputs, tmp_path, inputs[which], r"it is the input image .*never overwrites")
    via_dots = tmp_path / "sub" / ".." / inputs[which].name
    (tmp_path / "sub").mkdir()
    _refused(inputs, tmp_path, via_dots, r"it is the input image")
    link = tmp_path / "link.png"
    link.symlink_to(inputs[which])
    _refused(inputs, tmp_path, link, r"it is the input image")
    hard = tmp_path / "hard.png"
    os.link(inputs[which], hard)
    _refused(inputs, tmp_path, hard, r"it is the input image")
    assert inputs[which].read_bytes() == before


def test_the_init_image_is_protected_too(inputs, tmp_path):
    _refused(inputs, tmp_path, inputs[0].with_name("start.png"), r"it is the input image", init=str(inputs[0].with_name("start.png")))


def test_a_directory_that_cannot_be_created_is_refused(inputs, tmp_path):
    _refused(inputs, tmp_path, inputs[0] / "result.png", r"cannot create the output directory .*content\.png")
    _refused(inputs, tmp_path, "/sys/swiftnst-test/result.png", r"cannot write into the output directory '/sys/swiftnst-test'")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only directories")
def test_a_read_only_directory_is_refused(inputs, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    _refused(inputs, tmp_path, locked / "result.png", r"cannot write into the output directory .*locked")


def test_bad_snapshot_directories_are_refused(inputs, tmp_path):
    _refused(inputs, tmp_path, None, r"content\.png' as the snapshot directory: it is a file",
             save_every=1, snapshot_dir=inputs[0])
    (tmp_path / "snaps").mkdir()
    victim = images.save_image(np.zeros((20, 20, 3), np.uint8), tmp_path / "snaps" / "iter_00001.png")
    with pytest.raises(ImageError, match=r"snapshot's name and would be overwritten"):
        transfer.stylize(inputs[0], victim, model=tmp_path / "absent.safetensors", save_every=1,
                         snapshot_dir=tmp_path / "snaps", **FAST)
    _refused(inputs, tmp_path, tmp_path / "snaps" / "iterations.png", r"writes its snapshots under that name",
             save_every=1, snapshot_dir=tmp_path / "snaps")


def test_an_existing_output_is_replaced_with_a_warning(model, inputs, tmp_path, caplog):
    output = images.save_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "result.png")
    with caplog.at_level(logging.WARNING, logger="swiftnst"):
        transfer.stylize(*inputs, model=model, output=output, **FAST)
    assert f"replacing the existing file '{output}'" in caplog.text
    assert images.load_image(output).shape == (13, 16, 3)


def test_the_cli_default_output_works_twice_and_says_it_replaces(vgg16_random_path, inputs, tmp_path,
                                                                monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = [str(p) for p in inputs] + ["--model", str(vgg16_random_path), "-s", "16", "-n", "1", "--no-progress"]
    assert main(argv) == 0
    assert "replacing" not in capsys.readouterr().err
    assert main(argv + ["--save-every", "1"]) == 0
    err = capsys.readouterr().err
    assert "swiftnst: replacing the existing file 'output/generated_image.jpg'" in err
    assert "snapshot directory" not in err
    assert main(argv + ["--save-every", "1"]) == 0
    assert "'output/generated_image_snapshots' holds 2 snapshot files of an earlier run" in capsys.readouterr().err
    assert (tmp_path / "output" / "generated_image.jpg").is_file()


def test_the_cli_refuses_a_bad_output_before_loading_the_model(inputs, tmp_path, capsys):
    argv = [str(p) for p in inputs] + ["--model", str(tmp_path / "absent.safetensors"), "-o", str(inputs[1])]
    assert main(argv) == 1
    assert "it is the input image" in capsys.readouterr().err


def test_the_tutorial_class_checks_its_output_first(inputs, tmp_path, monkeypatch):
    monkeypatch.setattr(NeuralStyleTransfer, "OUTPUT_PATH", inputs[0])
    nst = NeuralStyleTransfer(*inputs, tmp_path / "absent.safetensors", image_size=16, progress=False)
    with pytest.raises(ImageError, match="it is the input image"):
        nst.run(num_iterations=1)



@pytest.mark.parametrize("which", ["content", "style", "mask", "result"])
def test_the_checkpoint_overwrites_no_input_and_not_the_result(inputs, tmp_path, which):
    mask = images.save_image(np.full((20, 24, 3), 255, np.uint8), tmp_path / "mask.png")
    before = {p.name: p.read_bytes() for p in [*inputs, mask]}
    victim = {"content": inputs[0], "style": inputs[1], "mask": mask, "result": tmp_path / "result.png"}[which]
    what = "the result's path" if which == "result" else "the input image"
    _refused(inputs, tmp_path, tmp_path / "result.png", rf"cannot write the checkpoint to '.*': it is {what}",
             checkpoint=str(victim), content_mask=str(mask))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
