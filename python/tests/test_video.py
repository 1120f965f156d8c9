"""``swiftnst video`` on a small synthetic clip (``demo_images.render_demo_clip``: 6 frames, 64 px): the flow
and its trust, cuts and chunks, folder and mp4 results with the sound copied, the temporal term holding a
frame to the warped previous result, and the command line. Skipped without the ``video`` extra."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cv2")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

import swiftnst  # noqa: E402
from swiftnst import images  # noqa: E402
from swiftnst._flow import frame_guide, pair_flow, warp  # noqa: E402
from swiftnst._video_io import frame_name, read_frames  # noqa: E402
from swiftnst.demo_images import render_demo_clip, render_swirl_painting  # noqa: E402
from swiftnst.videos import _chunks  # noqa: E402

OPTIONS = dict(image_size=64, iterations=6, seed=3, progress=False, threads=1)


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    return render_demo_clip(6, 64, 48)


@pytest.fixture(scope="module")
def style_path(tmp_path_factory) -> str:
    return str(images.save_image(render_swirl_painting(48, 48), tmp_path_factory.mktemp("style") / "swirls.png"))


@pytest.fixture(scope="module")
def clip_mp4(clip, tmp_path_factory) -> Path:
    """The clip as an mp4 at 6 fps with a 1 s sine tone (made by imageio-ffmpeg's ffmpeg)."""
    folder = tmp_path_factory.mktemp("clip")
    for index, frame in enumerate(clip):
        images.save_image(frame, folder / frame_name(index))
    path = folder / "clip.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-framerate", "6", "-i",
                    str(folder / "frame_%05d.png"), "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


def _has_audio(path: Path) -> bool:
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True,
                           text=True)
    return "Audio:" in probe.stderr


def test_the_warped_previous_frame_matches_where_the_flow_is_trusted(clip):
    flow = pair_flow(clip[0], clip[1])
    warped = warp(images.to_float(clip[0]), flow.backward)
    error = np.abs(warped - images.to_float(clip[1])).mean(axis=2)
    trusted = flow.certainty > 0
    assert 0.6 < flow.trusted_fraction < 1.0        # the pan is followed; the ball's wake is not trusted
    assert error[trusted].mean() < 0.03 < error[~trusted].mean()
    # The camera moves right by 2 px: the background's backward flow points 2 px to the left... of the
    # previous frame, i.e. +2 in x (frame t's pixel p was at p + 2 in frame t-1).
    assert np.median(flow.backward[..., 0][trusted]) == pytest.approx(2.0, abs=0.3)


def test_cuts_and_chunk_lengths_start_chunks(clip):
    painting = render_swirl_painting(80, 48)         # another shot: the painting, panned
    frames = [*clip[:3], *(np.ascontiguousarray(painting[:, 3 * i:3 * i + 64]) for i in range(3))]
    flows = [pair_flow(a, b) for a, b in zip(frames, frames[1:])]
    assert flows[2].trusted_fraction < 0.2 < min(f.trusted_fraction for i, f in enumerate(flows) if i != 2)
    assert _chunks(flows, 6, None, 0.2) == [(0, 3), (3, 3)]
    assert _chunks(flows, 6, 2, 0.2) == [(0, 2), (2, 1), (3, 2), (5, 1)]


def test_a_folder_of_frames_to_a_folder(clip, clip_mp4, style_path, tmp_path, vgg19_weights_path):
    result = swiftnst.video(clip_mp4.parent, style_path, tmp_path / "frames", model=str(vgg19_weights_path),
                            **OPTIONS)
    written = sorted((tmp_path / "frames").iterdir())
    assert [p.name for p in written] == [frame_name(i) for i in range(6)]
    assert all(images.load_image(p).shape == (48, 64, 3) for p in written)
    assert np.array_equal(images.load_image(written[3]), result.frames[3])
    assert result.chunks == ((0, 6),) and result.fps == 24


def test_an_mp4_keeps_its_sound_and_frame_rate(clip_mp4, style_path, tmp_path, vgg19_weights_path):
    output = tmp_path / "styled.mp4"
    result = swiftnst.video(clip_mp4, style_path, output, model=str(vgg19_weights_path), **OPTIONS)
    assert _has_audio(clip_mp4) and _has_audio(output)
    again = read_frames(output)
    assert len(again.frames) == 6 and again.fps == pytest.approx(6) and again.frames[0].shape == (48, 64, 3)
    # H.264 is lossy: the decoded frames are close to the rendered ones, not equal.
    assert np.abs(again.frames[2].astype(float) - result.frames[2]).mean() < 12
    assert not list(tmp_path.glob(".styled.mp4.*")), "the temporary directory is left behind"


def test_the_temporal_term_holds_a_frame_to_the_warped_previous_result(clip, style_path, tmp_path, vgg19_weights_path):
    """Frame 2 rendered from frame 1's result: with the term, closer to that result warped where trusted. (At
    this size and step count the style loss is far from converged and large, so the term needs a large
    weight to show: 1e5 here, distance about 1/3 of the unheld one's.)"""
    def distance(weight: float) -> float:
        result = swiftnst.video(clip_mp4_folder, style_path, tmp_path / f"w{weight:g}", model=str(vgg19_weights_path),
                                temporal_weight=weight, **{**OPTIONS, "iterations": 30})
        assert (result.losses[1].temporal > 0) == (weight > 0)
        guide = frame_guide(pair_flow(clip[0], clip[1]), result.frames[0], weight)
        trusted = guide.certainty > 0
        return float(np.abs(images.to_float(result.frames[1]) - guide.warped)[trusted].mean())

    clip_mp4_folder = tmp_path / "two"
    clip_mp4_folder.mkdir()
    for index, frame in enumerate(clip[:2]):
        images.save_image(frame, clip_mp4_folder / frame_name(index))
    assert distance(1e5) < 0.5 * distance(0)


def test_refusals_before_any_work(clip_mp4, style_path, tmp_path):
    with pytest.raises(swiftnst.ImageError, match="is the source"):
        swiftnst.video(clip_mp4, style_path, clip_mp4, **OPTIONS)
    with pytest.raises(ValueError, match="checkpoint"):
        swiftnst.video(clip_mp4, style_path, tmp_path / "o.mp4", checkpoint=str(tmp_path / "c.ckpt"), **OPTIONS)
    with pytest.raises(ValueError, match="temporal_weight"):
        swiftnst.video(clip_mp4, style_path, tmp_path / "o.mp4", temporal_weight=-1, **OPTIONS)
    with pytest.raises(swiftnst.ImageNotFoundError):
        swiftnst.video(tmp_path / "missing.mp4", style_path, tmp_path / "o.mp4", **OPTIONS)


def test_the_command_line(clip_mp4, style_path, tmp_path, vgg19_weights_path):
    from swiftnst.cli import main

    output = tmp_path / "cli.mp4"
    code = main(["video", str(clip_mp4), style_path, "-o", str(output), "--model", str(vgg19_weights_path),
                 "-s", "64", "-n", "3", "--temporal-weight", "500", "--threads", "1", "-q"])
    assert code == 0 and len(read_frames(output).frames) == 6
