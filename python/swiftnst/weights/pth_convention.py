"""Which input convention a VGG ``.pth`` state dict was trained for: Caffe or torchvision.

Both kinds use torchvision's key names (``features.N.weight``), but the Caffe ones - the Oxford VGG
weights converted for neural-style-pt (``vgg19-d01eb7cb.pth``, ``vgg16-00b39a1b.pth``) and for many
other PyTorch ports - expect BGR pixels in 0..255 minus the ImageNet mean (std 1), while torchvision's
expect RGB in 0..1 normalised by mean and std. Read in the wrong convention a network barely stylises.

The convention is, in order: the one the caller names (``"caffe"`` or ``"torchvision"``); the one of a
published file recognised by its name; else a verdict from ``conv1_1``'s weights, logged as a warning
together with how to override it. The verdict reads the colour order: natural images carry the
least contrast in blue, and first-layer filters weigh that channel least, so the standard deviation
of the weights on input channel 0 over that on channel 2 is below 1 for BGR weights (0.886 for the
Oxford VGG-19) and above 1 for RGB ones (1.21 for torchvision's VGG-16). The weights' magnitudes
do not tell: both kinds have conv1_1 standard deviations of about 0.2. Between ``BGR_BELOW`` and
``RGB_ABOVE`` there is no verdict and torchvision, the format's own convention, is assumed.
"""

from __future__ import annotations

import logging

import numpy as np

from . import WeightsError
from .vgg_weights import CAFFE, TORCHVISION, InputConvention

#: ``input_convention`` names accepted by the converters, the CLI and ``stylize``.
CONVENTIONS: dict[str, InputConvention] = {"caffe": CAFFE, "torchvision": TORCHVISION}

#: Published file names and their conventions: neural-style-pt's Caffe conversions, torchvision's own.
PUBLISHED: dict[str, str] = {
    "vgg19-d01eb7cb.pth": "caffe", "vgg16-00b39a1b.pth": "caffe",
    "vgg19-dcbb9e9d.pth": "torchvision", "vgg16-397923af.pth": "torchvision",
}

#: Channel-0 / channel-2 weight spread of conv1_1 below which the weights are judged BGR (Caffe)...
BGR_BELOW = 0.95
#: ... and above which RGB (torchvision).
RGB_ABOVE = 1.05

_log = logging.getLogger(__name__)


def check_convention_name(name: str | None) -> str | None:
    """``name`` if it is None or a known convention, else ``ValueError`` listing the known ones."""
    if name is not None and name not in CONVENTIONS:
        raise ValueError(f"input_convention must be one of {', '.join(CONVENTIONS)}, got {name!r}")
    return name


def channel_spread_ratio(conv1_1: np.ndarray) -> float:
    """Standard deviation of the OIHW ``conv1_1`` weights on input channel 0 over that on channel 2."""
    spreads = np.std(conv1_1.astype(np.float64), axis=(0, 2, 3))
    return float(spreads[0] / spreads[2])


def pth_convention(file_name: str, conv1_1: np.ndarray, requested: str | None, where: str) -> InputConvention:
    """The input convention of the ``.pth`` file ``file_name`` whose first conv holds ``conv1_1``."""
    if check_convention_name(requested) is not None:
        return CONVENTIONS[requested]  # type: ignore[index]
    if file_name in PUBLISHED:
        return CONVENTIONS[PUBLISHED[file_name]]
    ratio = channel_spread_ratio(conv1_1)
    if not np.isfinite(ratio):
        raise WeightsError(f"{where}: conv1_1 has no weights on one colour channel")
    verdict = "caffe" if ratio < BGR_BELOW else "torchvision" if ratio > RGB_ABOVE else None
    why = (f"its conv1_1 weights look {'BGR' if verdict == 'caffe' else 'RGB'} (channel spread ratio "
           f"{ratio:.3f})" if verdict else f"its conv1_1 weights do not tell (channel spread ratio {ratio:.3f})")
    assumed = verdict or "torchvision"
    other = "torchvision" if assumed == "caffe" else "caffe"
    _log.warning("%s: reading it as a %s-convention file, since %s; if that is wrong, pass "
                 "--input-convention %s (input_convention=%r)", where, assumed, why, other, other)
    return CONVENTIONS[assumed]
