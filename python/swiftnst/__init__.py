"""swiftnst: neural style transfer (Gatys et al.) with a Swift engine behind a C ABI.

Quick start::

    import swiftnst
    result = swiftnst.stylize("content.jpg", "style.jpg", iterations=300)

In Jupyter: ``swiftnst.notebook.stylize`` returns a ``StyleTransferResult`` that displays itself, with the
run's ``LossHistory`` (also usable alone as ``stylize``'s ``callback``; exports CSV/JSON, plots); a
``callback`` returning a true value stops a run with the best image so far.

Many images: ``swiftnst.batch(contents, styles, "out/")`` renders every content x style (and option grid)
into one directory with a manifest, resumable, optionally on Dask workers (``swiftnst[distributed]``).
A clip: ``swiftnst.video("clip.mp4", "style.jpg", "out.mp4")`` renders its frames coherently along the
optical flow (``swiftnst[video]``).

Large renders: ``swiftnst.plan(...)`` returns the ``RenderPlan`` ``stylize`` follows (scales, steps,
evaluation strategy, predicted memory and time) within ``max_memory``/``time_limit``.

Lower level: ``Model`` (a loaded VGG network), ``Session`` (one optimisation problem),
``swiftnst.ops`` (single layer operations and the tutorial costs), ``swiftnst.weights``
(converting and fetching weights). Every error swiftnst raises on purpose is a subclass of
``NSTError`` (engine statuses, ``ImageError``, ``WeightsError``, ``LibraryNotFoundError``,
``StyleTransferInterrupted``), each also deriving from the built-in exception it used to be.

Everything but the exceptions is imported on first use (module ``__getattr__``), so
``import swiftnst`` works before the native library is built and stays fast; type checkers see the
same names through the ``TYPE_CHECKING`` imports below.

Diagnostics go to the ``swiftnst`` loggers (``logging.getLogger("swiftnst")`` and its children), which
print nothing until the application configures logging, e.g. ``logging.basicConfig()``.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from ._errors import (
    CheckpointError, ImageError, ImageNotFoundError, LibraryNotFoundError, MemoryBudgetError, NSTCancelledError, NSTError,
    NSTInternalError, NSTInvalidArgumentError, NSTInvalidHandleError, NSTIOError, NSTNullPointerError,
    NSTNumericError, NSTOutOfMemoryError, NSTShapeError, NSTStateError, NSTUnknownLayerError,
    NSTWeightsFormatError, StyleTransferInterrupted, WeightsError,
)

from ._version import package_version

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__: str = package_version()

if TYPE_CHECKING:  # exactly the names of _LAZY and _SUBMODULES (tests/test_public_names.py checks it)
    from . import (
        batching, checkpoint, cli, images, loss_history, model, notebook, ops, options, planner, result, session,
        transfer, tutorial, videos, weights,
    )
    from .batching import batch
    from .images import load_image, save_image
    from .loss_history import LossHistory
    from .model import Model
    from .notebook import LivePreview
    from .options import StyleTransferOptions
    from .planner import RenderPlan, plan, plan_render
    from .result import StyleTransferResult
    from .session import Losses, Session
    from .transfer import stylize
    from .videos import video
    from .tutorial import (
        STYLE_LAYERS, STYLE_LAYERS_TUTORIAL, NeuralStyleTransfer, compute_content_cost, compute_layer_style_cost,
        compute_style_cost, gram_matrix, total_cost,
    )

#: Public name -> the submodule defining it, imported when the name is first used.
_LAZY: dict[str, str] = {
    "Model": "model",
    "Session": "session",
    "Losses": "session",
    "stylize": "transfer",
    "batch": "batching",
    "video": "videos",
    "plan": "planner",
    "plan_render": "planner",
    "RenderPlan": "planner",
    "NeuralStyleTransfer": "tutorial",
    "StyleTransferOptions": "options",
    "compute_content_cost": "tutorial",
    "gram_matrix": "tutorial",
    "compute_layer_style_cost": "tutorial",
    "compute_style_cost": "tutorial",
    "total_cost": "tutorial",
    "STYLE_LAYERS": "tutorial",
    "STYLE_LAYERS_TUTORIAL": "tutorial",
    "load_image": "images",
    "save_image": "images",
    "LivePreview": "notebook",
    "LossHistory": "loss_history",
    "StyleTransferResult": "result",
}
_SUBMODULES = ("ops", "weights", "model", "session", "options", "transfer", "planner", "checkpoint", "tutorial", "images",
               "notebook", "loss_history", "result", "cli", "batching",
               "videos")

__all__ = [
    "CheckpointError", "ImageError", "ImageNotFoundError", "LibraryNotFoundError", "MemoryBudgetError", "NSTCancelledError", "NSTError",
    "NSTIOError", "NSTInternalError", "NSTInvalidArgumentError", "NSTInvalidHandleError", "NSTNullPointerError",
    "NSTNumericError", "NSTOutOfMemoryError", "NSTShapeError", "NSTStateError", "NSTUnknownLayerError",
    "NSTWeightsFormatError", "StyleTransferInterrupted", "WeightsError", "__version__", "blas_info",
    "library_version",
    *_LAZY, "ops", "weights",
]


def library_version() -> str:
    """The version string of the loaded native library (``nst_version_string()``)."""
    from . import _bindings

    return _bindings.nst_version_string().decode("utf-8")


def blas_info() -> str:
    """The BLAS the native library uses and the kernels it picked for this CPU (``nst_blas_info()``),
    e.g. ``"OpenBLAS 0.3.21 ... ; core SkylakeX"``; see ``OPENBLAS_CORETYPE`` in the README."""
    from . import _bindings

    return _bindings.nst_blas_info().decode("utf-8")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
