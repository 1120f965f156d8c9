"""A live preview of a style transfer in a Jupyter notebook.

While the optimisation runs, one output area shows the current image and a status line
(iteration, losses, speed), replaced in place at each redraw instead of appending a new output.
Interrupting the kernel (Jupyter's stop button, or ``i, i``) stops the run between two steps and
keeps the best image reached so far::

    from swiftnst.notebook import LivePreview

    preview = LivePreview(every=5)
    result = preview.run("cat.jpg", "stone.jpg", image_size=256, iterations=300)
    # after an interrupt: `result` is the best image so far and preview.interrupted is True
    preview.history.plot()                  # every step's losses (a LossHistory)

A :class:`LivePreview` is also a :data:`~swiftnst.transfer.ProgressCallback`, so
``swiftnst.stylize(..., callback=preview)`` shows the same preview (an interrupt then raises
:class:`~swiftnst.StyleTransferInterrupted`, which carries the best image).

For a result that shows itself, :func:`stylize` is :func:`swiftnst.stylize` returning a
:class:`~swiftnst.result.StyleTransferResult` (the image with the run's
:class:`~swiftnst.loss_history.LossHistory`, displayed as the image in Jupyter) instead of a bare array::

    from swiftnst.notebook import stylize

    result = stylize("cat.jpg", "stone.jpg", image_size=256)
    result                                  # shows the image
    result.history.plot()

IPython is imported only when something is drawn, so importing this module needs only swiftnst.
"""

from __future__ import annotations

import base64
import html
import io
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import transfer
from ._current_image import CurrentImage
from .images import ImageSource, to_uint8
from .loss_history import LossHistory
from .result import StyleTransferResult
from .session import Losses
from ._errors import StyleTransferInterrupted
from .options import StyleTransferOptions
from .transfer import ProgressCallback

__all__ = ["LivePreview", "stylize"]


def stylize(content: ImageSource, style: ImageSource | list[ImageSource], *,
            callback: ProgressCallback | None = None, **kwargs) -> StyleTransferResult:
    """:func:`swiftnst.stylize` for notebooks: the same arguments, a result that shows itself.

    The run's losses are recorded in the result's ``history`` (a
    :class:`~swiftnst.loss_history.LossHistory`); a ``callback`` given runs after it at every step and
    stops the run by returning a true value, as with ``swiftnst.stylize``. Progress shows as one
    output replaced in place (from two seconds into the run) unless ``progress=False``.

    An interrupt (the notebook's stop button, Ctrl-C) ends the run after the current step and returns
    the best image reached, with ``interrupted`` set, instead of raising; an interrupt before the
    first step propagates as ``KeyboardInterrupt``.
    """
    return _recorded_run(content, style, LossHistory(), callback, kwargs)


def _recorded_run(content: ImageSource, style: ImageSource | list[ImageSource], history: LossHistory,
                  callback: ProgressCallback | None, kwargs: dict[str, Any]) -> StyleTransferResult:
    """Run :func:`~swiftnst.transfer.stylize` with ``kwargs``, recording every step in ``history`` before
    ``callback`` (whose return value stops the run) sees it; an interrupt returns the best image."""

    def record(iteration: int, losses: Losses, image_fn: CurrentImage) -> bool | None:
        history(iteration, losses, image_fn)
        return callback(iteration, losses, image_fn) if callback is not None else None

    # Always raise on interrupt inside stylize: that is how an interrupted run is told from a finished
    # one; the exception never escapes.
    try:
        image = transfer.stylize(content, style, callback=record, **{**kwargs, "raise_on_interrupt": True})
    except StyleTransferInterrupted as stop:
        return StyleTransferResult(stop.image, history, interrupted=True, output=stop.output)
    output = kwargs.get("output")
    return StyleTransferResult(image, history, output=Path(output) if output is not None else None)


