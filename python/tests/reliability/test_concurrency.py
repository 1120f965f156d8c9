"""Sessions on different threads run at the same time without affecting each other, a model is
shared safely, and the GIL is released while the engine works (other Python threads keep running).

Results are compared bit for bit with the same work done one call after another: the engine's
arithmetic does not depend on what other threads are doing, so any difference means shared state.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from .conftest import small_image

SIZE = (24, 24)


def _problem(model, seed: int):
    return (small_image(model, *SIZE, seed=seed), small_image(model, 20, 28, seed=seed + 100),
            small_image(model, *SIZE, seed=seed + 200))


def _solve(swiftnst, model, problem, optimizer: str, steps: int = 4):
    content, style, start = problem
    with swiftnst.Session(model, *SIZE, optimizer=optimizer, threads=1) as session:
        session.set_content(content)
        session.add_style(style)
        session.set_image(start)
        losses = session.step(steps)
        return losses.total, session.image, session.best_image


def _in_threads(functions):
    results, errors = [None] * len(functions), []
    barrier = threading.Barrier(len(functions))

    def run(index, function):
        try:
            barrier.wait()  # start together, so the engine calls really overlap
            results[index] = function()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_two_sessions_in_two_threads_match_sequential_runs(swiftnst_engine, model, optimizer):
    problems = [_problem(model, 1), _problem(model, 2)]
    sequential = [_solve(swiftnst_engine, model, p, optimizer) for p in problems]
    concurrent = _in_threads([lambda p=p: _solve(swiftnst_engine, model, p, optimizer) for p in problems])
    for alone, together in zip(sequential, concurrent):
        assert alone[0] == together[0]
        np.testing.assert_array_equal(alone[1], together[1])
        np.testing.assert_array_equal(alone[2], together[2])
    assert sequential[0][0] != sequential[1][0]  # the two problems really differ


def test_shared_model_forward_from_many_threads(swiftnst_engine, model):
    images = [small_image(model, 32, 32, seed=s) for s in range(4)]
    layers = ["relu1_1", "relu3_1", "relu5_1"]
    expected = [model.activations(x, layers) for x in images]
    got = _in_threads([lambda x=x: model.activations(x, layers) for x in images])
    for want, have in zip(expected, got):
        for layer in layers:
            np.testing.assert_array_equal(want[layer], have[layer])


def test_one_session_used_from_two_threads_is_serialised(swiftnst_engine, model):
    content, style, start = _problem(model, 3)
    with swiftnst_engine.Session(model, *SIZE, threads=1) as session:
        session.set_content(content)
        session.add_style(style)
        probes = [small_image(model, *SIZE, seed=s) for s in (10, 11)]
        expected = [session.evaluate(x) for x in probes]
        got = _in_threads([lambda x=x: session.evaluate(x) for x in probes] * 2)
    for (want_losses, want_gradient), (losses, gradient) in zip(expected * 2, got):
        assert losses.total == want_losses.total
        np.testing.assert_array_equal(gradient, want_gradient)


def test_the_gil_is_released_during_engine_calls(swiftnst_engine, model):
    content, style, start = (small_image(model, 96, 96, seed=s) for s in (4, 5, 6))
    window = {}

    def engine_work():
        with swiftnst_engine.Session(model, 96, 96, threads=1) as session:
            session.set_content(content)
            session.add_style(style)
            session.set_image(start)
            window["start"] = time.perf_counter()
            session.step(3)  # one ctypes call, several hundred milliseconds of engine time
            window["end"] = time.perf_counter()

    worker = threading.Thread(target=engine_work)
    samples, count = [], 0
    worker.start()
    while worker.is_alive():  # pure Python: it advances only while this thread holds the GIL
        count += 1
        if count % 256 == 0:
            samples.append((time.perf_counter(), count))
    worker.join()
    inside = [n for t, n in samples if window["start"] < t < window["end"]]
    duration = window["end"] - window["start"]
    assert duration > 0.05, f"the engine call took only {duration:.3f} s; the test needs a longer call"
    ticks = inside[-1] - inside[0] if inside else 0
    # with the GIL held for the whole call this thread could not advance at all inside the window
    assert ticks > 10_000, f"only {ticks} Python loop iterations during {duration:.2f} s of engine work"
