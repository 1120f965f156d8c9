"""Deferring Ctrl-C (and SIGTERM) over a few statements, so a step and its bookkeeping (counters, loss
history) are never separated by an interrupt and a checkpoint written after it is consistent."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


@contextlib.contextmanager
def deferred_interrupts(terminate: bool) -> Iterator[None]:
    """Run the block with SIGINT (and SIGTERM when ``terminate``) held back; a signal received meanwhile
    raises ``KeyboardInterrupt`` when the block ends. Outside the main thread signals cannot be handled
    there, so the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    # Only signals still at Python's defaults: a handler the host installed keeps working as it chose.
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    numbers = [n for n in (signal.SIGINT, *((signal.SIGTERM,) if terminate else ())) if signal.getsignal(n) is defaults[n]]
    previous = {number: signal.signal(number, lambda n, _frame: received.append(n)) for number in numbers}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if received:
        raise KeyboardInterrupt
