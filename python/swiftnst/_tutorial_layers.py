"""Layer naming conventions, and the style layers of the "Artistic Neural Transfer" tutorial.

swiftnst names a VGG layer as neural-style (Torch) and PyTorch users do: ``convB_I`` is the output of
the convolution *before* its ReLU, ``reluB_I`` the activation after it, ``poolB`` the pooling. The
Keras/TensorFlow tutorials (the Coursera assignment and the seed tutorials) build each convolution
with its ReLU fused, so their ``convB_I`` is the activation *after* the ReLU, swiftnst's ``reluB_I``;
Keras itself calls it ``blockB_convI`` (and the pooling ``blockB_pool``). A layer list is read in one
of :data:`LAYER_CONVENTIONS` (``"keras"``: :func:`engine_layer_name`; ``"torch"``: swiftnst's names
as they are); with no convention chosen, swiftnst's names apply and :func:`ambiguous_layers` finds
the ``convB_I`` names a tutorial user may have meant otherwise. It also holds the tutorials' style
layer lists.

This module is the one place that mapping lives: ``options`` (``layer_convention``, the
``"tutorial"`` preset), ``tutorial`` and the CLI use it, so the core options do not import the
tutorial layer.
"""

from __future__ import annotations

import re
from typing import Iterable

#: How a layer list may be written: ``"keras"`` (the tutorials' names) or ``"torch"`` (swiftnst's).
LAYER_CONVENTIONS = ("keras", "torch")

#: The Coursera assignment's style layers: conv1_1 .. conv5_1, weight 0.2 each (tutorial naming; the
#: engine's relu1_1 .. relu5_1, the neural-style default layers).
STYLE_LAYERS_COURSERA: list[tuple[str, float]] = [
    ("conv1_1", 0.2), ("conv2_1", 0.2), ("conv3_1", 0.2), ("conv4_1", 0.2), ("conv5_1", 0.2),
]

#: The 8-layer list of the "Artistic Neural Transfer" tutorial, weight 0.125 each (tutorial naming).
STYLE_LAYERS_TUTORIAL: list[tuple[str, float]] = [
    ("conv1_1", 0.125), ("conv2_1", 0.125), ("conv3_1", 0.125), ("conv3_4", 0.125),
    ("conv4_1", 0.125), ("conv5_1", 0.125), ("conv5_2", 0.125), ("conv5_4", 0.125),
]

_CONV = re.compile(r"conv(\d+)_(\d+)")
_KERAS_CONV = re.compile(r"block(\d+)_conv(\d+)")
_KERAS_POOL = re.compile(r"block(\d+)_pool")


def engine_layer_name(name: str) -> str:
    """Map a tutorial (Keras/TensorFlow) layer name to swiftnst's: ``conv4_2`` and Keras's
    ``block4_conv2`` (both after the ReLU) -> ``relu4_2``; ``block4_pool`` -> ``pool4``.

    Other names (``relu4_2``, ``pool3``) are returned unchanged; whether the model has the layer is
    checked when it is used.
    """
    if match := _CONV.fullmatch(name) or _KERAS_CONV.fullmatch(name):
        return f"relu{match.group(1)}_{match.group(2)}"
    if match := _KERAS_POOL.fullmatch(name):
        return f"pool{match.group(1)}"
    return name


def check_layer_convention(convention: object) -> None:
    """Raise ``ValueError`` unless ``convention`` is None or one of :data:`LAYER_CONVENTIONS`."""
    if convention is not None and convention not in LAYER_CONVENTIONS:
        raise ValueError(f"layer_convention must be {', '.join(map(repr, LAYER_CONVENTIONS))} or None, "
                         f"got {convention!r}")


def convention_layer_name(name: str, convention: str | None) -> str:
    """swiftnst's name of layer ``name`` written in ``convention`` (None: swiftnst's own names)."""
    return engine_layer_name(name) if convention == "keras" else name


def ambiguous_layers(names: Iterable[str]) -> list[str]:
    """The ``convB_I`` names among ``names``: the ones the tutorials read after the ReLU, swiftnst before."""
    return [name for name in names if _CONV.fullmatch(name)]


def ambiguity_warning(what: str, names: list[str]) -> str:
    """The warning for ``convB_I`` layers ``names`` of the list ``what`` read without a chosen convention."""
    listed = ", ".join(names)
    verb, them = ("is", "it") if len(names) == 1 else ("are", "them")
    after = ", ".join(engine_layer_name(name) for name in names)
    return (f"{what}: {listed} {verb} read with swiftnst's names, as the convolution's output before its ReLU; "
            f"the Keras/TensorFlow tutorials mean by {them} the activation after the ReLU (swiftnst's {after}). "
            "Choose --layer-convention keras (layer_convention='keras') for the tutorials' layers, or "
            "--layer-convention torch (layer_convention='torch') to keep the pre-ReLU layers without this warning.")
