"""The render planner: schedules, the strategy and history it picks for a memory budget, the budget it
refuses (before any work, naming what would fit), and ``swiftnst.plan``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import swiftnst
from swiftnst import MemoryBudgetError, Model, NSTOutOfMemoryError, Session
from swiftnst._process_memory import process_baseline_bytes, python_image_bytes
from swiftnst.options import StyleTransferOptions
from swiftnst.planner import MIN_LBFGS_HISTORY, PREDICTION_HEADROOM, padded_shape, plan_render
from swiftnst.schedule import (
    ANCHOR_SIDE, LARGE_OUTPUT_ABOVE, MIN_STEPS_FINAL_SCALE, equal_time_steps, fit_steps_to_time, scale_plan, step_seconds,
    steps_per_scale,
)

SIZE = 256                     # one scale of 256x256 (multi-scale starts above 384)
SHAPE = (SIZE, SIZE)


@pytest.fixture(scope="module")
def model(vgg19_weights_path) -> Model:
    with Model(vgg19_weights_path) as net:
        yield net


def engine_need(model: Model, split: str | None, rows: int, pairs: int, size: int = SIZE) -> int:
    """The engine's own prediction, asked directly (not through the planner)."""
    with Session(model, size, size) as session:
        return session.predict_peak_bytes(split, rows, pairs)


def process_need(model: Model, engine: int) -> int:
    return process_baseline_bytes(model) + python_image_bytes(SHAPE, [SHAPE], None) + engine


def budget_for(need: int) -> int:
    """The smallest budget whose planning share (``PREDICTION_HEADROOM``) holds ``need`` bytes."""
    return math.ceil(need / PREDICTION_HEADROOM)


def plan_for(model: Model, budget: int, **options) -> swiftnst.RenderPlan:
    opts = StyleTransferOptions(image_size=SIZE, iterations=300, **options)
    return plan_render(model, opts, SHAPE, [SHAPE], budget)


# MARK: - Schedules


def test_small_outputs_keep_the_existing_schedule():
    for size, n in ((512, 500), (1024, 501), (768, 40), (300, 100)):
        sizes = [s for s, _ in scale_plan(size, n, True)]
        full = [256, 512, 1024][:len(sizes)] if size == 1024 else sizes
        steps = steps_per_scale(size, n, full, [step_seconds(s, s) for s in full])
        assert [(s, k) for s, k in zip(full, steps) if k] == scale_plan(size, n, True)


def test_large_outputs_are_the_preview_render_plus_detail_scales():
    sizes = [256, 512, 1024, 2048]
    seconds = [step_seconds(s, s) for s in sizes]
    steps = steps_per_scale(2048, 500, sizes, seconds)
    assert 2048 > LARGE_OUTPUT_ABOVE and ANCHOR_SIDE == 512
    assert steps[:2] == [250, 250] == [n for _, n in scale_plan(512, 500, True)]  # the 512 px render's steps
    assert steps[2:] == equal_time_steps(seconds, 500)[2:]                          # detail: equal time
    assert steps[-1] == MIN_STEPS_FINAL_SCALE and steps[2] > steps[3]
    assert sum(steps) == 500 + sum(steps[2:])  # the detail scales add to the iterations
    # A single preview-size scale takes all the iterations (3840 px: 480, 960, 1920, 3840).
    uhd = [480, 960, 1920, 3840]
    assert steps_per_scale(3840, 500, uhd, [step_seconds(s, s) for s in uhd])[0] == 500


def test_equal_time_steps_with_few_steps():
    assert equal_time_steps([1, 4, 16, 64], 5) == [0, 0, 0, 5]
    assert equal_time_steps([1, 4, 16, 64], 12) == [0, 1, 1, 10]
    assert equal_time_steps([1, 4, 16, 64], 13) == [1, 1, 1, 10]
    for n in (13, 14, 50, 501, 2000):
        assert sum(equal_time_steps([1, 4, 16, 64], n)) == n


def test_fitting_steps_to_a_time_limit():
    seconds, setup = [1.0, 4.0], [1.0, 4.0]
    assert fit_steps_to_time([100, 10], seconds, setup, 1000) == [100, 10]      # fits: unchanged
    fitted = fit_steps_to_time([100, 10], seconds, setup, 70)
    assert sum(n * t + s for n, t, s in zip(fitted, seconds, setup) if n) <= 70 and fitted[1] >= 1
    assert fit_steps_to_time([100, 10], seconds, setup, 1) == [0, 1]          # the final scale always runs


# MARK: - Strategy and history for a budget


def test_a_budget_that_fits_the_whole_image(model):
    plan = plan_for(model, 64 * 2**30)
    (scale,) = plan.scales
    assert (scale.height, scale.width, scale.steps) == (SIZE, SIZE, 300)
    assert scale.strategy.split_layer is None and scale.lbfgs_history == 100
    assert scale.engine_bytes == engine_need(model, None, 0, 100)
    assert plan.peak_bytes == process_need(model, scale.engine_bytes) and not plan.notes


