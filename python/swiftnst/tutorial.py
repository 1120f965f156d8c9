"""The seed tutorials' interface, computed by the engine: the ``NeuralStyleTransfer`` class of the
"Neural-Style-Transfer" tutorial, and the cost functions of the Coursera-style assignment.

The cost functions mirror the assignment the seed tutorials describe (``compute_content_cost``,
``gram_matrix``, ``compute_layer_style_cost``, ``compute_style_cost``, ``total_cost``) with the
same names, argument order and normalisations, so tutorial code ports unchanged. The arithmetic
runs in the Swift engine (``swiftnst.ops``); this module only reshapes arrays and maps names.

Conventions, as in the TensorFlow tutorial:

- **Activations are channels-last**: ``(n_H, n_W, n_C)``, optionally with a leading batch
  dimension of 1, ``(1, n_H, n_W, n_C)``. (swiftnst's own :meth:`Model.activations` returns
  channels-first ``(C, H, W)``; :func:`compute_activations` returns tutorial-layout arrays.)
- **Layer names use the tutorial's Keras/Caffe spelling**: ``convX_Y`` there means the output of
  the convolution *after* its ReLU, which swiftnst calls ``reluX_Y`` (swiftnst's ``convX_Y`` is
  the pre-activation); Keras's own ``blockX_convY`` is accepted too. :func:`engine_layer_name` does
  the mapping; names already in swiftnst spelling (``reluX_Y``, ``poolX``) pass through.

The tutorial's normalisations differ from swiftnst's optimisation objective (see
docs/ARCHITECTURE.md): J_content = sum((a_C - a_G)^2) / (4 n_H n_W n_C) and
J_style^[l] = sum((G_S - G_G)^2) / (4 n_C^2 (n_H n_W)^2).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence, Union

import numpy as np

from . import ops
from ._tutorial_layers import STYLE_LAYERS_COURSERA, STYLE_LAYERS_TUTORIAL, engine_layer_name
from ._tutorial_noise import TUTORIAL_NOISE_RATIO, tutorial_noise_image
from .images import ImageSource, load_image
from .model import Model
from .options import StyleTransferOptions
from .transfer import ProgressCallback, stylize

__all__ = [
    "NeuralStyleTransfer",
    "STYLE_LAYERS",
    "STYLE_LAYERS_TUTORIAL",
    "engine_layer_name",
    "compute_activations",
    "compute_content_cost",
    "gram_matrix",
    "compute_layer_style_cost",
    "compute_style_cost",
    "total_cost",
    "generate_noise_image",
]

#: (layer, weight) pairs of the tutorial's default style cost: conv1_1 .. conv5_1, equal weights
#: (tutorial naming; the engine's relu1_1 .. relu5_1, the neural-style default).
STYLE_LAYERS: list[tuple[str, float]] = STYLE_LAYERS_COURSERA

Activations = Union[Mapping[str, np.ndarray], Sequence[np.ndarray]]


def _channels_first(a: np.ndarray, what: str) -> np.ndarray:
    """(n_H, n_W, n_C) or (1, n_H, n_W, n_C) -> C-contiguous float32 (n_C, n_H, n_W)."""
    a = np.asarray(a)
    if a.ndim == 4:
        if a.shape[0] != 1:
            raise ValueError(f"{what}: expected a batch of one, got shape {a.shape}")
        a = a[0]
    if a.ndim != 3:
        raise ValueError(f"{what}: expected activations (n_H, n_W, n_C) or (1, n_H, n_W, n_C), got shape {a.shape}")
    return np.ascontiguousarray(np.transpose(a, (2, 0, 1)), dtype=np.float32)


def compute_activations(model: Model, image: ImageSource, layers: Sequence[str],
                        pooling: str = "max") -> dict[str, np.ndarray]:
    """Run ``model`` on an RGB image and return ``{layer: activations (n_H, n_W, n_C)}``.

    ``layers`` may use tutorial or swiftnst names; the keys are the names as given.
    """
    x = model.preprocess(load_image(image))
    engine_names = [engine_layer_name(name) for name in layers]
    chw = model.activations(x, engine_names, pooling=pooling)
    return {name: np.ascontiguousarray(np.transpose(chw[engine], (1, 2, 0)))
            for name, engine in zip(layers, engine_names)}


def compute_content_cost(a_C: np.ndarray, a_G: np.ndarray) -> float:
    """J_content = sum((a_C - a_G)^2) / (4 n_H n_W n_C) for activations (n_H, n_W, n_C)."""
    a_c, a_g = _channels_first(a_C, "a_C"), _channels_first(a_G, "a_G")
    if a_c.shape != a_g.shape:
        raise ValueError(f"a_C {a_c.shape} and a_G {a_g.shape} must have the same shape")
    return ops.content_cost(a_c, a_g)


def gram_matrix(A: np.ndarray) -> np.ndarray:
    """Gram matrix G_A = A A^T of an unrolled activation A of shape (n_C, n_H * n_W)."""
    A = np.asarray(A)
    if A.ndim != 2:
        raise ValueError(f"gram_matrix expects A of shape (n_C, n_H*n_W), got {A.shape}")
    return ops.gram_matrix(np.ascontiguousarray(A, dtype=np.float32))


def compute_layer_style_cost(a_S: np.ndarray, a_G: np.ndarray) -> float:
    """J_style^[l] = sum((G_S - G_G)^2) / (4 n_C^2 (n_H n_W)^2) for activations (n_H, n_W, n_C).

    Both activations must have the same shape, as in the tutorial (same-size images).
    """
    a_s, a_g = _channels_first(a_S, "a_S"), _channels_first(a_G, "a_G")
    if a_s.shape != a_g.shape:
        raise ValueError(f"a_S {a_s.shape} and a_G {a_g.shape} must have the same shape")
    return ops.layer_style_cost(a_s, a_g)


def compute_style_cost(*args, STYLE_LAYERS: Sequence[tuple[str, float]] = STYLE_LAYERS,
                       pooling: str = "max") -> float:
    """J_style = sum over (layer, weight) in STYLE_LAYERS of weight * J_style^[layer].

    Two call forms:

    - ``compute_style_cost(a_S, a_G[, STYLE_LAYERS])``: activations of the style and generated
      images, each a mapping ``{layer: (n_H, n_W, n_C) array}`` (tutorial or swiftnst names) or a
      sequence aligned with STYLE_LAYERS (as the TensorFlow 2 version of the assignment passes them).
    - ``compute_style_cost(model, style_image, generated_image[, STYLE_LAYERS])``: images (paths,
      PIL images or RGB arrays) run through a :class:`~swiftnst.model.Model` with ``pooling``;
      the two images must have the same size.
    """
    if args and isinstance(args[0], Model):
        if len(args) not in (3, 4):
            raise TypeError("compute_style_cost(model, style_image, generated_image[, STYLE_LAYERS])")
        model, style_image, generated_image = args[:3]
        layers = list(args[3]) if len(args) == 4 else list(STYLE_LAYERS)
        names = [name for name, _ in layers]
        a_S = compute_activations(model, style_image, names, pooling)
        a_G = compute_activations(model, generated_image, names, pooling)
    else:
        if len(args) not in (2, 3):
            raise TypeError("compute_style_cost(a_S, a_G[, STYLE_LAYERS])")
        a_S, a_G = args[:2]
        layers = list(args[2]) if len(args) == 3 else list(STYLE_LAYERS)
    if not layers:
        raise ValueError("STYLE_LAYERS is empty")
    return sum(weight * compute_layer_style_cost(_lookup(a_S, name, i, "a_S"), _lookup(a_G, name, i, "a_G"))
               for i, (name, weight) in enumerate(layers))


def _lookup(activations: Activations, name: str, index: int, what: str) -> np.ndarray:
    if isinstance(activations, Mapping):
        for key in (name, engine_layer_name(name)):
            if key in activations:
                return activations[key]
        raise KeyError(f"{what} has no activations for layer '{name}'")
    if index >= len(activations):
        raise ValueError(f"{what} has {len(activations)} activations but STYLE_LAYERS has more layers")
    return activations[index]


def total_cost(J_content: float, J_style: float, alpha: float = 10, beta: float = 40) -> float:
    """J(G) = alpha * J_content + beta * J_style (the tutorial's weights by default)."""
    return alpha * J_content + beta * J_style


def generate_noise_image(model: Model, content_image: ImageSource, noise_ratio: float = TUTORIAL_NOISE_RATIO,
                         seed: int | None = None) -> np.ndarray:
    """The assignment's starting image G0, in ``model``'s input space (float32 ``[3, H, W]``, ready for
    ``Session.set_image``): ``noise_ratio * uniform(-20, 20) + (1 - noise_ratio) * (content - MEANS)``,
    mixed where the tutorial mixes it, in the mean-subtracted input (``model.preprocess(content)``), the
    noise in 0..255 pixel units converted to the model's. ``content_image`` is a path, PIL image or RGB
    array at the generated image's size; ``seed`` seeds NumPy's generator (None: fresh entropy).

    ``model.deprocess(G0)`` shows it as a picture: the content pulled ``noise_ratio`` of the way towards
    the model's mean colour, with the noise on top. ``stylize(..., init="tutorial")`` starts from it.
    """
    return tutorial_noise_image(model, load_image(content_image), np.random.default_rng(seed), noise_ratio)


class NeuralStyleTransfer:
    """The interface of the "Neural-Style-Transfer" tutorial::

        nst = NeuralStyleTransfer(content_image_path, style_image_path, model_path)
        nst.run(num_iterations=300)     # result in output/generated_image.jpg

    ``model_path`` may be any weights file swiftnst can read or convert (swiftnst safetensors,
    Keras .h5, MatConvNet .mat, torchvision .pth, lpips .ckpt) or a model name (``"vgg16"``);
    None uses the cached default VGG-19, fetching it if missing. Extra keyword arguments are
    :class:`StyleTransferOptions` fields (e.g. ``image_size=256``); layer names are the tutorial's, as
    everywhere in this module (``layer_convention="keras"``: ``content_layers="conv4_2"`` is the activation after the ReLU),
    unless ``layer_convention`` is given.
    """

    #: Where :meth:`run` writes its result, relative to the current directory.
    OUTPUT_PATH = Path("output") / "generated_image.jpg"

    def __init__(self, content_image_path: ImageSource, style_image_path: ImageSource,
                 model_path: str | os.PathLike | None = None, **options) -> None:
        self.content_image_path = content_image_path
        self.style_image_path = style_image_path
        self.model_path = model_path
        self.options = StyleTransferOptions(**{"layer_convention": "keras", **options})
        self.generated_image: np.ndarray | None = None

    def run(self, num_iterations: int = 300, callback: ProgressCallback | None = None) -> np.ndarray:
        """Optimise for ``num_iterations`` steps, write ``output/generated_image.jpg`` (creating
        ``output/``; a result of an earlier run is replaced, with a warning on the ``swiftnst``
        logger) and return the image as RGB uint8 (H, W, 3). The output is checked before the
        model is loaded (see ``stylize``)."""
        self.generated_image = stylize(self.content_image_path, self.style_image_path,
                                       model=self.model_path, output=self.OUTPUT_PATH, callback=callback,
                                       options=self.options, iterations=num_iterations)
        return self.generated_image
