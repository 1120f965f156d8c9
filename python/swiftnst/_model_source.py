"""The ``model`` argument of a run (``stylize``, ``plan``, ``batch``): checked before any work, and opened
(weights in a source format converted first); and the run's layers checked against the loaded model."""

from __future__ import annotations

import os

from .model import Model
from .options import StyleTransferOptions
from .weights import convert, is_model_name, resolve_model
from .weights.model_names import check_model_name
from .weights.pth_convention import check_convention_name

__all__ = ["check_layers_exist", "check_model_argument", "open_model"]


def check_model_argument(model: object, input_convention: str | None) -> None:
    """The ``model`` and ``input_convention`` arguments of ``stylize`` and ``plan``, before any work."""
    if not isinstance(model, (Model, str, os.PathLike, type(None))):
        raise TypeError("model must be a Model, a weights file path, a model name or None, "
                        f"got {type(model).__name__}")
    if input_convention is not None and (not isinstance(model, (str, os.PathLike)) or is_model_name(model)):
        raise ValueError("input_convention applies to a .pth weights file given as model")
    check_convention_name(input_convention)
    check_model_name(model)


def open_model(model: str | os.PathLike | None, input_convention: str | None) -> Model:
    """Load weights named or given by path; files in a source format (Keras .h5, MatConvNet .mat,
    torchvision .pth, lpips .ckpt) are converted to the engine's safetensors first (cached in
    $SWIFTNST_HOME/weights/converted)."""
    path = resolve_model(model)
    if input_convention is not None or path.suffix.lower() != ".safetensors":
        path = convert(path, input_convention=input_convention)
    return Model(path)


def check_layers_exist(model: Model, options: StyleTransferOptions) -> None:
    """Every content and style layer of ``options`` is a layer of ``model`` (``ValueError`` otherwise)."""
    known = set(model.layer_names)
    for name, _ in options.content_layers + options.style_layers:
        if name not in known:
            raise ValueError(f"the {model.architecture} model has no layer '{name}'")