def test_a_budget_that_forces_strips(model):
    whole = engine_need(model, None, 0, MIN_LBFGS_HISTORY)
    plan = plan_for(model, budget_for(process_need(model, whole)) - 1)
    (scale,) = plan.scales
    assert scale.strategy.split_layer is not None and 0 < scale.strategy.rows < SIZE
    assert scale.engine_bytes == engine_need(model, scale.strategy.split_layer, scale.strategy.rows,
                                             scale.lbfgs_history)
    assert plan.peak_bytes <= plan.max_memory * PREDICTION_HEADROOM


def test_a_budget_that_shortens_the_history(model):
    budget = budget_for(process_need(model, engine_need(model, None, 0, 20)))
    plan = plan_for(model, budget)
    (scale,) = plan.scales
    assert scale.strategy.split_layer is None and scale.lbfgs_history == 20   # whole image, 20 pairs fit
    assert plan.peak_bytes <= budget
    assert any("history shortened from 100 to 20" in note for note in plan.notes)
    assert "note: L-BFGS history shortened" in str(plan)


def test_a_budget_that_cannot_be_met_names_the_smallest_that_works(model):
    with pytest.raises(MemoryBudgetError) as info:
        plan_for(model, 300 * 2**20)
    error = info.value
    assert isinstance(error, NSTOutOfMemoryError) and isinstance(error, MemoryError)
    assert "needs at least" in str(error) and "is 300 MiB" in str(error)
    assert plan_for(model, error.needed).peak_bytes <= error.needed           # that budget works ...
    with pytest.raises(MemoryBudgetError):
        plan_for(model, error.needed - 1)                                    # ... and nothing less
    stated = swiftnst._quantities.parse_memory_size(str(error).split("needs at least ")[1].split(" (")[0]
                                                    .replace(" ", ""))
    assert error.needed <= stated < error.needed + 2**20 * 11


def test_the_refusal_comes_before_any_work(model, tmp_path):
    content = (np.random.default_rng(0).random((SIZE, SIZE, 3)) * 255).astype(np.uint8)
    steps = []
    with pytest.raises(MemoryBudgetError):
        swiftnst.stylize(content, content, model=model, image_size=SIZE, iterations=5, progress=False,
                         max_memory="300M", output=tmp_path / "out.png",
                         callback=lambda *args: steps.append(args))
    assert steps == [] and not (tmp_path / "out.png").exists()


def test_adam_has_no_history(model):
    (scale,) = plan_for(model, 64 * 2**30, optimizer="adam").scales
    assert scale.lbfgs_history is None and "L-BFGS" not in str(plan_for(model, 64 * 2**30, optimizer="adam"))


def test_a_short_scale_needs_no_more_pairs_than_steps(model):
    opts = StyleTransferOptions(image_size=SIZE, iterations=3)
    (scale,) = plan_render(model, opts, SHAPE, [SHAPE], 64 * 2**30).scales
    assert scale.lbfgs_history == 100 and scale.engine_bytes == engine_need(model, None, 0, 2)  # 3 steps, 2 pairs


# MARK: - swiftnst.plan


def test_plan_reads_only_sizes_and_prints_a_readable_plan(model, tmp_path):
    from PIL import Image

    Image.new("RGB", (640, 480), "white").save(tmp_path / "content.png")
    Image.new("RGB", (300, 200), "black").save(tmp_path / "style.png")
    plan = swiftnst.plan(tmp_path / "content.png", [tmp_path / "style.png"], model=model, image_size=800,
                         iterations=100, max_memory="64G", time_limit="10m", tolerance=1e-3)
    assert [(s.width, s.height) for s in plan.scales] == [(400, 300), (800, 600)]
    assert plan.iterations == 100 and plan.time_limit == 600 and plan.tolerance == 1e-3
    text = str(plan)
    for expected in ("2 scale(s), 100 steps", "predicted peak memory", "of 64.00 GiB", "limit 10 min 0 s",
                     "scale 1: 400x300, 50 steps, whole image, L-BFGS history 100", "scale 2: 800x600",
                     "s/step", "early stop"):
        assert expected in text, text


def test_a_time_limit_shortens_the_plan(model):
    opts = StyleTransferOptions(image_size=SIZE, iterations=10_000, time_limit=5)
    plan = plan_render(model, opts, SHAPE, [SHAPE], 64 * 2**30)
    assert 1 <= plan.iterations < 10_000 and plan.seconds <= 5
    assert any("to fit the time limit" in note for note in plan.notes)


def test_padding():
    assert padded_shape(256, 192) == (256, 192) and padded_shape(257, 1) == (272, 16)


