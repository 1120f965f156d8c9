"""Neural style transfer end to end: options, the optimisation loop, multi-scale, colour
preservation, snapshots, progress and Ctrl-C.

The engine does all the numerics (a :class:`~swiftnst.session.Session` evaluates the objective
and takes optimiser steps). This module loads and resizes images, converts them to and from the
model's input space, drives the session **one step at a time** (so Python callbacks, progress bars
and Ctrl-C work between steps) and writes results.

Typical use::

    import swiftnst
    image = swiftnst.stylize("cat.jpg", "stone.jpg", image_size=256, iterations=300)

    nst = swiftnst.NeuralStyleTransfer("cat.jpg", "stone.jpg")
    nst.run(num_iterations=300)            # writes output/generated_image.jpg
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence, Union

import numpy as np
from tqdm.auto import tqdm

from . import images
from .images import ImageSource
from .model import Model
from .session import Losses, Session
from .tutorial import STYLE_LAYERS_TUTORIAL, engine_layer_name
from .weights import ARCHITECTURES, convert, layer_names

__all__ = [
    "DEFAULT_CONTENT_LAYERS",
    "DEFAULT_STYLE_LAYERS",
    "STYLE_LAYER_PRESETS",
    "MULTISCALE_AUTO_ABOVE",
    "StyleTransferOptions",
    "StyleTransferInterrupted",
    "ProgressCallback",
    "parse_layer_weights",
    "scale_plan",
    "stylize",
    "NeuralStyleTransfer",
]

#: Content layers and weights by default (neural-style): relu4_2.
DEFAULT_CONTENT_LAYERS: tuple[tuple[str, float], ...] = (("relu4_2", 1.0),)
#: Style layers and weights by default (neural-style): relu1_1 .. relu5_1, equal weights.
DEFAULT_STYLE_LAYERS: tuple[tuple[str, float], ...] = tuple((f"relu{b}_1", 1.0) for b in range(1, 6))
#: Named style-layer lists: ``default`` and ``tutorial`` (the 8 layers of the "Artistic Neural
#: Transfer" tutorial, its Keras ``convX_Y`` being our post-ReLU ``reluX_Y``; equal weights 1).
STYLE_LAYER_PRESETS: dict[str, tuple[tuple[str, float], ...]] = {
    "default": DEFAULT_STYLE_LAYERS,
    "tutorial": tuple((engine_layer_name(name), 1.0) for name, _ in STYLE_LAYERS_TUTORIAL),
}

#: Multi-scale runs by default when the requested size (longest side) is above this many pixels.
#: Measured on the project's 2-core machine (chelsea + the demo painting, 40 L-BFGS steps, the
#: full-size objective of the result; multi-scale = S/2 -> S): at 512 px multi-scale took 113 s
#: instead of 284 s AND ended lower (8.61e6 vs 9.27e6); at 384 px (76 s vs 133 s: 1.02e7 vs 8.68e6)
#: and 256 px (54 s vs 79 s: 1.02e7 vs 9.07e6) it was faster but ended 12-16 % higher, so it is
#: only a clear win above 384 px.
MULTISCALE_AUTO_ABOVE = 384

#: ``callback(iteration, losses, image_fn)``: called after every optimiser step; ``iteration``
#: counts steps over all scales from 1; ``image_fn()`` returns the current image (RGB uint8, at
#: the current scale's size, colours preserved if requested), computed only when called.
ProgressCallback = Callable[[int, Losses, Callable[[], np.ndarray]], object]

LayerWeights = tuple[tuple[str, float], ...]
LayerSpec = Union[str, Mapping[str, float], Sequence[Union[str, tuple[str, float]]]]

# Names valid in some supported architecture; whether the loaded model has them is checked per run.
_KNOWN_LAYERS = frozenset(name for architecture in ARCHITECTURES for name in layer_names(architecture))
_INIT_NOISE = re.compile(r"noise(?::(.+))?")

#: Every scale is optimised at its size padded (bottom and right, mirrored) up to a multiple of
#: this, then cropped back. VGG's 2x2 pooling floors odd sizes, so otherwise the last ``H % 16``
#: rows (``W % 16`` columns) never reach relu5_1 (4 pools deep), the last ``H % 8`` not relu4_x
#: either, ...: they got little style gradient and stayed a content-coloured band.
PAD_MULTIPLE = 16


def parse_layer_weights(spec: LayerSpec) -> LayerWeights:
    """Normalise a layer specification to ``((name, weight), ...)``.

    Accepted forms: a preset name (``"default"``, ``"tutorial"``); a comma-separated string
    ``"relu1_1,relu2_1:0.5"`` (weight 1 when omitted); a mapping ``{name: weight}``; a sequence of
    names and/or ``(name, weight)`` pairs. Names are swiftnst's (``reluX_Y`` after ReLU,
    ``convX_Y`` before it, ``poolX``).

    Raises:
        ValueError: empty list, unknown layer name, duplicate layer, or a weight that is negative,
            NaN or infinite.
    """
    if isinstance(spec, str):
        if spec in STYLE_LAYER_PRESETS:
            return STYLE_LAYER_PRESETS[spec]
        pairs = []
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, weight = item.partition(":")
            pairs.append((name.strip(), _parse_float(weight, f"weight of layer '{name}'") if weight else 1.0))
    elif isinstance(spec, Mapping):
        pairs = list(spec.items())
    else:
        pairs = [(item, 1.0) if isinstance(item, str) else tuple(item) for item in spec]
    if not pairs:
        raise ValueError("the layer list is empty")
    seen = set()
    for name, weight in pairs:
        if name not in _KNOWN_LAYERS:
            raise ValueError(f"unknown layer name {name!r} (expected reluB_I, convB_I or poolB, e.g. relu4_2)")
        if name in seen:
            raise ValueError(f"layer '{name}' is listed twice")
        seen.add(name)
        _check_finite(float(weight), f"weight of layer '{name}'", minimum=0.0)
    return tuple((name, float(weight)) for name, weight in pairs)


def _parse_float(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {text!r}") from None


def _check_finite(value: float, what: str, *, minimum: float | None = None, positive: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{what} must be > 0, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")


def _check_int(value: int, what: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class StyleTransferOptions:
    """Every option of a style transfer, with defaults; validated on construction (``ValueError``).

    Weights follow jcjohnson/neural-style for 0..255 (Caffe-lineage) models. Change fields with
    ``dataclasses.replace(options, ...)``; the CLI flags mirror these names.
    """

    #: Longest side of the result in pixels (the aspect ratio of the content image is kept).
    image_size: int = 512
    #: Optimiser steps in total (over all scales of a multi-scale run); one evaluation each.
    iterations: int = 500
    #: ``"lbfgs"`` (neural-style's L-BFGS, no line search) or ``"adam"``.
    optimizer: str = "lbfgs"
    #: Adam step size in model input units (0..255 for the default model).
    learning_rate: float = 10.0
    #: L-BFGS correction pairs kept.
    lbfgs_history: int = 100
    #: Content layers with weights (see :func:`parse_layer_weights` for accepted forms).
    content_layers: LayerSpec = DEFAULT_CONTENT_LAYERS
    content_weight: float = 5.0
    #: Style layers with weights, or a preset name (``"default"``, ``"tutorial"``).
    style_layers: LayerSpec = DEFAULT_STYLE_LAYERS
    style_weight: float = 100.0
    #: Total-variation (smoothness) weight.
    tv_weight: float = 1e-3
    #: One blend weight per style image (normalised to sum 1); None = equal weights.
    style_blend_weights: Sequence[float] | None = None
    #: Style images are resized to ``style_scale`` times the generated image's longest side.
    style_scale: float = 1.0
    #: Starting image: ``"content"``; ``"noise"`` (uniform random pixels); ``"noise:R"``
    #: ((1 - R) * content + R * noise, 0 <= R <= 1); or the path of an image (resized to fit).
    init: str = "content"
    #: ``"max"`` or ``"avg"`` pooling in the network.
    pooling: str = "max"
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
    #: Show a tqdm progress bar (appears once a run has taken two seconds).
    progress: bool = True
    #: Engine worker threads, 0 = one per core.
    threads: int = 0
    #: On Ctrl-C: raise :class:`StyleTransferInterrupted` (True) or return the best image so far (False).
    raise_on_interrupt: bool = True

    def __post_init__(self) -> None:
        _check_int(self.image_size, "image_size", 1)
        if self.image_size > 8192:
            raise ValueError(f"image_size must be <= 8192 (the engine's limit), got {self.image_size}")
        _check_int(self.iterations, "iterations", 1)
        if self.optimizer not in ("lbfgs", "adam"):
            raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {self.optimizer!r}")
        _check_finite(self.learning_rate, "learning_rate", positive=True)
        _check_int(self.lbfgs_history, "lbfgs_history", 1)
        object.__setattr__(self, "content_layers", parse_layer_weights(self.content_layers))
        object.__setattr__(self, "style_layers", parse_layer_weights(self.style_layers))
        for name in ("content_weight", "style_weight", "tv_weight"):
            _check_finite(getattr(self, name), name, minimum=0.0)
        if self.style_blend_weights is not None:
            blend = tuple(float(w) for w in self.style_blend_weights)
            for w in blend:
                _check_finite(w, "style blend weight", minimum=0.0)
            if not blend or sum(blend) <= 0:
                raise ValueError("style_blend_weights must contain at least one weight > 0")
            object.__setattr__(self, "style_blend_weights", blend)
        _check_finite(self.style_scale, "style_scale", positive=True)
        if self.pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {self.pooling!r}")
        self.noise_ratio()  # validates init
        _check_int(self.seed, "seed", 0)
        _check_int(self.multiscale_min_size, "multiscale_min_size", 16)
        for name in ("print_every", "save_every", "threads"):
            _check_int(getattr(self, name), name, 0)
        if self.save_every and self.snapshot_dir is None:
            raise ValueError("save_every > 0 needs a snapshot_dir")

    def noise_ratio(self) -> float | None:
        """The noise fraction of a ``content``/``noise``/``noise:R`` init, or None for an image path."""
        if self.init == "content":
            return 0.0
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


class StyleTransferInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a transfer; carries the best image reached (already saved if an output
    path was given). Subclasses KeyboardInterrupt, so uncaught it behaves like a normal Ctrl-C."""

    def __init__(self, image: np.ndarray, iteration: int, output: Path | None) -> None:
        super().__init__(f"interrupted after {iteration} iterations")
        self.image = image
        self.iteration = iteration
        self.output = output


