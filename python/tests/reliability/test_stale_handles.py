"""A freed handle is dead for good: handles are generation-tagged tokens, not addresses, so a new object
created where a freed one lived (malloc reuses addresses at once) never makes the old handle valid, and
freeing the old handle again never frees the new object. Wrong-kind and forged values are refused.

Raw ctypes calls in a child process (a use-after-free would take the process down).
"""

from __future__ import annotations

import ctypes
import random

import pytest

from . import raw_abi as raw
from .conftest import run_group_in_child

N = 3 * 16 * 16


def _expect(code: int, name: str, call: str) -> None:
    assert code == raw.status(name), f"{call}: got {raw.status_name(code)} ({raw.last_error()}), expected {name}"


def sessions(f: raw.RawABI) -> None:
    image = raw.buffer(N)
    a = f.new_session()
    f.session_free(a)
    b = f.new_session()
    assert a != b, "a new session got the freed session's handle"
    _expect(f.get_image(a, raw.ptr(image), N), "NST_ERR_INVALID_HANDLE", "get_image(freed A)")
    _expect(f.clear(a), "NST_ERR_INVALID_HANDLE", "clear_style_images(freed A)")
    f.session_free(a)  # ignored: must not free B
    _expect(f.get_image(b, raw.ptr(image), N), "NST_OK", "get_image(B) after freeing A twice")
    seen = {b}
    f.session_free(b)
    for _ in range(50):
        handle = f.new_session()
        assert handle not in seen, f"handle {handle:#x} given out twice"
        seen.add(handle)
        f.session_free(handle)
    for handle in seen:
        _expect(f.clear(handle), "NST_ERR_INVALID_HANDLE", f"clear_style_images(freed {handle:#x})")


def models(f: raw.RawABI) -> None:
    info = f.Info()
    a = f.new_model()
    f.model_free(a)
    b = f.new_model()
    assert a != b, "a new model got the freed model's handle"
    _expect(f.info(a, ctypes.byref(info)), "NST_ERR_INVALID_HANDLE", "get_info(freed A)")
    f.model_free(a)  # ignored: must not free B
    _expect(f.info(b, ctypes.byref(info)), "NST_OK", "get_info(B) after freeing A twice")
    f.model_free(b)


def kinds_and_forgeries(f: raw.RawABI) -> None:
    info = f.Info()
    session = f.new_session()
    _expect(f.info(session, ctypes.byref(info)), "NST_ERR_INVALID_HANDLE", "get_info(session)")
    _expect(f.clear(f.model), "NST_ERR_INVALID_HANDLE", "clear_style_images(model)")
    f.model_free(session)
    f.session_free(f.model)
    _expect(f.info(f.model, ctypes.byref(info)), "NST_OK", "model after session_free(model)")
    _expect(f.clear(session), "NST_OK", "session after model_free(session)")
    rng = random.Random(14)
    forged = [0x1234, ctypes.addressof(info), session + 1, session - 1, session ^ (1 << 40), f.model ^ (1 << 60),
              2**64 - 1] + [rng.randrange(1, 2**64) for _ in range(200)]
    for value in forged:
        if value in (session, f.model):
            continue
        _expect(f.info(value, ctypes.byref(info)), "NST_ERR_INVALID_HANDLE", f"get_info({value:#x})")
        _expect(f.clear(value), "NST_ERR_INVALID_HANDLE", f"clear_style_images({value:#x})")
        f.model_free(value)
        f.session_free(value)
    _expect(f.info(f.model, ctypes.byref(info)), "NST_OK", "model after the forged frees")
    _expect(f.clear(session), "NST_OK", "session after the forged frees")
    f.session_free(session)


GROUPS = [sessions, models, kinds_and_forgeries]


@pytest.mark.parametrize("group", [g.__name__ for g in GROUPS])
def test_stale_and_forged_handles(swiftnst_engine, vgg16_random_path, group):
    run_group_in_child("test_stale_handles", group, vgg16_random_path)
