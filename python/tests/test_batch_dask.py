"""``swiftnst.batch`` on real Dask clusters (no mocks; skipped without ``dask[distributed]`` or the cached
VGG-19): a local cluster of two worker processes, and an existing cluster reached by its scheduler's
address, give bitwise the single-process results with the same seed and threads per worker."""

from __future__ import annotations

import numpy as np
import pytest

import swiftnst
from swiftnst import images
from swiftnst._batch_dask import threads_per_worker
from swiftnst.demo_images import load_demo_content, render_swirl_painting

distributed = pytest.importorskip("distributed")

OPTIONS = dict(image_size=32, iterations=4, init="noise:0.5", seed=11, progress=False)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[list[str], list[str]]:
    """Three content images and two style images (six items)."""
    folder = tmp_path_factory.mktemp("inputs")
    photo = images.resize_longest_side(load_demo_content(), 40)
    contents = [photo, np.ascontiguousarray(photo[::-1]), np.ascontiguousarray(photo[:, :30])]
    styles = [render_swirl_painting(40, 32), render_swirl_painting(32, 40)]
    return ([str(images.save_image(c, folder / f"content{i}.png")) for i, c in enumerate(contents)],
            [str(images.save_image(s, folder / f"style{i}.png")) for i, s in enumerate(styles)])


@pytest.fixture(scope="module")
def single_process(inputs, tmp_path_factory, vgg19_weights_path) -> swiftnst.batching.BatchResult:
    """The batch in this process, with the threads a worker of a two-worker local cluster gets."""
    return swiftnst.batch(*inputs, tmp_path_factory.mktemp("single"), model=str(vgg19_weights_path),
                          threads=threads_per_worker(2), **OPTIONS)


def _assert_same_results(result, reference) -> None:
    assert not result.failed and len(result.rendered) == len(reference.items) == 6
    assert [item.key for item in result.items] == [item.key for item in reference.items]
    for item in result.items:
        mine = images.load_image(result.output_dir / item.output)
        assert np.array_equal(mine, images.load_image(reference.output_dir / item.output)), item.output
    ours = {r["key"]: r["losses"] for r in result.rendered}
    assert ours == {r["key"]: r["losses"] for r in reference.rendered}


def test_a_local_cluster_of_two_workers_gives_the_single_process_results(inputs, tmp_path, single_process,
                                                                         vgg19_weights_path):
    result = swiftnst.batch(*inputs, tmp_path, model=str(vgg19_weights_path), workers=2, **OPTIONS)
    _assert_same_results(result, single_process)
    workers = {r["worker"] for r in result.rendered}
    assert all(w.startswith("tcp://") for w in workers) and 1 <= len(workers) <= 2
    # Each worker process loaded the weights once, for its first item.
    assert sum(r["weights_loaded"] for r in result.rendered) == len(workers)
    assert {r["threads"] for r in result.rendered} == {threads_per_worker(2)}
    # Run again on a new cluster: everything is found finished.
    again = swiftnst.batch(*inputs, tmp_path, model=str(vgg19_weights_path), workers=2, **OPTIONS)
    assert again.rendered == () and len(again.skipped) == 6


def test_an_existing_cluster_reached_by_its_scheduler(inputs, tmp_path, single_process, vgg19_weights_path):
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        result = swiftnst.batch(*inputs, tmp_path, model=str(vgg19_weights_path), scheduler=cluster.scheduler_address,
                                threads=threads_per_worker(2), **OPTIONS)
    _assert_same_results(result, single_process)
    # Two task threads in one worker process: its lock still renders one item at a time, with one model.
    assert sum(r["weights_loaded"] for r in result.rendered) == 1


def test_an_unreachable_scheduler_is_a_clear_error(inputs, tmp_path, monkeypatch):
    monkeypatch.setattr("swiftnst._batch_dask.CONNECT_TIMEOUT", 2)
    with pytest.raises(OSError, match="cannot connect to the Dask scheduler at tcp://127.0.0.1:9"):
        swiftnst.batch(*inputs, tmp_path, scheduler="tcp://127.0.0.1:9", **OPTIONS)
