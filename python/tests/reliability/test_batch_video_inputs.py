"""The inputs of ``swiftnst batch`` and ``swiftnst video`` beyond their images: a batch's existing
``manifest.jsonl`` (damaged lines, a record naming a file outside OUTDIR), and a video's source (a file
that is not a video, an empty folder of frames, frames of different sizes). Each bad one stops the
command with a message naming it and the problem (exit 1), before any model is opened or item
rendered, and leaves every file as it was: the manifest is not rewritten, no result appears.

The model given is a small file that is no weights file at all: an error about anything else shows the
command stopped before reading it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import file_snapshot

cli = pytest.importorskip("swiftnst.cli", reason="swiftnst.cli needs the engine library", exc_type=ImportError)

RECORD = {"key": "0" * 64, "output": "content__style__000.png"}


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """content.png, style.png, a stand-in model file and an output directory with a finished result."""
    rng = np.random.default_rng(1)
    for name in ("content.png", "style.png"):
        Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(tmp_path / name)
    (tmp_path / "model.safetensors").write_bytes(b"not read")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / RECORD["output"]).write_bytes(b"an earlier result")
    return tmp_path


def _refused(work: Path, capsys, argv: list[str], pattern: str) -> None:
    """Run the CLI with ``argv`` (the model and a small size appended): exit 1, ``pattern`` in the error,
    no traceback, and every file under ``work`` as it was."""
    before = file_snapshot(work)
    status = cli.main([*argv, "--model", str(work / "model.safetensors"), "-s", "32", "-n", "1", "-q"])
    err = capsys.readouterr().err
    assert status == 1, err
    assert re.search(pattern, err), f"{err!r} does not match {pattern!r}"
    assert "Traceback" not in err and "model.safetensors" not in err, err
    assert file_snapshot(work) == before, "the command changed files"


def _batch(work: Path) -> list[str]:
    return ["batch", str(work / "content.png"), "--style", str(work / "style.png"), "-o", str(work / "out")]


# MARK: - A batch's manifest.jsonl


@pytest.mark.parametrize("lines", [
    [b"garbage {", json.dumps(RECORD).encode()],
    [b"\x00\xff\xfe binary", json.dumps(RECORD).encode()],
    [b"[1, 2, 3]", json.dumps(RECORD).encode()],
    [json.dumps({"output": RECORD["output"]}).encode(), json.dumps(RECORD).encode()],
])
def test_a_damaged_manifest_line_is_named(work, capsys, lines):
    (work / "out" / "manifest.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    _refused(work, capsys, _batch(work), r"line 1 of '.*manifest\.jsonl' is not a batch record.*repair or remove")


@pytest.mark.parametrize("output", ["../content.png", "/etc/passwd", "sub/x.png", "..", ""])
@pytest.mark.parametrize("last", [False, True], ids=["inside", "last line"])
def test_a_record_naming_a_file_outside_outdir_is_refused(work, capsys, output, last):
    # As the last line (no newline) too: it is a complete record, not one a killed batch cut short, so
    # it is not dropped as such.
    record = json.dumps({**RECORD, "output": output}).encode()
    data = record if last else record + b"\n" + json.dumps(RECORD).encode() + b"\n"
    (work / "out" / "manifest.jsonl").write_bytes(data)
    _refused(work, capsys, _batch(work), rf"line 1 of '.*manifest\.jsonl': its output {re.escape(repr(output))} "
                                         r"is not a file name inside the output directory")


# MARK: - A video's source


def _video(work: Path, source: str, output: str = "styled") -> list[str]:
    return ["video", str(work / source), str(work / "style.png"), "-o", str(work / output)]


def test_a_file_that_is_not_a_video(work, capsys):
    pytest.importorskip("imageio_ffmpeg")
    (work / "clip.mp4").write_bytes(b"this is text, not a video\n" * 40)
    _refused(work, capsys, _video(work, "clip.mp4", "styled.mp4"),
             r"cannot read video '.*clip\.mp4': not a video ffmpeg can decode")
    assert "ffmpeg version" not in capsys.readouterr().err  # one line, not ffmpeg's whole log


def test_an_empty_frame_folder(work, capsys):
    (work / "frames").mkdir()
    (work / "frames" / "notes.txt").write_text("no frames here")
    _refused(work, capsys, _video(work, "frames"), r"folder of frames '.*frames' holds no image files")


def test_frames_of_different_sizes(work, capsys):
    (work / "frames").mkdir()
    for name, shape in [("a.png", (24, 32)), ("b.png", (24, 32)), ("c.png", (20, 20))]:
        Image.fromarray(np.zeros((*shape, 3), np.uint8)).save(work / "frames" / name)
    _refused(work, capsys, _video(work, "frames"),
             r"the frames of '.*frames' have different sizes: \[\(20, 20\), \(24, 32\)\]")


def test_a_missing_video(work, capsys):
    _refused(work, capsys, _video(work, "absent.mp4", "styled.mp4"), r"video '.*absent\.mp4' does not exist")

