"""SIGTERM saves the best image as Ctrl-C does (exit 143), a second Ctrl-C while the result is being
saved waits until it is written (exit 130), and a closed standard output stops the progress lines but
not the run. The CLI runs in a subprocess on a small image with random VGG-16 weights; the result
file must exist and be a valid image of the requested size."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from child_process import default_sigint

from .conftest import PYTHON_DIR

transfer = pytest.importorskip("swiftnst.transfer", reason="swiftnst.transfer needs the engine library",
                               exc_type=ImportError)
from swiftnst import StyleTransferInterrupted, images  # noqa: E402


@pytest.fixture
def pictures(tmp_path):
    rng = np.random.default_rng(11)
    return [images.save_image(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), tmp_path / name)
            for name in ("content.png", "style.png")]


def _start(pictures, weights, output, iterations: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PYTHON_DIR), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "swiftnst", *map(str, pictures), "--model", str(weights), "-o", str(output),
               "-s", "32", "-n", str(iterations), "--print-every", "1", "--no-progress"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=default_sigint)


def _valid_image(path) -> tuple[int, int]:
    with Image.open(path) as im:
        im.load()
        return im.size


def _wait(process: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, err.decode(errors="replace")


def test_sigterm_saves_the_best_image_and_exits_143(pictures, vgg16_random_path, tmp_path):
    output = tmp_path / "result.png"
    process = _start(pictures, vgg16_random_path, output, 100000)
    assert process.stdout.readline().startswith(b"iteration ")
    process.send_signal(signal.SIGTERM)
    code, err = _wait(process)
    assert code == 143, err
    assert "terminated after" in err and "saved to" in err
    assert _valid_image(output) == (32, 24)


def test_two_quick_ctrl_c_still_save_the_result(pictures, vgg16_random_path, tmp_path):
    output = tmp_path / "result.png"
    process = _start(pictures, vgg16_random_path, output, 100000)
    assert process.stdout.readline().startswith(b"iteration ")
    process.send_signal(signal.SIGINT)
    time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    code, err = _wait(process)
    assert code == 130, err
    assert _valid_image(output) == (32, 24)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_closed_stdout_stops_printing_but_not_the_run(pictures, vgg16_random_path, tmp_path):
    output = tmp_path / "result.png"
    process = _start(pictures, vgg16_random_path, output, 150)
    assert process.stdout.readline().startswith(b"iteration 1/150")   # what `| head -1` reads
    process.stdout.close()
    code, err = _wait(process)
    assert code == 0, err
    assert "Broken pipe" not in err and "Traceback" not in err
    assert _valid_image(output) == (32, 24)


def _interruption(run) -> StyleTransferInterrupted:
    """The StyleTransferInterrupted ``run()`` raises; a plain KeyboardInterrupt (which would end pytest)
    fails the test instead."""
    try:
        run()
    except StyleTransferInterrupted as stop:
        return stop
    except KeyboardInterrupt:
        pytest.fail("the second Ctrl-C escaped the save as a plain KeyboardInterrupt")
    pytest.fail("the run was not interrupted")


@pytest.mark.usefixtures("python_sigint")
def test_a_ctrl_c_during_the_save_waits_until_the_result_is_written(model, pictures, tmp_path, monkeypatch):
    """Deterministic version of the double Ctrl-C: the second SIGINT is raised inside the save."""
    real_save = images.save_image
    delivered = []

    def save_with_a_second_ctrl_c(image, path, **kwargs):
        signal.raise_signal(signal.SIGINT)
        delivered.append(path)
        return real_save(image, path, **kwargs)

    def first_ctrl_c(iteration, losses, image_fn):
        if iteration == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(images, "save_image", save_with_a_second_ctrl_c)
    output = tmp_path / "result.png"
    stop = _interruption(lambda: transfer.stylize(*pictures, model=model, output=output, callback=first_ctrl_c,
                                                  image_size=32, iterations=50, progress=False))
    assert delivered == [output] and stop.iteration == 2
    np.testing.assert_array_equal(np.asarray(Image.open(output)), stop.image)


@pytest.mark.usefixtures("python_sigint")
def test_a_ctrl_c_during_the_final_save_of_a_finished_run_reports_the_saved_result(model, pictures, tmp_path,
                                                                                  monkeypatch):
    real_save = images.save_image

    def save_with_ctrl_c(image, path, **kwargs):
        signal.raise_signal(signal.SIGINT)
        return real_save(image, path, **kwargs)

    monkeypatch.setattr(images, "save_image", save_with_ctrl_c)
    output = tmp_path / "result.png"
    stop = _interruption(lambda: transfer.stylize(*pictures, model=model, output=output, image_size=32,
                                                  iterations=3, progress=False))
    assert stop.iteration == 3 and stop.output == output
    assert _valid_image(output) == (32, 24)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
