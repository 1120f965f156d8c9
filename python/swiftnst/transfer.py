"""Neural style transfer end to end: the optimisation loop, multi-scale, colour preservation,
snapshots, progress and Ctrl-C (the options are :class:`~swiftnst.options.StyleTransferOptions`;
the checks of output paths and derived sizes, made before the model loads, are in ``_outputs`` and
``_sizes``).

The engine does all the numerics (a :class:`~swiftnst.session.Session` evaluates the objective
and takes optimiser steps). This module loads and resizes images, converts them to and from the
model's input space, drives the session **one step at a time** (so Python callbacks, progress bars
and Ctrl-C work between steps) and writes results.

Typical use::

    import swiftnst
    image = swiftnst.stylize("cat.jpg", "stone.jpg", image_size=256, iterations=300)
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

from . import images
from ._errors import StyleTransferInterrupted
from ._outputs import SNAPSHOT_GRID_NAME, prepare_outputs, snapshot_name
from ._signals import deferred_signals, print_line
from ._sizes import PAD_MULTIPLE, check_run_sizes, style_side
from .images import ImageSource
from .model import Model
from .options import (
    DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, MULTISCALE_AUTO_ABOVE, STYLE_LAYER_PRESETS,
    StyleTransferOptions, parse_layer_weights,
)
from .session import Losses, Session
from .weights import convert
from .weights.pth_convention import check_convention_name

__all__ = [
    "StyleTransferInterrupted",
    "ProgressCallback",
    "scale_plan",
    "stylize",
    # Defined in .options, still importable from here:
    "DEFAULT_CONTENT_LAYERS",
    "DEFAULT_STYLE_LAYERS",
    "STYLE_LAYER_PRESETS",
    "MULTISCALE_AUTO_ABOVE",
    "StyleTransferOptions",
    "parse_layer_weights",
]

#: ``callback(iteration, losses, image_fn)``: called after every optimiser step; ``iteration``
#: counts steps over all scales from 1; ``image_fn()`` returns the current image (RGB uint8, at
#: the current scale's size, colours preserved if requested), computed only when called.
ProgressCallback = Callable[[int, Losses, Callable[[], np.ndarray]], object]

#: The snapshot grid shows at most this many snapshots (evenly spaced, the last one included), and
#: only their grid-sized thumbnails are kept during a run: memory stays bounded however many steps.
MAX_GRID_SNAPSHOTS = 100
#: Height of a snapshot in the grid (``images.make_grid``'s cell height).
GRID_CELL_HEIGHT = 192


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
            input_convention: str | None = None,
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
        input_convention: ``"caffe"`` or ``"torchvision"``: the input a ``.pth`` ``model`` file's
            weights expect, when it is not recognised (see ``swiftnst.weights.convert``).
        output: if given, the result is saved there (atomically; format from the extension).
        callback: ``callback(iteration, losses, image_fn)`` after every step (see :data:`ProgressCallback`).
        options: a :class:`StyleTransferOptions`; keyword overrides (e.g. ``iterations=100``)
            are applied on top of it (or of the defaults).

    Returns:
        The result, exactly ``image_size`` on its longest side with the content's aspect ratio.

    Raises:
        ValueError: invalid options (including blend weights not matching the styles, or a
            ``style_scale`` that would make a style image larger than the engine allows).
        ImageError: an image cannot be loaded, or ``output``/``snapshot_dir`` cannot be written
            (unsupported extension, a directory, an input image, a directory that cannot be
            created or written): found before the model is loaded. An existing ``output`` is
            replaced, with a warning on the ``swiftnst`` logger.
        NSTOutOfMemoryError: the largest image of the run cannot fit in the available memory.
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
    if not isinstance(model, (Model, str, os.PathLike, type(None))):
        raise TypeError(f"model must be a Model, a weights file path or None, got {type(model).__name__}")
    if input_convention is not None and not isinstance(model, (str, os.PathLike)):
        raise ValueError("input_convention applies to a .pth weights file given as model")
    check_convention_name(input_convention)
    output = Path(output) if output is not None else None
    init = [options.init] if options.noise_ratio() is None else []
    prepare_outputs(output, Path(options.snapshot_dir) if options.save_every else None, [content, *styles, *init])
    content_rgb = images.load_image(content)
    style_rgbs = [images.load_image(s) for s in styles]
    init_rgb = images.load_image(init[0]) if init else None
    names = [f"style image '{s}'" if isinstance(s, (str, os.PathLike)) else f"style image {i + 1}"
             for i, s in enumerate(styles)]
    style_sides = check_run_sizes(options.image_size, options.style_scale, content_rgb.shape,
                                  [s.shape for s in style_rgbs], names)
    owned = not isinstance(model, Model)
    net = _open_model(model, input_convention) if owned else model
    try:
        _check_layers_exist(net, options)
        return _Transfer(net, options, content_rgb, list(zip(style_rgbs, style_sides)), blend, callback,
                         init_rgb).run(output)
    finally:
        if owned:
            net.close()


def _open_model(path: str | os.PathLike | None, input_convention: str | None) -> Model:
    """Load weights; files in a source format (Keras .h5, MatConvNet .mat, torchvision .pth,
    lpips .ckpt) are converted to the engine's safetensors first (cached in $SWIFTNST_HOME/weights/converted)."""
    if path is not None and (input_convention is not None or Path(path).suffix.lower() != ".safetensors"):
        path = convert(path, input_convention=input_convention)
    return Model(path)


