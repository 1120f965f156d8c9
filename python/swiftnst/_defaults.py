"""The engine's session defaults as Python sees them, read from ``nst_session_default_params()``.

``Session`` leaves a parameter it is not given at the engine's value; ``StyleTransferOptions``
and so the CLI take their defaults for the same parameters from :func:`engine_defaults`, so each
default is written once, in the engine. The engine's default layers cannot be read through the ABI;
they are :data:`DEFAULT_CONTENT_LAYERS` and :data:`DEFAULT_STYLE_LAYERS`, checked against the header
by ``tests/test_defaults.py``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ._arguments import LINE_SEARCH_CODES, OBJECTIVE_CODES, OPTIMIZER_CODES, POOLING_CODES, STYLE_LOSS_CODES

#: The engine's default content layers and weights (swiftnst.h, ``nst_session_init``): relu4_2.
DEFAULT_CONTENT_LAYERS: tuple[tuple[str, float], ...] = (("relu4_2", 1.0),)
#: The engine's default style layers and weights (swiftnst.h, ``nst_session_init``): relu1_1 ..
#: relu5_1, weight 1 each (jcjohnson/neural-style's choice).
DEFAULT_STYLE_LAYERS: tuple[tuple[str, float], ...] = tuple((f"relu{block}_1", 1.0) for block in range(1, 6))
#: The engine's default histogram layers of the ``"gram+histogram"`` style loss (swiftnst.h,
#: ``nst_session_set_histogram_layers``): relu1_1 and relu4_1, weight 1 each (Risser et al.'s).
DEFAULT_HISTOGRAM_LAYERS: tuple[tuple[str, float], ...] = (("relu1_1", 1.0), ("relu4_1", 1.0))


@dataclass(frozen=True)
class EngineDefaults:
    """``nst_session_default_params()`` under the Python API's names and types."""

    pooling: str
    optimizer: str
    objective: str
    content_weight: float
    style_weight: float
    tv_weight: float
    learning_rate: float
    adam_beta1: float
    adam_beta2: float
    adam_epsilon: float
    lbfgs_history: int
    lbfgs_line_search: str
    threads: int
    style_loss: str
    histogram_weight: float


def _shortest(value: float) -> float:
    """A C ``float`` as the shortest decimal that reads back as the same float32 (1e-3, not
    0.0010000000474974513), so defaults print as the header writes them and convert back exactly."""
    return float(str(np.float32(value)))


@functools.cache
def engine_defaults() -> EngineDefaults:
    """The engine's defaults, read once (this loads the native library)."""
    from . import _bindings as C

    params = C.nst_session_default_params()
    poolings = {code: name for name, code in POOLING_CODES.items()}
    optimizers = {code: name for name, code in OPTIMIZER_CODES.items()}
    objectives = {code: name for name, code in OBJECTIVE_CODES.items()}
    line_searches = {code: name for name, code in LINE_SEARCH_CODES.items()}
    style_losses = {code: name for name, code in STYLE_LOSS_CODES.items()}
    return EngineDefaults(
        pooling=poolings[params.pooling], optimizer=optimizers[params.optimizer],
        objective=objectives[params.objective],
        content_weight=_shortest(params.content_weight), style_weight=_shortest(params.style_weight),
        tv_weight=_shortest(params.tv_weight), learning_rate=_shortest(params.learning_rate),
        adam_beta1=_shortest(params.adam_beta1), adam_beta2=_shortest(params.adam_beta2),
        adam_epsilon=_shortest(params.adam_epsilon), lbfgs_history=params.lbfgs_history,
        lbfgs_line_search=line_searches[params.lbfgs_line_search], threads=params.n_threads,
        style_loss=style_losses[params.style_loss], histogram_weight=_shortest(params.histogram_weight))
