"""A ``swiftnst batch`` process killed (SIGKILL) or interrupted (Ctrl-C) after its first finished item,
then run again: every item ends up in the manifest exactly once, and nothing finished is redone
(skipped without the cached VGG-19)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from swiftnst import images
from swiftnst._manifest import MANIFEST_NAME
from swiftnst.cli import main
from swiftnst.demo_images import load_demo_content, render_swirl_painting

from child_process import default_sigint

ITEMS = 8  # 4 contents x 2 styles


@pytest.fixture(scope="module")
def arguments(tmp_path_factory, vgg19_weights_path) -> list[str]:
    """``swiftnst batch`` arguments without the output directory: 8 items of 8 steps at 48 px."""
    folder = tmp_path_factory.mktemp("inputs")
    photo = images.resize_longest_side(load_demo_content(), 48)
    contents = [np.ascontiguousarray(np.roll(photo, 5 * i, axis=1)) for i in range(4)]
    paths = [str(images.save_image(c, folder / f"content{i}.png")) for i, c in enumerate(contents)]
    styles = [str(images.save_image(render_swirl_painting(48, 40 - 8 * i), folder / f"style{i}.png")) for i in range(2)]
    return ["batch", *paths, "--style", styles[0], "--style", styles[1], "--model", str(vgg19_weights_path),
            "-s", "48", "-n", "8", "--threads", "1"]


def _lines(manifest: Path) -> list[bytes]:
    return manifest.read_bytes().splitlines(keepends=True) if manifest.exists() else []


def _stop_after_first_record(arguments: list[str], out: Path, signum: int) -> int:
    """Start the batch in a subprocess, send ``signum`` once the manifest holds a record; its exit code."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "swiftnst", *arguments, "-o", str(out), "-q"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=default_sigint)
    deadline = time.monotonic() + 300
    try:
        while not _lines(out / MANIFEST_NAME):
            assert process.poll() is None, f"the batch ended before its first record: {process.stderr.read()}"
            assert time.monotonic() < deadline, "no record within 5 minutes"
            time.sleep(0.01)
        process.send_signal(signum)
        return process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()


@pytest.mark.parametrize("signum, exit_code", [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGINT, 130)])
def test_a_stopped_batch_loses_only_the_items_in_flight(arguments, tmp_path, signum, exit_code, capsys):
    out = tmp_path / "out"
    assert _stop_after_first_record(arguments, out, signum) == exit_code
    manifest = out / MANIFEST_NAME
    before = _lines(manifest)
    assert 1 <= len(before) < ITEMS and all(line.endswith(b"\n") for line in before)
    # Each item is recorded as it finishes: results without a record are at most the one item in flight.
    assert len([p for p in out.iterdir() if p.suffix == ".png"]) - len(before) <= 1
    finished = [json.loads(line) for line in before]
    stamps = {r["output"]: (out / r["output"]).stat().st_mtime_ns for r in finished}
    # As if the kill had also cut a record short while it was being written.
    with open(manifest, "ab") as handle:
        handle.write(b'{"key": "0123", "output": "cut sh')

    assert main([*arguments, "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"{ITEMS - len(before)} rendered, {len(before)} finished before, 0 failed" in captured.out
    assert "incomplete last line" in captured.err
    after = _lines(manifest)
    assert after[:len(before)] == before                      # the first run's records, untouched
    keys = [json.loads(line)["key"] for line in after]
    assert len(keys) == len(set(keys)) == ITEMS               # every item exactly once
    assert {r["output"]: (out / r["output"]).stat().st_mtime_ns for r in finished} == stamps  # not redone
    assert all((out / json.loads(line)["output"]).is_file() for line in after)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left behind
