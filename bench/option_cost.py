"""Extra time per step of each control option against the defaults (issue 17: "each option costs at most 15%
extra time per step at 512 px").

    nice -n 19 python bench/option_cost.py [--size 512] [--steps 12] [--warmup 5] [--rounds 3] [--threads 2]

The content is a centred square crop of ../shared/images/tubingen.jpg and the style starry_night.jpg when both
are present, else swiftnst's demo images, resized to ``--size`` px square. Each option is one
``swiftnst.stylize`` run (single scale, L-BFGS, engine defaults otherwise) of ``--warmup`` + ``--steps``
steps. The options:

- ``baseline``: the defaults;
- ``style masks``: two styles (the style and its mirror image), each over one half (``style_masks``);
- ``content mask``: a left-to-right ramp (``content_mask``);
- ``color_control luminance``, ``color_control histogram``;
- ``style_loss w2``, ``style_loss gram+histogram``;
- ``normalize_gradients``;
- ``alpha``: the content as RGBA, its alpha a top-to-bottom ramp (weights the content term, and is the
  region the style is matched over).

**Paired steps.** A shared host drifts by more than the effects measured here (±5 % and more between runs a
minute apart, bench/README.md "Noise on shared machines"), so each option runs side by side with a baseline
run, in two threads that take turns one step at a time (the other waits, so one engine runs at a time). A
step's time runs from the moment its run gets the turn to its callback: the engine's step and whatever the
option adds per step in Python, not the target computation, image preparation and first evaluations of the
``--warmup`` steps. Step k of the option is paired with step k of the baseline, taken just before it (just
after it every other round); the extra time is the median of those pairs' ratios over all rounds, with its 95 %
confidence interval (distribution-free, from order statistics) and the ratios' quartiles beside it. Per-step
jitter remains (quartiles ±5–8 % on this host), so the interval narrows with more ``--rounds``. Meaningful only
on an idle machine: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

import swiftnst
from swiftnst import images
from swiftnst.demo_images import load_demo_content, render_swirl_painting

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
Step = tuple[float, int]  # seconds, objective evaluations


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


class Turns:
    """Threads that take turns: only the one whose turn it is runs; ``pass_on`` hands the turn to the next in
    the ring, ``leave`` takes a finished thread out of it."""

    def __init__(self, count: int) -> None:
        self._condition = threading.Condition()
        self._ring = list(range(count))
        self._current = 0

    def wait(self, runner: int) -> None:
        with self._condition:
            self._condition.wait_for(lambda: self._current == runner)

    def pass_on(self, runner: int) -> None:
        with self._condition:
            self._current = self._ring[(self._ring.index(runner) + 1) % len(self._ring)]
            self._condition.notify_all()

    def leave(self, runner: int) -> None:
        with self._condition:
            index = self._ring.index(runner)
            self._ring.remove(runner)
            if self._ring:
                self._current = self._ring[index % len(self._ring)]
            self._condition.notify_all()


def paired_step_times(model: swiftnst.Model, runs: Sequence[dict[str, Any]], warmup: int, steps: int,
                      threads: int) -> list[list[Step]]:
    """Seconds and objective evaluations of each step after the ``warmup`` first of ``stylize`` runs made in
    threads that take turns one step at a time (run 0 first), so step k of every run is timed next to step k
    of the others."""
    turns = Turns(len(runs))
    times: list[list[Step]] = [[] for _ in runs]
    failures: list[BaseException] = []

    def run(index: int) -> None:
        arguments = dict(runs[index])
        content, style = arguments.pop("content"), arguments.pop("style")
        turns.wait(index)
        started, evaluations = time.perf_counter(), 0

        def on_step(_iteration: int, losses: swiftnst.Losses, _image: Any) -> None:
            nonlocal started, evaluations
            times[index].append((time.perf_counter() - started, losses.evaluations - evaluations))
            evaluations = losses.evaluations
            turns.pass_on(index)
            turns.wait(index)
            started = time.perf_counter()

        try:
            swiftnst.stylize(content, style, model=model, callback=on_step, image_size=content.shape[0],
                             iterations=warmup + steps, multiscale=False, optimizer="lbfgs", threads=threads,
                             progress=False, **arguments)
        except BaseException as error:  # re-raised by the caller, once every thread has ended
            failures.append(error)
        finally:
            turns.leave(index)

    workers = [threading.Thread(target=run, args=(index,)) for index in range(len(runs))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]
    return [run_times[warmup:] for run_times in times]


def median_interval(ordered: Sequence[float]) -> tuple[float, float]:
    """A distribution-free 95 % confidence interval of the median of sorted samples: the order statistics
    ``n/2 ∓ 1.96·√n/2`` (the normal approximation of the binomial count of samples below the median)."""
    n, half_width = len(ordered), 1.96 * math.sqrt(len(ordered)) / 2
    return ordered[max(0, math.floor(n / 2 - half_width) - 1)], ordered[min(n - 1, math.ceil(n / 2 + half_width))]


def markdown_table(pairs: dict[str, list[tuple[Step, Step]]]) -> str:
    """One row per option: median ms per step of the option and of its paired baseline steps, the extra time
    (median of the pairs' ratios, its 95 % confidence interval and the ratios' quartiles, over the pairs whose
    two steps made as many evaluations: a line search's second evaluation is not the option's cost) and the
    evaluations per step of each side."""
    lines = ["| option | ms per step (median) | paired baseline ms | extra: median of paired ratios | 95 % interval "
             "| quartiles | pairs used | evaluations per step (option, baseline) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, option_and_base in pairs.items():
        alike = [(option, base) for (option, option_evaluations), (base, base_evaluations) in option_and_base
                 if option_evaluations == base_evaluations]
        ratios = sorted(option / base for option, base in alike)
        option_ms = 1e3 * statistics.median(option for (option, _), _ in option_and_base)
        base_ms = 1e3 * statistics.median(base for _, (base, _) in option_and_base)
        evaluations = [statistics.mean(evaluations for _, evaluations in side) for side in zip(*option_and_base)]
        extra, interval, spread = "—", "—", "—"
        if ratios:
            extra = f"{100 * (statistics.median(ratios) - 1):+.1f} %"
            interval = "{:+.1f} … {:+.1f} %".format(*(100 * (r - 1) for r in median_interval(ratios)))
            spread = f"{100 * (ratios[len(ratios) // 4] - 1):+.1f} … {100 * (ratios[3 * len(ratios) // 4] - 1):+.1f} %"
        lines.append(f"| {name} | {option_ms:.0f} | {base_ms:.0f} | {extra} | {interval} | {spread} | {len(alike)} of "
                     f"{len(option_and_base)} | {evaluations[0]:.2f}, {evaluations[1]:.2f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, help="side of the square result (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=12, help="timed steps per run (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of every option (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="engine threads (default: %(default)s)")
    parser.add_argument("--options", default=None,
                        help="comma-separated option names to run besides the baseline (default: all)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 1 or args.rounds < 1:
        parser.error("--steps, --warmup and --rounds must be >= 1 (the first step includes the run's set-up)")

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
    pairs: dict[str, list[tuple[Step, Step]]] = {name: [] for name in runs if name != "baseline"}
    with swiftnst.Model() as model:
        for round_index in range(args.rounds):
            for name in pairs:
                # Every other round the option steps first, so neither side always follows the other.
                order = ["baseline", name] if round_index % 2 == 0 else [name, "baseline"]
                times = dict(zip(order, paired_step_times(model, [runs[n] for n in order], args.warmup, args.steps,
                                                          args.threads)))
                pairs[name].extend(zip(times[name], times["baseline"]))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(markdown_table(pairs))


if __name__ == "__main__":
    main()
