"""Scale-free distances of a result to its content and style, for comparing looks across runs.

    python bench/look.py RESULT [RESULT ...] --content C.jpg --style S.jpg [--size 512] [--judge vgg16]

Every image is judged at one size (``--size``, longest side; results are downscaled with Pillow's
area-averaging LANCZOS), so a 2048 px render and a 512 px preview are compared on equal terms:

- style distance: mean over relu1_1..relu5_1 of ``|G(out) - G(style)|^2 / |G(content) - G(style)|^2``,
  G the Gram matrix divided by the number of positions (so the style image's own size does not
  matter); 0 is the style's statistics, 1 is as far as the content photo;
- content distance: ``|F(out) - F(content)|^2 / |F(content)|^2`` at relu4_2.

These are the issue tracker's quality measures (issue 15's "same look", issue 19's "time to
quality"). The judge is the default VGG-19 unless ``--judge`` names another model (a name or a
path). The activations and Grams come from the engine (``Model.activations``, ``ops.gram_matrix``);
only the norms are NumPy.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

import swiftnst
from swiftnst import images, ops

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "relu4_2"


@dataclass(frozen=True)
class Look:
    """Distances of one image (see the module docstring)."""

    style: float
    content: float

    def ratios(self, reference: "Look") -> tuple[float, float]:
        """(style, content) of this look over ``reference``'s."""
        return self.style / reference.style, self.content / reference.content


def _normalised_grams(model: swiftnst.Model, rgb: np.ndarray) -> dict[str, np.ndarray]:
    activations = model.activations(model.preprocess(images.to_float(rgb)), STYLE_LAYERS)
    return {name: ops.gram_matrix(a).astype(np.float64) / (a.shape[1] * a.shape[2])
            for name, a in activations.items()}


def _content_features(model: swiftnst.Model, rgb: np.ndarray) -> np.ndarray:
    return model.activations(model.preprocess(images.to_float(rgb)), [CONTENT_LAYER])[CONTENT_LAYER].astype(np.float64)


def downscale(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` (uint8) with its longest side ``side`` (LANCZOS, which averages when shrinking)."""
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


class LookMeter:
    """Judges images against one content and one style at one size (the targets are computed once)."""

    def __init__(self, model: swiftnst.Model, content: np.ndarray, style: np.ndarray, size: int,
                 style_side: int | None = None) -> None:
        self.model, self.size = model, size
        self.content = downscale(content, size)
        self.content_features = _content_features(model, self.content)
        self.style_grams = _normalised_grams(model, downscale(style, style_side or size))
        content_grams = _normalised_grams(model, self.content)
        self.style_scale = {name: float(np.sum((content_grams[name] - gram) ** 2))
                            for name, gram in self.style_grams.items()}

    def __call__(self, result: np.ndarray) -> Look:
        rgb = downscale(result, self.size)
        if rgb.shape != self.content.shape:  # a result of another aspect ratio (rounding): match the content
            rgb = np.asarray(Image.fromarray(rgb).resize(self.content.shape[1::-1], Image.Resampling.LANCZOS))
        grams = _normalised_grams(self.model, rgb)
        style = np.mean([np.sum((grams[name] - gram) ** 2) / self.style_scale[name]
                         for name, gram in self.style_grams.items()])
        features = _content_features(self.model, rgb)
        content = np.sum((features - self.content_features) ** 2) / np.sum(self.content_features ** 2)
        return Look(style=float(style), content=float(content))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", type=Path, help="result images; ratios are to the first")
    parser.add_argument("--content", type=Path, required=True)
    parser.add_argument("--style", type=Path, required=True)
    parser.add_argument("--size", type=int, default=512, help="longest side to judge at (default: %(default)s)")
    parser.add_argument("--judge", default=None, help="the model measuring the distances: a model name or a "
                                                       "weights file (default: the default model)")
    args = parser.parse_args(argv)
    with swiftnst.Model(args.judge) as model:
        meter = LookMeter(model, images.load_image(args.content), images.load_image(args.style), args.size)
        looks = [meter(images.load_image(path)) for path in args.results]
    for path, look in zip(args.results, looks):
        style_ratio, content_ratio = look.ratios(looks[0])
        print(f"{path}: style {look.style:.4f} ({style_ratio:.2f}x), content {look.content:.4f} ({content_ratio:.2f}x)")


if __name__ == "__main__":
    main()
