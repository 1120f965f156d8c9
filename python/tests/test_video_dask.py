"""``swiftnst.video`` on a real local Dask cluster of two worker processes (no mocks; skipped without the
``video`` and ``distributed`` extras or the cached VGG-19): chunks render on both workers and the frames are
bitwise those of the same chunks rendered in this process (same seed and threads)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2")
pytest.importorskip("imageio_ffmpeg")
pytest.importorskip("distributed")

import swiftnst  # noqa: E402
from swiftnst import images  # noqa: E402
from swiftnst._batch_dask import threads_per_worker  # noqa: E402
from swiftnst._video_io import frame_name  # noqa: E402
from swiftnst.demo_images import render_demo_clip, render_swirl_painting  # noqa: E402

OPTIONS = dict(image_size=48, iterations=4, seed=5, progress=False, chunk_frames=3)


def test_chunks_on_two_workers_give_the_single_process_frames(tmp_path, vgg19_weights_path):
    source = tmp_path / "clip"
    source.mkdir()
    for index, frame in enumerate(render_demo_clip(6, 48, 36)):
        images.save_image(frame, source / frame_name(index))
    style = str(images.save_image(render_swirl_painting(40, 40), tmp_path / "style.png"))
    model = str(vgg19_weights_path)
    here = swiftnst.video(source, style, tmp_path / "here", model=model, threads=threads_per_worker(2), **OPTIONS)
    there = swiftnst.video(source, style, tmp_path / "there", model=model, workers=2, **OPTIONS)
    assert here.chunks == there.chunks == ((0, 3), (3, 3))
    assert all(worker.startswith("tcp://") for worker in there.workers)
    assert len(set(there.workers)) == 2, "both workers rendered a chunk"
    for index, (mine, theirs) in enumerate(zip(here.frames, there.frames)):
        assert np.array_equal(mine, theirs), f"frame {index}"
