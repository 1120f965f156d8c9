"""Sizes a run derives from its options (the style images at ``style_scale`` times the result, a thin
style image stretched until its short side reaches the deepest layer, the snapshot grid) are bounded
by the engine's limit and the available memory, and refused before anything large is allocated,
with a message naming the option and the size. Style images are not kept as full-size float copies."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from .conftest import assert_clean_exit, run_python

transfer = pytest.importorskip("swiftnst.transfer", reason="swiftnst.transfer needs the engine library",
                               exc_type=ImportError)
from swiftnst import NSTOutOfMemoryError, images  # noqa: E402

RNG = np.random.default_rng(7)
CONTENT = RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8)
STYLE = RNG.integers(0, 256, (20, 20, 3), dtype=np.uint8)
FAST = dict(iterations=2, progress=False)


def test_a_huge_style_scale_is_refused_before_allocating(vgg16_random_path):
    # On the unbounded code this asked for a 64,000-pixel style image: with the address space capped
    # at 6 GiB it died of MemoryError (uncapped, the system's OOM killer ended the process).
    result = run_python(f"""
        import json, resource
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
        import numpy as np, swiftnst
        rng = np.random.default_rng(0)
        content = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        style = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
        try:
            swiftnst.stylize(content, style, model={str(vgg16_random_path)!r}, image_size=64, style_scale=1000,
                             iterations=1, progress=False)
        except BaseException as exc:
            print(json.dumps([type(exc).__name__, str(exc)]))
    """, timeout=180)
    assert_clean_exit(result)
    kind, message = json.loads(result.stdout.strip().splitlines()[-1])
    assert kind == "ValueError"
    assert "style_scale 1000" in message and "64000 px" in message and "8192" in message


def test_a_too_thin_style_image_is_refused_naming_it(tmp_path):
    thin = tmp_path / "thin.png"
    images.save_image(RNG.integers(0, 256, (2, 4000, 3), dtype=np.uint8), thin)
    # The model path does not exist: the refusal must come before the model is loaded.
    with pytest.raises(ValueError, match=r"thin\.png.*4000x2 px.*32000 px.*aspect ratio"):
        transfer.stylize(CONTENT, thin, model=tmp_path / "absent.safetensors", image_size=32, **FAST)


def test_a_run_that_cannot_fit_in_memory_is_refused_before_loading_the_model(monkeypatch, tmp_path):
    from swiftnst import _sizes

    monkeypatch.setattr(_sizes, "available_bytes", lambda: 1 << 30)
    with pytest.raises(NSTOutOfMemoryError, match=r"style image 1 at 4096 px .*style_scale 2.*GiB"):
        transfer.stylize(CONTENT, STYLE, model=tmp_path / "absent.safetensors", image_size=2048, style_scale=2,
                         **FAST)
    with pytest.raises(NSTOutOfMemoryError, match=r"the result at image_size 4096"):
        transfer.stylize(CONTENT, STYLE, model=tmp_path / "absent.safetensors", image_size=4096, style_scale=0.5,
                         **FAST)


def test_style_images_are_not_kept_as_full_size_float_copies(model):
    big_style = RNG.integers(0, 256, (1500, 1500, 3), dtype=np.uint8)   # 6.75 MB; 27 MB as float32
    held = []

    def measure(iteration, losses, image_fn):
        held.append(tracemalloc.get_traced_memory()[0])

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        transfer.stylize(CONTENT, big_style, model=model, image_size=32, callback=measure, **FAST)
    finally:
        tracemalloc.stop()
    # The input arrays are the caller's; what the run holds is a few small images (32 px results,
    # a style at 32 px): far below one full-size float copy of the style.
    assert max(held) - before < 8 << 20, f"the run held {(max(held) - before) >> 20} MiB"


def test_the_snapshot_grid_stays_bounded_however_many_snapshots(model, tmp_path):
    snaps = tmp_path / "snaps"
    transfer.stylize(CONTENT, STYLE, model=model, image_size=16, iterations=230, save_every=1, snapshot_dir=snaps,
                     progress=False)
    assert len(list(snaps.glob("iter_*.png"))) == 230          # every snapshot is still written
    grid = images.load_image(snaps / "iterations.png")
    rows = -(-transfer.MAX_GRID_SNAPSHOTS // 5)
    assert grid.shape[0] <= 8 + rows * (transfer.GRID_CELL_HEIGHT + 16 + 8)


def test_make_grid_refuses_a_gigapixel_canvas_before_drawing():
    with pytest.raises(ValueError, match="would exceed"):
        images.make_grid([STYLE] * 50, cell_height=4000)
    wide = images.thumbnail(np.zeros((1, 5000, 3), np.uint8), 100)
    assert wide.shape[1] <= images.MAX_THUMBNAIL_ASPECT * 100
