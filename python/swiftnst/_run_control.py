"""When a run's steps stop: the time limit (with step times calibrated on the run itself), the
tolerance (a scale ends once its loss stops falling) and a stop requested by the progress callback;
and the progress bar, weighted by step cost."""

from __future__ import annotations

import sys
import time
from typing import Callable

from tqdm import tqdm

from ._notebook_progress import NotebookProgressBar, in_jupyter_kernel
from .options import TOLERANCE_WINDOW
from .planner import RenderPlan

__all__ = ["RunControl"]


class RunControl:
    """Decides, between steps, whether a run goes on; measures its steps to correct the plan's times.

    The time limit counts from ``started`` (default: now) on ``clock`` (``time.monotonic``; tests pass
    their own).
    """

    def __init__(self, plan: RenderPlan, progress: bool, started: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.plan, self.clock = plan, clock
        self.started = clock() if started is None else started
        self.deadline = self.started + plan.time_limit if plan.time_limit is not None else None
        self.predicted_done = 0.0  # predicted seconds of the steps taken so far
        self.measured_done = 0.0   # their measured seconds
        # In a Jupyter kernel one output updated in place; elsewhere tqdm's line on stderr.
        bar = NotebookProgressBar if in_jupyter_kernel() else tqdm
        self.bar = bar(total=sum(s.steps * s.seconds_per_step for s in plan.scales), disable=not progress,
                       delay=2.0, unit="s", dynamic_ncols=True, file=sys.stderr,
                       bar_format="{l_bar}{bar}| {elapsed}<{remaining}{postfix}")
        self._scale = 0
        self._best: list[float] = []    # per step of the current scale: the lowest loss so far
        self._step_started = self.started
        self._setup = 0.0
        self._stop_request: str | None = None

    @property
    def speed(self) -> float:
        """Measured over predicted step time so far (1 before any step): the plan's correction."""
        return self.measured_done / self.predicted_done if self.predicted_done > 0 else 1.0

    def start_scale(self, index: int) -> int:
        """Begin scale ``index`` of the plan; returns its steps, fewer than planned when the time left
        would not hold the rest of the plan at the speed measured so far (at least one)."""
        self._scale, self._best = index, []
        scale = self.plan.scales[index]
        steps = scale.steps
        if self.deadline is not None:
            left = self.deadline - self.clock()
            rest = self.speed * sum(s.seconds for s in self.plan.scales[index:])
            if rest > left:
                steps = max(1, int(steps * max(0.0, left) / rest))
        self._step_started = self.clock()
        self._setup = scale.setup_seconds  # the first step's measured time includes the setup
        return steps

    def step_done(self, loss: float, description: str) -> None:
        """Record a step of the current scale with its total ``loss``; ``description`` goes on the bar."""
        now = self.clock()
        scale = self.plan.scales[self._scale]
        self.predicted_done += scale.seconds_per_step + self._setup
        self._setup = 0.0
        self.measured_done += now - self._step_started
        self._step_started = now
        self._best.append(min(loss, self._best[-1]) if self._best else loss)
        self._advance(scale.seconds_per_step)
        self.bar.set_postfix_str(f"scale {self._scale + 1}/{len(self.plan.scales)}, {description}", refresh=False)

    def resume_scale(self, scale_losses: tuple[float, ...]) -> None:
        """Continue the current scale with the loss history a checkpoint kept (for the tolerance)."""
        self._best = list(scale_losses)

    def scale_losses(self) -> tuple[float, ...]:
        """Per step of the current scale, the lowest total loss so far (what a checkpoint keeps)."""
        return tuple(self._best)

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return self.clock() - self.started

    def request_stop(self, reason: str) -> None:
        """Stop the run before its next step (``reason`` is logged): no step or scale follows."""
        self._stop_request = reason

    def stop_reason(self) -> str | None:
        """Why the current scale must stop now (a requested stop; time is up; the loss stopped
        falling), or None."""
        if self._stop_request is not None:
            return self._stop_request
        if self.deadline is not None:
            next_step = self.speed * self.plan.scales[self._scale].seconds_per_step
            if self.clock() + next_step > self.deadline:
                return "time limit reached"
        tolerance = self.plan.tolerance
        if tolerance and len(self._best) > TOLERANCE_WINDOW:
            before, now = self._best[-1 - TOLERANCE_WINDOW], self._best[-1]
            if before - now <= tolerance * abs(before):
                return f"loss fell by less than {tolerance:g} over {TOLERANCE_WINDOW} steps"
        return None

    def end_scale(self, steps_taken: int) -> None:
        """The current scale ended after ``steps_taken`` steps: its planned steps not taken leave the bar."""
        scale = self.plan.scales[self._scale]
        self._advance(max(0, scale.steps - steps_taken) * scale.seconds_per_step)

    def run_stop_reason(self) -> str | None:
        """Why no further scale may start (a requested stop; the time limit is reached), or None."""
        if self._stop_request is not None:
            return self._stop_request
        if self.deadline is not None and self.clock() >= self.deadline:
            return "time limit reached"
        return None

    def close(self) -> None:
        self.bar.close()

    def _advance(self, seconds: float) -> None:
        """Move the bar by ``seconds`` of predicted time, never past its total (the steps' sum may
        exceed it by a rounding error, which tqdm would warn about and show as a negative time left)."""
        self.bar.update(max(0.0, min(seconds, self.bar.total - self.bar.n)))
