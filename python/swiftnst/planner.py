"""Planning a render before any work: scales, steps, evaluation strategy, L-BFGS history, and the
predicted peak memory of the process and time, within a memory budget and an optional time limit.

``swiftnst.plan(content, style, ...)`` (and ``--dry-run``) returns the plan ``stylize`` would follow;
``stylize`` plans first and refuses a budget it cannot meet (:class:`MemoryBudgetError`) before it
loads any image into the engine.

Strategy choice per scale, with the engine's prediction (``Session.predict_peak_bytes``): the fastest
evaluation that fits the budget at the shortest L-BFGS history allowed (:data:`MIN_LBFGS_HISTORY`),
the whole image first, then row strips by predicted time; then the longest history (up to the
requested one) that still fits. The L-BFGS pairs are Float32 unless no strategy fits that way; then they
are stored as bfloat16 (half the memory; ``lbfgs_storage`` fixes either). Predicted peak = the process baseline + the images Python holds + the
engine's step peak (see ``_process_memory``).
"""

from __future__ import annotations

import dataclasses
import math
import os
from fractions import Fraction
from dataclasses import dataclass
from typing import Sequence

from . import images
from ._errors import MemoryBudgetError
from ._model_source import check_model_argument, open_model
from ._process_memory import default_budgets, process_baseline_bytes, python_image_bytes
from ._quantities import format_bytes, format_seconds, parse_memory_size
from ._sizes import PAD_MULTIPLE
from ._strategies import (
    WHOLE_IMAGE, EvaluationStrategy, StepCost, predict_engine_bytes, strip_strategies,
)
from .images import ImageSource
from .model import Model
from .options import TOLERANCE_WINDOW, StyleTransferOptions
from .schedule import SETUP_STEPS, anchor_factor, fit_steps_to_time, scale_sizes, step_seconds, steps_per_scale
from .session import Session

__all__ = ["MIN_LBFGS_HISTORY", "PAD_MULTIPLE", "RenderPlan", "ScalePlan", "padded_shape", "plan", "plan_render"]

#: The planner shortens the L-BFGS history to fit a budget, but never below this many pairs; a budget
#: that needs fewer is refused instead. Histories are only short at the finest scales, which take tens
#: of steps from the upsampled coarser result; there 3 pairs lose nothing measurable: 12 steps at 512 px
#: from a 256 px result (tubingen + starry night) ended at 5.24e6 with 3 pairs, 5.27e6 with 5, 5.26e6
#: with 10 and with 100. Each pair costs 24 bytes per pixel (4K: 200 MB).
MIN_LBFGS_HISTORY = 3

#: The share of the budget the predicted peak may fill: the process's measured peak ran up to 7.4 % above
#: the prediction (the default 2048x2048 render, bench/RESULTS.md "Large renders: end to end"), so a
#: plan that filled the budget exactly could exceed it. The likeliest cause (L-BFGS pairs of 12.6 MB cycled
#: through malloc's heap) is gone since the pairs live in mapped slots; the headroom stays until runs at
#: full budgets show it unneeded.
PREDICTION_HEADROOM = Fraction(9, 10)  # exact: the smallest budget that works is then exact too



