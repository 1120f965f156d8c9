"""A run within limits: the time limit stops it with a valid image, the tolerance ends scales early,
row strips render end to end, and ``stylize``'s keywords match the options and the CLI."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

import swiftnst
from swiftnst import Model, images
from swiftnst._run_control import RunControl
from swiftnst.demo_images import load_demo_content, render_swirl_painting
from swiftnst.options import TOLERANCE_WINDOW, StyleTransferOptions
from swiftnst.planner import PREDICTION_HEADROOM, RenderPlan, ScalePlan
from swiftnst._strategies import WHOLE_IMAGE


@pytest.fixture(scope="module")
def model(vgg19_weights_path) -> Model:
    with Model(vgg19_weights_path) as net:
        yield net


@pytest.fixture(scope="module")
def pictures() -> tuple[np.ndarray, np.ndarray]:
    return images.resize_longest_side(load_demo_content(), 64), render_swirl_painting(64, 48)


def test_time_limit_stops_with_the_best_image(model, pictures, tmp_path):
    steps = []
    started = time.monotonic()
    result = swiftnst.stylize(*pictures, model=model, image_size=48, iterations=100_000, time_limit=2,
                              progress=False, output=tmp_path / "out.png", callback=lambda i, *_: steps.append(i))
    elapsed = time.monotonic() - started
    assert elapsed < 3.0, elapsed                    # the limit counts from the call, setup included
    assert 0 < len(steps) < 100_000
    saved = images.load_image(tmp_path / "out.png")
    assert saved.shape == result.shape == (32, 48, 3) and np.array_equal(saved, result)


def test_tolerance_ends_a_scale_once_the_loss_stops_falling(model, pictures):
    losses = []
    swiftnst.stylize(*pictures, model=model, image_size=32, iterations=2000, tolerance=0.05, progress=False,
                     callback=lambda i, l, _: losses.append(l.total))
    assert TOLERANCE_WINDOW < len(losses) < 2000
    best = np.minimum.accumulate(losses)
    assert best[-1 - TOLERANCE_WINDOW] - best[-1] <= 0.05 * best[-1 - TOLERANCE_WINDOW]   # why it stopped
    earlier = best[-2 - TOLERANCE_WINDOW] - best[-2]
    assert earlier > 0.05 * best[-2 - TOLERANCE_WINDOW]                                 # not a step sooner


def _plan(tolerance: float = 0.0, time_limit: float | None = None) -> RenderPlan:
    scale = ScalePlan(16, 16, 50, WHOLE_IMAGE, 100, 0, 0, 2.0)
    return RenderPlan((scale, scale), 2**30, 0, time_limit, tolerance)


def test_run_control_calibrates_and_cuts_the_next_scale():
    now = [0.0]
    control = RunControl(_plan(time_limit=150), progress=False, clock=lambda: now[0])
    assert control.start_scale(0) == int(50 * 150 / 204)     # the plan: 2 scales x (2 s setup + 50 x 2 s)
    now[0] += 4.0                                # the setup, twice the predicted time
    for _ in range(10):
        now[0] += 4.0                            # steps take twice the predicted time
        control.step_done(1.0, "")
    assert control.speed == pytest.approx(2.0)
    control.end_scale(10)
    assert control.start_scale(1) == max(1, int(50 * (150 - 44) / (2.0 * 102)))
    now[0] = 147.0
    assert control.stop_reason() == "time limit reached"      # the next step would end past the limit
    assert control.run_stop_reason() is None                  # a next scale could still start
    now[0] = 150.0
    assert control.run_stop_reason() == "time limit reached"


def test_run_control_stops_on_request():
    control = RunControl(_plan(), progress=False, clock=lambda: 0.0)
    control.start_scale(0)
    control.step_done(1.0, "")
    assert control.stop_reason() is None and control.run_stop_reason() is None
    control.request_stop("the callback asked to stop")
    assert control.stop_reason() == control.run_stop_reason() == "the callback asked to stop"


def test_run_control_tolerance_window():
    control = RunControl(_plan(tolerance=0.01), progress=False, clock=lambda: 0.0)
    control.start_scale(0)
    for loss in [100.0] + [50.0] * TOLERANCE_WINDOW:
        control.step_done(loss, "")
        assert control.stop_reason() is None     # fell by half within the window
    control.step_done(50.0, "")
    assert "less than 0.01 over 10 steps" in control.stop_reason()


def test_strips_render_like_the_whole_image(model, pictures):
    # A budget below the whole image's need: the planner must choose strips, and the run must work.
    content, style = pictures
    options = StyleTransferOptions(image_size=128, iterations=3, progress=False)
    whole_plan = swiftnst.plan(content, style, model=model, options=options, max_memory="64G")
    assert whole_plan.scales[0].strategy.split_layer is None
    # The smallest budget the whole image fits (the plan fills 9/10 of a budget), less 1 MiB.
    tight = math.ceil(whole_plan.peak_bytes / PREDICTION_HEADROOM) - 2**20
    strips_plan = swiftnst.plan(content, style, model=model, options=options, max_memory=tight)
    assert strips_plan.scales[0].strategy.split_layer is not None
    whole = swiftnst.stylize(content, style, model=model, options=options, max_memory="64G")
    strips = swiftnst.stylize(content, style, model=model, options=options, max_memory=tight)
    assert np.abs(whole.astype(int) - strips.astype(int)).max() <= 2      # same values to float rounding


def test_api_keywords_match_the_options(model, pictures):
    result = swiftnst.stylize(*pictures, model=model, image_size=32, iterations=3, progress=False,
                              max_memory="8G", time_limit="30s", tolerance=0.001)
    assert result.shape == (22, 32, 3)
    options = StyleTransferOptions(max_memory="1500M", time_limit="1h30m", tolerance=0.5)
    assert (options.max_memory, options.time_limit, options.tolerance) == (1500 * 2**20, 5400.0, 0.5)
    assert StyleTransferOptions(max_memory=4096).max_memory == 4096
    for bad in (dict(max_memory="lots"), dict(time_limit="soon"), dict(tolerance=-1.0), dict(tolerance=float("nan"))):
        with pytest.raises(ValueError, match=next(iter(bad))):
            StyleTransferOptions(**bad)