def scale_plan(image_size: int, iterations: int, multiscale: bool, min_size: int = 256) -> list[tuple[int, int]]:
    """Return ``[(longest_side, steps), ...]`` from coarse to fine.

    Sizes halve from ``image_size`` while they stay >= ``min_size``. The final (full) size gets
    half of the steps (rounded up), the coarser sizes share the other half equally: coarse steps
    are cheap (a quarter of the pixels per halving) and fix the large-scale layout, the fine steps
    add the detail. Scales that would get no step are dropped.
    """
    sizes = [image_size]
    while multiscale and sizes[0] // 2 >= min_size:
        sizes.insert(0, sizes[0] // 2)
    final_steps = -(-iterations // 2) if len(sizes) > 1 else iterations
    coarse = sizes[:-1]
    share, extra = divmod(iterations - final_steps, max(1, len(coarse)))
    plan = [(size, share + (1 if i < extra else 0)) for i, size in enumerate(coarse)]
    return [(size, steps) for size, steps in plan if steps > 0] + [(image_size, final_steps)]


# MARK: - Running


def stylize(content: ImageSource, style: ImageSource | Sequence[ImageSource], *,
            model: Model | str | os.PathLike | None = None,
            output: str | os.PathLike | None = None,
            callback: ProgressCallback | None = None,
            options: StyleTransferOptions | None = None,
            **option_overrides) -> np.ndarray:
    """Render ``content`` in the style of ``style`` and return the result as RGB uint8 (H, W, 3).

    Args:
        content: path, PIL image, or RGB array (uint8, or float in [0, 1]).
        style: one style image, or a list of them (blended by ``style_blend_weights``).
        model: a loaded :class:`Model` (kept open), or a weights path, or None for the cached
            default VGG-19 (fetched if missing); a path/None model is closed when done.
        output: if given, the result is saved there (atomically; format from the extension).
        callback: ``callback(iteration, losses, image_fn)`` after every step (see :data:`ProgressCallback`).
        options: a :class:`StyleTransferOptions`; keyword overrides (e.g. ``iterations=100``)
            are applied on top of it (or of the defaults).

    Returns:
        The result, exactly ``image_size`` on its longest side with the content's aspect ratio.

    Raises:
        ValueError: invalid options (including blend weights not matching the styles).
        ImageError: an image cannot be loaded or saved.
        NSTError: the engine failed (its message says why).
        StyleTransferInterrupted: Ctrl-C, when ``raise_on_interrupt`` (the default).
    """
    options = dataclasses.replace(options or StyleTransferOptions(), **option_overrides)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise ValueError("at least one style image is needed")
    blend = options.style_blend_weights or (1.0,) * len(styles)
    if len(blend) != len(styles):
        raise ValueError(f"got {len(blend)} style blend weights for {len(styles)} style images")
    content_rgb = images.load_image(content)
    style_rgbs = [images.load_image(s) for s in styles]
    owned = not isinstance(model, Model)
    net = _open_model(model) if owned else model
    try:
        _check_layers_exist(net, options)
        return _Transfer(net, options, content_rgb, style_rgbs, blend, callback).run(
            Path(output) if output is not None else None)
    finally:
        if owned:
            net.close()


def _open_model(path: str | os.PathLike | None) -> Model:
    """Load weights; files in a source format (Keras .h5, MatConvNet .mat, torchvision .pth,
    lpips .ckpt) are converted to the engine's safetensors first (cached in $SWIFTNST_HOME/weights/converted)."""
    if path is not None and Path(path).suffix.lower() != ".safetensors":
        path = convert(path)
    return Model(path)


def _check_layers_exist(model: Model, options: StyleTransferOptions) -> None:
    known = set(model.layer_names)
    for name, _ in options.content_layers + options.style_layers:
        if name not in known:
            raise ValueError(f"the {model.architecture} model has no layer '{name}'")


class _Transfer:
    """One run: the scales, the step loop and its side effects (progress, snapshots, callback)."""

    def __init__(self, model: Model, options: StyleTransferOptions, content: np.ndarray,
                 styles: list[np.ndarray], blend: Sequence[float], callback: ProgressCallback | None) -> None:
        self.model, self.options, self.callback = model, options, callback
        self.content = images.to_float(content)
        self.styles = [images.to_float(s) for s in styles]
        self.blend = blend
        self.final_shape = images.fit_longest_side(content.shape[0], content.shape[1], options.image_size)
        self.shape = self.final_shape           # (height, width) of the current scale, before padding
        self.iteration = 0
        self.snapshots: list[tuple[int, np.ndarray]] = []
        self.rng = np.random.default_rng(options.seed)

    def run(self, output: Path | None) -> np.ndarray:
        plan = scale_plan(self.options.image_size, self.options.iterations,
                          self.options.uses_multiscale(), self.options.multiscale_min_size)
        result: np.ndarray | None = None        # float RGB of the last finished scale
        session: Session | None = None
        bar = tqdm(total=self.options.iterations, disable=not self.options.progress, delay=2.0,
                   unit="it", dynamic_ncols=True, file=sys.stderr)
        try:
            for size, steps in plan:
                session = self._make_session(size, result)
                self._optimise(session, steps, bar)
                result = self._pick(session)
                session.close()
                session = None
        except KeyboardInterrupt:
            # The engine's state is consistent between steps, so the best image so far is valid.
            if session is not None:
                result = self._pick(session)
            if result is None:
                raise
            interrupted = True
        else:
            interrupted = False
        finally:
            if session is not None:
                session.close()
            bar.close()
        image = self._finish(result, output)
        if interrupted and self.options.raise_on_interrupt:
            raise StyleTransferInterrupted(image, self.iteration, output)
        return image

    # Setting up one scale.

    def _make_session(self, size: int, previous: np.ndarray | None) -> Session:
        """A session at the scale's size padded to :data:`PAD_MULTIPLE` (see :func:`_pad`); images
        leave it only through :meth:`_read`, which crops back to ``self.shape``."""
        o = self.options
        height, width = self.shape = images.fit_longest_side(*self.final_shape, size)
        content = images.resize(self.content, height, width)
        start = images.resize(previous, height, width) if previous is not None else self._initial(content)
        content, start = _pad(content), _pad(start)
        session = Session(self.model, content.shape[0], content.shape[1],
                          content_layers=dict(o.content_layers), style_layers=dict(o.style_layers),
                          content_weight=o.content_weight, style_weight=o.style_weight, tv_weight=o.tv_weight,
                          pooling=o.pooling, optimizer=o.optimizer, learning_rate=o.learning_rate,
                          lbfgs_history=o.lbfgs_history, threads=o.threads)
        try:
            session.set_content(self.model.preprocess(content))
            style_side = max(1, round(o.style_scale * max(height, width)))
            for style, weight in zip(self.styles, self.blend):
                if weight > 0:
                    side = max(style_side, _longest_side_for_short_side(style, PAD_MULTIPLE))
                    session.add_style(self.model.preprocess(images.resize_longest_side(style, side)), weight)
            session.set_image(self.model.preprocess(start))
        except BaseException:
            session.close()
            raise
        return session

    def _initial(self, content: np.ndarray) -> np.ndarray:
        ratio = self.options.noise_ratio()
        height, width = content.shape[:2]
        if ratio is None:
            return images.resize(images.to_float(images.load_image(self.options.init)), height, width)
        if ratio == 0.0:
            return content
        noise = self.rng.random((height, width, 3), dtype=np.float32)
        return (1.0 - ratio) * content + ratio * noise

    # The step loop.

    def _optimise(self, session: Session, steps: int, bar: tqdm) -> None:
        o = self.options
        for _ in range(steps):
            losses = session.step(1)
            self.iteration += 1
            bar.update(1)
            bar.set_postfix_str(f"loss {losses.total:.4g} (content {losses.content:.3g}, "
                                f"style {losses.style:.3g}, tv {losses.tv:.3g})", refresh=False)
            if o.print_every and self.iteration % o.print_every == 0:
                tqdm.write(f"iteration {self.iteration}/{o.iterations}: total {losses.total:.6g}, "
                           f"content {losses.content:.6g}, style {losses.style:.6g}, tv {losses.tv:.6g}",
                           file=sys.stdout)
            if o.save_every and self.iteration % o.save_every == 0:
                self._save_snapshot(self._render(session.image))
            if self.callback is not None:
                self.callback(self.iteration, losses, lambda: images.to_uint8(self._render(session.image)))

    def _pick(self, session: Session) -> np.ndarray:
        """The scale's result as float RGB: the best image seen, or the last one."""
        return self._read(session.best_image if self.options.keep_best else session.image)

    def _render(self, x: np.ndarray) -> np.ndarray:
        """Session image -> float RGB as the user will see it (colours preserved if asked)."""
        rgb = self._read(x)
        return images.transfer_luminance(rgb, self.content) if self.options.preserve_colors else rgb

    def _read(self, x: np.ndarray) -> np.ndarray:
        """A (padded, model-space) session image -> float RGB at the scale's true size; every
        image leaving a session goes through here."""
        return _crop(self.model.deprocess(x), self.shape)

    # Outputs.

    def _save_snapshot(self, rgb: np.ndarray) -> None:
        directory = Path(self.options.snapshot_dir)
        directory.mkdir(parents=True, exist_ok=True)
        images.save_image(rgb, directory / f"iter_{self.iteration:05d}.png")
        self.snapshots.append((self.iteration, images.to_uint8(rgb)))

    def _finish(self, result: np.ndarray, output: Path | None) -> np.ndarray:
        final = images.resize(result, *self.final_shape)
        if self.options.preserve_colors:
            final = images.transfer_luminance(final, self.content)
        image = images.to_uint8(final)
        if output is not None:
            images.save_image(image, output)
        if self.snapshots:
            grid = images.make_grid([snap for _, snap in self.snapshots],
                                    [f"iteration {i}" for i, _ in self.snapshots])
            images.save_image(grid, Path(self.options.snapshot_dir) / "iterations.png")
        return image


def _pad(rgb: np.ndarray) -> np.ndarray:
    """Pad an (H, W, C) image on the bottom and right up to multiples of :data:`PAD_MULTIPLE`:
    mirrored without repeating the edge pixel ("reflect"), or with it ("symmetric", which also
    works for a side of 1 pixel) when the image is not larger than the pad."""
    height, width = rgb.shape[:2]
    pad_h, pad_w = -height % PAD_MULTIPLE, -width % PAD_MULTIPLE
    if not (pad_h or pad_w):
        return rgb
    mode = "reflect" if pad_h < height and pad_w < width else "symmetric"
    return np.pad(rgb, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode)


def _longest_side_for_short_side(rgb: np.ndarray, short: int) -> int:
    """The longest side at which the image's shorter side is at least ``short`` pixels: a style image
    scaled for a result of a few pixels must still reach the deepest style layer (relu5_1 is 4 poolings
    deep, so it needs 16 pixels each way)."""
    height, width = rgb.shape[:2]
    return -(-short * max(height, width) // min(height, width))


def _crop(rgb: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Undo :func:`_pad`: the top-left ``shape`` (height, width) of the image (a contiguous copy)."""
    return np.ascontiguousarray(rgb[:shape[0], :shape[1]])


# MARK: - The seed tutorial's class


class NeuralStyleTransfer:
    """The interface of the "Neural-Style-Transfer" tutorial::

        nst = NeuralStyleTransfer(content_image_path, style_image_path, model_path)
        nst.run(num_iterations=300)     # result in output/generated_image.jpg

    ``model_path`` may be any weights file swiftnst can read or convert (swiftnst safetensors,
    Keras .h5, MatConvNet .mat, torchvision .pth, lpips .ckpt); None uses the cached default
    VGG-19, fetching it if missing. Extra keyword arguments are :class:`StyleTransferOptions`
    fields (e.g. ``image_size=256``).
    """

    #: Where :meth:`run` writes its result, relative to the current directory.
    OUTPUT_PATH = Path("output") / "generated_image.jpg"

    def __init__(self, content_image_path: ImageSource, style_image_path: ImageSource,
                 model_path: str | os.PathLike | None = None, **options) -> None:
        self.content_image_path = content_image_path
        self.style_image_path = style_image_path
        self.model_path = model_path
        self.options = StyleTransferOptions(**options)
        self.generated_image: np.ndarray | None = None

    def run(self, num_iterations: int = 300, callback: ProgressCallback | None = None) -> np.ndarray:
        """Optimise for ``num_iterations`` steps, write ``output/generated_image.jpg`` (creating
        ``output/``) and return the image as RGB uint8 (H, W, 3)."""
        self.OUTPUT_PATH.parent.mkdir(parents=True, exist_ok=True)
        self.generated_image = stylize(self.content_image_path, self.style_image_path,
                                       model=self.model_path, output=self.OUTPUT_PATH, callback=callback,
                                       options=self.options, iterations=num_iterations)
        return self.generated_image
