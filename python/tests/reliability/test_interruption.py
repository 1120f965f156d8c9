"""Ctrl-C in the middle of a run keeps the best image reached so far, saves it when an output was
asked for, leaves the engine usable, and leaves no temporary files behind.

A KeyboardInterrupt can arrive two ways: raised by Python code between steps (a progress callback,
or the SIGINT handler running when the engine call returns), or from inside the engine's own
progress callback (``Session.step(n, callback)``), where ctypes would swallow it unless the binding
forwards it.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from child_process import default_sigint

from .conftest import PYTHON_DIR, small_image

transfer = pytest.importorskip("swiftnst.transfer", reason="swiftnst.transfer needs the engine library",
                               exc_type=ImportError)


@pytest.fixture
def pictures(tmp_path):
    rng = np.random.default_rng(5)
    paths = []
    for name, size in (("content.png", (24, 32)), ("style.png", (20, 20))):
        path = tmp_path / name
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".") or p.suffix == ".tmp")


class _StopAfter:
    """A progress callback that presses Ctrl-C after ``steps`` steps and remembers the losses seen."""

    def __init__(self, steps: int) -> None:
        self.steps, self.seen = steps, []

    def __call__(self, iteration, losses, image_fn) -> None:
        self.seen.append(losses.total)
        if iteration >= self.steps:
            raise KeyboardInterrupt


def test_ctrl_c_from_the_progress_callback_saves_the_best_image(model, pictures, tmp_path):
    output = tmp_path / "out" / "result.png"
    output.parent.mkdir()
    stop = _StopAfter(3)
    with pytest.raises(transfer.StyleTransferInterrupted) as info:
        transfer.stylize(*pictures, model=model, output=output, callback=stop, image_size=32, iterations=50,
                         progress=False)
    interrupted = info.value
    assert isinstance(interrupted, KeyboardInterrupt)  # uncaught, it still behaves like Ctrl-C
    assert interrupted.iteration == 3 and len(stop.seen) == 3
    assert interrupted.image.shape == (24, 32, 3) and interrupted.image.dtype == np.uint8
    assert interrupted.output == output
    np.testing.assert_array_equal(np.asarray(Image.open(output)), interrupted.image)
    assert _leftovers(output.parent) == []


def test_ctrl_c_without_raising_returns_the_best_image(model, pictures):
    result = transfer.stylize(*pictures, model=model, callback=_StopAfter(2), image_size=32, iterations=50,
                              progress=False, raise_on_interrupt=False)
    assert result.shape == (24, 32, 3)


def test_keyboard_interrupt_inside_the_engine_callback_stops_the_step_and_propagates(swiftnst_engine, model):
    calls = []

    def callback(losses):
        calls.append(losses.iteration)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with swiftnst_engine.Session(model, 16, 16, threads=1) as session:
        session.set_content(small_image(model, 16, 16))
        session.add_style(small_image(model, 16, 16, seed=1))
        session.set_image(small_image(model, 16, 16, seed=2))
        with pytest.raises(KeyboardInterrupt):
            session.step(10, callback=callback)
        assert len(calls) == 2, "the engine kept stepping after the callback raised"
        assert session.best_losses is not None and session.best_losses.iteration <= 2
        assert np.isfinite(session.best_image).all()
        # the session is intact and continues from where it stopped
        after = session.step(1)
        assert after.iteration == 3


@pytest.mark.usefixtures("python_sigint")
@pytest.mark.parametrize("with_callback", [True, False])
def test_a_ctrl_c_while_the_engine_steps_stops_after_the_current_step_and_is_raised(swiftnst_engine, model,
                                                                                     with_callback):
    # The signal arrives while the engine runs, so Python's handler runs when the engine next calls
    # back: on entering the progress callback, where ctypes swallowed the KeyboardInterrupt (printed
    # "Exception ignored") and the steps went on. Without a callback it waited for all n steps.
    started = threading.Event()
    seen = []

    def callback(losses):
        seen.append(losses.iteration)
        started.set()

    steps = 5000
    with swiftnst_engine.Session(model, 32, 32, threads=1) as session:
        session.set_content(small_image(model, 32, 32))
        session.add_style(small_image(model, 32, 32, seed=1))
        session.set_image(small_image(model, 32, 32, seed=2))
        if not with_callback:
            started.set()
        press = threading.Thread(target=lambda: started.wait() and (time.sleep(0.05), os.kill(os.getpid(), signal.SIGINT)))
        press.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                session.step(steps, callback=callback if with_callback else None)
        finally:
            press.join()
        taken = session.best_losses.iteration
        assert 1 <= taken < steps
        assert not with_callback or seen[-1] == taken  # it stopped right after a step it reported
        assert session.step(1).iteration == taken + 1  # intact, and goes on from there


def test_an_ignored_ctrl_c_stays_ignored_while_the_engine_steps(swiftnst_engine, model):
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with swiftnst_engine.Session(model, 16, 16, threads=1) as session:
            session.set_content(small_image(model, 16, 16))
            session.add_style(small_image(model, 16, 16, seed=1))
            session.set_image(small_image(model, 16, 16, seed=2))
            assert session.step(6, callback=lambda losses: os.kill(os.getpid(), signal.SIGINT)).iteration == 6
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_ctrl_c_as_an_image_file_is_opened_stays_a_ctrl_c_and_closes_it(monkeypatch, tmp_path):
    from swiftnst import images

    path = tmp_path / "picture.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path)
    real_open = io.open

    def open_then_ctrl_c(*args, **kwargs):
        real_open(*args, **kwargs)  # the worst moment: the file object took the descriptor (and drops it)
        raise KeyboardInterrupt

    descriptors = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(io, "open", open_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):  # was ImageError "Bad file descriptor": closed twice
        images.load_image(path)
    monkeypatch.undo()
    assert len(os.listdir("/proc/self/fd")) == descriptors


def test_callback_returning_true_stops_like_cancel(swiftnst_engine, model):
    with swiftnst_engine.Session(model, 16, 16, threads=1) as session:
        session.set_content(small_image(model, 16, 16))
        session.add_style(small_image(model, 16, 16, seed=1))
        session.set_image(small_image(model, 16, 16, seed=2))
        seen = []
        try:
            session.step(10, callback=lambda losses: seen.append(losses) or len(seen) >= 4)
        except swiftnst_engine.NSTError as exc:  # a binding may surface the cancel as an error
            assert "cancel" in type(exc).__name__.lower() or "cancel" in str(exc).lower()
        assert len(seen) == 4


def test_sigint_to_the_command_line_saves_the_best_image_and_exits_130(vgg16_random_path, pictures, tmp_path):
    output_dir = tmp_path / "cli"
    output_dir.mkdir()
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    output = output_dir / "result.jpg"
    environment = dict(os.environ, PYTHONPATH=str(PYTHON_DIR), TMPDIR=str(private_tmp), PYTHONUNBUFFERED="1")
    child = subprocess.Popen(
        [sys.executable, "-m", "swiftnst", str(pictures[0]), str(pictures[1]), "-o", str(output),
         "--model", str(vgg16_random_path), "-s", "32", "-n", "100000", "--no-progress", "--print-every", "1",
         "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment, preexec_fn=default_sigint)
    try:
        lines = []
        deadline = time.monotonic() + 120
        while len(lines) < 3 and time.monotonic() < deadline:  # wait until the optimisation is under way
            line = child.stdout.readline()
            if not line:
                break
            lines.append(line)
        assert len(lines) == 3 and lines[-1].startswith("iteration 3/"), lines + [child.stderr.read()]
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130, stderr
    match = re.search(r"interrupted after (\d+) iterations; best image so far saved to (.*)$", stderr.strip())
    assert match and int(match[1]) >= 3 and match[2] == str(output), stderr
    assert "Traceback" not in stderr
    with Image.open(output) as saved:
        assert saved.size == (32, 24)
    assert _leftovers(output_dir) == []
    assert list(private_tmp.iterdir()) == []
