"""How the engine evaluates the network at one scale (whole image, or row strips), what that costs in
memory (the engine's prediction) and, relative to the whole image, in time.

This is the planner's only contact with the engine's strip API (``Session.set_strips`` and
``Session.predict_peak_bytes``, see swiftnst.h "Large renders"): if that API changes, only this
module does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .model import Model
from .session import Session

__all__ = ["EvaluationStrategy", "StepCost", "WHOLE_IMAGE", "apply_strategy", "predict_engine_bytes",
           "strip_strategies"]

#: Strip counts tried per split layer (rows = the height over this many strips, rounded up to the
#: split's alignment): halving the rows roughly halves the stem's memory and adds a halo per strip.
_STRIP_COUNTS = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)

#: The step-time model of strips, fitted to measured steps (512 px, VGG-19 default layers, 2 cores,
#: ``Session.step`` with ``set_strips``: pool1/pool2/pool3/pool4 at 64 rows 1.04/1.80/4.39/5.89 times the
#: whole image's step, pool1/pool2/pool3 at 256 rows 1.04/1.34/1.44; the fit is within 25 % but for
#: pool3 at 64 rows, 3.5 instead of 4.4). The engine evaluates each strip's window twice, forward only
#: with a halo of about ``_FORWARD_HALO_ALIGNMENTS`` alignments per cut edge, then forward and backward
#: with ``_BACKWARD_HALO_ALIGNMENTS``; each strip beyond the first also costs a fixed share of the stem
#: (``_STRIP_OVERHEAD``: small windows keep the workers and kernels less busy). Only used to rank
#: strategies and to predict time; a run corrects its estimate from its own steps.
_FORWARD_HALO_ALIGNMENTS, _BACKWARD_HALO_ALIGNMENTS, _STRIP_OVERHEAD = 0.5, 3.0, 0.3

#: A backward pass through a layer costs about twice its forward pass.
_BACKWARD_PER_FORWARD = 2.0


@dataclass(frozen=True)
class EvaluationStrategy:
    """The whole image at once (``split_layer`` None), or the layers up to ``split_layer`` (a pooling
    layer) on strips of ``rows`` image rows and the deeper layers on the whole image."""

    split_layer: str | None = None
    rows: int = 0

    def __str__(self) -> str:
        if self.split_layer is None:
            return "whole image"
        return f"strips of {self.rows} rows up to {self.split_layer}"


WHOLE_IMAGE = EvaluationStrategy()


def _alignment(model: Model, split_layer: str) -> int:
    """Strip rows must be a multiple of 2^(pooling layers up to the split + 1) (swiftnst.h)."""
    names = model.layer_names
    pools = sum(1 for name in names[:names.index(split_layer) + 1] if name.startswith("pool"))
    return 2 ** (pools + 1)


def strip_strategies(model: Model, height: int) -> list[EvaluationStrategy]:
    """Every strip strategy worth trying for an image ``height`` rows high: each pooling layer as the
    split, with the rows of :data:`_STRIP_COUNTS` strips (at least one alignment, fewer than ``height``)."""
    strategies = []
    for split in (name for name in model.layer_names if name.startswith("pool")):
        alignment = _alignment(model, split)
        rows_seen = set()
        for count in _STRIP_COUNTS:
            rows = max(alignment, -(-height // count // alignment) * alignment)
            if rows < height and rows not in rows_seen:
                rows_seen.add(rows)
                strategies.append(EvaluationStrategy(split, rows))
    return strategies


def predict_engine_bytes(session: Session, strategy: EvaluationStrategy, lbfgs_history: int) -> int:
    """The engine's peak bytes during a step of ``session`` evaluated with ``strategy`` and
    ``lbfgs_history`` L-BFGS pairs (ignored for Adam); the session is not changed."""
    return session.predict_peak_bytes(strategy.split_layer, strategy.rows, lbfgs_history)


def apply_strategy(session: Session, strategy: EvaluationStrategy) -> None:
    """Make ``session`` evaluate with ``strategy`` (values do not change, only memory and time)."""
    session.set_strips(strategy.split_layer, strategy.rows)


class StepCost:
    """Relative step times of the strategies for one scale (the network up to ``deepest_layer`` on a
    ``height`` x ``width`` image); the convolution work per layer is computed once."""

    def __init__(self, model: Model, height: int, width: int, deepest_layer: str) -> None:
        self.model, self.height = model, height
        names = model.layer_names
        self._work = _convolution_work(model, names[:names.index(deepest_layer) + 1], height, width)

    def time_factor(self, strategy: EvaluationStrategy) -> float:
        """A step's time with ``strategy`` over its time on the whole image (1 for the whole image).

        The stem (layers up to the split) is evaluated on windows twice, forward only and then forward
        and backward, instead of once forward and backward on the whole image (see the constants
        above); its share of a step is its share of the convolution work (input channels x output
        channels x pixels).
        """
        if strategy.split_layer is None:
            return 1.0
        split = self.model.layer_names.index(strategy.split_layer)
        stem_share = sum(self._work[:split + 1]) / sum(self._work)
        alignment = _alignment(self.model, strategy.split_layer)
        height = self.height
        strips = -(-height // strategy.rows)
        forward_rows = min(height, strategy.rows + 2 * _FORWARD_HALO_ALIGNMENTS * alignment)
        backward_rows = min(height, strategy.rows + 2 * _BACKWARD_HALO_ALIGNMENTS * alignment)
        per_pass = 1 + _BACKWARD_PER_FORWARD
        stem_cost = strips * (forward_rows + per_pass * backward_rows) / (per_pass * height)
        stem_cost += _STRIP_OVERHEAD * (strips - 1)
        return 1.0 + stem_share * (stem_cost - 1.0)


def _convolution_work(model: Model, layers: Sequence[str], height: int, width: int) -> list[float]:
    """Per layer, input channels x output channels x output pixels for a convolution, 0 otherwise."""
    work, channels = [], 3
    for name in layers:
        out_channels, h, w = model.layer_shape(name, height, width)
        work.append(float(channels * out_channels * h * w) if name.startswith("conv") else 0.0)
        channels = out_channels
    return work
