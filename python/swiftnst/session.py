"""``Session``: one style-transfer problem (owns one ``nst_session`` handle) and its ``Losses``."""

from __future__ import annotations

import ctypes
import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np

from . import _bindings as C
from ._arguments import (
    c_strings, check_image, check_mask, checked_int, lbfgs_storage_code, line_search_code, objective_code,
    optimizer_code, pooling_code, style_loss_code,
)
from ._errors import NSTInvalidArgumentError, check
from ._handles import NativeHandle
from ._signals import deferred_signals, is_main_thread
from .model import Model

#: ``callback(losses)`` after every step; return True to stop.
StepCallback = Callable[["Losses"], "bool | None"]


@dataclass(frozen=True)
class Losses:
    """Losses of one objective evaluation, each already multiplied by its weight (``nst_losses``)."""

    total: float
    content: float
    style: float
    tv: float
    iteration: int    # optimiser steps taken so far in the session
    evaluations: int  # objective evaluations so far in the session
    temporal: float = 0.0  # the temporal-consistency term (:meth:`Session.set_temporal_target`)

    @classmethod
    def from_c(cls, losses: C.nst_losses) -> "Losses":
        return cls(losses.total, losses.content, losses.style, losses.tv, losses.iteration, losses.evaluations,
                   losses.temporal)


def _layer_weights(layers: Mapping[str, float] | Sequence[str], what: str) -> tuple[list[str], np.ndarray]:
    """Names and float32 weights from ``{"relu4_2": 1.0}`` or ``["relu4_2"]`` (weight 1 each)."""
    if isinstance(layers, str):
        raise NSTInvalidArgumentError(f"{what} must be a list of layer names or a {{name: weight}} mapping, "
                                      f"not the string {layers!r}")
    items = list(layers.items()) if isinstance(layers, Mapping) else [(name, 1.0) for name in layers]
    return [name for name, _ in items], np.array([weight for _, weight in items], dtype=np.float32)


