"""Checkpoints: a run interrupted (Ctrl-C, SIGTERM, at a scale boundary) and resumed gives the uninterrupted
run's bytes and losses; damaged or mismatched checkpoints are refused with a clear message."""

from __future__ import annotations

import json
import os
import shutil
import signal
import zipfile

import numpy as np
import pytest

import swiftnst
from swiftnst import Model, images
from swiftnst.checkpoint import CheckpointError, read_checkpoint
from swiftnst.cli import main
from swiftnst.demo_images import load_demo_content, render_swirl_painting

#: 48x64, two scales of 6 steps, noise init (so the generator's state matters), 2 threads.
RUN = dict(image_size=64, iterations=12, multiscale=True, multiscale_min_size=32, init="noise:0.5",
           lbfgs_history=5, threads=2, progress=False)


@pytest.fixture(scope="module")
def model(vgg19_weights_path) -> Model:
    """The safetensors VGG-19 (the run's model), not conftest's Keras-checked one."""
    net = Model(vgg19_weights_path)
    yield net
    net.close()


@pytest.fixture(scope="module")
def pictures() -> tuple[np.ndarray, np.ndarray]:
    """A 48x64 content photo and a 40x40 swirl painting."""
    return images.resize_longest_side(load_demo_content(), 64), render_swirl_painting(40, 40)


def _run(model, pictures, **kw) -> tuple[np.ndarray, dict[int, swiftnst.Losses]]:
    losses: dict[int, swiftnst.Losses] = {}
    callback = kw.pop("callback", None)

    def record(i, step_losses, image_fn):
        losses[i] = step_losses
        if callback is not None:
            callback(i)
    return swiftnst.stylize(*pictures, model=model, callback=record, **kw), losses


@pytest.fixture(scope="module")
def uninterrupted(model, pictures):
    return _run(model, pictures, **RUN)


def _stop_at(iteration: int, action=None):
    def callback(i):
        if i == iteration:
            if action is not None:
                action()
            raise KeyboardInterrupt
    return callback


