"""A whole style transfer, timed end to end: ``swiftnst.stylize`` at one size with L-BFGS.

    python bench/end_to_end.py [--size 512] [--iterations 500] [--threads 2] [--output result.png]

Reports wall time (weights load, image preparation, every optimiser step, the saved result), the
number of objective evaluations and ms per evaluation, and the process's peak RSS. Single-scale (the
multi-scale schedule would spend part of the steps at 256 px), content initialisation, the default
objective (content relu4_2, style relu1_1..relu5_1). Images: ../shared/images/{tubingen,starry_night}.jpg
when present, else the demo images bundled with swiftnst.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import swiftnst
from swiftnst.demo_images import load_demo_content, render_swirl_painting

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"


def images() -> tuple[object, object, str]:
    content, style = SHARED_IMAGES / "tubingen.jpg", SHARED_IMAGES / "starry_night.jpg"
    if content.is_file() and style.is_file():
        return content, style, f"{content.name} + {style.name}"
    return load_demo_content(), render_swirl_painting(), "swiftnst's demo images"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, help="longest side of the result (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=500, help="L-BFGS steps (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="engine threads (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=None, help="save the result here (default: not saved)")
    args = parser.parse_args()

    content, style, names = images()
    evaluations = 0
    last_losses = None

    def count(iteration: int, losses, image_fn) -> None:
        nonlocal evaluations, last_losses
        evaluations, last_losses = losses.evaluations, losses

    start = time.perf_counter()
    swiftnst.stylize(content, style, output=args.output, callback=count, image_size=args.size,
                     iterations=args.iterations, optimizer="lbfgs", multiscale=False, threads=args.threads,
                     progress=False)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {args.size} px | {args.iterations} L-BFGS steps | {evaluations} evaluations | {wall:.1f} s wall "
          f"| {1e3 * wall / max(1, evaluations):.0f} ms per evaluation (all included) | peak RSS {peak:.0f} MB "
          f"| final loss {last_losses.total:.4g} | {names} | {swiftnst.blas_info().rpartition('; ')[2]} |")


if __name__ == "__main__":
    main()
