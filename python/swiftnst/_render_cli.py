"""The command line's memory and time options (``--max-memory``, ``--time-limit``, ``--tolerance``,
``--dry-run``, ``--checkpoint``, ``--checkpoint-every``, ``--resume``) and the dry run, which prints the
render plan on stdout (a real run logs it on the ``swiftnst`` logger, shown on stderr by the CLI)."""

from __future__ import annotations

import argparse

from ._process_memory import DEFAULT_MEMORY_SHARE, LARGE_RENDER_MEMORY
from ._quantities import format_bytes
from .options import TOLERANCE_WINDOW, StyleTransferOptions
from .planner import plan
from .schedule import ANCHOR_SIDE, LARGE_OUTPUT_ABOVE

__all__ = ["add_render_arguments", "checkpoint_options", "dry_run", "render_options"]


def add_render_arguments(parser: argparse.ArgumentParser, *, single_render: bool = True) -> None:
    """Add the "memory and time" group to the main command's parser; without ``single_render`` (a batch)
    only the flags that apply to each item: no dry run, checkpoints or resuming."""
    group = parser.add_argument_group("memory and time")
    group.add_argument("--max-memory", metavar="SIZE", default=None,
                       help="memory budget of the whole run, e.g. 4G, 1500M, 2.5GiB (binary units; MB/GB are "
                            "decimal); the plan fits it or the run is refused before any work, naming what would "
                            f"fit (default: {DEFAULT_MEMORY_SHARE * 100:.0f}%% of the available memory; above "
                            f"{LARGE_OUTPUT_ABOVE} px {format_bytes(LARGE_RENDER_MEMORY)} when that fits)")
    group.add_argument("--time-limit", metavar="DURATION", default=None,
                       help="wall-clock limit, e.g. 90s, 20m, 1h, 1h30m: the schedule is fitted to it and the run "
                            "stops with the best image when it is reached (default: none)")
    group.add_argument("--tolerance", type=float, default=StyleTransferOptions().tolerance, metavar="T",
                       help="end a scale once its loss fell by less than the fraction T over the last "
                            f"{TOLERANCE_WINDOW} steps, e.g. 1e-3; 0 = never (default: %(default)s)")
    group.add_argument("--anchor-weight", type=float, default=StyleTransferOptions().anchor_weight, metavar="W",
                       help=f"above {LARGE_OUTPUT_ABOVE} px, the scales larger than {ANCHOR_SIDE} px also match the "
                            f"objective on the image downscaled to about {ANCHOR_SIDE} px, with weight W, so the "
                            "result keeps the look of the preview-size render; 0 = off (default: %(default)s)")
    if not single_render:
        return
    group.add_argument("--dry-run", action="store_true",
                       help="print the plan (scales, steps, evaluation strategy, L-BFGS history, predicted peak "
                            "memory and time) and exit without rendering (default: off)")
    group.add_argument("--checkpoint", metavar="FILE", default=None,
                       help="write the run's full state to FILE (atomically) at every scale's start, every "
                            "--checkpoint-every steps and when the run stops early (Ctrl-C, SIGTERM, --time-limit) "
                            "(default: none)")
    group.add_argument("--checkpoint-every", metavar="N", type=int, default=StyleTransferOptions().checkpoint_every,
                       help="steps between checkpoints (default: %(default)s)")
    group.add_argument("--resume", metavar="FILE", default=None,
                       help="continue the run saved in checkpoint FILE, with bitwise the uninterrupted result "
                            "(same machine and --threads). Give the same CONTENT and STYLE images (checked by "
                            "hash); every option is the checkpoint's except --checkpoint, --checkpoint-every, "
                            "--time-limit, --print-every, --save-every, --snapshot-dir, --no-progress and -o; "
                            "another flag that differs from the checkpoint's is refused (default: none)")


def render_options(args: argparse.Namespace) -> dict[str, object]:
    """The ``StyleTransferOptions`` fields set by this group for every render."""
    return dict(max_memory=args.max_memory, time_limit=args.time_limit, tolerance=args.tolerance,
                anchor_weight=args.anchor_weight)


def checkpoint_options(args: argparse.Namespace) -> dict[str, object]:
    """The ``StyleTransferOptions`` fields set by this group's flags of a single render."""
    return dict(checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every)


def dry_run(args: argparse.Namespace, options: StyleTransferOptions) -> int:
    """``--dry-run``: print the plan on stdout; reads only the images' headers. Returns the exit code 0."""
    print(plan(args.content, args.styles, model=args.model, input_convention=args.input_convention, options=options))
    return 0