@pytest.mark.parametrize("stop_after", [5, 9])
def test_interrupted_and_resumed_run_is_bitwise_identical(model, pictures, uninterrupted, tmp_path, stop_after):
    path = tmp_path / "run.ckpt"
    with pytest.raises(swiftnst.StyleTransferInterrupted):
        _run(model, pictures, checkpoint=path, checkpoint_every=4, callback=_stop_at(stop_after), **RUN)
    saved = read_checkpoint(path)
    assert (saved.iteration, saved.scale_index) == (stop_after, stop_after // 6)
    result, losses = _run(model, pictures, resume=path, progress=False)
    expected, expected_losses = uninterrupted
    assert np.array_equal(result, expected)
    assert sorted(losses) == list(range(stop_after + 1, 13))
    assert all(losses[i] == expected_losses[i] for i in losses)   # every resumed step's losses, exactly


def test_resume_from_a_scale_boundary(model, pictures, uninterrupted, tmp_path):
    path, boundary = tmp_path / "run.ckpt", tmp_path / "boundary.ckpt"
    # With checkpoint_every above the run, the file at iteration 7 is the one written as scale 2 began.
    with pytest.raises(swiftnst.StyleTransferInterrupted):
        _run(model, pictures, checkpoint=path, checkpoint_every=100,
             callback=_stop_at(7, lambda: shutil.copy(path, boundary)), **RUN)
    saved = read_checkpoint(boundary)
    assert (saved.scale_index, saved.scale_taken, saved.iteration) == (1, 0, 6)
    result, losses = _run(model, pictures, resume=boundary, progress=False)
    assert np.array_equal(result, uninterrupted[0])
    assert losses[12] == uninterrupted[1][12]


def test_sigterm_writes_a_checkpoint_and_stops(model, pictures, uninterrupted, tmp_path):
    path = tmp_path / "run.ckpt"
    with pytest.raises(swiftnst.StyleTransferInterrupted):
        _run(model, pictures, checkpoint=path, checkpoint_every=100,
             callback=lambda i: i == 3 and os.kill(os.getpid(), signal.SIGTERM), **RUN)
    assert read_checkpoint(path).iteration == 3
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL   # restored
    result, _ = _run(model, pictures, resume=path, progress=False)
    assert np.array_equal(result, uninterrupted[0])


@pytest.fixture(scope="module")
def checkpoint_file(model, pictures, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "run.ckpt"
    with pytest.raises(swiftnst.StyleTransferInterrupted):
        _run(model, pictures, checkpoint=path, callback=_stop_at(8), **RUN)
    return path


def _rewrite(source, target, header_edit=None, state_edit=None):
    with zipfile.ZipFile(source) as archive:
        header, state = json.loads(archive.read("checkpoint.json")), archive.read("session.state")
    if header_edit:
        header_edit(header)
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("checkpoint.json", json.dumps(header))
        archive.writestr("session.state", state_edit(state) if state_edit else state)
    return target


def test_damaged_checkpoints_are_refused(model, pictures, checkpoint_file, tmp_path):
    def refused(path, error, match):
        with pytest.raises(error, match=match):
            swiftnst.stylize(*pictures, model=model, resume=path, progress=False)
    (tmp_path / "text").write_text("not a zip")
    refused(tmp_path / "text", CheckpointError, "not a readable swiftnst checkpoint")
    data = checkpoint_file.read_bytes()
    (tmp_path / "cut").write_bytes(data[:len(data) // 2])
    refused(tmp_path / "cut", CheckpointError, "not a readable swiftnst checkpoint")
    refused(_rewrite(checkpoint_file, tmp_path / "v", lambda h: h.update(version=99)), CheckpointError, "version 99")
    refused(_rewrite(checkpoint_file, tmp_path / "i", lambda h: h.update(scale_index=5)), CheckpointError, "outside")
    refused(_rewrite(checkpoint_file, tmp_path / "o", lambda h: h["options"].update(image_size=-1)),
            CheckpointError, "options are invalid")
    refused(_rewrite(checkpoint_file, tmp_path / "p", lambda h: h["plan"].pop("scales")), CheckpointError, "plan")
    refused(_rewrite(checkpoint_file, tmp_path / "s", state_edit=lambda s: s[:-3]), swiftnst.NSTError, "truncated")
    refused(_rewrite(checkpoint_file, tmp_path / "m", state_edit=lambda s: b"X" + s[1:]), swiftnst.NSTError,
            "wrong magic")


def test_resume_refuses_other_inputs_and_options(model, pictures, checkpoint_file):
    content, style = pictures
    with pytest.raises(CheckpointError, match="content image differs"):
        swiftnst.stylize(content[::-1].copy(), style, model=model, resume=checkpoint_file, progress=False)
    with pytest.raises(CheckpointError, match="style images differ"):
        swiftnst.stylize(content, style[::-1].copy(), model=model, resume=checkpoint_file, progress=False)
    with pytest.raises(CheckpointError, match="style_weight is 100.0 there, not 5.0"):
        swiftnst.stylize(*pictures, model=model, resume=checkpoint_file, style_weight=5.0, progress=False)


def test_cli_checkpoint_and_resume(model, pictures, tmp_path, vgg19_weights_path, capsys):
    content, style = tmp_path / "content.png", tmp_path / "style.png"
    images.save_image(pictures[0], content)
    images.save_image(pictures[1], style)
    common = [str(content), str(style), "--model", str(vgg19_weights_path), "-s", "64", "-n", "4",
              "--no-multiscale", "--threads", "2", "--no-progress"]
    ckpt, first, second = tmp_path / "run.ckpt", tmp_path / "a.png", tmp_path / "b.png"
    assert main(common + ["-o", str(first), "--checkpoint", str(ckpt), "--checkpoint-every", "2"]) == 0
    assert read_checkpoint(ckpt).iteration == 4
    # The final checkpoint holds the finished scale: resuming renders the same bytes again.
    assert main(common + ["-o", str(second), "--resume", str(ckpt)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert main(common + ["-o", str(second), "--resume", str(ckpt), "--tv-weight", "1"]) == 1
    assert "tv_weight is 0.001 there, not 1.0" in capsys.readouterr().err


def _session(model, optimizer: str) -> swiftnst.Session:
    rng = np.random.default_rng(3)
    session = swiftnst.Session(model, 32, 32, content_layers=["relu2_2"], style_layers=["relu1_1", "relu2_1"],
                               optimizer=optimizer, lbfgs_history=3, threads=2)
    session.set_content(rng.normal(0, 50, (3, 32, 32)).astype(np.float32))
    session.add_style(rng.normal(0, 50, (3, 32, 32)).astype(np.float32))
    session.set_image(rng.normal(0, 10, (3, 32, 32)).astype(np.float32))
    return session


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_session_state_round_trip_is_bitwise(model, optimizer):
    original, fresh = _session(model, optimizer), _session(model, optimizer)
    original.step(12)
    fresh.load_state(original.save_state())
    assert fresh.best_losses == original.best_losses
    assert original.step(3) == fresh.step(3)
    assert np.array_equal(original.image, fresh.image) and original.save_state() == fresh.save_state()


def test_session_state_abi_statuses(model):
    from swiftnst import _bindings as C
    session = _session(model, "lbfgs")
    size = np.zeros(1, dtype=np.int64)
    assert C.nst_session_state_size(session.handle, size) == C.NST_OK
    wrong = np.zeros(int(size[0]) - 1, dtype=np.uint8)
    assert C.nst_session_save_state(session.handle, wrong, wrong.size) == C.NST_ERR_SHAPE
    assert not wrong.any()                                                  # untouched
    assert C.nst_session_save_state(session.handle, None, 0) == C.NST_ERR_NULL_POINTER
    assert C.nst_session_load_state(session.handle, None, 10) == C.NST_ERR_NULL_POINTER
    assert C.nst_session_load_state(session.handle, wrong, -1) == C.NST_ERR_SHAPE
    assert C.nst_session_load_state(session.handle, wrong, wrong.size) == C.NST_ERR_INVALID_ARGUMENT
    assert C.nst_session_state_size(None, size) == C.NST_ERR_INVALID_HANDLE
    other = swiftnst.Session(model, 32, 48, content_layers=["relu2_2"], style_layers=["relu1_1"], lbfgs_history=3)
    with pytest.raises(swiftnst.NSTError, match="for a 32x32 image, the session's is 32x48"):
        other.load_state(session.save_state())
