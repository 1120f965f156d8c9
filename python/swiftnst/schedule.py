"""Multi-scale schedules: which sizes a run optimises at, and how many steps each gets.

Two schedules, chosen by the size of the result (see :func:`steps_per_scale`):

- up to :data:`LARGE_OUTPUT_ABOVE` pixels, :func:`scale_plan` (half of the steps at the final size,
  the other half shared by the coarser sizes); measured on this project's 2-core machine, it is
  what ``MULTISCALE_AUTO_ABOVE`` in ``options`` was tuned with, and it is unchanged;
- above it, a large render is the preview render plus detail scales: the scales up to
  :data:`ANCHOR_SIDE` take exactly the steps a render of that size takes (:func:`scale_plan`, all
  ``iterations`` of them), so the large render starts from the preview's look; each larger scale then
  gets the steps that :func:`equal_time_steps` gives it (about equal *time* per scale over the whole
  ladder: tens at 1024 px, 10 at the final size), and its preview anchor keeps the look while the
  detail is added. A step's cost grows with the pixels (about 4x per halving of the scale).
"""

from __future__ import annotations

import math
from typing import Sequence

__all__ = ["ANCHOR_SIDE", "LARGE_OUTPUT_ABOVE", "MIN_STEPS_FINAL_SCALE", "SECONDS_PER_MEGAPIXEL", "SETUP_STEPS",
           "anchor_factor", "equal_time_steps", "fit_steps_to_time", "scale_plan", "scale_sizes", "step_seconds", "steps_per_scale"]

#: Results whose longest side is above this many pixels use :func:`equal_time_steps`; up to it
#: :func:`scale_plan`, whose final scale gets half of the steps (at 2048 px that would be 250 steps
#: of ~30 s each on the project's 2-core machine, over two hours).
LARGE_OUTPUT_ABOVE = 1024

#: The preview size of large renders: their scales above it keep the look of a render of about this
#: longest side (the default ``image_size``) through the engine's preview anchor (``Session.set_anchor``);
#: see :func:`anchor_factor`.
ANCHOR_SIDE = 512

#: :func:`equal_time_steps` gives the final scale at least this many steps (when there are enough).
MIN_STEPS_FINAL_SCALE = 10


#: Seconds of one L-BFGS step per megapixel (whole-image evaluation, default layers, VGG-19, both
#: cores), and the part that does not grow with the pixels. Measured on the project's 2-core machine
#: (``Session.step(1)`` on 256/512/1024 px squares, steady state: 0.47, 1.75 and 6.7 s, a fit
#: 6.3 s/MP + 0.06 s), with other work running, so on an idle machine steps are a little faster. A run
#: corrects its time estimate from its own steps.
SECONDS_PER_MEGAPIXEL, SECONDS_PER_STEP = 6.3, 0.06

#: Setting up a scale (resizing, the content and style targets, the first step's kernels) costs
#: about this many steps of that scale.
SETUP_STEPS = 1.0


def step_seconds(height: int, width: int, time_factor: float = 1.0) -> float:
    """Predicted seconds of one step on a ``height`` x ``width`` image (``time_factor``: the evaluation
    strategy's time over the whole image's)."""
    return SECONDS_PER_STEP + SECONDS_PER_MEGAPIXEL * height * width / 1e6 * time_factor


