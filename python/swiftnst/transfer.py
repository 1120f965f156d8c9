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

import contextlib
import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from . import images
from ._current_image import CurrentImage
from ._errors import StyleTransferInterrupted
from ._frame_guide import FrameGuide
from ._initial_image import initial_image
from ._model_source import check_layers_exist, check_model_argument, open_model
from ._outputs import SNAPSHOT_GRID_NAME, image_format, prepare_outputs, snapshot_name
from ._run_control import RunControl
from ._run_masks import RunMasks
from ._session_pool import SessionPool, open_scale_session
from ._signals import deferred_signals, print_line, terminate_like_ctrl_c
from ._padding import crop, float_at_most, pad
from ._sizes import check_run_sizes
from .color_control import CHROMA_FROM_CONTENT, prepare_colors
from .checkpoint import Checkpoint, check_inputs, input_hashes, read_checkpoint, resume_options, write_checkpoint
from .images import ImageSource
from .model import Model
from .options import (
    DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, MULTISCALE_AUTO_ABOVE, STYLE_LAYER_PRESETS,
    StyleTransferOptions, parse_layer_weights,
)
from .planner import RenderPlan, ScalePlan, plan_render
from .schedule import scale_plan
from .session import Losses, Session

__all__ = [
    "StyleTransferInterrupted",
    "ProgressCallback",
    "TransferResult",
    "scale_plan",
    "stylize",
    "stylize_result",
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
#: the current scale's size, colours preserved if requested), computed only when called, and
#: ``image_fn.shape`` is that size, ``(height, width)``, without computing it. The return value
#: decides whether the run goes on, as for ``Session.step``'s callback: a true one (``True``, or any
#: value ``bool()`` takes as true, such as ``1`` or ``np.True_``) stops the run cleanly, ``None`` (no
#: ``return``) or ``False`` goes on. A stopped run skips its remaining steps and scales, and
#: ``stylize`` saves and returns the best image so far (the last one with ``keep_best=False``), as
#: when a time limit is reached.
ProgressCallback = Callable[[int, Losses, CurrentImage], bool | None]

#: The snapshot grid shows at most this many snapshots (evenly spaced, the last one included), and
#: only their grid-sized thumbnails are kept during a run: memory stays bounded however many steps.
MAX_GRID_SNAPSHOTS = 100
#: Height of a snapshot in the grid (``images.make_grid``'s cell height).
GRID_CELL_HEIGHT = 192

logger = logging.getLogger("swiftnst")

# MARK: - Running


def stylize(content: ImageSource, style: ImageSource | Sequence[ImageSource], *,
            model: Model | str | os.PathLike | None = None,
            input_convention: str | None = None,
            output: str | os.PathLike | None = None,
            callback: ProgressCallback | None = None,
            options: StyleTransferOptions | None = None,
            resume: str | os.PathLike | None = None,
            **option_overrides) -> np.ndarray:
    """Render ``content`` in the style of ``style`` and return the result as RGB uint8 (H, W, 3).

    Args:
        content: path, PIL image, or RGB array (uint8, or float in [0, 1]).
        style: one style image, or a list of them (blended by ``style_blend_weights``).
        model: a loaded :class:`Model` (kept open), a weights path, a model name (``"vgg19"``,
            ``"vgg16"``: ``swiftnst.weights.MODEL_NAMES``) for its cached weights (fetched if missing), or
            None for the default VGG-19; a model it opens is closed when done. The default loss weights
            suit every model (the engine loads each into the Caffe input range).
        input_convention: ``"caffe"`` or ``"torchvision"``: the input a ``.pth`` ``model`` file's
            weights expect, when it is not recognised (see ``swiftnst.weights.convert``).
        output: if given, the result is saved there (atomically; format from the extension).
        callback: ``callback(iteration, losses, image_fn)`` after every step; returning True stops the run
            with the best image so far (see :data:`ProgressCallback`).
        options: a :class:`StyleTransferOptions`; keyword overrides (e.g. ``iterations=100``)
            are applied on top of it (or of the defaults).
        resume: a checkpoint file (``checkpoint=PATH`` option of an earlier run) to continue from: the
            result is bitwise the uninterrupted run's (same machine, library and threads). The options
            and plan are the checkpoint's; only run-control options (``checkpoint.RUN_CONTROL_OPTIONS``)
            may be changed, any other option given must equal the checkpoint's. The content and style
            must be the same images (their hashes are checked).

    The render follows :func:`swiftnst.plan`'s plan (logged on the ``swiftnst`` logger): scales,
    steps, evaluation strategy and L-BFGS history fitted to ``max_memory`` and ``time_limit``; with a
    ``time_limit`` the run stops with the best image when it is reached, with a ``tolerance`` a scale
    ends once its loss stops falling.

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
        MemoryBudgetError: the render cannot fit ``max_memory``; raised before any image is loaded
            into the engine, the message names the smallest budget that would work.
        NSTError: the engine failed (its message says why).
        StyleTransferInterrupted: Ctrl-C (or SIGTERM while checkpointing), when ``raise_on_interrupt``.
        CheckpointError: ``resume`` is not a valid checkpoint or does not fit the inputs or options.
    """
    return stylize_result(content, style, model=model, input_convention=input_convention, output=output,
                          callback=callback, options=options, resume=resume, **option_overrides).image


@dataclasses.dataclass(frozen=True)
class TransferResult:
    """A render's result (:func:`stylize_result`): the image as :func:`stylize` returns it; the engine's
    ``losses`` of it before colour preservation (with ``keep_best`` the best image's, else the last step's,
    evaluated at its start; None without a step; their ``iteration`` counts over the session's life); the
    ``iterations`` (steps over all scales); the ``plan``; the scales whose session came from the pool."""

    image: np.ndarray
    losses: Losses | None
    iterations: int
    plan: RenderPlan
    reused_sessions: int


def stylize_result(content: ImageSource, style: ImageSource | Sequence[ImageSource], *,
                   sessions: SessionPool | None = None, plan_log_level: int = logging.INFO,
                   guide: FrameGuide | None = None, **option_overrides: Any) -> TransferResult:
    """:func:`stylize` with the same arguments (and errors), returning a :class:`TransferResult`.

    ``sessions``: a :class:`~swiftnst._session_pool.SessionPool` the scales take their sessions from and give
    back to, so renders with the same sizes, settings and style images compute the style targets once (each
    result bitwise a fresh session's); None: sessions are closed. ``plan_log_level``: the plan's log level.
    ``guide``: a video frame's :class:`~swiftnst._frame_guide.FrameGuide` (at the result's size), the start
    image instead of ``init`` and the temporal target of the final scale.
    """
    names = ("model", "input_convention", "output", "callback", "options", "resume")
    model, input_convention, output, callback, options, resume = (option_overrides.pop(n, None) for n in names)
    started = time.monotonic()  # a time limit counts from here (less the time a resumed run had taken)
    saved = read_checkpoint(resume) if resume is not None else None
    if saved is not None:
        options = resume_options(saved, options, option_overrides)
        started -= saved.elapsed
    else:
        options = dataclasses.replace(options or StyleTransferOptions(), **option_overrides)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise ValueError("at least one style image is needed")
    blend = options.style_blend_weights or (1.0,) * len(styles)
    if len(blend) != len(styles):
        raise ValueError(f"got {len(blend)} style blend weights for {len(styles)} style images")
    check_model_argument(model, input_convention)
    output = Path(output) if output is not None else None
    init = [options.init] if options.noise_ratio() is None else []
    masks_given = [*(options.style_masks or ()), *([] if options.content_mask is None else [options.content_mask])]
    prepare_outputs(output, Path(options.snapshot_dir) if options.save_every else None,
                    [content, *styles, *init, *masks_given], Path(options.checkpoint) if options.checkpoint else None)
    content_rgb = images.load_image(content)
    style_rgbs = [images.load_image(s) for s in styles]
    init_rgb = images.load_image(init[0]) if init else None
    names = [f"style image '{s}'" if isinstance(s, (str, os.PathLike)) else f"style image {i + 1}"
             for i, s in enumerate(styles)]
    style_sides = check_run_sizes(options.image_size, options.style_scale_at(options.image_size), content_rgb.shape,
                                  [s.shape for s in style_rgbs], names)
    masks = RunMasks.load(content, content_rgb.shape[:2], styles, options.content_mask, options.style_masks)
    masks.check_style_loss(options.style_loss)
    hashes = input_hashes(content_rgb, style_rgbs, masks.arrays())
    if saved is not None:
        check_inputs(saved, hashes)
    owned = not isinstance(model, Model)
    net = open_model(model, input_convention) if owned else model
    try:
        check_layers_exist(net, options)
        # The plan refuses a budget it cannot meet, before work; a resumed run keeps its plan.
        plan = saved.plan if saved is not None else plan_render(
            net, options, content_rgb.shape[:2], [s.shape[:2] for s in style_rgbs], masks=masks.count())
        logger.log(plan_log_level, "%s", plan)
        run = _Transfer(net, options, plan, content_rgb, list(zip(style_rgbs, style_sides)), blend, callback,
                        init_rgb, hashes, saved, masks, sessions, guide)
        image = run.run(output, started)
        return TransferResult(image, run.result_losses, run.iteration, plan, run.reused_sessions)
    finally:
        if owned:
            net.close()


class _Transfer:
    """One run: the scales, the step loop and its side effects (progress, snapshots, callback)."""

    def __init__(self, model: Model, options: StyleTransferOptions, plan: RenderPlan, content: np.ndarray,
                 styles: list[tuple[np.ndarray, int]], blend: Sequence[float], callback: ProgressCallback | None,
                 init: np.ndarray | None, hashes: dict, resume: Checkpoint | None, masks: RunMasks,
                 sessions: SessionPool | None, guide: FrameGuide | None = None) -> None:
        """``content``, the ``styles`` and the ``init`` image (None unless ``options.init`` is a path) are
        RGB uint8 as loaded, each style with the largest side the run resizes it to (``_sizes.check_run_sizes``);
        ``hashes`` identify the inputs in checkpoints and in the keys of ``sessions`` (the pool to reuse
        sessions from, or None), ``resume`` is the checkpoint to continue from, ``masks`` are the run's
        spatial control, ``guide`` a video frame's."""
        self.model, self.options, self.plan, self.callback, self.guide = model, options, plan, callback, guide
        self.hashes, self.resume, self.sessions = hashes, resume, sessions
        self.session_key: tuple = ()          # the key of the current scale's session in ``sessions``
        self.reused_sessions = 0
        self.last_losses: Losses | None = None
        self.result_losses: Losses | None = None  # the engine's losses of the image ``_pick`` chose
        self.final_shape = images.fit_longest_side(content.shape[0], content.shape[1], options.image_size)
        # Float copies only at the largest size the run needs, never of the full-size inputs.
        # ``colors``: the content whose chroma a "post" or "luminance" result takes.
        self.colors = float_at_most(content, options.image_size)
        self.content, self.styles = prepare_colors(options.color_control, self.colors,
                                                   [float_at_most(style, side) for style, side in styles])
        self.init = float_at_most(init, options.image_size) if init is not None else None
        self.masks, self.blend = masks, blend
        self.shape = self.final_shape           # (height, width) of the current scale, before padding
        self.iteration = 0
        self.printing = True
        self.snapshots: list[tuple[int, np.ndarray]] = []   # (iteration, grid thumbnail)
        snapshot_count = plan.iterations // options.save_every if options.save_every else 0
        self.grid_stride = max(1, -(-snapshot_count // MAX_GRID_SNAPSHOTS))
        self.rng = np.random.default_rng(options.seed)
        self.scale_index = self.scale_steps = self.scale_taken = 0  # where the run is, for checkpoints
        if resume is not None:
            self.iteration = resume.iteration
            self.rng.bit_generator.state = resume.rng_state

    def run(self, output: Path | None, started: float) -> np.ndarray:
        """Optimise every scale of the plan (a time limit counting from ``started``), save and return."""
        result: np.ndarray | None = None        # float RGB of the last finished scale
        session: Session | None = None
        control = RunControl(self.plan, self.options.progress, started)
        interrupted = False
        image: np.ndarray | None = None
        # While checkpointing, SIGTERM stops like Ctrl-C (a host's own SIGTERM handler is left alone).
        terminate = (terminate_like_ctrl_c(keep_custom_handler=True) if self.options.checkpoint is not None
                     else contextlib.nullcontext())
        try:
            with terminate:
                try:
                    first = self.resume.scale_index if self.resume is not None else 0
                    for index, scale in enumerate(self.plan.scales[first:], first):
                        reason = control.run_stop_reason() if index > first else None
                        if reason is not None:
                            logger.info("%s: the remaining scales are skipped", reason)
                            break
                        steps = control.start_scale(index)
                        resumed = self.resume if index == first else None
                        session = self._make_session(scale, result, resumed)
                        self.scale_index, self.scale_steps = index, resumed.scale_steps if resumed else steps
                        self.scale_taken = resumed.scale_taken if resumed else 0
                        if resumed is not None:
                            control.resume_scale(resumed.scale_losses)
                        self._checkpoint(session, control)
                        control.end_scale(self._optimise(session, control))
                        result = self._pick(session)
                        self._release(session)
                        session = None
                except KeyboardInterrupt:
                    if session is None and result is None:
                        raise                   # nothing to save yet
                    interrupted = True
                # From here to the saved result, a second Ctrl-C (or SIGTERM) waits: it cannot lose the image.
                with deferred_signals():
                    if interrupted and session is not None:
                        # The engine's state is consistent between steps, so the best image so far is valid.
                        self._checkpoint(session, control)
                        result = self._pick(session)
                    image = self._finish(result, output)
        except KeyboardInterrupt:
            if image is None:
                raise
            interrupted = True                  # a held signal, delivered once the result was saved
        finally:
            if session is not None:
                session.close()
            control.close()
        if interrupted and self.options.raise_on_interrupt:
            raise StyleTransferInterrupted(image, self.iteration, output)
        return image

    # Setting up one scale.

    def _make_session(self, scale: ScalePlan, previous: np.ndarray | None, resumed: Checkpoint | None) -> Session:
        """A session at the scale's size padded to ``PAD_MULTIPLE`` (see :func:`~swiftnst._padding.pad`), evaluated
        and with the L-BFGS history as planned, in the ``resumed`` checkpoint's state if given; images
        leave it only through :meth:`_read`, which crops back to ``self.shape``. From ``self.sessions``
        when it holds one made the same way (its style targets are then reused)."""
        height, width = self.shape = scale.height, scale.width
        content = images.resize(self.content, height, width)
        if resumed is not None:
            start = content  # replaced by the checkpoint's image; the noise generator is not drawn from
        elif previous is not None:
            start = images.resize(previous, height, width)
        elif self.guide is not None:
            start = images.resize(self.guide.warped, height, width)
        else:
            start = initial_image(content, self.init, self.options, self.model, self.rng)
        content, start = pad(content), pad(start)
        styles = [(index, digest, style, weight) for index, (digest, style, weight)
                  in enumerate(zip(self.hashes["styles"], self.styles, self.blend)) if weight > 0]
        session, self.session_key, reused = open_scale_session(
            self.model, self.options, scale, content.shape[:2], styles, self.sessions, self.plan.spare_bytes(scale),
            masks=self.masks, mask_digests=tuple(self.hashes["masks"]))
        self.reused_sessions += reused
        try:
            session.set_content(self.model.preprocess(content))
            session.set_image(self.model.preprocess(start))
            if self._temporal_scale(scale):
                target, weights = self.guide.temporal_target(height, width)
                session.set_temporal_target(self.model.preprocess(target), weights)
            if resumed is not None:
                session.load_state(resumed.session_state)
        except BaseException:
            session.close()
            raise
        return session

    def _release(self, session: Session) -> None:
        """Done with the scale's session: back into the pool (without a temporal target), or closed without one."""
        if self.sessions is None:
            session.close()
        else:
            if self._temporal_scale(self.plan.scales[self.scale_index]):
                session.set_temporal_target(None, None)
            self.sessions.give_back(self.session_key, session, self.plan.scales[self.scale_index].engine_bytes)

    def _temporal_scale(self, scale: ScalePlan) -> bool:
        """Whether ``scale`` carries the guide's temporal term: the final one, with a weight."""
        return self.guide is not None and self.guide.weight > 0 and scale is self.plan.scales[-1]

    # The step loop.

    def _optimise(self, session: Session, control: RunControl) -> int:
        """The scale's remaining steps, fewer when ``control`` stops it; returns the steps taken in it."""
        o = self.options
        while self.scale_taken < self.scale_steps:
            reason = control.stop_reason()
            if reason is not None:
                logger.info("scale %dx%d stopped after %d steps: %s", *self.shape[::-1], self.scale_taken, reason)
                self._checkpoint(session, control)
                return self.scale_taken
            with deferred_signals():  # a step and its bookkeeping are never separated (checkpoints rely on it)
                losses = session.step(1)
                self.iteration += 1
                self.scale_taken += 1
                self.last_losses = losses
                control.step_done(losses.total, f"iteration {self.iteration}: loss {losses.total:.4g} (content "
                                                f"{losses.content:.3g}, style {losses.style:.3g}, tv {losses.tv:.3g})")
            if self.iteration % o.checkpoint_every == 0:
                self._checkpoint(session, control)
            if self.printing and o.print_every and self.iteration % o.print_every == 0:
                # A closed standard output (``| head``) ends the printing, not the run.
                self.printing = print_line(f"iteration {self.iteration}/{self.plan.iterations}: total "
                                           f"{losses.total:.6g}, content {losses.content:.6g}, style "
                                           f"{losses.style:.6g}, tv {losses.tv:.6g}")
            if o.save_every and self.iteration % o.save_every == 0:
                self._save_snapshot(self._render(session.image))
            if self.callback is not None and self.callback(
                    self.iteration, losses, CurrentImage(lambda: images.to_uint8(self._render(session.image)),
                                                         self.shape)):
                control.request_stop("the callback asked to stop")
        return self.scale_taken

    def _checkpoint(self, session: Session, control: RunControl) -> None:
        """Write the checkpoint (with the ``checkpoint`` option): where the run is and the session's state."""
        if self.options.checkpoint is None:
            return
        write_checkpoint(self.options.checkpoint, Checkpoint(
            self.options, self.plan, self.scale_index, self.scale_steps, self.scale_taken, self.iteration,
            control.elapsed(), self.rng.bit_generator.state, control.scale_losses(), self.hashes,
            session.save_state()))
        logger.info("checkpoint written to %s at iteration %d", self.options.checkpoint, self.iteration)

    def _pick(self, session: Session) -> np.ndarray:
        """The scale's result as float RGB: the best image seen, or the last one (its losses: ``result_losses``)."""
        best = self.options.keep_best
        self.result_losses = session.best_losses if best else self.last_losses
        return self._read(session.best_image if best else session.image)

    def _render(self, x: np.ndarray) -> np.ndarray:
        """Session image -> float RGB as the user will see it (colours preserved if asked)."""
        rgb = self._read(x)
        return images.transfer_luminance(rgb, self.colors) if self.options.color_control in CHROMA_FROM_CONTENT else rgb

    def _read(self, x: np.ndarray) -> np.ndarray:
        """A (padded, model-space) session image -> float RGB at the scale's true size; every
        image leaving a session goes through here."""
        return crop(self.model.deprocess(x), self.shape)

    # Outputs.

    def _save_snapshot(self, rgb: np.ndarray) -> None:
        images.save_image(rgb, Path(self.options.snapshot_dir) / snapshot_name(self.iteration))
        taken = self.iteration // self.options.save_every
        if (taken - 1) % self.grid_stride == 0 or self.iteration + self.options.save_every > self.plan.iterations:
            self.snapshots.append((self.iteration, images.thumbnail(images.to_uint8(rgb), GRID_CELL_HEIGHT)))

    def _finish(self, result: np.ndarray, output: Path | None) -> np.ndarray:
        final = images.resize(result, *self.final_shape)
        if self.options.color_control in CHROMA_FROM_CONTENT:
            final = images.transfer_luminance(final, self.colors)
        image = self.masks.with_alpha(images.to_uint8(final), image_format(output) if output is not None else None)
        if output is not None:
            images.save_image(image, output)
        if self.snapshots:
            grid = images.make_grid([snap for _, snap in self.snapshots],
                                    [f"iteration {i}" for i, _ in self.snapshots], cell_height=GRID_CELL_HEIGHT)
            images.save_image(grid, Path(self.options.snapshot_dir) / SNAPSHOT_GRID_NAME)
        return image
