"""A batch on Dask distributed (the optional extra ``swiftnst[distributed]``): a local cluster of worker
processes (``workers``) or an existing cluster (``scheduler``), one task per item.

Each worker process renders one item at a time (``nthreads=1``; ``_batch_worker`` holds its cached
weights), with the engine's threads as the parallelism: on a local cluster the cores are shared out,
:func:`threads_per_worker`. Only the batch's process writes the manifest, as results come back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from types import ModuleType
from typing import Any, Generator, Iterable, Iterator

from ._batch_worker import RenderTask, render_item
from ._extras import import_extra

__all__ = ["DISTRIBUTED_EXTRA", "available_cores", "dask_client", "import_distributed", "run_on_dask",
           "threads_per_worker"]

#: How to install what a distributed batch needs.
DISTRIBUTED_EXTRA = "pip install 'swiftnst[distributed]'"
#: Seconds to wait for an existing scheduler to answer.
CONNECT_TIMEOUT = 30

logger = logging.getLogger(__name__)


def import_distributed() -> ModuleType:
    """The ``distributed`` module, or ``ImportError`` saying which extra installs it."""
    return import_extra("distributed", "running on Dask (--workers, --scheduler) needs Dask distributed",
                        DISTRIBUTED_EXTRA)


def available_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    """Engine threads for each of ``workers`` local worker processes, so that together they use the
    cores without oversubscribing them (at least 1)."""
    return max(1, available_cores() // workers)


@contextlib.contextmanager
def dask_client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A ``distributed.Client``: of a new local cluster of ``workers`` processes with one task thread
    each (closed afterwards), or of the existing cluster at ``scheduler`` (``tcp://HOST:PORT``).

    Raises:
        ImportError: Dask distributed is not installed (the message names the extra).
        OSError: the scheduler cannot be reached.
    """
    distributed = import_distributed()
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise OSError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    # Worker processes start by spawning, with this process's sys.path: they import this same swiftnst.
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        logger.info("started a local Dask cluster of %d worker processes", workers)
        yield client


def run_on_dask(client: Any, tasks: Iterable[RenderTask]
                ) -> Generator[tuple[RenderTask, dict[str, Any] | BaseException], None, None]:
    """Submit every task and yield ``(task, what render_item returned)`` or ``(task, its exception)`` as
    each finishes, in the order they finish. Tasks not finished when the caller stops (Ctrl-C) are cancelled."""
    distributed = import_distributed()
    batch_id = uuid.uuid4().hex[:8]
    futures = {client.submit(render_item, task, key=f"swiftnst-{batch_id}-{task.item.output}", pure=False): task
               for task in tasks}
    try:
        for future in distributed.as_completed(futures):
            task = futures[future]
            if future.status == "finished":
                yield task, future.result()
                continue
            try:
                error = future.exception()  # the task's, or its worker's death (KilledWorker)
            except Exception as exc:        # cancelled by the cluster
                error = exc
            yield task, error
    finally:
        client.cancel(list(futures))
