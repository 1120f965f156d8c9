"""Extra time per step of each control option against the defaults (issue 17: "each option costs at most 15%
extra time per step at 512 px").

    nice -n 19 python bench/option_cost.py [--size 512] [--steps 10] [--warmup 3] [--rounds 4] [--threads 2]

The content is a centred square crop of ../shared/images/tubingen.jpg and the style starry_night.jpg when both
are present, else swiftnst's demo images, resized to ``--size`` px square. Each option is one
``swiftnst.stylize`` run (single scale, L-BFGS, engine defaults otherwise) of ``--warmup`` + ``--steps``
steps; the callback stamps the end of every step, and the step times are the differences between stamps after
the warm-up steps (so target computation, image preparation and the first evaluations are not counted, while
anything an option adds per step, in the engine or in Python, is). The options:

- ``baseline``: the defaults;
- ``style masks``: two styles (the style and its mirror image), each over one half (``style_masks``);
- ``content mask``: a left-to-right ramp (``content_mask``);
- ``color_control luminance``, ``color_control histogram``;
- ``style_loss w2``, ``style_loss gram+histogram``;
- ``normalize_gradients``;
- ``alpha``: the content as RGBA, its alpha a top-to-bottom ramp (weights the content term, and is the
  region the style is matched over).

As bench/README.md ("Noise on shared machines") recommends, the options take turns: every round runs each
option once, the order rotated by one from round to round. Reported per option: the median and minimum step
time over all rounds, and the extra time against the baseline as the median over rounds of each round's
ratio of medians (the paired comparison; the drift of a shared host mostly cancels in it). Meaningful only
on an idle machine: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

import swiftnst
from swiftnst import images
from swiftnst.demo_images import load_demo_content, render_swirl_painting

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"


def load_pair(size: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The content (square crop) and style at ``size`` px, float RGB, and their names."""
    content, style = SHARED_IMAGES / "tubingen.jpg", SHARED_IMAGES / "starry_night.jpg"
    if content.is_file() and style.is_file():
        pair = (images.load_image(content), images.load_image(style), f"{content.name} + {style.name}")
    else:
        pair = (images.load_image(load_demo_content()), images.load_image(render_swirl_painting()),
                "swiftnst's demo images")
    rgb, style_rgb, names = pair
    side = min(rgb.shape[:2])
    top, left = (rgb.shape[0] - side) // 2, (rgb.shape[1] - side) // 2
    square = rgb[top:top + side, left:left + side]
    return images.resize(square, size, size), images.resize_longest_side(style_rgb, size), names


def option_runs(content: np.ndarray, style: np.ndarray) -> dict[str, dict[str, Any]]:
    """Each option's ``stylize`` arguments (content, style and option keywords)."""
    size = content.shape[0]
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    left = np.zeros((size, size, 3), np.float32)
    left[:, : size // 2] = 1.0
    alpha = np.repeat(np.round(255 * ramp).astype(np.uint8)[:, None], size, axis=1)
    rgba = np.dstack([images.to_uint8(content), alpha])
    plain = {"content": content, "style": style}
    return {
        "baseline": plain,
        "style masks": {"content": content, "style": [style, style[:, ::-1]], "style_masks": [left, 1.0 - left]},
        "content mask": {**plain, "content_mask": np.repeat(np.repeat(ramp[None, :, None], size, axis=0), 3, axis=2)},
        "color_control luminance": {**plain, "color_control": "luminance"},
        "color_control histogram": {**plain, "color_control": "histogram"},
        "style_loss w2": {**plain, "style_loss": "w2"},
        "style_loss gram+histogram": {**plain, "style_loss": "gram+histogram"},
        "normalize_gradients": {**plain, "normalize_gradients": True},
        "alpha": {**plain, "content": rgba},
    }


def step_times(model: swiftnst.Model, run: dict[str, Any], warmup: int, steps: int, threads: int) -> list[float]:
    """Seconds of each step after the ``warmup`` (>= 1) first of one ``stylize`` run: the stamp of the end of
    the last warm-up step starts the clock of the first timed one."""
    stamps: list[float] = []
    arguments = dict(run)
    content, style = arguments.pop("content"), arguments.pop("style")
    swiftnst.stylize(content, style, model=model, callback=lambda *_: stamps.append(time.perf_counter()),
                     image_size=content.shape[0], iterations=warmup + steps, multiscale=False, optimizer="lbfgs",
                     threads=threads, progress=False, **arguments)
    return [float(t) for t in np.diff(stamps[warmup - 1:])]


def markdown_table(times: dict[str, list[list[float]]]) -> str:
    """One row per option: median and minimum ms per step, extra time against the baseline."""
    base = times["baseline"]
    lines = ["| option | ms per step (median) | min | extra vs baseline (median of paired rounds) |",
             "|---|---:|---:|---:|"]
    for name, rounds in times.items():
        every = [t for round_times in rounds for t in round_times]
        ratios = [statistics.median(r) / statistics.median(b) for r, b in zip(rounds, base)]
        extra = "—" if name == "baseline" else f"{100 * (statistics.median(ratios) - 1):+.1f} %"
        lines.append(f"| {name} | {1e3 * statistics.median(every):.0f} | {1e3 * min(every):.0f} | {extra} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, help="side of the square result (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per run (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=4, help="runs of every option (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="engine threads (default: %(default)s)")
    parser.add_argument("--options", default=None,
                        help="comma-separated option names to run besides the baseline (default: all)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 1 or args.rounds < 1:
        parser.error("--steps, --warmup and --rounds must be >= 1 (the first step's stamp starts the clock)")

    content, style, names = load_pair(args.size)
    runs = option_runs(content, style)
    if args.options is not None:
        wanted = ["baseline", *(name.strip() for name in args.options.split(","))]
        unknown = [name for name in wanted if name not in runs]
        if unknown:
            parser.error(f"unknown options {unknown}; known: {', '.join(runs)}")
        runs = {name: runs[name] for name in dict.fromkeys(wanted)}
    print(f"{names}, {args.size} px square, {args.warmup} + {args.steps} L-BFGS steps per run, {args.rounds} rounds, "
          f"{args.threads} threads; {swiftnst.blas_info().rpartition('; ')[2]}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    times: dict[str, list[list[float]]] = {name: [] for name in runs}
    order = list(runs)
    with swiftnst.Model() as model:
        for round_index in range(args.rounds):
            shift = round_index % len(order)
            for name in order[shift:] + order[:shift]:
                times[name].append(step_times(model, runs[name], args.warmup, args.steps, args.threads))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(markdown_table(times))


if __name__ == "__main__":
    main()
