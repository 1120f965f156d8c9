"""The starting image of the Coursera "Art generation with neural style transfer" assignment.

The assignment's ``generate_noise_image`` mixes uniform noise in [-20, 20] with the *preprocessed*
content image, i.e. in the model's mean-subtracted input space (0..255 pixel units for its VGG-19)::

    G0 = NOISE_RATIO * uniform(-20, 20) + (1 - NOISE_RATIO) * (content - MEANS),   NOISE_RATIO = 0.6

so G0 is not a darkened photo plus noise: seen as an RGB image it is the content pulled 60 % of the way
towards the model's mean colour, with noise of +-12 pixel units on top. :func:`tutorial_noise_image`
computes exactly that for any model, the noise's 20 pixel units converted into the model's units
(``input_scale / 255 / std``). ``options`` (``init="tutorial"``), ``_initial_image`` and ``tutorial`` use it;
this module imports no tutorial code.
"""

from __future__ import annotations

import numpy as np

from .model import Model

#: The assignment's ``NOISE_RATIO``: the fraction of noise in the starting image.
TUTORIAL_NOISE_RATIO = 0.6
#: Half-width of the assignment's uniform noise, in 0..255 pixel units.
TUTORIAL_NOISE_AMPLITUDE = 20.0


def tutorial_noise_image(model: Model, content_rgb: np.ndarray, rng: np.random.Generator,
                         noise_ratio: float = TUTORIAL_NOISE_RATIO) -> np.ndarray:
    """float32 ``[3, H, W]`` in ``model``'s input space: ``noise_ratio * noise + (1 - noise_ratio) *
    model.preprocess(content_rgb)``, the noise uniform in +-20 pixel units, drawn from ``rng``.

    ``content_rgb`` is an HxWx3 RGB image (uint8 or floats in [0, 1]); ``noise_ratio`` in [0, 1].
    """
    if not 0.0 <= noise_ratio <= 1.0:
        raise ValueError(f"noise_ratio must be in [0, 1], got {noise_ratio!r}")
    content = model.preprocess(content_rgb)
    pixel_unit = np.float32(model.input_scale / 255.0) / model.std  # per channel, in the model's order
    noise = rng.uniform(-TUTORIAL_NOISE_AMPLITUDE, TUTORIAL_NOISE_AMPLITUDE, size=content.shape).astype(np.float32)
    noise *= pixel_unit[:, None, None]
    return (np.float32(noise_ratio) * noise + np.float32(1.0 - noise_ratio) * content).astype(np.float32)
