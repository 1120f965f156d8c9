"""``swiftnst batch CONTENT... --style STYLE [--style ...] -o OUTDIR [--grid NAME=V1,V2,...]
[--workers N | --scheduler tcp://HOST:PORT]``: the command line of :func:`swiftnst.batch`.

Takes the main command's option flags (a batch item is one render), except those of one render only
(style blend weights, printing, snapshots, checkpoints, the dry run). Exit codes: 0 every item finished
(now or before), 1 an error or some items failed (listed; a re-run retries them), 2 usage, 130 Ctrl-C,
143 SIGTERM: the items finished so far are recorded, and the same command renders the rest.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from ._batch_items import GRID_OPTIONS, parse_grid
from ._cli_output import add_verbosity_arguments, add_version_argument, is_quiet, logging_to_stderr
from ._signals import print_line, terminate_like_ctrl_c
from .batching import batch
from .cli import (EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, add_model_arguments, add_option_arguments,
                  option_fields)
from .options import StyleTransferOptions

__all__ = ["add_execution_arguments", "add_item_arguments", "build_batch_parser", "run_batch"]


def build_batch_parser() -> argparse.ArgumentParser:
    """The parser of ``swiftnst batch``."""
    parser = argparse.ArgumentParser(
        prog="swiftnst batch",
        description="Render every CONTENT in the style of every --style (one style per result), for every point "
                    "of the --grid, into OUTDIR with a manifest.jsonl; running it again skips the finished items.",
        epilog="Exit codes: 0 all items finished, 1 error or failed items (a re-run retries them), 2 usage, "
               "130 interrupted by Ctrl-C, 143 stopped by SIGTERM (finished items are kept; re-run to go on).")
    parser.add_argument("contents", metavar="CONTENT", nargs="+", help="content images (any format Pillow reads)")
    parser.add_argument("--style", dest="styles", metavar="STYLE", action="append", required=True,
                        help="a style image; repeat for several (each result uses one)")
    parser.add_argument("-o", "--output-dir", type=Path, required=True, metavar="OUTDIR",
                        help="directory of the results and manifest.jsonl (created if missing)")
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                        help="render with each value of option NAME; several --grid: every combination. NAME is "
                             f"one of {', '.join(GRID_OPTIONS)} (e.g. --grid style_weight=50,100,200)")
    parser.add_argument("--format", default="png", metavar="EXT",
                        help="file format of the results: png, jpg, webp, ... (default: %(default)s)")
    add_execution_arguments(parser)
    add_item_arguments(parser)
    return parser


def add_execution_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """``--workers N | --scheduler ADDR`` (``swiftnst batch`` and ``swiftnst video``); returns their group."""
    execution = parser.add_argument_group("execution (Dask distributed: pip install 'swiftnst[distributed]')")
    where = execution.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="start a local cluster of N worker processes; with --threads 0 each gets cores/N "
                            "engine threads (default: render in this process, without Dask)")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="render on the existing Dask cluster of this scheduler; paths must be valid on its "
                            "workers (default: none)")
    return execution


def add_item_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of a command whose renders are items of a batch (or frames): version, verbosity, the model
    and the main command's option flags but those of one render only."""
    add_version_argument(parser)
    add_verbosity_arguments(parser)
    add_model_arguments(parser)
    add_option_arguments(parser, single_render=False)


def run_batch(argv: Sequence[str]) -> int:
    """Run ``swiftnst batch`` with ``argv`` (the arguments after ``batch``); returns the exit code."""
    parser = build_batch_parser()
    args = parser.parse_args(argv)
    with logging_to_stderr(args.log_level), terminate_like_ctrl_c() as terminated:
        try:
            options = StyleTransferOptions(**option_fields(args))
            grid = parse_grid(args.grid)
        except ValueError as exc:
            parser.error(str(exc))
        try:
            result = batch(args.contents, args.styles, args.output_dir, grid=grid, model=args.model,
                           input_convention=args.input_convention, options=options, workers=args.workers,
                           scheduler=args.scheduler, image_format=args.format, progress=options.progress)
        except ImportError as exc:
            print(f"swiftnst: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except KeyboardInterrupt:
            print(f"swiftnst: batch {'terminated' if terminated else 'interrupted'}; the finished items are in "
                  f"{args.output_dir / 'manifest.jsonl'}: run the same command again to render the rest",
                  file=sys.stderr)
            return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    for item, message in result.failed:
        print(f"swiftnst: failed: {item.output} ({item.content} in the style of {item.style}): {message}",
              file=sys.stderr)
    if not is_quiet(args):
        print_line(f"{len(result.rendered)} rendered, {len(result.skipped)} finished before, "
                   f"{len(result.failed)} failed: {result.manifest}")
    return EXIT_ERROR if result.failed else EXIT_OK
