"""Starting command-line children that a test's Ctrl-C can reach."""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """``preexec_fn`` of a child a test will send SIGINT: the child starts with SIGINT's default
    disposition, so that its Python turns Ctrl-C into KeyboardInterrupt.

    Why: a non-interactive shell starts background jobs (``.ci/run &``) with SIGINT ignored, an ignored
    signal stays ignored across exec, and Python then leaves it ignored; the child would never see
    the test's Ctrl-C.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