def scale_sizes(image_size: int, multiscale: bool, min_size: int = 256) -> list[int]:
    """Longest sides from coarse to fine: ``image_size`` halved while the half stays >= ``min_size``."""
    sizes = [image_size]
    while multiscale and sizes[0] // 2 >= min_size:
        sizes.insert(0, sizes[0] // 2)
    return sizes


def scale_plan(image_size: int, iterations: int, multiscale: bool, min_size: int = 256) -> list[tuple[int, int]]:
    """Return ``[(longest_side, steps), ...]`` from coarse to fine (the schedule up to
    :data:`LARGE_OUTPUT_ABOVE`).

    Sizes halve from ``image_size`` while they stay >= ``min_size``. The final (full) size gets
    half of the steps (rounded up), the coarser sizes share the other half equally: coarse steps
    are cheap (a quarter of the pixels per halving) and fix the large-scale layout, the fine steps
    add the detail. Scales that would get no step are dropped.
    """
    sizes = scale_sizes(image_size, multiscale, min_size)
    final_steps = -(-iterations // 2) if len(sizes) > 1 else iterations
    coarse = sizes[:-1]
    share, extra = divmod(iterations - final_steps, max(1, len(coarse)))
    plan = [(size, share + (1 if i < extra else 0)) for i, size in enumerate(coarse)]
    return [(size, steps) for size, steps in plan if steps > 0] + [(image_size, final_steps)]


def equal_time_steps(step_seconds: Sequence[float], iterations: int) -> list[int]:
    """Split ``iterations`` over scales (coarse to fine) so each takes about the same time.

    Steps are proportional to ``1 / step_seconds``, rounded to whole steps with the total kept
    (largest remainders); the final scale gets at least :data:`MIN_STEPS_FINAL_SCALE` and every
    scale at least one step while there are enough steps (scales left with none get 0).
    """
    count = len(step_seconds)
    rates = [1.0 / seconds for seconds in step_seconds]
    floor = [1] * count
    floor[-1] = MIN_STEPS_FINAL_SCALE
    if iterations < sum(floor):  # too few for every floor: the final scale first, then the coarse ones
        final = min(iterations, MIN_STEPS_FINAL_SCALE)
        spare = iterations - final
        return [1 if i >= count - 1 - spare else 0 for i in range(count - 1)] + [final]
    shares = [iterations * rate / sum(rates) for rate in rates]
    steps = [max(low, int(share)) for low, share in zip(floor, shares)]
    while sum(steps) != iterations:
        if sum(steps) < iterations:  # the largest remainder first
            i = max(range(count), key=lambda k: shares[k] - steps[k])
            steps[i] += 1
        else:  # over because of the floors: take from the scale furthest above its share
            i = max((k for k in range(count) if steps[k] > floor[k]), key=lambda k: steps[k] - shares[k])
            steps[i] -= 1
    return steps


def steps_per_scale(image_size: int, iterations: int, sizes: Sequence[int], step_seconds: Sequence[float]) -> list[int]:
    """The steps of each of ``sizes`` (from :func:`scale_sizes`), see the module docstring: up to
    :data:`LARGE_OUTPUT_ABOVE`, :func:`scale_plan`'s (0 for the scales it drops); above it, the scales up
    to :data:`ANCHOR_SIDE` as :func:`scale_plan` plans a render of the largest of them with ``iterations``
    steps, the larger ones as :func:`equal_time_steps` over all of ``sizes``."""
    if image_size > LARGE_OUTPUT_ABOVE and len(sizes) > 1:
        steps = equal_time_steps(step_seconds, iterations)
        preview = [size for size in sizes if size <= ANCHOR_SIDE]
        if preview:
            planned = dict(scale_plan(preview[-1], iterations, len(preview) > 1, preview[0]))
            steps = [planned.get(size, 0) if size <= ANCHOR_SIDE else n for size, n in zip(sizes, steps)]
        return steps
    planned = dict(scale_plan(image_size, iterations, len(sizes) > 1, min(sizes)))
    return [planned.get(size, 0) for size in sizes]


def anchor_factor(image_size: int, height: int, width: int) -> int:
    """The preview anchor's factor for a scale of ``height`` x ``width`` (padded) pixels of a render
    whose longest side is ``image_size``, or 0 for none.

    Only results above :data:`LARGE_OUTPUT_ABOVE` are anchored (up to it, every scale runs enough steps
    to settle, and the recipe stays the tuned one). The factor is the power of two that brings the longest
    side nearest to :data:`ANCHOR_SIDE` and divides both sides (2048 -> 4, 3840 -> 8); scales within
    a factor sqrt(2) of it get none.
    """
    if image_size <= LARGE_OUTPUT_ABOVE:
        return 0
    factor = 2 ** max(0, round(math.log2(max(height, width) / ANCHOR_SIDE)))
    while factor > 1 and (height % factor or width % factor):
        factor //= 2
    return factor if factor >= 2 else 0


def fit_steps_to_time(steps: Sequence[int], step_seconds: Sequence[float], setup_seconds: Sequence[float],
                      time_limit: float) -> list[int]:
    """Scale every scale's steps down by one factor so the predicted time fits ``time_limit``.

    Steps are never added. The final scale keeps at least one step (the result must be at full size);
    a coarser scale whose steps round to 0 is dropped (0 steps), which also saves its setup time.
    """
    steps = list(steps)

    def predicted(plan: Sequence[int]) -> float:
        return sum(n * t + (s if n else 0.0) for n, t, s in zip(plan, step_seconds, setup_seconds))

    if predicted(steps) <= time_limit:
        return steps
    low, high = 0.0, 1.0  # bisect the factor: predicted() is monotone in it
    for _ in range(40):
        factor = (low + high) / 2
        if predicted(_scaled(steps, factor)) <= time_limit:
            low = factor
        else:
            high = factor
    return _scaled(steps, low)


def _scaled(steps: Sequence[int], factor: float) -> list[int]:
    scaled = [int(n * factor) for n in steps]
    scaled[-1] = max(1, scaled[-1])
    return scaled