class LivePreview:
    """Shows a running style transfer in a notebook cell, updated in place.

    The output area is an IPython display handle created at the first redraw; later redraws
    replace its content, so a run of any length occupies one output. Every step's losses are
    recorded in :attr:`history` whether or not that step is drawn. Outside IPython (a plain
    script) the status line is printed instead.

    Args:
        every: redraw at most every this many steps.
        min_interval: and at most once per this many seconds: encoding and sending a PNG can cost
            more than a step on a small image, and the browser cannot show faster updates anyway.
            :meth:`run` always draws the final image.
        width: display width of the image in CSS pixels (small images are scaled up with
            visible pixels); None shows it at its own size.

    Attributes:
        history: every step's losses seen (a :class:`~swiftnst.loss_history.LossHistory`: plots,
            exports to CSV or JSON).
        image: the last image drawn, RGB uint8 (H, W, 3), or None before the first redraw.
        interrupted: whether the last :meth:`run` was stopped by an interrupt.
    """

    def __init__(self, every: int = 1, *, min_interval: float = 0.25, width: int | None = None) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        if not (isinstance(min_interval, (int, float)) and math.isfinite(min_interval) and min_interval >= 0):
            raise ValueError(f"min_interval must be a finite number >= 0, got {min_interval!r}")
        if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 1):
            raise ValueError(f"width must be None or an integer >= 1, got {width!r}")
        self.every = every
        self.min_interval = float(min_interval)
        self.width = width
        self.history = LossHistory()
        self.image: np.ndarray | None = None
        self.interrupted = False
        self._total: int | None = None
        self._handle = None
        self._started: float | None = None
        self._last_draw = -math.inf

    # MARK: - Running

    def run(self, content: ImageSource, style: ImageSource | list[ImageSource], **kwargs) -> np.ndarray:
        """Run :func:`~swiftnst.transfer.stylize` with this preview and return its RGB uint8 result.

        Keyword arguments are those of ``stylize`` (``model``, ``output``, ``options`` and option
        overrides such as ``image_size=256``); tqdm's progress bar is off unless ``progress=True``
        is passed, since the preview already shows progress. Each call starts a new output area and
        a new :attr:`history`.

        An interrupt (Ctrl-C, or the notebook's stop button) ends the run after the current step:
        the best image so far is drawn and returned (and saved to ``output`` if given), and
        :attr:`interrupted` is set. An interrupt before the first step leaves nothing to keep and
        propagates as ``KeyboardInterrupt``.
        """
        options = kwargs.get("options") or StyleTransferOptions()
        self._total = kwargs.get("iterations", options.iterations)
        self.history, self.image, self.interrupted = LossHistory(), None, False
        self._handle, self._last_draw = None, -math.inf
        self._started = time.perf_counter()
        result = _recorded_run(content, style, self.history, self._show, {"progress": False, **kwargs})
        self.interrupted = result.interrupted
        self._draw(result.image, self._summary())
        return result.image

    def __call__(self, iteration: int, losses: Losses, image_fn: CurrentImage) -> None:
        """Record one step's losses and redraw if due (the :data:`ProgressCallback` signature)."""
        self.history(iteration, losses, image_fn)
        self._show(iteration, losses, image_fn)

    def _show(self, iteration: int, losses: Losses, image_fn: CurrentImage) -> None:
        """Redraw if due: every ``every`` steps, at most once per ``min_interval`` seconds."""
        now = time.perf_counter()
        if self._started is None:
            self._started = now
        if iteration % self.every == 0 and now - self._last_draw >= self.min_interval:
            self._draw(image_fn(), self._status(iteration, losses, now))
            # Measured after drawing, so a slow frontend cannot make every step a redraw.
            self._last_draw = time.perf_counter()

    # MARK: - Drawing

    def _status(self, iteration: int, losses: Losses, now: float) -> str:
        of_total = f" / {self._total}" if self._total else ""
        elapsed = now - self._started
        speed = f", {len(self.history) / elapsed:.2f} it/s" if elapsed > 0 else ""
        return (f"iteration {iteration}{of_total}: loss {losses.total:.4g} (content {losses.content:.3g}, "
                f"style {losses.style:.3g}, tv {losses.tv:.3g}){speed}")

    def _summary(self) -> str:
        steps = self.history[-1].iteration if len(self.history) else 0
        elapsed = time.perf_counter() - self._started
        if self.interrupted:
            return f"interrupted after {steps} iterations ({elapsed:.1f} s): showing the best image reached"
        last = f", final loss {self.history[-1].total:.4g}" if len(self.history) else ""
        return f"done: {steps} iterations in {elapsed:.1f} s{last}"

    def _draw(self, image: np.ndarray, status: str) -> None:
        self.image = to_uint8(np.asarray(image))
        try:
            from IPython import get_ipython
            from IPython.display import HTML, display
        except ImportError:
            get_ipython = None
        if get_ipython is None or get_ipython() is None:
            print(status, flush=True)
            return
        frame = HTML(self._html(self.image, status))
        if self._handle is None:
            self._handle = display(frame, display_id=True)
        else:
            self._handle.update(frame)

    def _html(self, image: np.ndarray, status: str) -> str:
        buffer = io.BytesIO()
        Image.fromarray(image, "RGB").save(buffer, format="PNG")
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        size = f"width: {self.width}px; image-rendering: pixelated; " if self.width else ""
        return (f'<div class="swiftnst-preview"><img style="{size}display: block" '
                f'src="data:image/png;base64,{data}"/>'
                f'<pre style="margin: 4px 0">{html.escape(status)}</pre></div>')
