"""The checks one conv layer must pass, shared by ``VGGWeights`` and the converters.

Converters run :func:`check_declared_layer` on what a file *declares* (shapes and types from its
metadata) before reading or allocating the values, so a file claiming a gigabyte tensor is refused
for its shape, and :func:`check_layer_values` on each layer as soon as it is read, so the first bad
layer is named. ``VGGWeights`` runs both again on the arrays themselves.

What "cannot be a trained VGG" means here (the engine's ``ModelWeights`` applies the same limits):
the standard deviation of each conv layer's weights must be at least ``MIN_WEIGHT_STD``. Constant or
all-zero weights have none, and with them every loss is 0 from the first step (or the features
underflow to zero a few layers down). The published VGG-19/16 weights have layer standard deviations
of 0.0063 and more (63 times the limit); He initialisation gives sqrt(2 / fan_in) >= 0.021 here.
"""

from __future__ import annotations

import numpy as np

from . import WeightsError

#: Smallest accepted standard deviation of one conv layer's weights.
MIN_WEIGHT_STD = 1e-4


def hwio_to_oihw(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The OIHW shape of a kernel stored HWIO (Keras, MatConvNet, Flax); other ranks unchanged."""
    return (shape[3], shape[2], shape[0], shape[1]) if len(shape) == 4 else tuple(shape)


def check_declared_layer(where: str, name: str, shapes: tuple[tuple[int, ...], tuple[int, ...]],
                         dtypes: tuple[np.dtype, np.dtype], expected: tuple[int, int, int, int]) -> None:
    """Check conv layer ``name``'s (weight OIHW, bias) shapes and dtypes against ``expected``."""
    if any(np.dtype(d).kind != "f" or np.dtype(d).itemsize > 8 for d in dtypes):
        raise WeightsError(f"{where}: {name} holds {dtypes[0]}/{dtypes[1]} values, expected floats")
    for kind, shape, wanted in (("weight", shapes[0], expected), ("bias", shapes[1], expected[:1])):
        if tuple(shape) != tuple(wanted):
            raise WeightsError(f"{where}: {name}.{kind} has shape {tuple(shape)}, expected {tuple(wanted)}")


def check_layer_values(where: str, name: str, weight: np.ndarray, bias: np.ndarray) -> None:
    """Refuse non-finite values, and weights too uniform for any trained VGG layer."""
    for kind, array in (("weight", weight), ("bias", bias)):
        if not np.isfinite(array).all():
            raise WeightsError(f"{where}: {name}.{kind} holds NaN or Inf values")
    spread = float(np.std(weight, dtype=np.float64))
    if not spread >= MIN_WEIGHT_STD:
        what = " (all zero)" if not weight.any() else " (constant)" if spread == 0 else ""
        raise WeightsError(f"{where}: {name}.weight has standard deviation {spread:.3g}{what}, below the "
                           f"{MIN_WEIGHT_STD:g} of any trained VGG layer; these are not trained VGG weights")