class Session(NativeHandle):
    """Optimises one image towards a content target and a blend of style images.

    Objective, defaults and units are those of docs/ARCHITECTURE.md ("Objective"); images are
    float32 ``[3, H, W]`` in the model's input space (``Model.preprocess``). The session keeps a
    reference to its model. It is safe to share between threads (a lock serialises the calls), but
    calls on one session never run in parallel; use one session per thread for that. What a ``step``
    callback may do with its own session is described at ``step``.
    """

    #: The thread running this session's step callback, while it runs (None otherwise).
    _callback_thread: int | None = None

    def __init__(self, model: Model, height: int, width: int, *,
                 content_layers: Mapping[str, float] | Sequence[str] | None = None,
                 style_layers: Mapping[str, float] | Sequence[str] | None = None,
                 content_weight: float | None = None, style_weight: float | None = None,
                 tv_weight: float | None = None, pooling: str | None = None, optimizer: str | None = None,
                 learning_rate: float | None = None, lbfgs_history: int | None = None,
                 lbfgs_storage: str | None = None, threads: int | None = None,
                 normalize_gradients: bool | None = None, objective: str | None = None,
                 lbfgs_line_search: str | None = None, style_loss: str | None = None,
                 histogram_layers: Mapping[str, float] | Sequence[str] | None = None,
                 histogram_weight: float | None = None) -> None:
        """Create the session; every keyword left at None keeps the engine's default
        (``nst_session_default_params()``; the layers: relu4_2 for content, relu1_1 .. relu5_1 for
        style, relu1_1 and relu4_1 for the histogram, weight 1 each). ``threads`` is ``n_threads``
        (0 = one per core); ``lbfgs_storage`` is ``"float32"`` or ``"bfloat16"`` (the L-BFGS pairs
        rounded: half their memory); ``normalize_gradients`` is jcjohnson/neural-style's (each layer's
        gradient divided by its L1 norm).
        ``objective`` is what the content and style weights multiply: ``"neural-style"`` (the default:
        means over each layer) or ``"coursera"`` (the Coursera assignment's J = alpha J_content + beta
        J_style, with ``content_weight`` alpha, ``style_weight`` beta and the style layers' weights
        lambda; with masks each masked term is the neural-style one times the same per-layer factor).
        ``lbfgs_line_search``: ``"none"`` (each L-BFGS move taken whole, as neural-style) or ``"armijo"``
        (a move is shortened until the loss falls enough: no rise of the loss, at the cost of an extra
        evaluation where a move is shortened; ``step`` then returns the losses of the image it moved to).
        ``style_loss`` is ``"gram"``, ``"w2"`` (Wasserstein-2 between Gaussians fitted to the features) or
        ``"gram+histogram"`` (plus Risser et al.'s histogram loss at ``histogram_layers``, weighted by
        ``histogram_weight``; see ``nst_session_params``); only ``"gram"`` combines with style masks,
        ``normalize_gradients`` and the ``"coursera"`` objective."""
        self._lock = threading.Lock()
        self._stepped = False
        self.model = model
        self.height, self.width = checked_int(height, "height", bits=64), checked_int(width, "width", bits=64)
        params = C.nst_session_default_params()
        params.height, params.width = self.height, self.width
        if pooling is not None:
            params.pooling = pooling_code(pooling)
        if optimizer is not None:
            params.optimizer = optimizer_code(optimizer)
        if objective is not None:
            params.objective = objective_code(objective)
        if lbfgs_line_search is not None:
            params.lbfgs_line_search = line_search_code(lbfgs_line_search)
        for field, value in (("content_weight", content_weight), ("style_weight", style_weight),
                             ("tv_weight", tv_weight), ("learning_rate", learning_rate)):
            if value is not None:
                setattr(params, field, value)
        if lbfgs_history is not None:
            params.lbfgs_history = checked_int(lbfgs_history, "lbfgs_history", bits=32)
        if lbfgs_storage is not None:
            params.lbfgs_storage = lbfgs_storage_code(lbfgs_storage)
        if threads is not None:
            params.n_threads = checked_int(threads, "threads", bits=32)
        if normalize_gradients is not None:
            params.normalize_gradients = int(bool(normalize_gradients))
        if style_loss is not None:
            params.style_loss = style_loss_code(style_loss)
        if histogram_weight is not None:
            params.histogram_weight = histogram_weight
        handle = C.nst_session_p()
        check(C.nst_session_init(model.handle, ctypes.byref(params), ctypes.byref(handle)), "nst_session_init")
        self._handle = handle.value
        try:
            if content_layers is not None:
                self._set_layers(C.nst_session_set_content_layers, content_layers, "content_layers")
            if style_layers is not None:
                self._set_layers(C.nst_session_set_style_layers, style_layers, "style_layers")
            if histogram_layers is not None:
                self._set_layers(C.nst_session_set_histogram_layers, histogram_layers, "histogram_layers")
        except BaseException:
            self.close()
            raise

    # MARK: - Lifetime

    def _free(self, handle: int) -> None:
        C.nst_session_free(handle)

    def close(self) -> None:
        """Free the native session; calling it again does nothing."""
        if getattr(self, "_lock", None) is None:  # __init__ failed before anything was allocated
            return
        with self._exclusive():  # not while another thread is inside a call on the handle
            super().close()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """The session's lock for one call, except inside this session's own step callback on this
        thread: the step there holds the lock already, and the engine decides what the callback may do
        (read: yes; change: ``NSTStateError``; close: deferred to the end of the step)."""
        if self._callback_thread == threading.get_ident():
            yield
        else:
            with self._lock:
                yield

    def __repr__(self) -> str:
        return f"Session({self.height}x{self.width}, {'closed' if self.closed else 'open'})"

    # MARK: - Inputs

    def _set_layers(self, function: Callable[..., int], layers: Mapping[str, float] | Sequence[str],
                    what: str) -> None:
        names, weights = _layer_weights(layers, what)
        check(function(self.handle, c_strings(names), weights, len(names)), function.__name__)

    def set_content(self, x: np.ndarray) -> None:
        """Set the content target: float32 ``[3, height, width]`` in model space."""
        image = check_image(x, "content image")
        with self._exclusive():
            check(C.nst_session_set_content_image(self.handle, image, image.size), "nst_session_set_content_image")

    def add_style(self, x: np.ndarray, weight: float = 1.0, *, mask: np.ndarray | None = None,
                  region: np.ndarray | None = None) -> None:
        """Add a style image (float32 ``[3, h, w]`` in model space, any size) with blend ``weight`` > 0.

        ``mask`` (``[h, w]``, values in [0, 1], e.g. the style's alpha): the image's Gram matrices are
        taken over the pixels it covers. ``region`` (``[height, width]`` of the session): the style gets
        its own term, matched over that region of the generated image only and scaled by ``weight``
        (Gatys et al. 2017's spatial control) instead of being blended with the other styles.
        """
        image = check_image(x, "style image")
        style_mask = check_mask(mask, image.shape[1:], "style mask")
        style_region = check_mask(region, (self.height, self.width), "style region")
        with self._exclusive():
            if style_mask is None and style_region is None:
                check(C.nst_session_add_style_image(self.handle, image, image.size, image.shape[1], image.shape[2],
                                                    weight), "nst_session_add_style_image")
                return
            check(C.nst_session_add_style_image_masked(
                self.handle, image, image.size, image.shape[1], image.shape[2], weight,
                style_mask, 0 if style_mask is None else style_mask.size,
                style_region, 0 if style_region is None else style_region.size), "nst_session_add_style_image_masked")

    def set_masks(self, content: np.ndarray | None = None, style: np.ndarray | None = None) -> None:
        """Set the generated image's masks (``[height, width]``, values in [0, 1]; None: all ones):
        ``content`` weights the content term per pixel (e.g. the content's alpha), ``style`` is where the
        styles added without a ``region`` are matched. Replaces earlier masks; targets are kept."""
        shape = (self.height, self.width)
        content_mask, style_mask = check_mask(content, shape, "content mask"), check_mask(style, shape, "style mask")
        with self._exclusive():
            check(C.nst_session_set_masks(self.handle, content_mask, 0 if content_mask is None else content_mask.size,
                                          style_mask, 0 if style_mask is None else style_mask.size),
                  "nst_session_set_masks")

    def clear_styles(self) -> None:
        """Remove every style image."""
        with self._exclusive():
            check(C.nst_session_clear_style_images(self.handle), "nst_session_clear_style_images")

    def set_image(self, x: np.ndarray) -> None:
        """Set the image to optimise; resets the optimiser state and the best image."""
        image = check_image(x, "image")
        with self._exclusive():
            check(C.nst_session_set_image(self.handle, image, image.size), "nst_session_set_image")
            self._stepped = False

    # MARK: - Large renders

    def set_strips(self, split_layer: str | None, rows: int = 0) -> None:
        """Evaluate the layers up to ``split_layer`` (a pooling layer) on strips of ``rows`` image rows.

        ``None`` evaluates the whole image at once (the default, fastest). Strips give the same losses
        and gradient to float rounding with far less memory; ``rows`` must be a positive multiple of
        4, 8, 16, 32 or 64 for pool1..pool5 (see ``nst_session_set_strips``).
        """
        name = split_layer.encode("utf-8") if split_layer is not None else None
        with self._exclusive():
            check(C.nst_session_set_strips(self.handle, name, rows), "nst_session_set_strips")

    def predict_peak_bytes(self, split_layer: str | None = None, rows: int = 0, lbfgs_history: int = 0) -> int:
        """Bytes one ``step`` would hold at its peak with that strip setting (as ``set_strips``) and
        ``lbfgs_history`` full L-BFGS pairs (0: the session's), without changing the session.

        Counts the engine's buffers, including the model's transformed kernels (built on first use);
        not the process baseline or the weights (see ``nst_session_predict_peak_bytes``).
        """
        name = split_layer.encode("utf-8") if split_layer is not None else None
        out = np.zeros(1, dtype=np.int64)
        with self._exclusive():
            check(C.nst_session_predict_peak_bytes(self.handle, name, rows, lbfgs_history, out),
                  "nst_session_predict_peak_bytes")
        return int(out[0])

    def set_anchor(self, factor: int, weight: float = 1.0) -> None:
        """Add the same objective at ``1/factor`` of the size, on the image averaged over
        ``factor`` x ``factor`` blocks, times ``weight`` (``factor`` 0 removes it): the "preview anchor"
        that keeps a large render's look (``nst_session_set_anchor``). Call it before
        :meth:`set_content` and :meth:`add_style`; ``factor`` must divide the height and the width.
        """
        factor = checked_int(factor, "factor", minimum=0)
        with self._exclusive():
            check(C.nst_session_set_anchor(self.handle, factor, weight), "nst_session_set_anchor")

    def set_temporal_target(self, target: np.ndarray | None, weights: np.ndarray | None) -> None:
        """Add the temporal-consistency term of video style transfer (``nst_session_set_temporal_target``):
        the mean over the image's values of ``weights[p] * (x - target)**2``, with ``target`` float32
        ``[3, height, width]`` in model space (the previous frame's result warped to this frame) and
        ``weights`` float32 ``[height, width]``, finite and >= 0 (the term's weight, 0 where the flow is
        unreliable). Its loss is :attr:`Losses.temporal`. Both None remove the term. Resets the optimiser.
        """
        if (target is None) != (weights is None):
            raise NSTInvalidArgumentError("temporal target and weights must both be given, or both be None")
        if target is None or weights is None:
            with self._exclusive():
                check(C.nst_session_set_temporal_target(self.handle, None, 0, None, 0), "nst_session_set_temporal_target")
            return
        image = check_image(target, "temporal target")
        mask = check_mask(weights, image.shape[1:], "temporal weights")
        with self._exclusive():
            check(C.nst_session_set_temporal_target(self.handle, image, image.size, mask, mask.size),
                  "nst_session_set_temporal_target")

    # MARK: - State (checkpoints)

    def save_state(self) -> bytes:
        """The session's optimisation state: image, best image and losses, counters, optimiser state
        (L-BFGS pairs or Adam moments). Layers, targets and strips are not included (see
        ``nst_session_save_state``)."""
        with self._exclusive():
            size = np.zeros(1, dtype=np.int64)
            check(C.nst_session_state_size(self.handle, size), "nst_session_state_size")
            out = np.empty(int(size[0]), dtype=np.uint8)
            check(C.nst_session_save_state(self.handle, out, out.size), "nst_session_save_state")
        return out.tobytes()

    def load_state(self, state: bytes) -> None:
        """Continue from ``state`` (from :meth:`save_state` of a session with the same parameters);
        call it after setting layers and images. The next steps are bitwise those the saved session
        would have taken (same machine and threads). Raises ``NSTInvalidArgumentError`` or
        ``NSTShapeError`` for a state that does not fit or is damaged; the session is then unchanged."""
        data = np.frombuffer(state, dtype=np.uint8)
        with self._exclusive():
            check(C.nst_session_load_state(self.handle, data, data.size), "nst_session_load_state")
            self._stepped = True  # the best losses are the state's (NaN, so None, when it had none)

    # MARK: - Optimisation

    def evaluate(self, x: np.ndarray, gradient: bool = True) -> tuple[Losses, np.ndarray | None]:
        """The objective at ``x`` and, if ``gradient``, d(total)/dx (a new float32 array shaped like ``x``).

        Leaves the session's image and optimiser state unchanged.
        """
        image = check_image(x, "image")
        grad = np.empty_like(image) if gradient else None
        losses = C.nst_losses()
        with self._exclusive():
            check(C.nst_session_evaluate(self.handle, image, image.size, grad, image.size if gradient else 0,
                                         ctypes.byref(losses)), "nst_session_evaluate")
        return Losses.from_c(losses), grad

    def step(self, n: int = 1, callback: StepCallback | None = None) -> Losses:
        """Take ``n`` optimiser steps and return the losses of the last one.

        ``callback(losses)`` runs after every step, on the calling thread; when it returns True the
        steps stop early and the losses of the last step taken are returned (the session keeps that
        image and the best one). An exception raised by the callback stops the steps and propagates.
        On the main thread a Ctrl-C (or SIGTERM) stops them after the current step too, and is raised
        (``KeyboardInterrupt``) as ``step`` returns; the session keeps the steps taken.

        Inside the callback, this session (see ``nst_progress_callback`` in swiftnst.h):

        - can be read: ``image``, ``best_image``, ``best_losses`` and ``predict_peak_bytes`` return the
          state after the step just taken (and the model can be used as anywhere else);
        - cannot be changed: ``set_content``, ``add_style``, ``clear_styles``, ``set_image``,
          ``set_strips``, ``evaluate`` and ``step`` raise ``NSTStateError`` ("not allowed inside this
          session's progress callback") and change nothing;
        - may be closed: ``close()`` stops the steps after the current one, ``step`` returns its
          losses, and the native session is freed before ``step`` returns.

        Other sessions may be used freely. Another thread calling into this session waits until
        ``step`` returns, so the callback must not wait for such a thread (that would deadlock).
        """
        n = checked_int(n, "step(): n", bits=32, minimum=0)
        last = C.nst_losses()
        failure: list[BaseException] = []

        def on_step(losses_p: ctypes._Pointer, _user_data: int | None) -> int:
            outer, self._callback_thread = self._callback_thread, threading.get_ident()
            self._stepped = True  # a step was taken: best_losses inside the callback are its
            try:
                stop = callback is not None and callback(Losses.from_c(losses_p.contents))
                return 1 if stop or interrupts else 0
            except BaseException as exc:  # ctypes would swallow it: keep it and stop the engine
                failure.append(exc)
                return 1
            finally:
                self._callback_thread = outer

        # Ctrl-C and SIGTERM wait for the end of the step: raised on entering on_step (where signal
        # handlers run once the engine calls back) ctypes would swallow them. They stop the steps and
        # are raised as step returns; off the main thread nothing is held, and on_step only calls back.
        with self._exclusive(), deferred_signals() as interrupts:
            c_callback = (C.nst_progress_callback(on_step) if callback is not None or is_main_thread()
                          else C.nst_progress_callback())
            status = C.nst_session_step(self.handle, n, c_callback, None, ctypes.byref(last))
            self._stepped = self._stepped or n > 0
        if failure:
            raise failure[0]
        if status == C.NST_ERR_CANCELLED and (callback is not None or interrupts):
            return Losses.from_c(last)  # the caller's callback (or a signal its handler let pass) stopped them
        check(status, "nst_session_step")
        return Losses.from_c(last)

    # MARK: - Outputs

    @property
    def image(self) -> np.ndarray:
        """A copy of the current image, float32 ``[3, height, width]``."""
        out = np.empty((3, self.height, self.width), dtype=np.float32)
        with self._exclusive():
            check(C.nst_session_get_image(self.handle, out, out.size), "nst_session_get_image")
        return out

    @property
    def best_image(self) -> np.ndarray:
        """A copy of the image with the lowest total loss since ``set_image`` (that image before any step)."""
        return self._best()[0]

    @property
    def best_losses(self) -> Losses | None:
        """The losses of ``best_image``; None before the first step since ``set_image``."""
        return self._best()[1]

    def _best(self) -> tuple[np.ndarray, Losses | None]:
        out = np.empty((3, self.height, self.width), dtype=np.float32)
        losses = C.nst_losses()
        with self._exclusive():
            check(C.nst_session_get_best_image(self.handle, out, out.size, ctypes.byref(losses)),
                  "nst_session_get_best_image")
            stepped = self._stepped
        return out, Losses.from_c(losses) if stepped and not math.isnan(losses.total) else None
