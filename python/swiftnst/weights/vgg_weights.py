"""``VGGWeights``: validated conv tensors of one VGG network plus its input convention.

Every converter produces one of these and the safetensors writer/reader consumes and produces them,
so the checks (all layers present, nothing extra, exact shapes, finite float32 values, a sane input
convention) live here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from . import WeightsError
from .architecture import ARCHITECTURES, conv_weight_shapes
from .layer_checks import check_declared_layer, check_layer_values

#: Value of the ``swiftnst.format`` metadata key this package writes and reads.
FORMAT_VERSION = "1"

_METADATA_KEYS = ("swiftnst.format", "architecture", "channel_order", "input_scale", "mean", "std", "source")


@dataclass(frozen=True)
class InputConvention:
    """How an RGB image in 0..1 becomes network input: ``((rgb * input_scale)[order] - mean) / std``.

    ``mean`` and ``std`` are given in the model's channel order, after scaling.
    """

    channel_order: str
    input_scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        if self.channel_order not in ("RGB", "BGR"):
            raise WeightsError(f"channel_order must be RGB or BGR, got {self.channel_order!r}")
        if self.input_scale not in (1.0, 255.0):
            raise WeightsError(f"input_scale must be 1 or 255, got {self.input_scale!r}")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise WeightsError(f"mean and std need three values each, got {self.mean!r} and {self.std!r}")
        # Pixels span 0..input_scale, so a channel's mean lies in that range and its std is at most
        # input_scale; below input_scale / 1000 (Caffe's std 1 at 255 and torchvision's 0.229 at 1 are
        # far above) the normalised input would be magnified a thousandfold or more. Same limits as
        # the engine's ModelWeights.
        scale = self.input_scale
        if not all(0 <= m <= scale for m in self.mean):
            raise WeightsError(f"'mean' must be three numbers in 0..{scale:g}, got {self.mean!r}")
        if not all(scale / 1000 <= s <= scale for s in self.std):
            raise WeightsError(f"'std' must be three numbers in {scale / 1000:g}..{scale:g}, got {self.std!r}")


#: Keras / Caffe lineage: BGR, 0..255, ImageNet mean in BGR order, no std.
CAFFE = InputConvention("BGR", 255.0, (103.939, 116.779, 123.68))
#: torchvision (and lpips, whose weights are torchvision's): RGB, 0..1, ImageNet mean and std.
TORCHVISION = InputConvention("RGB", 1.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def _format_floats(values: tuple[float, ...]) -> str:
    # repr-style shortest round-trip text, so the metadata reads back to the same float32 values
    return ",".join(f"{float(v):.9g}" for v in values)


def _parse_floats(text: str, key: str, where: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise WeightsError(f"{where}: metadata {key!r} must be three comma-separated numbers, got {text!r}") from None
    if len(values) != 3:
        raise WeightsError(f"{where}: metadata {key!r} must hold three numbers, got {text!r}")
    return values  # type: ignore[return-value]


@dataclass(frozen=True)
class VGGWeights:
    """The conv weights of a VGG-19/16 feature extractor, checked on construction.

    ``layers`` maps ``convB_I`` to ``(weight, bias)``: weight float32 ``[out, in, 3, 3]`` (OIHW, input
    channels in ``convention.channel_order``), bias float32 ``[out]``. Arrays are stored C-contiguous.
    ``where`` names the file the weights came from, for error messages only.
    """

    architecture: str
    layers: Mapping[str, tuple[np.ndarray, np.ndarray]]
    convention: InputConvention
    source: str
    where: str = field(default="weights", compare=False)

    def __post_init__(self) -> None:
        where = self.where
        if self.architecture not in ARCHITECTURES:
            raise WeightsError(f"{where}: unknown architecture {self.architecture!r}")
        expected = conv_weight_shapes(self.architecture)
        missing = [name for name in expected if name not in self.layers]
        if missing:
            raise WeightsError(f"{where}: missing {self.architecture} layers {', '.join(missing)}")
        extra = sorted(set(self.layers) - set(expected))
        if extra:
            raise WeightsError(f"{where}: unexpected layers {', '.join(extra)} for {self.architecture}")
        checked: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, shape in expected.items():
            raw = tuple(np.asarray(a) for a in self.layers[name])
            check_declared_layer(where, name, (raw[0].shape, raw[1].shape), (raw[0].dtype, raw[1].dtype), shape)
            weight, bias = (np.ascontiguousarray(a, dtype=np.float32) for a in raw)
            check_layer_values(where, name, weight, bias)
            checked[name] = (weight, bias)
        object.__setattr__(self, "layers", checked)

    def metadata(self) -> dict[str, str]:
        """The safetensors ``__metadata__`` of docs/ARCHITECTURE.md."""
        c = self.convention
        return {
            "swiftnst.format": FORMAT_VERSION,
            "architecture": self.architecture,
            "channel_order": c.channel_order,
            "input_scale": f"{c.input_scale:g}",
            "mean": _format_floats(c.mean),
            "std": _format_floats(c.std),
            "source": self.source,
        }

    def tensors(self) -> dict[str, np.ndarray]:
        """``{convB_I.weight: ..., convB_I.bias: ...}`` in network order."""
        out: dict[str, np.ndarray] = {}
        for name, (weight, bias) in self.layers.items():
            out[f"{name}.weight"] = weight
            out[f"{name}.bias"] = bias
        return out

    @classmethod
    def from_tensors(cls, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str],
                     where: str) -> "VGGWeights":
        """Rebuild from safetensors content, checking the metadata keys and tensor names."""
        missing = [key for key in _METADATA_KEYS if key not in metadata]
        if missing:
            raise WeightsError(f"{where}: metadata lacks {', '.join(missing)} (not a swiftnst weights file?)")
        if metadata["swiftnst.format"] != FORMAT_VERSION:
            raise WeightsError(f"{where}: swiftnst.format {metadata['swiftnst.format']!r} is not supported "
                               f"(this version reads {FORMAT_VERSION!r})")
        try:
            scale = float(metadata["input_scale"])
        except ValueError:
            raise WeightsError(f"{where}: input_scale {metadata['input_scale']!r} is not a number") from None
        try:
            convention = InputConvention(metadata["channel_order"], scale,
                                         _parse_floats(metadata["mean"], "mean", where),
                                         _parse_floats(metadata["std"], "std", where))
        except WeightsError as exc:
            if str(exc).startswith(f"{where}: "):
                raise
            raise WeightsError(f"{where}: metadata {exc}") from None
        layers: dict[str, list[np.ndarray | None]] = {}
        for key, array in tensors.items():
            layer, _, kind = key.rpartition(".")
            if kind not in ("weight", "bias") or not layer:
                raise WeightsError(f"{where}: unexpected tensor {key!r}")
            layers.setdefault(layer, [None, None])[kind == "bias"] = array
        for layer, pair in layers.items():
            if pair[0] is None or pair[1] is None:
                raise WeightsError(f"{where}: {layer} needs both .weight and .bias tensors")
        return cls(metadata["architecture"], {k: (v[0], v[1]) for k, v in layers.items()},  # type: ignore[misc]
                   convention, metadata["source"], where)
