"""``python -m swiftnst ...`` and the ``swiftnst`` script: the command line of :mod:`swiftnst.cli`,
started so that a native library that cannot be loaded is a one-line error (exit 1) rather than a
traceback, and ``--version`` still answers, saying so (importing the CLI loads the library: its
defaults and help are the engine's)."""

from __future__ import annotations

import sys
from typing import Sequence

from ._errors import LibraryNotFoundError


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (see :func:`swiftnst.cli.main`); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        from .cli import main as run_cli
    except LibraryNotFoundError as error:
        if "--version" in args:
            from ._version import version_report

            print(version_report())
            return 0
        print(f"swiftnst: error: {error}", file=sys.stderr)
        return 1
    return run_cli(args)


if __name__ == "__main__":
    raise SystemExit(main())
