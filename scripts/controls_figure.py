"""Writes docs/images/controls.png, the README's picture of the control options: the demo photo and its
two styles, then the photo rendered with a style mask per half, with ``color_control="luminance"``, and
with the ``w2`` and ``gram+histogram`` style losses. Needs scikit-image and the cached VGG-19.

    python scripts/controls_figure.py [--size 192] [--iterations 150]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from skimage import data

import swiftnst
from swiftnst import images
from swiftnst.demo_images import load_demo_content, render_swirl_painting

FIGURE = Path(__file__).resolve().parents[1] / "docs" / "images" / "controls.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=192, help="longest side of the results (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=150, help="L-BFGS steps per result (default: %(default)s)")
    args = parser.parse_args()
    content, style, second = load_demo_content(), render_swirl_painting(), data.immunohistochemistry()
    height, width = content.shape[:2]
    right = np.tile(np.clip((np.arange(width) / width - 0.45) / 0.1, 0, 1), (height, 1)).astype(np.float32)
    runs = {"style 1 left, style 2 right": dict(style=[style, second], style_masks=[1 - right, right]),
            "color_control luminance": dict(color_control="luminance"),
            "style_loss w2": dict(style_loss="w2"),
            "style_loss gram+histogram": dict(style_loss="gram+histogram")}
    with swiftnst.Model() as model:
        results = [swiftnst.stylize(content, options.pop("style", style), model=model, image_size=args.size,
                                    iterations=args.iterations, multiscale=False, progress=False, **options)
                   for options in runs.values()]
    pictures = [images.resize_longest_side(p, args.size) for p in (content, style, second)] + results
    labels = ["content", "style 1", "style 2", *runs]
    figure = images.make_grid(pictures, labels, columns=4, cell_height=results[0].shape[0])
    images.save_image(figure, FIGURE)
    print(FIGURE)


if __name__ == "__main__":
    main()
