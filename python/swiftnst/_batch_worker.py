"""Rendering one batch item in the current process: the batch's own process, or a Dask worker.

Each process loads the weights once: the model (and a :class:`~swiftnst._session_pool.SessionPool`, so
consecutive items with the same style, size and options reuse the style targets) stay cached at module
level for the process's life, which in a Dask worker spans every task it runs. A lock makes one item
at a time render in a process (a Dask worker given several threads too): the engine's own threads are
the parallelism, and the cached model and pool are not shared between concurrent renders.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from . import images
from ._batch_items import BatchItem
from ._model_source import open_model
from ._session_pool import SessionPool
from .model import Model
from .transfer import stylize_result

__all__ = ["RenderTask", "process_model", "release_process_cache", "render_item", "worker_name"]


@dataclass(frozen=True)
class RenderTask:
    """What a worker needs to render one item (picklable: paths and options only)."""

    item: BatchItem
    output_dir: str
    #: Weights file path, or None for the cached default VGG-19; ``input_convention`` as in ``stylize``.
    model: str | None
    input_convention: str | None


_lock = threading.Lock()
#: The process's loaded weights: ``(model path, input convention)`` -> (model, its session pool).
_cache: dict[tuple[str | None, str | None], tuple[Model, SessionPool]] = {}


@contextlib.contextmanager
def process_model(model: str | None, input_convention: str | None) -> Iterator[tuple[Model, SessionPool, bool]]:
    """Holds this process's render lock and yields the cached model of the weights ``model`` (a path, or
    None for the default VGG-19), its session pool, and whether the weights were loaded just now (other
    weights cached before are released then). A render failing inside closes the pool's idle sessions."""
    with _lock:
        source = (model, input_convention)
        loaded = source not in _cache
        if loaded:
            release_process_cache()
            _cache[source] = (open_model(model, input_convention), SessionPool())
        net, pool = _cache[source]
        try:
            yield net, pool, loaded
        except BaseException:
            pool.close()  # the failure may be memory running short: free the idle sessions too
            raise


def release_process_cache() -> None:
    """Close the cached sessions and model of this process (the next item loads the weights again)."""
    while _cache:
        _, (model, pool) = _cache.popitem()
        pool.close()
        model.close()


def render_item(task: RenderTask) -> dict[str, Any]:
    """Render ``task``'s item, save its result atomically in the output directory and return what the
    render measured: ``losses`` (the engine's losses of the result; see ``TransferResult.losses``),
    ``losses_of``, ``iterations``, ``seconds``, ``worker``, ``threads``, ``weights_loaded`` (this item
    loaded the weights into the process: its first), ``scales`` and ``reused_sessions`` (scales whose
    session, with its style targets, an earlier item of this process made).

    Raises:
        ValueError, ImageError, NSTError, MemoryBudgetError: as ``stylize``; nothing is saved then.
    """
    item = task.item
    with process_model(task.model, task.input_convention) as (model, pool, loaded):
        started = time.monotonic()
        result = stylize_result(item.content, item.style, model=model, options=item.options, sessions=pool,
                                plan_log_level=logging.DEBUG)
        images.save_image(result.image, Path(task.output_dir) / item.output)
        seconds = time.monotonic() - started
    losses = result.losses
    return {
        "losses": None if losses is None else {"total": losses.total, "content": losses.content,
                                               "style": losses.style, "tv": losses.tv},
        "losses_of": "best image" if item.options.keep_best else "last step",
        "iterations": result.iterations,
        "seconds": round(seconds, 3),
        "worker": worker_name(),
        "threads": item.options.threads,
        "weights_loaded": loaded,
        "scales": len(result.plan.scales),
        "reused_sessions": result.reused_sessions,
    }


def worker_name() -> str:
    """This process: its Dask worker's address when it is one, else ``host:pid``."""
    distributed = sys.modules.get("distributed")  # loaded in every Dask worker; never imported here
    if distributed is not None:
        try:
            return f"{distributed.get_worker().address} (pid {os.getpid()})"
        except ValueError:  # not inside a Dask worker
            pass
    return f"{socket.gethostname()}:{os.getpid()}"
