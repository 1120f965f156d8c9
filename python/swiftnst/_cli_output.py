"""What the command line says besides its results: ``-v``/``-q`` (how much of the ``swiftnst``
loggers reaches stderr) and ``--version``.

Levels: by default INFO (the render plan, early stops, checkpoints, conversions and downloads of weights,
notices such as a replaced output file, and warnings); ``-v`` adds DEBUG (the versions and library, the
weights files loaded or reused); ``-q`` keeps
WARNING and above only, and the CLI then also hides its progress bar and the result paths it prints.
Output asked for explicitly (``--dry-run``'s plan, ``--print-every``'s losses, ``weights path``) and
errors are printed whatever the level.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from typing import Any, Iterator, NoReturn, Sequence

from ._version import version_report

__all__ = ["add_verbosity_arguments", "add_version_argument", "is_quiet", "logging_to_stderr"]

_PACKAGE_LOGGER = "swiftnst"


def add_verbosity_arguments(parser: argparse.ArgumentParser) -> None:
    """``-v/--verbose`` and ``-q/--quiet`` (exclusive), stored as ``args.log_level``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", dest="log_level", action="store_const", const=logging.DEBUG,
                       default=logging.INFO,
                       help="also print debugging details on stderr: the library and weights files loaded, "
                            "conversions (default: the plan, notices and warnings)")
    group.add_argument("-q", "--quiet", dest="log_level", action="store_const", const=logging.WARNING,
                       help="print only warnings and errors: no plan, progress bar or result path; "
                            "--dry-run and --print-every still print (default: off)")


def is_quiet(args: argparse.Namespace) -> bool:
    """Whether ``-q`` was given."""
    return args.log_level > logging.INFO


class _VersionAction(argparse.Action):
    """``--version``: print :func:`version_report` on stdout and exit 0, before other arguments are checked
    (argparse's own version action takes a fixed string, which would load the library for ``--help`` too)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> NoReturn:
        print(version_report())
        parser.exit()


def add_version_argument(parser: argparse.ArgumentParser) -> None:
    """``--version``: the package's version, the native library's version, C ABI and path, its BLAS."""
    parser.add_argument("--version", action=_VersionAction,
                        help="print swiftnst's version, the native library's version, C ABI version and path, "
                             "and its BLAS, then exit")


@contextlib.contextmanager
def logging_to_stderr(level: int) -> Iterator[None]:
    """Print the ``swiftnst`` loggers' messages of ``level`` and above on stderr, one line each
    (``swiftnst: message``; with DEBUG the logger's name too), while the block runs."""
    logger = logging.getLogger(_PACKAGE_LOGGER)
    handler = logging.StreamHandler(sys.stderr)
    detail = "[%(name)s] " if level <= logging.DEBUG else ""
    handler.setFormatter(logging.Formatter(f"swiftnst: {detail}%(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    # The library is loaded when the CLI is imported, before this handler exists: say what runs here.
    logger.debug("%s", version_report().replace("\n", "; "))
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
