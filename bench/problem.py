"""The benchmark problem every framework solves: one evaluation of the style-transfer objective.

One evaluation = VGG-19 forward from the image to relu5_1 (content relu4_2; style relu1_1..relu5_1),
the objective of docs/ARCHITECTURE.md (content 5, style 100, tv 1e-3), and its gradient with respect to
the image (backward through every conv; no weight gradients). Targets (content features, style Grams)
are computed once, outside the timed evaluations, by each framework itself.

All frameworks get identical inputs: the weights from ``~/.cache/swiftnst/weights/vgg19.safetensors``
read with ``swiftnst.weights.load_weights``, and the content/style images from ``<repo>/../shared/images``
(tubingen, starry_night) when present, else fixed pseudo-random images; both preprocessed here in NumPy.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
if str(REPO / "python") not in sys.path:
    sys.path.insert(0, str(REPO / "python"))  # run from a checkout without installing the package

from swiftnst import weights as swiftnst_weights  # noqa: E402

CONTENT_LAYERS = ("relu4_2",)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT = 5.0, 100.0, 1e-3
DEEPEST_LAYER = "relu5_1"
NOISE_SEED = 0


@dataclass(frozen=True)
class Layer:
    """One network layer up to DEEPEST_LAYER: kind "conv" (with OIHW weight, bias), "relu" or "pool"."""

    name: str
    kind: str
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None


@dataclass(frozen=True)
class Problem:
    size: int
    weights_path: Path
    layers: tuple[Layer, ...]
    content: np.ndarray  # float32 [3, size, size], model space
    style: np.ndarray    # float32 [3, size, size], model space
    x: np.ndarray        # float32 [3, size, size]: content + 10·N(0, 1) noise (seed 0), the evaluated point

    @property
    def conv_flops(self) -> float:
        """Direct-convolution FLOPs of one evaluation: 2·9·Cin·Cout·H·W per conv forward, same again for
        its input gradient, for the convs actually run (conv1_1..conv5_1)."""
        total, side = 0.0, self.size
        for layer in self.layers:
            if layer.kind == "pool":
                side //= 2
            elif layer.kind == "conv":
                cout, cin = layer.weight.shape[:2]
                total += 2 * (2.0 * 9 * cin * cout * side * side)
        return total


def default_weights_path() -> Path:
    return swiftnst_weights.cached_weights_path("vgg19")


def _images(size: int) -> tuple[np.ndarray, np.ndarray]:
    """RGB float in [0, 1], size×size: the shared photographs if available, else smooth random images."""
    names = ("tubingen.jpg", "starry_night.jpg")
    if all((SHARED / "images" / n).is_file() for n in names):
        from swiftnst import images
        return tuple(images.resize(images.to_float(images.load_image(SHARED / "images" / n)), size, size)
                     for n in names)
    rng = np.random.default_rng(1)
    coarse = rng.random((2, 8, 8, 3))
    return tuple(np.clip(np.kron(c, np.ones((size // 8 + 1, size // 8 + 1, 1)))[:size, :size], 0, 1)
                 for c in coarse)


def _preprocess(rgb: np.ndarray, convention) -> np.ndarray:
    """RGB [H, W, 3] in [0, 1] → float32 [3, H, W]: ((rgb · scale)[order] − mean) / std."""
    x = np.asarray(rgb, np.float64) * convention.input_scale
    if convention.channel_order == "BGR":
        x = x[..., ::-1]
    x = (x - np.asarray(convention.mean)) / np.asarray(convention.std)
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)


def load_problem(size: int, weights_path: str | Path | None = None) -> Problem:
    path = Path(weights_path) if weights_path else default_weights_path()
    vgg = swiftnst_weights.load_weights(path)
    if vgg.architecture != "vgg19":
        raise SystemExit(f"{path}: the benchmark needs VGG-19 weights, got {vgg.architecture}")
    layers = []
    for name in swiftnst_weights.layer_names("vgg19"):
        if name.startswith("conv"):
            weight, bias = vgg.layers[name]
            layers.append(Layer(name, "conv", np.ascontiguousarray(weight, np.float32),
                                np.ascontiguousarray(bias, np.float32)))
        else:
            layers.append(Layer(name, "relu" if name.startswith("relu") else "pool"))
        if name == DEEPEST_LAYER:
            break
    content_rgb, style_rgb = _images(size)
    content = _preprocess(content_rgb, vgg.convention)
    style = _preprocess(style_rgb, vgg.convention)
    noise = np.random.default_rng(NOISE_SEED).standard_normal(content.shape)
    x = (content + 10.0 * noise).astype(np.float32)
    return Problem(size, path, tuple(layers), content, style, x)
