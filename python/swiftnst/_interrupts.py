"""Ctrl-C and SIGTERM during a render: SIGTERM can be made to interrupt like Ctrl-C (so a checkpoint and
the best image are written), and both can be held back over a few statements, so a step and its
bookkeeping (counters, loss history) are never separated and a checkpoint written after them is consistent."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


def _raise_interrupt(_number: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _install(handlers: dict[int, object]) -> dict[int, object]:
    """Install ``handlers``; returns the ones they replaced."""
    return {number: signal.signal(number, handler) for number, handler in handlers.items()}  # type: ignore[arg-type]


@contextlib.contextmanager
def terminate_interrupts(enabled: bool) -> Iterator[None]:
    """With ``enabled``, SIGTERM raises ``KeyboardInterrupt`` in the block (when it still has the default
    action and this is the main thread, where Python handles signals)."""
    if not enabled or threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    previous = _install({signal.SIGTERM: _raise_interrupt})
    try:
        yield
    finally:
        _install(previous)


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Run the block with the signals that would raise ``KeyboardInterrupt`` (SIGINT with Python's default
    handler, SIGTERM under :func:`terminate_interrupts`) held back; one received meanwhile raises
    ``KeyboardInterrupt`` when the block ends. Handlers the host installed are left alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupting = (signal.default_int_handler, _raise_interrupt)
    numbers = [n for n in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(n) in interrupting]
    received: list[int] = []
    previous = _install({number: lambda n, _frame: received.append(n) for number in numbers})
    try:
        yield
    finally:
        _install(previous)
    if received:
        raise KeyboardInterrupt