def test_image_shape_reads_the_header_as_load_image_would(tmp_path):
    from PIL import Image

    from swiftnst import images

    picture = Image.new("RGB", (40, 30), "red")
    exif = picture.getexif()
    exif[0x0112] = 6                                     # "rotate 90 degrees": shown 30 wide, 40 high
    picture.save(tmp_path / "turned.jpg", exif=exif)
    picture.save(tmp_path / "plain.png")
    for name in ("turned.jpg", "plain.png"):
        assert images.image_shape(tmp_path / name) == images.load_image(tmp_path / name).shape[:2]
    assert images.image_shape(tmp_path / "turned.jpg") == (40, 30)
    assert images.image_shape(np.zeros((5, 7), dtype=np.uint8)) == (5, 7)
    with pytest.raises(swiftnst.ImageNotFoundError):
        images.image_shape(tmp_path / "missing.png")
    (tmp_path / "not.png").write_text("hello")
    with pytest.raises(swiftnst.ImageError, match="not an image"):
        images.image_shape(tmp_path / "not.png")


def test_default_budget_keeps_large_renders_laptop_sized(model, monkeypatch):
    from swiftnst import _process_memory

    monkeypatch.setattr(_process_memory, "default_max_memory", lambda: 20 * 2**30)
    large = plan_render(model, StyleTransferOptions(image_size=2048), (1536, 2048), [(512, 512)])
    assert large.max_memory == _process_memory.LARGE_RENDER_MEMORY == 3 * 2**30
    assert large.peak_bytes <= 3 * 2**30 and large.scales[-1].strategy.split_layer is not None
    huge = plan_render(model, StyleTransferOptions(image_size=7680), (4320, 7680), [(512, 512)])
    assert huge.max_memory == 20 * 2**30                   # cannot fit 3 GiB: the available share instead
    small = plan_render(model, StyleTransferOptions(image_size=1024), (768, 1024), [(512, 512)])
    assert small.max_memory == 20 * 2**30 and all(s.lbfgs_history == 100 for s in small.scales)


def test_plan_checks_the_model_arguments_as_stylize_does(model, tmp_path):
    from PIL import Image

    Image.new("RGB", (64, 48), "white").save(tmp_path / "content.png")
    with pytest.raises(ValueError, match="input_convention applies to a .pth"):
        swiftnst.plan(tmp_path / "content.png", tmp_path / "content.png", model=model, input_convention="caffe")
    with pytest.raises(ValueError, match="convention"):
        swiftnst.plan(tmp_path / "content.png", tmp_path / "content.png", model="x.pth", input_convention="bgr")
    with pytest.raises(TypeError, match="model must be"):
        swiftnst.plan(tmp_path / "content.png", tmp_path / "content.png", model=3)


# MARK: - L-BFGS pair storage


def fewest_engine_bytes(model: Model, storage: str) -> int:
    """The engine's least need at :data:`SIZE` with the shortest history, over every strategy."""
    from swiftnst._strategies import WHOLE_IMAGE, strip_strategies
    with Session(model, SIZE, SIZE, lbfgs_storage=storage) as session:
        return min(session.predict_peak_bytes(s.split_layer, s.rows, MIN_LBFGS_HISTORY)
                   for s in [WHOLE_IMAGE, *strip_strategies(model, SIZE)])


def test_bfloat16_pairs_only_when_float32_cannot_fit(model):
    float32 = budget_for(process_need(model, fewest_engine_bytes(model, "float32")))
    (scale,) = plan_for(model, float32).scales
    assert scale.lbfgs_storage == "float32"
    plan = plan_for(model, float32 - 2**20)
    (scale,) = plan.scales
    assert scale.lbfgs_storage == "bfloat16" and scale.lbfgs_history >= MIN_LBFGS_HISTORY
    assert "L-BFGS pairs stored as bfloat16 at 256x256" in " ".join(plan.notes)
    assert f"L-BFGS history {scale.lbfgs_history} (bfloat16)" in str(plan)
    assert plan.peak_bytes <= plan.max_memory * PREDICTION_HEADROOM


def test_the_smallest_budget_counts_bfloat16_pairs_unless_float32_is_asked_for(model):
    with pytest.raises(MemoryBudgetError) as auto:
        plan_for(model, 300 * 2**20)
    with pytest.raises(MemoryBudgetError) as exact:
        plan_for(model, 300 * 2**20, lbfgs_storage="float32")
    assert "in bfloat16" in str(auto.value) and "in float32" in str(exact.value)
    assert auto.value.needed == budget_for(process_need(model, fewest_engine_bytes(model, "bfloat16")))
    assert exact.value.needed == budget_for(process_need(model, fewest_engine_bytes(model, "float32")))
    assert auto.value.needed < exact.value.needed


def test_asked_for_storage_is_used_without_a_note(model):
    plan = plan_for(model, 64 * 2**30, lbfgs_storage="bfloat16")
    assert plan.scales[0].lbfgs_storage == "bfloat16" and not plan.notes
    assert plan_for(model, 64 * 2**30, optimizer="adam").scales[0].lbfgs_storage is None
    with pytest.raises(ValueError, match="lbfgs_storage must be"):
        StyleTransferOptions(lbfgs_storage="float16")
