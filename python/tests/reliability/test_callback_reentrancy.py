"""Calls made from inside a step's progress callback (``Session.step(callback=...)`` and the C
``nst_progress_callback``): reads of the same session work on the calling thread, changes fail with
NST_ERR_STATE / ``NSTStateError`` and change nothing, closing defers the free to the end of the step,
and another thread waits for the step instead of entering it. Each scenario runs in a child process
with a deadline, since the failure this guards against is a deadlock.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np
import pytest

from . import raw_abi as raw
from .conftest import run_group_in_child, small_image

REFUSED = "not allowed inside this session's progress callback"


def _ready_session(weights: str):
    import swiftnst

    model = swiftnst.Model(weights)
    session = swiftnst.Session(model, 16, 16, threads=1)
    session.set_content(small_image(model, 16, 16, seed=1))
    session.add_style(small_image(model, 16, 16, seed=2))
    session.set_image(small_image(model, 16, 16, seed=3))
    return swiftnst, model, session


# MARK: - Scenarios (run in the child)


def python_reads(weights: str) -> None:
    _, model, session = _ready_session(weights)
    seen, states = [], []

    def callback(losses):
        seen.append((session.image, session.best_image, session.best_losses, session.predict_peak_bytes(),
                     model.layer_shape("relu1_1", 16, 16)))
        states.append(session.save_state())

    session.step(3, callback=callback)
    assert len(seen) == 3
    assert not np.array_equal(seen[0][0], seen[1][0]), "the image read in the callback did not change"
    np.testing.assert_array_equal(seen[-1][0], session.image)
    assert all(best is not None and np.isfinite(best.total) for _, _, best, _, _ in seen)
    assert all(peak > 0 and shape == (64, 16, 16) for _, _, _, peak, shape in seen)
    assert len(states) == 3 and states[-1] == session.save_state(), "the state saved in the callback is not the step's"


def python_changes_refused(weights: str) -> None:
    swiftnst, model, session = _ready_session(weights)
    x = small_image(model, 16, 16, seed=4)
    state = session.save_state()
    changes = {"load_state": lambda: session.load_state(state), "set_image": lambda: session.set_image(x), "set_content": lambda: session.set_content(x),
               "add_style": lambda: session.add_style(x), "clear_styles": session.clear_styles,
               "set_strips": lambda: session.set_strips("pool1", 8), "evaluate": lambda: session.evaluate(x),
               "step": lambda: session.step(1)}
    refused, calls = [], []

    def callback(losses):
        calls.append(losses)
        before = session.image
        for name, change in changes.items():
            with pytest.raises(swiftnst.NSTStateError, match=REFUSED):
                change()
            refused.append(name)
        np.testing.assert_array_equal(session.image, before)

    session.step(2, callback=callback)
    assert len(calls) == 2 and len(refused) == 2 * len(changes)
    assert np.isfinite(session.step(1).total), "the refused calls broke the session"


def python_close_inside(weights: str) -> None:
    swiftnst, _, session = _ready_session(weights)
    calls = []

    def callback(losses):
        calls.append(losses)
        session.close()
        with pytest.raises(swiftnst.NSTError, match="closed"):
            session.image

    last = session.step(5, callback=callback)
    assert len(calls) == 1 and last == calls[0], "the steps went on after close()"
    assert session.closed


def python_other_thread_waits(weights: str) -> None:
    _, _, session = _ready_session(weights)
    done = threading.Event()
    during = []

    def read_from_another_thread():
        session.image
        done.set()

    def callback(losses):
        if not during:
            threading.Thread(target=read_from_another_thread, daemon=True).start()
            during.append(done.wait(0.5))

    session.step(2, callback=callback)
    assert during == [False], "another thread read the session while its step ran"
    assert done.wait(60), "the other thread never got the session"


def c_callbacks(f: raw.RawABI) -> None:
    n = 3 * 16 * 16
    session = f.ready_session()
    image, losses, statuses = raw.buffer(n), f.Losses(), []
    Callback = ctypes.CFUNCTYPE(raw.I32, raw.P, raw.P)

    def reads_and_changes(_losses, _user):
        statuses.append(("get_image", f.get_image(session, raw.ptr(image), n)))
        statuses.append(("get_best_image", f.best(session, raw.ptr(image), n, ctypes.byref(losses))))
        statuses.append(("set_image", f.set_image(session, raw.ptr(image), n)))
        statuses.append(("step", f.step(session, 1, None, None, None)))
        return 0

    callback = Callback(reads_and_changes)
    assert f.step(session, 2, ctypes.cast(callback, raw.P), None, None) == 0, raw.last_error()
    expected = {"get_image": "NST_OK", "get_best_image": "NST_OK", "set_image": "NST_ERR_STATE", "step": "NST_ERR_STATE"}
    assert [(name, raw.status_name(code)) for name, code in statuses] == list(expected.items()) * 2

    calls = []

    def frees(_losses, _user):
        f.session_free(session)
        calls.append(f.get_image(session, raw.ptr(image), n))
        return 0

    callback = Callback(frees)
    code = f.step(session, 5, ctypes.cast(callback, raw.P), None, None)
    assert raw.status_name(code) == "NST_ERR_CANCELLED" and "freed" in raw.last_error(), raw.last_error()
    assert [raw.status_name(c) for c in calls] == ["NST_ERR_INVALID_HANDLE"], "the step went on, or the handle lived"
    assert raw.status_name(f.clear(session)) == "NST_ERR_INVALID_HANDLE"
    f.session_free(session)  # already freed: ignored


SCENARIOS = [python_reads, python_changes_refused, python_close_inside, python_other_thread_waits, c_callbacks]


@pytest.mark.parametrize("scenario", [s.__name__ for s in SCENARIOS])
def test_calls_from_inside_the_progress_callback(swiftnst_engine, vgg16_random_path, scenario):
    run_group_in_child("test_callback_reentrancy", scenario, vgg16_random_path, raw_abi=scenario.startswith("c_"))