def padded_shape(height: int, width: int) -> tuple[int, int]:
    """``(height, width)`` rounded up to multiples of :data:`PAD_MULTIPLE` (what the engine evaluates)."""
    return -(-height // PAD_MULTIPLE) * PAD_MULTIPLE, -(-width // PAD_MULTIPLE) * PAD_MULTIPLE


@dataclass(frozen=True)
class ScalePlan:
    """One scale of a render: its size (before padding), steps, strategy and predicted costs."""

    height: int
    width: int
    steps: int
    strategy: EvaluationStrategy
    #: L-BFGS correction pairs at this scale and how they are stored (None for Adam).
    lbfgs_history: int | None
    #: The engine's predicted peak during a step, and the images Python holds meanwhile (bytes).
    engine_bytes: int
    python_bytes: int
    seconds_per_step: float
    #: The preview anchor's factor at this scale (``schedule.anchor_factor``), 0 for none.
    anchor_factor: int = 0
    lbfgs_storage: str | None = None

    @property
    def setup_seconds(self) -> float:
        """Predicted seconds to set the scale up (targets, kernels, resizing)."""
        return SETUP_STEPS * self.seconds_per_step

    @property
    def seconds(self) -> float:
        """Predicted seconds of the whole scale."""
        return self.setup_seconds + self.steps * self.seconds_per_step


@dataclass(frozen=True)
class RenderPlan:
    """What a render will do and cost; ``str(plan)`` is the readable table ``--dry-run`` prints."""

    scales: tuple[ScalePlan, ...]
    #: The budget planned for, and the process's resident bytes before the first scale (bytes).
    max_memory: int
    baseline_bytes: int
    time_limit: float | None
    tolerance: float
    #: What the planner changed to fit the budgets (shortened history, fewer steps), one line each.
    notes: tuple[str, ...] = ()

    @property
    def peak_bytes(self) -> int:
        """Predicted peak resident memory of the process (bytes)."""
        return self.baseline_bytes + max(s.engine_bytes + s.python_bytes for s in self.scales)

    @property
    def iterations(self) -> int:
        return sum(s.steps for s in self.scales)

    def spare_bytes(self, scale: ScalePlan) -> int:
        """What the budget leaves, while ``scale`` runs, for memory the plan does not count (the idle
        sessions a :class:`~swiftnst._session_pool.SessionPool` keeps): the usable share of
        ``max_memory`` less the baseline and the scale's own predicted peak; negative when none."""
        return int(self.max_memory * PREDICTION_HEADROOM) - self.baseline_bytes - scale.engine_bytes - scale.python_bytes

    @property
    def seconds(self) -> float:
        """Predicted wall time of the optimisation (all scales)."""
        return sum(s.seconds for s in self.scales)

    def __str__(self) -> str:
        lines = [f"render plan: {len(self.scales)} scale(s), {self.iterations} steps, predicted peak memory "
                 f"{format_bytes(self.peak_bytes)} of {format_bytes(self.max_memory)}, predicted time "
                 f"{format_seconds(self.seconds)}"
                 + (f" (limit {format_seconds(self.time_limit)})" if self.time_limit else "")]
        for i, s in enumerate(self.scales, 1):
            history = f", L-BFGS history {s.lbfgs_history}" if s.lbfgs_history is not None else ""
            if s.lbfgs_storage == "bfloat16":
                history += " (bfloat16)"
            anchor = f", anchored at 1/{s.anchor_factor}" if s.anchor_factor else ""
            lines.append(f"  scale {i}: {s.width}x{s.height}, {s.steps} steps, {s.strategy}{history}{anchor}, "
                         f"peak {format_bytes(self.baseline_bytes + s.engine_bytes + s.python_bytes)}, "
                         f"{s.seconds_per_step:.2f} s/step, {format_seconds(s.seconds)}")
        if self.tolerance:
            lines.append(f"  early stop: a scale ends when its loss falls by less than {self.tolerance:g} "
                         f"over {TOLERANCE_WINDOW} steps")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


def plan_render(model: Model, options: StyleTransferOptions, content_shape: tuple[int, int],
                style_shapes: Sequence[tuple[int, int]], max_memory: int | str | None = None, *,
                masks: int = 0) -> RenderPlan:
    """Plan a render of a ``content_shape`` (height, width) content image with styles of
    ``style_shapes`` by ``model`` under ``options``, handing the engine ``masks`` masks (spatial control,
    alpha: ``_run_masks.RunMasks.count``; with any, or with ``normalize_gradients``, only the whole-image
    evaluation can run).

    ``max_memory`` (bytes or a size like ``"4G"``) overrides ``options.max_memory``; with neither,
    the budgets of ``_process_memory.default_budgets`` are tried in turn (75 % of the available
    memory; for results above 1024 px 3 GiB first).

    Raises:
        MemoryBudgetError: some scale cannot fit the budget with any strategy and the shortest
            history; the message names the smallest budget that would work (``needed``).
    """
    if max_memory is None:
        max_memory = options.max_memory
    if max_memory is not None:
        return _plan_for_budget(model, options, content_shape, style_shapes, parse_memory_size(max_memory, "max_memory"),
                                masks)
    *preferred, last = default_budgets(options.image_size)
    for budget in preferred:
        try:
            return _plan_for_budget(model, options, content_shape, style_shapes, budget, masks)
        except MemoryBudgetError:
            pass
    return _plan_for_budget(model, options, content_shape, style_shapes, last, masks)


def _plan_for_budget(model: Model, options: StyleTransferOptions, content_shape: tuple[int, int],
                     style_shapes: Sequence[tuple[int, int]], budget: int, masks: int) -> RenderPlan:
    sizes = scale_sizes(options.image_size, options.uses_multiscale(), options.multiscale_min_size)
    shapes = [images.fit_longest_side(*content_shape, size) for size in sizes]
    baseline = process_baseline_bytes(model)

    def choose(index: int, previous: tuple[int, int] | None, steps: int) -> tuple[int, _Choice | None, int]:
        python = python_image_bytes(content_shape, style_shapes, previous)
        usable = int(budget * PREDICTION_HEADROOM)
        choice, fewest = _choose_strategy(model, options, shapes[index], usable - baseline - python, steps, masks)
        return python, choice, math.ceil((baseline + python + fewest) / PREDICTION_HEADROOM)

    # Pass 1: a strategy per scale as if every scale took all the steps (so filled its L-BFGS history
    # as far as they allow); it sets the step times and so the steps, and refuses a budget no strategy meets.
    first = [choose(i, shapes[i - 1] if i else None, options.iterations) for i in range(len(shapes))]
    if any(choice is None for _, choice, _ in first):
        needed = max(need for _, _, need in first)
        raise MemoryBudgetError(
            f"a {shapes[-1][1]}x{shapes[-1][0]} render needs at least {format_bytes(needed, round_up=True)} "
            f"(the least memory of any evaluation strategy"
            + (f", with an L-BFGS history of {min(options.lbfgs_history, MIN_LBFGS_HISTORY)} in "
               f"{_storages(options)[-1]}" if options.optimizer == "lbfgs" else "")
            + f"); the memory budget (--max-memory / max_memory) is {format_bytes(budget)}", needed)
    timing = [_step_seconds(options, shape, choice) for shape, (_, choice, _) in zip(shapes, first)]
    steps = steps_per_scale(options.image_size, options.iterations, sizes, timing)
    notes = []
    if options.time_limit is not None:
        fitted = fit_steps_to_time(steps, timing, [SETUP_STEPS * t for t in timing], options.time_limit)
        if fitted != steps:
            notes.append(f"steps cut from {sum(steps)} to {sum(fitted)} to fit the time limit of "
                         f"{format_seconds(options.time_limit)}")
        steps = fitted
    # Pass 2: L-BFGS keeps a pair per step after the first, so n steps never hold more than n - 1: with
    # that (and the scales left), a faster strategy or a longer history may fit.
    scales, previous = [], None
    for i, n in enumerate(steps):
        if n == 0:
            continue
        python, choice, _ = choose(i, previous, n)
        choice = choice or first[i][1]  # a scale that fitted with full pairs fits with fewer
        height, width = previous = shapes[i]
        if choice.lbfgs_history is not None and choice.lbfgs_history < min(n, options.lbfgs_history):
            notes.append(f"L-BFGS history shortened from {options.lbfgs_history} to {choice.lbfgs_history} at "
                         f"{width}x{height} to fit {format_bytes(budget)}")
        if choice.lbfgs_storage != _storages(options)[0]:
            notes.append(f"L-BFGS pairs stored as {choice.lbfgs_storage} at {width}x{height} to fit {format_bytes(budget)}")
        scales.append(ScalePlan(height, width, n, choice.strategy, choice.lbfgs_history, choice.engine_bytes,
                                python, _step_seconds(options, shapes[i], choice),
                                _anchor_factor(options, padded_shape(height, width)), choice.lbfgs_storage))
    return RenderPlan(tuple(scales), budget, baseline, options.time_limit, options.tolerance, tuple(notes))


def _anchor_factor(options: StyleTransferOptions, padded: tuple[int, int]) -> int:
    return anchor_factor(options.image_size, *padded) if options.anchor_weight > 0 else 0


def _step_seconds(options: StyleTransferOptions, shape: tuple[int, int], choice: "_Choice") -> float:
    """A step at ``shape`` with ``choice``'s strategy, plus the preview anchor's evaluation (whole image)."""
    height, width = padded_shape(*shape)
    factor = _anchor_factor(options, (height, width))
    anchor = step_seconds(height // factor, width // factor) if factor else 0.0
    return step_seconds(height, width, choice.time_factor) + anchor


def _storages(options: StyleTransferOptions) -> tuple[str | None, ...]:
    """The L-BFGS pair storages the planner may use, preferred first (float32: torch's trajectory; bfloat16
    only when nothing else fits, its effect measured in bench/RESULTS.md); (None,) for Adam."""
    if options.optimizer != "lbfgs":
        return (None,)
    return (options.lbfgs_storage,) if options.lbfgs_storage else ("float32", "bfloat16")


@dataclass(frozen=True)
class _Choice:
    strategy: EvaluationStrategy
    lbfgs_history: int | None
    lbfgs_storage: str | None
    engine_bytes: int
    time_factor: float


def _choose_strategy(model: Model, options: StyleTransferOptions, shape: tuple[int, int], engine_budget: int,
                     steps: int, masks: int) -> tuple[_Choice | None, int]:
    """For one scale: in the first pair storage (:func:`_storages`) where any strategy fits
    ``engine_budget`` at the shortest history, the fastest such strategy, with the longest history (up to
    the requested one) that then fits; None when nothing fits. And the fewest engine bytes of any
    strategy and storage. ``steps`` steps hold at most ``steps - 1`` pairs."""
    height, width = padded_shape(*shape)
    lbfgs = options.optimizer == "lbfgs"
    requested = options.lbfgs_history
    used = min(requested, max(1, steps - 1))  # the pairs n steps leave: one per step after the first
    shortest = min(used, MIN_LBFGS_HISTORY) if lbfgs else 0
    layers = options.content_layers + options.style_layers + options.active_histogram_layers()
    deepest = max((name for name, _ in layers), key=model.layer_names.index)
    cost = StepCost(model, height, width, deepest)
    whole_only = masks > 0 or options.normalize_gradients  # the engine computes them on the whole image only
    candidates = sorted([WHOLE_IMAGE, *([] if whole_only else strip_strategies(model, height))], key=cost.time_factor)
    extra = _mask_bytes(model, options, height, width, masks)
    fewest = None
    for storage in _storages(options):
        # A session configured like the run's at this size; the prediction needs no images.
        with Session(model, height, width, content_layers=dict(options.content_layers),
                     style_layers=dict(options.style_layers), optimizer=options.optimizer,
                     lbfgs_history=requested, lbfgs_storage=storage, lbfgs_line_search=options.lbfgs_line_search,
                     threads=options.threads, normalize_gradients=options.normalize_gradients,
                     **options.style_loss_arguments()) as session:
            factor = _anchor_factor(options, (height, width))
            if factor:
                session.set_anchor(factor, options.anchor_weight)
            needs = {strategy: predict_engine_bytes(session, strategy, shortest) + extra for strategy in candidates}
            fewest = min(fewest or math.inf, *needs.values())
            for strategy in candidates:
                if needs[strategy] > engine_budget:
                    continue
                if not lbfgs:
                    return _Choice(strategy, None, None, needs[strategy], cost.time_factor(strategy)), fewest
                per_pair = predict_engine_bytes(session, strategy, shortest + 1) - needs[strategy]
                pairs = min(used, shortest + (engine_budget - needs[strategy]) // max(1, per_pair))
                # A pair costs a little more the more there are (the kept inner products grow with their
                # square), so that linear estimate is an upper bound: the longest history that fits, exactly.
                fits = shortest
                while fits < pairs:
                    middle = (fits + pairs + 1) // 2
                    if predict_engine_bytes(session, strategy, middle) + extra <= engine_budget:
                        fits = middle
                    else:
                        pairs = middle - 1
                history = requested if pairs == used else pairs  # never more pairs than steps anyway
                engine = predict_engine_bytes(session, strategy, pairs) + extra
                return _Choice(strategy, history, storage, engine, cost.time_factor(strategy)), fewest
    return None, fewest


def _mask_bytes(model: Model, options: StyleTransferOptions, height: int, width: int, masks: int) -> int:
    """A bound on the engine bytes ``masks`` masks add (the prediction session has none): each mask at every
    layer using it (at most a ``height x width`` plane each), and per style layer a target and a Gram
    gradient for each mask that gives a style its own region (the engine's ``maskFloats`` and targets)."""
    if not masks:
        return 0
    layers = len(options.style_layers) + len(options.content_layers)
    grams = sum(model.layer_shape(name, height, width)[0] ** 2 for name, _ in options.style_layers)
    return 4 * masks * (layers * height * width + 2 * grams)


def plan(content: ImageSource, style: ImageSource | Sequence[ImageSource], *,
         model: Model | str | os.PathLike | None = None, input_convention: str | None = None,
         options: StyleTransferOptions | None = None, **option_overrides) -> RenderPlan:
    """The :class:`RenderPlan` ``stylize`` would follow with the same arguments, without rendering.

    Only the images' sizes are read (file headers for paths); the model is loaded (or used, if given;
    ``input_convention`` as in ``stylize``).

    Raises:
        MemoryBudgetError: the render cannot fit ``max_memory`` (the message names what would).
        ValueError, ImageError, NSTError: as ``stylize``.
    """
    check_model_argument(model, input_convention)
    options = dataclasses.replace(options or StyleTransferOptions(), **option_overrides)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    content_shape = images.image_shape(content)
    style_shapes = [images.image_shape(s) for s in styles]
    owned = not isinstance(model, Model)
    net = open_model(model, input_convention) if owned else model
    try:
        # Masks given as options; an RGBA content's alpha is found only when ``stylize`` loads it.
        masks = len(options.style_masks or ()) + (options.content_mask is not None)
        return plan_render(net, options, content_shape, style_shapes, masks=masks)
    finally:
        if owned:
            net.close()
