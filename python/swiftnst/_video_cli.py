"""``swiftnst video IN STYLE... -o OUT [--temporal-weight W] [--chunk-frames N] [--workers N | --scheduler
tcp://HOST:PORT]``: the command line of :func:`swiftnst.video`.

Takes the main command's option flags that a batch takes (a frame is one render). Exit codes: 0 done,
1 error, 2 usage, 130 Ctrl-C, 143 SIGTERM (nothing is written before every frame is rendered).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from ._batch_cli import add_execution_arguments, add_item_arguments
from ._cli_output import is_quiet, logging_to_stderr
from ._signals import print_line, terminate_like_ctrl_c
from .cli import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, option_fields
from .options import StyleTransferOptions
from .videos import CUT_BELOW, DEFAULT_TEMPORAL_WEIGHT, video

__all__ = ["build_video_parser", "run_video"]


def build_video_parser() -> argparse.ArgumentParser:
    """The parser of ``swiftnst video``."""
    parser = argparse.ArgumentParser(
        prog="swiftnst video",
        description="Render a clip frame by frame in the style of STYLE, each frame started from the previous "
                    "result warped by optical flow and held to it where the flow is trusted (Ruder et al. 2016).",
        epilog="Exit codes: 0 done, 1 error, 2 usage, 130 interrupted by Ctrl-C, 143 stopped by SIGTERM. Needs "
               "pip install 'swiftnst[video]'.")
    parser.add_argument("source", metavar="IN", help="a video file, or a folder of frames (images, in name order)")
    parser.add_argument("styles", metavar="STYLE", nargs="+", help="style images (several are blended)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                        help="a video file (.mp4, .mkv, .mov, .avi, .webm; keeps the sound of IN) or a folder "
                             "for the frames (created)")
    parser.add_argument("--temporal-weight", type=float, default=DEFAULT_TEMPORAL_WEIGHT, metavar="W",
                        help="weight of the temporal-consistency term; 0: frames only start from the warped "
                             "previous result (default: %(default)g)")
    parser.add_argument("--fps", type=float, default=None,
                        help="frame rate of the result (default: that of IN, or 24 for a folder)")
    parser.add_argument("--cut-below", type=float, default=CUT_BELOW, metavar="SHARE",
                        help="a frame whose flow is trusted on less than this share of its pixels starts a new "
                             "shot (default: %(default)g)")
    execution = add_execution_arguments(parser)
    execution.add_argument("--chunk-frames", type=int, default=None, metavar="N",
                           help="cut shots into chunks of at most N frames, the tasks --workers/--scheduler run in "
                                "parallel; each chunk starts afresh (default: whole shots)")
    add_item_arguments(parser)
    return parser


def run_video(argv: Sequence[str]) -> int:
    """Run ``swiftnst video`` with ``argv`` (the arguments after ``video``); returns the exit code."""
    parser = build_video_parser()
    args = parser.parse_args(argv)
    with logging_to_stderr(args.log_level), terminate_like_ctrl_c() as terminated:
        try:
            options = StyleTransferOptions(**option_fields(args))
        except ValueError as exc:
            parser.error(str(exc))
        try:
            result = video(args.source, args.styles, args.output, model=args.model,
                           input_convention=args.input_convention, options=options,
                           temporal_weight=args.temporal_weight, chunk_frames=args.chunk_frames,
                           cut_below=args.cut_below, fps=args.fps, workers=args.workers, scheduler=args.scheduler,
                           progress=options.progress)
        except ImportError as exc:
            print(f"swiftnst: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except KeyboardInterrupt:
            print(f"swiftnst: video {'terminated' if terminated else 'interrupted'}; nothing was written",
                  file=sys.stderr)
            return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    if not is_quiet(args):
        print_line(f"{len(result.frames)} frames in {len(result.chunks)} chunks: {result.output}")
    return EXIT_OK
