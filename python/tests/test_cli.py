"""The command line through subprocesses: help, usage errors (exit 2), errors (exit 1, one line, no
traceback), a real run, a model by name, Ctrl-C (exit 130 with the result saved) and the weights subcommand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from child_process import default_sigint
from swiftnst import images
from swiftnst.cli import build_parser
from swiftnst.demo_images import load_demo_content, render_swirl_painting

PACKAGE_ROOT = Path(__file__).resolve().parents[1]       # python/, so the tests work uninstalled too


def swiftnst(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "swiftnst", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("inputs")
    content = images.save_image(images.resize_longest_side(load_demo_content(), 96), directory / "cat.jpg")
    style = images.save_image(render_swirl_painting(96, 72), directory / "stone.png")
    return content, style


def test_help_documents_every_option_with_its_default():
    result = swiftnst("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for action in build_parser()._actions:
        for flag in action.option_strings:
            assert flag in text
        # --help and --version print and exit: they have no default to state.
        if action.option_strings and action.help != "==SUPPRESS==" and not {"--help", "--version"} & {*action.option_strings}:
            assert "default" in action.help, action.option_strings
    for expected in ("CONTENT", "STYLE", "(default: 512)", "(default: 500)", "(default: relu4_2)",
                     "(default: lbfgs)", "(default: 100.0)", "'tutorial' = relu1_1", "swiftnst weights fetch"):
        assert expected in text


@pytest.mark.parametrize("args, message", [
    ([], "required"),
    (["a.jpg"], "required"),
    (["a.jpg", "b.jpg", "--bogus"], "unrecognized"),
    (["a.jpg", "b.jpg", "-s", "0"], "image_size"),
    (["a.jpg", "b.jpg", "-n", "-3"], "iterations"),
    (["a.jpg", "b.jpg", "--style-weight", "nan"], "finite"),
    (["a.jpg", "b.jpg", "--learning-rate", "0"], "learning_rate"),
    (["a.jpg", "b.jpg", "--style-layers", "relu9_9"], "unknown layer"),
    (["a.jpg", "b.jpg", "c.jpg", "--style-blend-weights", "1"], "1 weights for 2 style"),
    (["a.jpg", "b.jpg", "--optimizer", "sgd"], "invalid choice"),
    (["a.jpg", "b.jpg", "--multiscale", "--no-multiscale"], "not allowed"),
    (["weights"], "required"),
    (["weights", "fetch", "alexnet"], "invalid choice"),
])
def test_usage_errors_exit_2(args, message):
    result = swiftnst(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_missing_image_exits_1_with_one_line(tmp_path, inputs):
    result = swiftnst(tmp_path / "nope.jpg", inputs[1], "-o", tmp_path / "out.jpg", "--no-progress")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"swiftnst: error: [Errno 2] image file not found: '{tmp_path / 'nope.jpg'}'"]
    broken = tmp_path / "broken.jpg"
    broken.write_text("not an image")
    result = swiftnst(broken, inputs[1], "-o", tmp_path / "out.jpg", "--no-progress")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "broken.jpg" in result.stderr and "Traceback" not in result.stderr


def test_weights_path_and_convert_errors(tmp_path):
    result = swiftnst("weights", "path")
    assert result.returncode == 0 and result.stdout.strip().endswith("vgg19.safetensors")
    result = swiftnst("weights", "path", "vgg16")
    assert result.returncode == 0 and result.stdout.strip().endswith("vgg16.safetensors")
    result = swiftnst("weights", "convert", tmp_path / "missing.h5")
    assert result.returncode == 1 and "missing.h5" in result.stderr and "Traceback" not in result.stderr


def test_a_real_run_with_snapshots(vgg19_weights_path, inputs, tmp_path):
    out = tmp_path / "deep" / "result.png"
    result = swiftnst(*inputs, "-o", out, "--model", vgg19_weights_path, "-s", "48", "-n", "4", "--save-every", "2",
                      "--print-every", "2", "--no-progress", "--init", "noise:0.3", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert images.load_image(out).shape == (32, 48, 3)
    snapshots = out.with_name("result_snapshots")
    assert sorted(p.name for p in snapshots.iterdir()) == ["iter_00002.png", "iter_00004.png", "iterations.png"]
    assert "iteration 4/4: total" in result.stdout and str(out) in result.stdout


def test_default_output_is_output_generated_image_jpg(vgg19_weights_path, inputs, tmp_path):
    result = swiftnst(*inputs, "--model", vgg19_weights_path, "-s", "32", "-n", "1", "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert images.load_image(tmp_path / "output" / "generated_image.jpg").shape == (21, 32, 3)


def test_a_model_by_name(vgg16_weights_path, inputs, tmp_path):
    out = tmp_path / "vgg16.png"
    result = swiftnst(*inputs, "-o", out, "--model", "vgg16", "-s", "32", "-n", "2", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert images.load_image(out).shape == (21, 32, 3)
    # VGG-16 has no relu5_4: the name loaded VGG-16, not the default VGG-19.
    result = swiftnst(*inputs, "-o", out, "--model", "vgg16", "--style-layers", "relu5_4", "-s", "32", "-n", "1")
    assert result.returncode == 1 and "the vgg16 model has no layer 'relu5_4'" in result.stderr


def test_ctrl_c_saves_the_best_image_and_exits_130(vgg19_weights_path, inputs, tmp_path):
    out = tmp_path / "stopped.png"
    snapshots = tmp_path / "snaps"
    env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "swiftnst", *map(str, inputs), "-o", str(out),
                                "--model", str(vgg19_weights_path), "-s", "48", "-n", "100000", "--no-progress",
                                "--save-every", "1", "--snapshot-dir", str(snapshots)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=default_sigint)
    try:
        deadline = time.monotonic() + 120
        while not (snapshots / "iter_00002.png").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "interrupted after" in stderr and "Traceback" not in stderr
    assert images.load_image(out).shape == (32, 48, 3)
    assert (snapshots / "iterations.png").is_file()
