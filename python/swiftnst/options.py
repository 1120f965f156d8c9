"""Every option of a style transfer, with its defaults and validation, and the parsing of layer lists.

Defaults the engine also has (weights, optimiser, pooling, threads, L-BFGS history, learning rate,
default layers) come from the engine (``_defaults``); the options only Python uses (size,
iterations, multi-scale, snapshots, ...) are defined here, once. The CLI's defaults and help are
built from ``StyleTransferOptions()``.

Layer names are swiftnst's unless ``layer_convention`` says otherwise (``_tutorial_layers``); a
``convB_I`` name read without a chosen convention is logged once as a warning on this module's logger,
since the tutorials mean another layer by it.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence, Union

from ._abi import NST_MAX_IMAGE_SIDE
from ._arguments import (
    LBFGS_STORAGE_CODES, LINE_SEARCH_CODES, OBJECTIVE_CODES, OPTIMIZER_CODES, POOLING_CODES, STYLE_LOSS_CODES,
    checked_int,
)
from ._quantities import parse_duration, parse_memory_size
from ._defaults import DEFAULT_CONTENT_LAYERS, DEFAULT_HISTOGRAM_LAYERS, DEFAULT_STYLE_LAYERS, engine_defaults
from .color_control import COLOR_CONTROLS
from ._tutorial_layers import (
    STYLE_LAYERS_COURSERA, STYLE_LAYERS_TUTORIAL, ambiguity_warning, ambiguous_layers, check_layer_convention,
    convention_layer_name, engine_layer_name,
)
from ._tutorial_noise import TUTORIAL_NOISE_RATIO
from .weights import ARCHITECTURES, layer_names

__all__ = [
    "DEFAULT_CONTENT_LAYERS",
    "DEFAULT_STYLE_LAYERS",
    "STYLE_LAYER_PRESETS",
    "MULTISCALE_AUTO_ABOVE",
    "TOLERANCE_WINDOW",
    "LayerSpec",
    "LayerWeights",
    "StyleTransferOptions",
    "parse_layer_weights",
]

#: Named style-layer lists: ``default``, ``tutorial`` (the 8 layers of the "Artistic Neural
#: Transfer" tutorial, its Keras ``convX_Y`` being our post-ReLU ``reluX_Y``; equal weights 1) and
#: ``coursera`` (the Coursera assignment's relu1_1 .. relu5_1 with its weights 0.2, for
#: ``objective="coursera"``).
STYLE_LAYER_PRESETS: dict[str, tuple[tuple[str, float], ...]] = {
    "default": DEFAULT_STYLE_LAYERS,
    "tutorial": tuple((engine_layer_name(name), 1.0) for name, _ in STYLE_LAYERS_TUTORIAL),
    "coursera": tuple((engine_layer_name(name), weight) for name, weight in STYLE_LAYERS_COURSERA),
}

#: Multi-scale runs by default when the requested size (longest side) is above this many pixels.
#: Measured on the project's 2-core machine (chelsea + the demo painting, 40 L-BFGS steps, the
#: full-size objective of the result; multi-scale = S/2 -> S): at 512 px multi-scale took 113 s
#: instead of 284 s AND ended lower (8.61e6 vs 9.27e6); at 384 px (76 s vs 133 s: 1.02e7 vs 8.68e6)
#: and 256 px (54 s vs 79 s: 1.02e7 vs 9.07e6) it was faster but ended 12-16 % higher, so it is
#: only a clear win above 384 px.
MULTISCALE_AUTO_ABOVE = 384

#: ``tolerance`` compares a scale's lowest total loss with its lowest one this many steps earlier.
TOLERANCE_WINDOW = 10

LayerWeights = tuple[tuple[str, float], ...]
LayerSpec = Union[str, Mapping[str, float], Sequence[Union[str, tuple[str, float]]]]

_ENGINE = engine_defaults()
logger = logging.getLogger(__name__)
#: The layer-name warnings already logged: each once per process, as the ``warnings`` module does,
#: although options are rebuilt (``dataclasses.replace``, resuming) several times per run.
_LOGGED_WARNINGS: set[str] = set()

# Names valid in some supported architecture; whether the loaded model has them is checked per run.
_KNOWN_LAYERS = frozenset(name for architecture in ARCHITECTURES for name in layer_names(architecture))
_INIT_NOISE = re.compile(r"noise(?::(.+))?")


def parse_layer_weights(spec: LayerSpec, layer_convention: str | None = None) -> LayerWeights:
    """Normalise a layer specification to ``((name, weight), ...)`` with swiftnst's layer names.

    Accepted forms: a preset name (``"default"``, ``"tutorial"``); a comma-separated string
    ``"relu1_1,relu2_1:0.5"`` (weight 1 when omitted); a mapping ``{name: weight}``; a sequence of
    names and/or ``(name, weight)`` pairs. Names are swiftnst's (``reluX_Y`` after ReLU,
    ``convX_Y`` before it, ``poolX``), or with ``layer_convention="keras"`` the tutorials'
    (``convX_Y`` and ``blockX_convY`` after the ReLU, ``blockX_pool``), mapped to swiftnst's.

    Raises:
        ValueError: empty list, unknown layer name, duplicate layer, or a weight that is negative,
            NaN or infinite.
    """
    check_layer_convention(layer_convention)
    if isinstance(spec, str):
        if spec in STYLE_LAYER_PRESETS:
            return STYLE_LAYER_PRESETS[spec]
        pairs = []
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, weight = item.partition(":")
            pairs.append((name.strip(), _parse_float(weight, f"weight of layer '{name}'") if weight else 1.0))
    elif isinstance(spec, Mapping):
        pairs = list(spec.items())
    elif isinstance(spec, (list, tuple)):
        pairs = [_layer_pair(item) for item in spec]
    else:
        raise ValueError(f"a layer list must be a preset name, a 'relu1_1,relu2_1:0.5' string, a {{name: weight}} "
                         f"mapping or a list of names and (name, weight) pairs, got {type(spec).__name__}")
    if not pairs:
        raise ValueError("the layer list is empty")
    names: list[str] = []
    for given, weight in pairs:
        name = convention_layer_name(given, layer_convention) if isinstance(given, str) else given
        if not isinstance(name, str) or name not in _KNOWN_LAYERS:
            raise ValueError(f"unknown layer name {given!r} ({_expected_names(layer_convention)})")
        if name in names:
            raise ValueError(f"layer '{name}' is listed twice")
        names.append(name)
        _check_finite(weight, f"weight of layer '{given}'", minimum=0.0)
    return tuple((name, float(weight)) for name, (_, weight) in zip(names, pairs))


def _expected_names(layer_convention: str | None) -> str:
    if layer_convention == "keras":
        return ("with layer_convention 'keras': convB_I or blockB_convI (after the ReLU), reluB_I, poolB or "
                "blockB_pool, e.g. conv4_2")
    return ("expected reluB_I, convB_I (before the ReLU) or poolB, e.g. relu4_2; the Keras tutorials' names "
            "need layer_convention 'keras'")


def _warn_about_ambiguous_layers(what: str, layers: LayerWeights) -> None:
    """Log once that ``convB_I`` layers of ``what`` are read as swiftnst's, not as the tutorials' layers."""
    names = ambiguous_layers(name for name, _ in layers)
    if names:
        message = ambiguity_warning(what, names)
        if message not in _LOGGED_WARNINGS:
            _LOGGED_WARNINGS.add(message)
            logger.warning("%s", message)


def _layer_pair(item: object) -> tuple[object, object]:
    """One entry of a layer list: a name (weight 1) or a (name, weight) pair."""
    if isinstance(item, str):
        return item, 1.0
    if isinstance(item, (list, tuple)) and len(item) == 2:
        return item[0], item[1]
    raise ValueError(f"a layer list entry must be a layer name or a (name, weight) pair, got {item!r}")


def _choices(names: Mapping[str, int]) -> str:
    """``'a' or 'b'`` from the names of a code table."""
    return " or ".join(repr(name) for name in names)


def _parse_float(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {text!r}") from None


def _check_finite(value: float, what: str, *, minimum: float | None = None, positive: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{what} must be > 0, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")


@dataclass(frozen=True)
class StyleTransferOptions:
    """Every option of a style transfer, with defaults; validated on construction (``ValueError``).

    The defaults shared with the engine are the engine's (``nst_session_default_params()``).

    Weights follow jcjohnson/neural-style; they suit every model, since each is loaded reading the Caffe
    input range (0..255 minus the mean; see ``Model``). Change fields with
    ``dataclasses.replace(options, ...)``; the CLI flags mirror these names.
    """

    #: Longest side of the result in pixels (the aspect ratio of the content image is kept).
    image_size: int = 512
    #: Optimiser steps in total (over all scales of a multi-scale run); one evaluation each. Above
    #: ``schedule.LARGE_OUTPUT_ABOVE`` px they are the steps of the scales up to ``schedule.ANCHOR_SIDE``,
    #: and the larger (detail) scales add theirs (``schedule.steps_per_scale``).
    iterations: int = 500
    #: ``"lbfgs"`` (neural-style's L-BFGS, no line search) or ``"adam"``.
    optimizer: str = _ENGINE.optimizer
    #: Adam step size in model input units (0..255 pixel units for every model).
    learning_rate: float = _ENGINE.learning_rate
    #: L-BFGS correction pairs kept.
    lbfgs_history: int = _ENGINE.lbfgs_history
    #: How the L-BFGS pairs are stored: ``"float32"``, ``"bfloat16"`` (half the memory per pair), or None:
    #: the planner keeps float32 unless only bfloat16 fits the memory budget (``planner``).
    lbfgs_storage: str | None = None
    #: ``"none"`` (each L-BFGS move taken whole, as neural-style) or ``"armijo"`` (backtracking: a move
    #: is shortened until the loss falls enough, which removes the early rises of the loss; some steps
    #: evaluate twice or more; bench/RESULTS.md, "The L-BFGS jump at steps 2-4").
    lbfgs_line_search: str = _ENGINE.lbfgs_line_search
    #: What the content and style weights multiply: ``"neural-style"`` (means over each layer) or
    #: ``"coursera"`` (the Coursera assignment's costs, J = alpha J_content + beta J_style; see
    #: docs/ARCHITECTURE.md, "Objective").
    objective: str = _ENGINE.objective
    #: Content layers with weights (see :func:`parse_layer_weights` for accepted forms).
    content_layers: LayerSpec = DEFAULT_CONTENT_LAYERS
    content_weight: float = _ENGINE.content_weight
    #: Style layers with weights, or a preset name (``"default"``, ``"tutorial"``).
    style_layers: LayerSpec = DEFAULT_STYLE_LAYERS
    #: How ``content_layers``/``style_layers`` names are read: ``"keras"`` (the Keras/TensorFlow
    #: tutorials: ``conv4_2`` is the activation after the ReLU, swiftnst's ``relu4_2``; ``block4_conv2``
    #: too), ``"torch"`` (swiftnst's names: ``conv4_2`` before the ReLU, ``relu4_2`` after), or None:
    #: swiftnst's names, with a warning when a ``convB_I`` layer is named. Layers are stored mapped.
    layer_convention: str | None = None
    style_weight: float = _ENGINE.style_weight
    #: The style loss: ``"gram"`` (Gatys et al.), ``"w2"`` (Wasserstein-2 distance between Gaussians fitted to
    #: each style layer's features) or ``"gram+histogram"`` (the Gram loss plus Risser et al.'s histogram loss
    #: at ``histogram_layers``); see ``nst_session_params.style_loss``.
    style_loss: str = _ENGINE.style_loss
    #: Layers of the histogram loss (``"gram+histogram"``), in the forms of ``style_layers``.
    histogram_layers: LayerSpec = DEFAULT_HISTOGRAM_LAYERS
    #: Weight of the histogram loss (``"gram+histogram"``).
    histogram_weight: float = _ENGINE.histogram_weight
    #: Total-variation (smoothness) weight.
    tv_weight: float = _ENGINE.tv_weight
    #: One blend weight per style image (normalised to sum 1); None = equal weights.
    style_blend_weights: Sequence[float] | None = None
    #: Style images are resized to ``style_scale`` times the generated image's longest side.
    style_scale: float = 1.0
    #: Starting image: ``"content"``; ``"noise"`` (uniform random pixels); ``"noise:R"``
    #: ((1 - R) * content + R * noise, 0 <= R <= 1); ``"tutorial"`` (the Coursera assignment's
    #: 0.6 * uniform(-20, 20) + 0.4 * content in the model's mean-subtracted input space, see
    #: ``tutorial.generate_noise_image``); or the path of an image (resized to fit).
    init: str = "content"
    #: ``"max"`` or ``"avg"`` pooling in the network.
    pooling: str = _ENGINE.pooling
    #: Keep the content's colours: luminance-only transfer (result's Y with the content's CbCr).
    preserve_colors: bool = False
    #: Seed of the noise initialisation; the same seed on the same machine gives identical output bytes.
    seed: int = 0
    #: Coarse-to-fine optimisation: True, False, or None = on when ``image_size`` > MULTISCALE_AUTO_ABOVE.
    multiscale: bool | None = None
    #: Longest side of the coarsest scale of a multi-scale run (sizes halve down to at least this).
    multiscale_min_size: int = 256
    #: Return the image with the lowest objective seen (True) or the last one (False).
    keep_best: bool = True
    #: Print the losses every N steps (0 = never).
    print_every: int = 0
    #: Save a snapshot every N steps into ``snapshot_dir``, plus a grid ``iterations.png`` (0 = never).
    save_every: int = 0
    #: Directory for snapshots (required when save_every > 0; created if missing).
    snapshot_dir: str | os.PathLike | None = None
    #: Show a tqdm progress bar (appears once a run has taken two seconds; in a Jupyter kernel it is one
    #: output replaced in place, so a saved notebook keeps one line per run, not one per redraw).
    progress: bool = True
    #: Engine worker threads, 0 = one per core.
    threads: int = _ENGINE.threads
    #: On Ctrl-C: raise :class:`StyleTransferInterrupted` (True) or return the best image so far (False).
    raise_on_interrupt: bool = True
    #: Memory budget of the whole process: bytes, or a size like ``"4G"``, ``"1500M"``, ``"2.5GiB"``
    #: (stored as bytes). The planner picks the evaluation strategy and L-BFGS history to fit it and
    #: refuses, before any work, a render that cannot. None: 75 % of the memory available when planning.
    max_memory: int | str | None = None
    #: Wall-clock limit: seconds, or ``"90s"``, ``"20m"``, ``"1h"`` (stored as seconds). The schedule is
    #: fitted to it and the run stops with the best image when it is reached. None: no limit.
    time_limit: float | str | None = None
    #: Weight of the preview anchor on the scales of a render above ``schedule.LARGE_OUTPUT_ABOVE`` px
    #: that are larger than ``schedule.ANCHOR_SIDE``: the objective also judges the image downscaled to
    #: about that size, so a large render keeps the look of the preview-size one (``Session.set_anchor``).
    #: 0 turns it off.
    anchor_weight: float = 1.0
    #: Stop a scale early once its lowest total loss fell by less than this fraction over the last
    #: :data:`TOLERANCE_WINDOW` (10) steps; 0: run every step.
    tolerance: float = 0.0
    #: Checkpoint file (see :mod:`swiftnst.checkpoint`), written atomically at every scale's start, every
    #: ``checkpoint_every`` steps, and when the run stops early (Ctrl-C, SIGTERM, the time limit); resume
    #: with ``stylize(..., resume=PATH)``. None: no checkpoints.
    checkpoint: str | os.PathLike | None = None
    #: Steps between checkpoints (>= 1).
    checkpoint_every: int = 50
    #: One grayscale mask per style image (paths, PIL images or arrays; resized to the result): style i is
    #: matched only where mask i is bright, with its Gram statistics over that region (Gatys et al. 2017).
    #: None: the styles are blended everywhere.
    style_masks: Sequence[object] | None = None
    #: A grayscale mask of where the content is kept (bright: fully, dark: not at all); None: everywhere.
    content_mask: object | None = None
    #: Colour control (``color_control.COLOR_CONTROLS``): ``"none"``; ``"post"`` (the result's luminance with
    #: the content's chroma; ``preserve_colors=True`` is the same); ``"luminance"`` (only luminance is
    #: optimised, the style's matched to the content's mean and variance, then the content's chroma);
    #: ``"histogram"`` (each style's colours matched to the content's distribution before optimising).
    color_control: str = "none"
    #: Longest side of the style images in pixels at the result's size, instead of ``style_scale`` (smaller
    #: scales of a multi-scale run keep the same ratio). None: ``style_scale`` decides.
    style_size: int | None = None
    #: jcjohnson/neural-style's ``-normalize_gradients``: each layer's gradient is divided by its L1 norm.
    normalize_gradients: bool = False

    def __post_init__(self) -> None:
        checked_int(self.image_size, "image_size", minimum=1, maximum=NST_MAX_IMAGE_SIDE,
                    maximum_note=" (the engine's limit)")
        checked_int(self.iterations, "iterations", minimum=1)
        if self.optimizer not in OPTIMIZER_CODES:
            raise ValueError(f"optimizer must be {_choices(OPTIMIZER_CODES)}, got {self.optimizer!r}")
        if self.objective not in OBJECTIVE_CODES:
            raise ValueError(f"objective must be {_choices(OBJECTIVE_CODES)}, got {self.objective!r}")
        _check_finite(self.learning_rate, "learning_rate", positive=True)
        checked_int(self.lbfgs_history, "lbfgs_history", bits=32, minimum=1)
        if self.lbfgs_storage is not None and self.lbfgs_storage not in LBFGS_STORAGE_CODES:
            raise ValueError(f"lbfgs_storage must be {_choices(LBFGS_STORAGE_CODES)} or None, got {self.lbfgs_storage!r}")
        if self.lbfgs_line_search not in LINE_SEARCH_CODES:
            raise ValueError(f"lbfgs_line_search must be {_choices(LINE_SEARCH_CODES)}, got {self.lbfgs_line_search!r}")
        check_layer_convention(self.layer_convention)
        if self.style_loss not in STYLE_LOSS_CODES:
            raise ValueError(f"style_loss must be {_choices(STYLE_LOSS_CODES)}, got {self.style_loss!r}")
        for name in ("content_layers", "style_layers", "histogram_layers"):
            try:
                object.__setattr__(self, name, parse_layer_weights(getattr(self, name), self.layer_convention))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            if self.layer_convention is None:
                _warn_about_ambiguous_layers(name, getattr(self, name))
        for name in ("content_weight", "style_weight", "tv_weight", "histogram_weight"):
            _check_finite(getattr(self, name), name, minimum=0.0)
        if self.style_blend_weights is not None:
            if isinstance(self.style_blend_weights, (str, bytes)) or not isinstance(self.style_blend_weights, Iterable):
                raise ValueError(f"style_blend_weights must be a list of numbers, one per style image, "
                                 f"got {self.style_blend_weights!r}")
            for w in self.style_blend_weights:
                _check_finite(w, "style blend weight", minimum=0.0)
            blend = tuple(float(w) for w in self.style_blend_weights)
            if not blend or sum(blend) <= 0:
                raise ValueError("style_blend_weights must contain at least one weight > 0")
            object.__setattr__(self, "style_blend_weights", blend)
        _check_finite(self.style_scale, "style_scale", positive=True)
        if self.pooling not in POOLING_CODES:
            raise ValueError(f"pooling must be {_choices(POOLING_CODES)}, got {self.pooling!r}")
        self.noise_ratio()  # validates init
        checked_int(self.seed, "seed", minimum=0)
        checked_int(self.multiscale_min_size, "multiscale_min_size", minimum=16)
        for name in ("print_every", "save_every"):
            checked_int(getattr(self, name), name, minimum=0)
        checked_int(self.threads, "threads", bits=32, minimum=0)
        if self.save_every and self.snapshot_dir is None:
            raise ValueError("save_every > 0 needs a snapshot_dir")
        if self.max_memory is not None:
            object.__setattr__(self, "max_memory", parse_memory_size(self.max_memory, "max_memory"))
        if self.time_limit is not None:
            object.__setattr__(self, "time_limit", parse_duration(self.time_limit, "time_limit"))
        _check_finite(self.tolerance, "tolerance", minimum=0.0)
        _check_finite(self.anchor_weight, "anchor_weight", minimum=0.0)
        checked_int(self.checkpoint_every, "checkpoint_every", minimum=1)
        if self.checkpoint is not None:
            object.__setattr__(self, "checkpoint", os.fspath(self.checkpoint))
        self._check_control()

    def _check_control(self) -> None:
        """The spatial and colour control options (``style_masks`` to ``normalize_gradients``)."""
        if self.color_control not in COLOR_CONTROLS:
            raise ValueError(f"color_control must be {' or '.join(map(repr, COLOR_CONTROLS))}, got {self.color_control!r}")
        if self.preserve_colors and self.color_control not in ("none", "post"):
            raise ValueError(f"preserve_colors is color_control 'post'; it cannot be combined with "
                             f"color_control {self.color_control!r}")
        if self.preserve_colors or self.color_control == "post":
            object.__setattr__(self, "color_control", "post")
            object.__setattr__(self, "preserve_colors", True)
        if self.style_size is not None:
            checked_int(self.style_size, "style_size", minimum=1, maximum=NST_MAX_IMAGE_SIDE,
                        maximum_note=" (the engine's limit)")
            if self.style_scale != 1.0:
                raise ValueError("give style_size or style_scale, not both")
        if self.style_masks is not None:
            if isinstance(self.style_masks, (str, bytes, os.PathLike)) or not isinstance(self.style_masks, Iterable):
                raise ValueError(f"style_masks must be a list of masks, one per style image, got {self.style_masks!r}")
            masks = tuple(os.fspath(m) if isinstance(m, os.PathLike) else m for m in self.style_masks)
            if not masks:
                raise ValueError("style_masks is empty (give one mask per style image, or None)")
            object.__setattr__(self, "style_masks", masks)
        if isinstance(self.content_mask, os.PathLike):
            object.__setattr__(self, "content_mask", os.fspath(self.content_mask))
        given = [*(self.style_masks or ()), *([] if self.content_mask is None else [self.content_mask])]
        if self.checkpoint is not None and not all(isinstance(mask, str) for mask in given):
            raise ValueError("a checkpointed run needs its style_masks and content_mask as file paths "
                             "(a checkpoint stores the options, not images)")
        if not isinstance(self.normalize_gradients, bool):
            raise ValueError(f"normalize_gradients must be True or False, got {self.normalize_gradients!r}")
        unsupported = {"style masks": self.style_masks is not None, "normalize_gradients": self.normalize_gradients,
                       "objective='coursera'": self.objective == "coursera"}
        for what in (name for name, given in unsupported.items() if given and self.style_loss != "gram"):
            raise ValueError(f"style_loss={self.style_loss!r} does not support {what} yet (only 'gram' does)")

    def style_scale_at(self, image_size: int) -> float:
        """The style images' scale relative to a result of ``image_size`` px: ``style_size / image_size``
        with ``style_size``, else ``style_scale``."""
        return self.style_size / image_size if self.style_size is not None else self.style_scale

    def uses_masks(self) -> bool:
        """Whether a run with these options sets masks (an RGBA content image also does, found when loaded)."""
        return self.style_masks is not None or self.content_mask is not None

    def style_loss_arguments(self) -> dict[str, object]:
        """The ``Session`` keywords of the style loss (``style_loss``, ``histogram_layers``, ``histogram_weight``)."""
        return {"style_loss": self.style_loss, "histogram_layers": dict(self.histogram_layers),
                "histogram_weight": self.histogram_weight}

    def active_histogram_layers(self) -> LayerWeights:
        """The histogram layers the objective uses: ``histogram_layers`` with ``"gram+histogram"``, else none."""
        return self.histogram_layers if self.style_loss == "gram+histogram" else ()

    def noise_ratio(self) -> float | None:
        """The noise fraction of a ``content``/``noise``/``noise:R``/``tutorial`` init, or None for an image path."""
        if self.init == "content":
            return 0.0
        if self.init == "tutorial":
            return TUTORIAL_NOISE_RATIO
        match = _INIT_NOISE.fullmatch(self.init)
        if not match:
            if not self.init:
                raise ValueError("init must be 'content', 'noise', 'noise:R' or an image path")
            return None
        ratio = 1.0 if match.group(1) is None else _parse_float(match.group(1), "noise ratio in init")
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"noise ratio in init must be in [0, 1], got {ratio}")
        return ratio

    def uses_multiscale(self) -> bool:
        """Whether a run with these options is coarse-to-fine."""
        return self.image_size > MULTISCALE_AUTO_ABOVE if self.multiscale is None else self.multiscale
