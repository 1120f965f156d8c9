"""The style layers of the "Artistic Neural Transfer" tutorial and its layer naming.

Shared by ``tutorial`` (the tutorial's API) and ``options`` (the ``"tutorial"`` style-layer preset),
so the core options do not import the tutorial layer.
"""

from __future__ import annotations

import re

#: The 8-layer list of the "Artistic Neural Transfer" tutorial, weight 0.125 each (tutorial naming).
STYLE_LAYERS_TUTORIAL: list[tuple[str, float]] = [
    ("conv1_1", 0.125), ("conv2_1", 0.125), ("conv3_1", 0.125), ("conv3_4", 0.125),
    ("conv4_1", 0.125), ("conv5_1", 0.125), ("conv5_2", 0.125), ("conv5_4", 0.125),
]

_TUTORIAL_CONV = re.compile(r"conv(\d+)_(\d+)")


def engine_layer_name(name: str) -> str:
    """Map a tutorial layer name to swiftnst's: ``conv4_2`` (post-ReLU in Keras/Caffe) -> ``relu4_2``.

    Other names (``relu4_2``, ``pool3``) are returned unchanged; whether the model has the layer is
    checked by the engine when it is used.
    """
    match = _TUTORIAL_CONV.fullmatch(name)
    return f"relu{match.group(1)}_{match.group(2)}" if match else name
