"""``swiftnst.batch``: many renders, every content x style x point of an option grid, into one output
directory; resumable, and optionally spread over Dask workers (``swiftnst[distributed]``).

Typical use::

    import swiftnst
    swiftnst.batch(["a.jpg", "b.jpg"], ["starry.jpg", "wave.jpg"], "out/",
                   grid={"style_weight": [50, 100]}, image_size=256, iterations=200)

Each finished item is saved atomically as ``OUTDIR/<content>__<style>[__<option>-<value>...]__<key>.png``
and then recorded in ``OUTDIR/manifest.jsonl`` (``_manifest``: appended and fsynced per item): its inputs
and their SHA-256, options, seed, the engine's final losses, time, worker. Re-running the same batch
skips every item the manifest lists (by key, ``_batch_items``) whose file exists, so a crash or Ctrl-C
loses at most the items in flight.

Style targets are computed once per worker process and reused where the engine allows: a process renders
its items in order (grid point, then style, then content) and keeps each scale's session with its style
targets; the next item with the same style, options and (padded) size at that scale takes the session
and only sets its content and starting image. The engine cannot move targets between sessions, and a
session has one size, so contents of another size make (and keep) their own while the memory budget
leaves room (``_session_pool``). Each result is bitwise the one ``stylize`` gives alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from tqdm.auto import tqdm

from . import images
from ._arguments import checked_int
from ._atomic import leftover_temporaries
from ._batch_items import BatchItem, batch_items, check_batch_options, file_sha256, grid_points
from ._batch_worker import RenderTask, release_process_cache, render_item
from ._manifest import Manifest
from ._model_source import check_model_argument
from ._outputs import make_writable_directory, prepare_outputs
from ._outputs import image_format as pillow_format
from ._process_memory import default_max_memory
from ._signals import deferred_signals
from .checkpoint import options_json
from .options import StyleTransferOptions

__all__ = ["BatchItem", "BatchResult", "batch", "execution_options"]

logger = logging.getLogger(__name__)

_Outcome = tuple[RenderTask, "dict[str, Any] | BaseException"]


@dataclass(frozen=True)
class BatchResult:
    """What :func:`batch` did."""

    output_dir: Path
    manifest: Path
    #: Every item of the batch, in render order.
    items: tuple[BatchItem, ...]
    #: The manifest records this call added, in the order the items finished.
    rendered: tuple[dict[str, Any], ...]
    #: Items the manifest already listed as finished (their files exist): not rendered again.
    skipped: tuple[BatchItem, ...]
    #: Items whose render failed, with the error message; a re-run tries them again.
    failed: tuple[tuple[BatchItem, str], ...]


def batch(contents: Sequence[str | os.PathLike], styles: Sequence[str | os.PathLike],
          output_dir: str | os.PathLike, *, grid: Mapping[str, Sequence[object]] | None = None,
          model: str | os.PathLike | None = None, input_convention: str | None = None,
          options: StyleTransferOptions | None = None, workers: int | None = None, scheduler: str | None = None,
          image_format: str = "png", progress: bool = True, **option_overrides: Any) -> BatchResult:
    """Render every content image in the style of every style image (one style per render), for every
    point of ``grid``, into ``output_dir``; skip the items its manifest lists as finished.

    Args:
        contents, styles: image file paths.
        output_dir: created if missing; holds the results and ``manifest.jsonl``.
        grid: ``{option: [values]}``: every combination is rendered (e.g. ``{"style_weight": [50, 100]}``).
        model: a weights file path, or None for the cached default VGG-19; each process loads it once.
        input_convention: as in :func:`~swiftnst.stylize`.
        options: a :class:`StyleTransferOptions` for every item; keyword overrides are applied on top.
            Not taken: ``style_blend_weights``, ``save_every``, ``checkpoint``, an ``init`` image.
        workers: render on a new local Dask cluster of this many worker processes; with ``threads`` 0 each
            gets ``cores // workers`` engine threads, and each plans for ``1/workers`` of ``max_memory``
            (default: of the default budget). Workers start by spawning, so a script calling this needs
            the ``if __name__ == "__main__":`` guard.
        scheduler: render on the existing Dask cluster at this address (``tcp://HOST:PORT``); the paths
            must be valid on its workers.
        image_format: the results' file extension (``png``, ``jpg``, ...).
        progress: show a progress bar over the items.

    Without ``workers`` and ``scheduler`` the items render one after another in this process, which
    needs no Dask.

    Raises:
        ValueError: options a batch does not take, a bad grid, both ``workers`` and ``scheduler``.
        ImportError: ``workers`` or ``scheduler`` without Dask distributed installed (names the extra).
        ImageError: an input is not a readable image, or an output cannot be written.
        ManifestError: the manifest is damaged or another batch is writing it.
        KeyboardInterrupt: Ctrl-C; the finished items are recorded, the rest are rendered by a re-run.
    """
    options = dataclasses.replace(options or StyleTransferOptions(), **option_overrides)
    check_batch_options(options)
    options = execution_options(options, workers, scheduler)
    check_model_argument(model, input_convention)
    if not isinstance(model, (str, os.PathLike, type(None))):
        raise TypeError("a batch's model must be a weights file path or None: each worker process loads it")
    model_path = os.path.abspath(model) if model is not None else None
    content_paths, style_paths = _image_paths(contents, "content"), _image_paths(styles, "style")
    extension = _extension(image_format)
    identity = _model_identity(model_path, input_convention)
    items = batch_items(content_paths, style_paths, grid_points(options, grid or {}), identity, extension)
    output_dir = Path(output_dir)
    make_writable_directory(output_dir, "output directory")
    with Manifest(output_dir) as manifest:
        finished = manifest.finished()
        pending = [item for item in items if item.key not in finished]
        for item in pending:
            prepare_outputs(output_dir / item.output, None, [*content_paths, *style_paths])
            for leftover in leftover_temporaries(output_dir / item.output):  # of a killed batch; we hold the lock
                leftover.unlink(missing_ok=True)
        logger.info("batch of %d items: %d finished before, %d to render", len(items), len(items) - len(pending),
                    len(pending))
        tasks = [RenderTask(item, os.fspath(output_dir), model_path, input_convention) for item in pending]
        rendered: list[dict[str, Any]] = []
        failed: list[tuple[BatchItem, str]] = []
        with _outcomes(tasks, workers, scheduler) as outcomes, \
                tqdm(total=len(tasks), unit="image", desc="batch", disable=not progress or not tasks) as bar:
            for task, outcome in outcomes:
                if isinstance(outcome, BaseException):
                    logger.error("%s failed: %s", task.item.output, outcome)
                    failed.append((task.item, str(outcome)))
                else:
                    record = _record(task, outcome, identity)
                    with deferred_signals():  # Ctrl-C now would cut the record short: it waits until written
                        manifest.append(record)
                    rendered.append(record)
                bar.update()
    skipped = tuple(item for item in items if item.key in finished)
    return BatchResult(output_dir, manifest.path, tuple(items), tuple(rendered), skipped, tuple(failed))


def execution_options(options: StyleTransferOptions, workers: int | None, scheduler: str | None) -> StyleTransferOptions:
    """``options`` for the execution asked for (checked before any work; also ``swiftnst.video``'s): a
    local cluster's workers share the cores and the memory budget. Items never show their own progress
    bars, and Ctrl-C stops an item with an exception, never with a result that would be recorded as finished."""
    from ._batch_dask import import_distributed, threads_per_worker

    options = dataclasses.replace(options, progress=False, raise_on_interrupt=True)
    if workers is not None and scheduler is not None:
        raise ValueError("give workers (a new local cluster) or scheduler (an existing one), not both")
    if workers is None and scheduler is None:
        return options
    import_distributed()
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler:
            raise ValueError(f"scheduler must be an address like tcp://HOST:PORT, got {scheduler!r}")
        return options
    workers = checked_int(workers, "workers", minimum=1)
    budget = options.max_memory if options.max_memory is not None else default_max_memory()
    return dataclasses.replace(options, threads=options.threads or threads_per_worker(workers),
                               max_memory=int(budget) // workers)


def _image_paths(paths: Sequence[str | os.PathLike], what: str) -> list[str]:
    """Absolute paths of the ``what`` images, each checked to be a readable image (its header only)."""
    if isinstance(paths, (str, bytes, os.PathLike)) or not paths:
        raise ValueError(f"give the {what} images as a non-empty list of paths")
    for path in paths:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"a batch's {what} images are file paths, got {type(path).__name__}")
        images.image_shape(path)
    return [os.path.abspath(path) for path in paths]


def _extension(name: str) -> str:
    """``name`` (``"png"``, ``".JPG"``) as a lower-case extension Pillow can write (ImageError otherwise)."""
    extension = str(name).lower().lstrip(".")
    pillow_format(Path(f"result.{extension}"))
    return extension


def _model_identity(model_path: str | None, input_convention: str | None) -> str:
    """What identifies the weights in item keys: the file's SHA-256 (and the input convention given)."""
    if model_path is None:
        return "cached default vgg19"
    return f"sha256:{file_sha256(model_path)}" + (f" input_convention:{input_convention}" if input_convention else "")


@contextlib.contextmanager
def _outcomes(tasks: list[RenderTask], workers: int | None, scheduler: str | None) -> Iterator[Iterator[_Outcome]]:
    """``(task, measured)`` or ``(task, exception)`` for every task as it finishes: in this process, or
    on Dask. What was set up for it (a cluster, the loaded weights) is released afterwards."""
    if not tasks:
        yield iter(())
    elif workers is None and scheduler is None:
        try:
            yield _render_here(tasks)
        finally:
            release_process_cache()
    else:
        from ._batch_dask import dask_client, run_on_dask

        with dask_client(workers, scheduler) as client:
            outcomes = run_on_dask(client, tasks)
            try:
                yield outcomes
            finally:
                outcomes.close()  # cancels what is left (after Ctrl-C) while the client is still open


def _render_here(tasks: list[RenderTask]) -> Iterator[_Outcome]:
    for task in tasks:
        try:
            yield task, render_item(task)
        except KeyboardInterrupt:  # StyleTransferInterrupted is an Exception too: Ctrl-C ends the batch
            raise
        except Exception as exc:   # the item failed; the batch goes on
            yield task, exc


def _record(task: RenderTask, measured: dict[str, Any], model_identity: str) -> dict[str, Any]:
    """The manifest record of a finished item: the item, its inputs, and what its render measured."""
    item = task.item
    return {
        "key": item.key,
        "output": item.output,
        "content": {"path": item.content, "sha256": item.content_sha256},
        "style": {"path": item.style, "sha256": item.style_sha256},
        "model": {"path": task.model, "identity": model_identity, "input_convention": task.input_convention},
        "grid": dict(item.grid),
        "options": options_json(item.options),
        "seed": item.options.seed,
        **measured,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
