"""A run and its process: signals that stop it, and a standard output that goes away.

- ``terminate_like_ctrl_c``: the CLI turns SIGTERM (``kill``, a container stopping) into the same
  interruption as Ctrl-C, so the best image so far is saved instead of lost.
- ``deferred_signals``: the final save holds SIGINT and SIGTERM until it is done; a second Ctrl-C
  while the result is being written arrives after it, not in the middle of it.
- ``print_line``: a closed standard output (``swiftnst ... | head -1``) stops the progress
  lines, not the run.

Python runs signal handlers in the main thread only, so these act there and step aside elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Iterator

from tqdm import tqdm

_SHIELDED = (signal.SIGINT, signal.SIGTERM)


def is_main_thread() -> bool:
    """Whether this is the thread where Python runs signal handlers."""
    return threading.current_thread() is threading.main_thread()


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned by :func:`terminate_like_ctrl_c` into an interruption the run loop handles like Ctrl-C."""


@contextlib.contextmanager
def terminate_like_ctrl_c(*, keep_custom_handler: bool = False) -> Iterator[list[int]]:
    """While active, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``) between steps.

    With ``keep_custom_handler`` (a library run checkpointing inside a host program), only SIGTERM's
    default action is replaced: a handler the host installed stays. Yields a list that receives the
    number of every such signal (the CLI's exit code is 128 + it).
    """
    received: list[int] = []
    current = signal.getsignal(signal.SIGTERM)
    if not is_main_thread() or current is None or (keep_custom_handler and current is not signal.SIG_DFL):
        yield received
        return

    def interrupt(signum: int, _frame: object) -> None:
        received.append(signum)
        raise Terminated(f"terminated by {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def deferred_signals() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver them again to the handlers that
    were in place (so a held Ctrl-C raises ``KeyboardInterrupt`` as the block exits).

    Yields the list of the held signals' numbers, for a block that wants to cut its work short. Off
    the main thread, and for a signal ignored (``SIG_IGN``), nothing is held and the list stays empty.
    """
    pending: list[int] = []
    if not is_main_thread():
        yield pending
        return
    # A handler installed outside Python (getsignal() is None) could not be put back: leave it alone.
    previous = {signum: signal.signal(signum, lambda number, _frame: pending.append(number))
                for signum in _SHIELDED if signal.getsignal(signum) not in (None, signal.SIG_IGN)}
    try:
        yield pending
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)


def print_line(line: str) -> bool:
    """Print ``line`` on standard output (through tqdm, so a progress bar on the terminal is redrawn
    below it) and flush it; False when standard output is closed.

    On a broken pipe, standard output is pointed at the null device (the recipe of the Python
    documentation, "Note on SIGPIPE"), so later prints and the interpreter's final flush are silent.
    """
    try:
        tqdm.write(line, file=sys.stdout)
        sys.stdout.flush()
        return True
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return False
