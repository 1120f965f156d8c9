"""The first L-BFGS steps of a style transfer, without and with the line search.

    python bench/lbfgs_first_steps.py [--size 256] [--steps 10] [--line-search none armijo]
                                      [--pair demo|shared] [--init content|tutorial]

For each ``lbfgs_line_search`` value: a session with the engine's defaults otherwise (neural-style
objective, L-BFGS, 100 pairs), stepped ``--steps`` times from the content image or from the Coursera
assignment's noisy start (``--init tutorial``). Printed per step: the total loss the step reports
(without the line search: of the image it evaluated, i.e. after k - 1 moves; with it: of the image it
moved to), the objective evaluations so far, and the largest and root-mean-square change of a pixel value
made by the step's move (model input units: 0..255 for the default VGG-19). Then the lowest loss.
Measurements: bench/RESULTS.md, "The L-BFGS jump at steps 2-4".

``--pair demo`` uses swiftnst's demo images (the notebooks' default), ``shared`` the tubingen photo
and starry night of ../shared/images.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import swiftnst
from swiftnst import images, tutorial
from swiftnst.demo_images import load_demo_content, render_swirl_painting

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"


def image_pair(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(content, style) RGB of ``--pair``."""
    if name == "demo":
        return load_demo_content(), render_swirl_painting()
    return images.load_image(SHARED_IMAGES / "tubingen.jpg"), images.load_image(SHARED_IMAGES / "starry_night.jpg")


def run(model: swiftnst.Model, content: np.ndarray, style: np.ndarray, size: int, steps: int,
        line_search: str, init: str) -> list[tuple[float, int, float, float]]:
    """Per step: (reported loss, evaluations so far, largest pixel change of the move, rms pixel change)."""
    height, width = images.fit_longest_side(*content.shape[:2], size)
    resized = images.resize(content, height, width)
    x = model.preprocess(resized)
    start = x if init == "content" else tutorial.generate_noise_image(model, resized, seed=0)
    with swiftnst.Session(model, height, width, lbfgs_line_search=line_search) as session:
        session.set_content(x)
        session.add_style(model.preprocess(images.resize_longest_side(style, size)))
        session.set_image(start)
        rows = []
        for _ in range(steps):
            before = session.image
            losses = session.step()
            move = session.image - before
            rows.append((losses.total, losses.evaluations, float(np.abs(move).max()),
                         float(np.sqrt(np.mean(move * move)))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="longest side (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=10, help="L-BFGS steps (default: %(default)s)")
    parser.add_argument("--line-search", nargs="+", default=["none", "armijo"],
                        help="lbfgs_line_search values to compare (default: none armijo)")
    parser.add_argument("--pair", choices=("demo", "shared"), default="demo", help="images (default: %(default)s)")
    parser.add_argument("--init", choices=("content", "tutorial"), default="content",
                        help="starting image (default: %(default)s)")
    args = parser.parse_args()

    content, style = image_pair(args.pair)
    with swiftnst.Model() as model:
        for line_search in args.line_search:
            rows = run(model, content, style, args.size, args.steps, line_search, args.init)
            print(f"lbfgs_line_search={line_search} ({args.pair} images, {args.size} px, from {args.init})")
            print("step  reported loss  evaluations  max |move|  rms move")
            for step, (loss, evaluations, largest, rms) in enumerate(rows, start=1):
                print(f"{step:4d}  {loss:13.4g}  {evaluations:11d}  {largest:10.3g}  {rms:8.3g}")
            print(f"lowest loss {min(row[0] for row in rows):.4g}\n")


if __name__ == "__main__":
    main()
