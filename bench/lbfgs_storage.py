"""What storing the L-BFGS pairs as bfloat16 costs: the loss reached after a quarter, half and all of
``--steps`` steps with float32 and with bfloat16 pairs, per history length and style image.

    python bench/lbfgs_storage.py [--size 256] [--steps 200] [--histories 100 5]

One ``Session`` per run, started from the content (tubingen.jpg, centre-cropped square) with the default
objective; styles: starry_night.jpg and the_scream.jpg from ../shared/images. Results: bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import swiftnst
from swiftnst import images

IMAGES = Path(__file__).resolve().parents[1].parent / "shared" / "images"


def square(path: Path, size: int) -> np.ndarray:
    """The image centre-cropped to a square and resized to ``size`` (RGB floats in [0, 1])."""
    rgb = images.load_image(path)
    side = min(rgb.shape[:2])
    top, left = (rgb.shape[0] - side) // 2, (rgb.shape[1] - side) // 2
    return images.resize(rgb[top:top + side, left:left + side], size, size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--histories", type=int, nargs="+", default=[100, 5])
    args = parser.parse_args()
    with swiftnst.Model() as model:
        content = model.preprocess(square(IMAGES / "tubingen.jpg", args.size))
        for style_name in ("starry_night.jpg", "the_scream.jpg"):
            style = model.preprocess(square(IMAGES / style_name, args.size))
            for history in args.histories:
                row = []
                for storage in ("float32", "bfloat16"):
                    with swiftnst.Session(model, args.size, args.size, lbfgs_history=history,
                                          lbfgs_storage=storage) as session:
                        session.set_content(content)
                        session.add_style(style)
                        session.set_image(content)
                        losses: list[float] = []
                        session.step(args.steps, callback=lambda step: losses.append(step.total))
                    marks = [losses[args.steps // 4 - 1], losses[args.steps // 2 - 1], losses[-1]]
                    row.append(f"{storage} " + " / ".join(f"{loss:.4g}" for loss in marks))
                print(f"{style_name} {args.size} px, history {history}: " + "; ".join(row), flush=True)


if __name__ == "__main__":
    main()
