"""Quality of the three style losses for the same number of steps (issue 17): Gram and histogram distances.

    nice -n 19 python bench/style_losses.py --content ../shared/images/tubingen.jpg \
        --style ../shared/images/starry_night.jpg [--size 160] [--steps 200] [--out DIR]

Each loss (``--style-loss gram``, ``w2``, ``gram+histogram``, engine defaults otherwise; one scale, L-BFGS,
start from the content) renders the same pair for the same steps; every result is then judged at its own
size by two scale-free distances to the style, 0 = the style's statistics and 1 = as far as the content
photo:

- Gram distance: ``bench/look.py``'s (mean over relu1_1..relu5_1 of the squared Gram difference);
- histogram distance: mean over the same layers and their channels of the 1-D Wasserstein-1 distance
  between the result's and the style's activation distributions (mean absolute difference of quantiles),
  each layer divided by the content's;

and its content distance (look.py's, relu4_2). Quality only: seconds per step need an idle machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Sequence

import numpy as np

import swiftnst
from swiftnst import images
from look import STYLE_LAYERS, LookMeter, downscale

LOSSES = ("gram", "w2", "gram+histogram")
QUANTILES = 256


def _quantiles(model: swiftnst.Model, rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Per layer ``[C, QUANTILES]``: each channel's activations at evenly spaced ranks."""
    activations = model.activations(model.preprocess(images.to_float(rgb)), STYLE_LAYERS)
    ranks = (np.arange(QUANTILES) + 0.5) / QUANTILES
    return {name: np.quantile(a.reshape(a.shape[0], -1).astype(np.float64), ranks, axis=1).T
            for name, a in activations.items()}


class HistogramMeter:
    """The histogram distance of the module docstring, against one content and style at one size."""

    def __init__(self, model: swiftnst.Model, content: np.ndarray, style: np.ndarray) -> None:
        self.model = model
        self.style = _quantiles(model, style)
        content_q = _quantiles(model, content)
        self.scale = {name: self._distance(content_q[name], q) for name, q in self.style.items()}

    @staticmethod
    def _distance(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(np.abs(a - b)))

    def __call__(self, rgb: np.ndarray) -> float:
        q = _quantiles(self.model, rgb)
        return float(np.mean([self._distance(q[name], self.style[name]) / self.scale[name] for name in self.style]))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--content", type=Path, required=True)
    parser.add_argument("--style", type=Path, required=True)
    parser.add_argument("--size", type=int, default=160, help="longest side of the results (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=200, help="L-BFGS steps per loss (default: %(default)s)")
    parser.add_argument("--losses", default=",".join(LOSSES), help="comma-separated (default: %(default)s)")
    parser.add_argument("--style-weight", type=float, default=None, help="style_weight (default: the engine's)")
    parser.add_argument("--histogram-weight", type=float, default=None,
                        help="histogram_weight of gram+histogram (default: the engine's)")
    parser.add_argument("--out", type=Path, default=None, help="directory for the results (default: not saved)")
    args = parser.parse_args(argv)
    content, style = images.load_image(args.content), images.load_image(args.style)
    with swiftnst.Model() as model:
        look = LookMeter(model, content, style, args.size)
        histogram = HistogramMeter(model, downscale(content, args.size), downscale(style, args.size))
        print(f"{args.content.name} + {args.style.name} at {args.size} px, {args.steps} steps each")
        print(f"{'loss':<16} {'Gram dist':>10} {'hist dist':>10} {'content':>8} {'wall s':>7}")
        weights = {name: value for name, value in (("style_weight", args.style_weight),
                                                    ("histogram_weight", args.histogram_weight)) if value is not None}
        for loss in args.losses.split(","):
            started = time.perf_counter()
            output = None if args.out is None else args.out / f"{loss.replace('+', '_')}_{args.size}.png"
            result = swiftnst.stylize(content, style, model=model, output=output, image_size=args.size,
                                      iterations=args.steps, multiscale=False, style_loss=loss, progress=False,
                                      **weights)
            seconds = time.perf_counter() - started
            judged = look(result)
            print(f"{loss:<16} {judged.style:>10.4f} {histogram(downscale(result, args.size)):>10.4f} "
                  f"{judged.content:>8.4f} {seconds:>7.1f}")


if __name__ == "__main__":
    main()
