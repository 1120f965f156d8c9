"""The image a run's first scale starts from (``StyleTransferOptions.init``)."""

from __future__ import annotations

import numpy as np

from . import images
from ._tutorial_noise import tutorial_noise_image
from .model import Model
from .options import StyleTransferOptions


def initial_image(content: np.ndarray, init_image: np.ndarray | None, options: StyleTransferOptions,
                  model: Model, rng: np.random.Generator) -> np.ndarray:
    """The starting RGB image (HxWx3 floats in [0, 1]) of the size of ``content`` (HxWx3 floats):
    ``init_image`` resized when the run starts from an image, else the content mixed with noise from
    ``rng`` as ``options.init`` says (``content``, ``noise``, ``noise:R`` or ``tutorial``)."""
    ratio = options.noise_ratio()
    height, width = content.shape[:2]
    if init_image is not None:
        return images.resize(init_image, height, width)
    if ratio == 0.0:
        return content
    if options.init == "tutorial":
        # Mixed in the model's input space; its RGB form lies in [0, 1] (see _tutorial_noise), so
        # deprocess (which clips) returns it exactly for the caller's RGB pipeline.
        return model.deprocess(tutorial_noise_image(model, content, rng))
    noise = rng.random((height, width, 3), dtype=np.float32)
    return (1.0 - ratio) * content + ratio * noise