def _check_layers_exist(model: Model, options: StyleTransferOptions) -> None:
    known = set(model.layer_names)
    for name, _ in options.content_layers + options.style_layers:
        if name not in known:
            raise ValueError(f"the {model.architecture} model has no layer '{name}'")


class _Transfer:
    """One run: the scales, the step loop and its side effects (progress, snapshots, callback)."""

    def __init__(self, model: Model, options: StyleTransferOptions, content: np.ndarray,
                 styles: list[tuple[np.ndarray, int]], blend: Sequence[float], callback: ProgressCallback | None,
                 init: np.ndarray | None) -> None:
        """``content``, the ``styles`` and the ``init`` image (None unless ``options.init`` is a path) are
        RGB uint8 as loaded, each style with the largest side the run resizes it to (``_sizes.check_run_sizes``)."""
        self.model, self.options, self.callback = model, options, callback
        self.final_shape = images.fit_longest_side(content.shape[0], content.shape[1], options.image_size)
        # Float copies only at the largest size the run needs, never of the full-size inputs.
        self.content = _float_at_most(content, options.image_size)
        self.styles = [_float_at_most(style, side) for style, side in styles]
        self.init = _float_at_most(init, options.image_size) if init is not None else None
        self.blend = blend
        self.shape = self.final_shape           # (height, width) of the current scale, before padding
        self.iteration = 0
        self.printing = True
        self.snapshots: list[tuple[int, np.ndarray]] = []   # (iteration, grid thumbnail)
        snapshot_count = options.iterations // options.save_every if options.save_every else 0
        self.grid_stride = max(1, -(-snapshot_count // MAX_GRID_SNAPSHOTS))
        self.rng = np.random.default_rng(options.seed)

    def run(self, output: Path | None) -> np.ndarray:
        plan = scale_plan(self.options.image_size, self.options.iterations,
                          self.options.uses_multiscale(), self.options.multiscale_min_size)
        result: np.ndarray | None = None        # float RGB of the last finished scale
        session: Session | None = None
        bar = tqdm(total=self.options.iterations, disable=not self.options.progress, delay=2.0,
                   unit="it", dynamic_ncols=True, file=sys.stderr)
        interrupted = False
        image: np.ndarray | None = None
        try:
            try:
                for size, steps in plan:
                    session = self._make_session(size, result)
                    self._optimise(session, steps, bar)
                    result = self._pick(session)
                    session.close()
                    session = None
            except KeyboardInterrupt:
                if session is None and result is None:
                    raise                       # nothing to save yet
                interrupted = True
            # From here to the saved result, a second Ctrl-C (or SIGTERM) waits: it cannot lose the image.
            with deferred_signals():
                if interrupted and session is not None:
                    # The engine's state is consistent between steps, so the best image so far is valid.
                    result = self._pick(session)
                image = self._finish(result, output)
        except KeyboardInterrupt:
            if image is None:
                raise
            interrupted = True                  # a held signal, delivered once the result was saved
        finally:
            if session is not None:
                session.close()
            bar.close()
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
            for style, weight in zip(self.styles, self.blend):
                if weight > 0:
                    side = style_side(style.shape, max(height, width), o.style_scale)
                    session.add_style(self.model.preprocess(images.resize_longest_side(style, side)), weight)
            session.set_image(self.model.preprocess(start))
        except BaseException:
            session.close()
            raise
        return session

    def _initial(self, content: np.ndarray) -> np.ndarray:
        ratio = self.options.noise_ratio()
        height, width = content.shape[:2]
        if self.init is not None:
            return images.resize(self.init, height, width)
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
            if self.printing and o.print_every and self.iteration % o.print_every == 0:
                # A closed standard output (``| head``) ends the printing, not the run.
                self.printing = print_line(f"iteration {self.iteration}/{o.iterations}: total {losses.total:.6g}, "
                                           f"content {losses.content:.6g}, style {losses.style:.6g}, "
                                           f"tv {losses.tv:.6g}")
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
        images.save_image(rgb, Path(self.options.snapshot_dir) / snapshot_name(self.iteration))
        taken = self.iteration // self.options.save_every
        if (taken - 1) % self.grid_stride == 0 or self.iteration + self.options.save_every > self.options.iterations:
            self.snapshots.append((self.iteration, images.thumbnail(images.to_uint8(rgb), GRID_CELL_HEIGHT)))

    def _finish(self, result: np.ndarray, output: Path | None) -> np.ndarray:
        final = images.resize(result, *self.final_shape)
        if self.options.preserve_colors:
            final = images.transfer_luminance(final, self.content)
        image = images.to_uint8(final)
        if output is not None:
            images.save_image(image, output)
        if self.snapshots:
            grid = images.make_grid([snap for _, snap in self.snapshots],
                                    [f"iteration {i}" for i, _ in self.snapshots], cell_height=GRID_CELL_HEIGHT)
            images.save_image(grid, Path(self.options.snapshot_dir) / SNAPSHOT_GRID_NAME)
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


def _float_at_most(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` as float, downscaled first if its longest side is above ``side`` (the largest the run needs)."""
    if max(rgb.shape[:2]) > side:
        return images.resize_longest_side(images.to_float(rgb), side)
    return images.to_float(rgb)


def _crop(rgb: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Undo :func:`_pad`: the top-left ``shape`` (height, width) of the image (a contiguous copy)."""
    return np.ascontiguousarray(rgb[:shape[0], :shape[1]])
