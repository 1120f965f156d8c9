"""Rendering one chunk of a video (consecutive frames of one shot) in the current process: the video's
own process or a Dask worker, with the weights cached per process as for a batch (``_batch_worker``).

Within a chunk the frames render in order, each started from the previous result warped by optical flow
and, with a temporal weight, held to it where the flow is trusted (``_flow.frame_guide``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ._batch_worker import process_model, worker_name
from ._flow import PairFlow, frame_guide
from .options import StyleTransferOptions
from .session import Losses
from .transfer import stylize_result

__all__ = ["ChunkResult", "ChunkTask", "render_chunk"]


@dataclass(frozen=True)
class ChunkTask:
    """What a worker needs to render a chunk (picklable): its frames (RGB uint8 at the render's size), the
    flows between them (``flows[i]`` from frame i to frame i + 1), the style images (RGB uint8), options."""

    start: int
    frames: tuple[np.ndarray, ...]
    flows: tuple[PairFlow, ...]
    styles: tuple[np.ndarray, ...]
    options: StyleTransferOptions
    temporal_weight: float
    #: Weights file path, or None for the cached default VGG-19; ``input_convention`` as in ``stylize``.
    model: str | None
    input_convention: str | None

    def __post_init__(self) -> None:
        if len(self.flows) != len(self.frames) - 1:
            raise ValueError(f"a chunk of {len(self.frames)} frames needs {len(self.frames) - 1} flows, got {len(self.flows)}")


@dataclass(frozen=True)
class ChunkResult:
    """The chunk's stylised frames (RGB uint8), their engine losses, where and how long it rendered."""

    start: int
    frames: tuple[np.ndarray, ...]
    losses: tuple[Losses | None, ...]
    worker: str
    seconds: float


def render_chunk(task: ChunkTask) -> ChunkResult:
    """Render ``task``'s frames in order (see the module's docstring).

    Raises:
        ValueError, ImageError, NSTError, MemoryBudgetError: as ``stylize``.
    """
    started = time.monotonic()
    results: list[np.ndarray] = []
    losses: list[Losses | None] = []
    with process_model(task.model, task.input_convention) as (model, pool, _):
        for index, frame in enumerate(task.frames):
            guide = frame_guide(task.flows[index - 1], results[-1], task.temporal_weight) if index else None
            result = stylize_result(frame, list(task.styles), model=model, options=task.options, sessions=pool,
                                    guide=guide, plan_log_level=logging.DEBUG)
            results.append(result.image)
            losses.append(result.losses)
    return ChunkResult(task.start, tuple(results), tuple(losses), worker_name(), time.monotonic() - started)
