"""Sessions kept between renders, so that a later render with the same size, settings and style images
reuses the style targets the engine computed for an earlier one (``swiftnst.batch``).

The engine has no call that moves targets from one session to another, and a session has one size:
so what can be reused is a whole session, by a render of the same padded size, with the same settings
and styles. Such a render sets its own content target and starting image on it (``set_content``,
``set_image``, which restart the optimiser and the best image), so its result is bitwise a fresh
session's; only the style targets (and the buffers the engine grew) carry over.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Hashable, Sequence

import numpy as np

from . import images
from ._padding import pad
from ._run_masks import RunMasks
from ._sizes import style_side
from ._strategies import apply_strategy
from .model import Model
from .options import StyleTransferOptions
from .session import Session

if TYPE_CHECKING:  # the planner imports this module's users
    from .planner import ScalePlan

__all__ = ["SessionPool", "open_scale_session"]

logger = logging.getLogger(__name__)


class SessionPool:
    """Idle sessions, each under the key of everything that made it (``transfer`` builds the keys).

    A render takes the session of its key out of the pool (:meth:`take`) and gives it back after the
    scale (:meth:`give_back`); a session that failed is closed instead, never given back. An idle
    session holds about its scale's predicted step peak (``ScalePlan.engine_bytes``), memory its
    next render's plan does not count: :meth:`take` first closes the least recently used idle
    sessions until the rest fit what that plan leaves (``RenderPlan.spare_bytes``).

    Not thread-safe: one render at a time uses a pool. Close it (or use ``with``) when done.
    """

    def __init__(self) -> None:
        self._idle: OrderedDict[Hashable, tuple[Session, int]] = OrderedDict()
        #: Sessions handed out again, over the pool's life.
        self.reused = 0

    def __len__(self) -> int:
        return len(self._idle)

    @property
    def idle_bytes(self) -> int:
        """The predicted bytes of the idle sessions."""
        return sum(nbytes for _, nbytes in self._idle.values())

    def take(self, key: Hashable, spare_bytes: int) -> Session | None:
        """The idle session made under ``key``, now out of the pool, or None when there is none; before
        returning, the least recently used other idle sessions are closed until the rest hold at most
        ``spare_bytes``."""
        found = self._idle.pop(key, None)
        while self._idle and self.idle_bytes > spare_bytes:
            _, (session, nbytes) = self._idle.popitem(last=False)
            logger.debug("closing an idle session of %d predicted bytes to stay within the memory budget", nbytes)
            session.close()
        if found is None:
            return None
        self.reused += 1
        return found[0]

    def give_back(self, key: Hashable, session: Session, nbytes: int) -> None:
        """Keep ``session`` (made under ``key``, predicted to hold ``nbytes``) for a later :meth:`take`."""
        previous = self._idle.pop(key, None)
        if previous is not None and previous[0] is not session:
            previous[0].close()
        self._idle[key] = (session, nbytes)

    def close(self) -> None:
        """Close every idle session."""
        while self._idle:
            _, (session, _) = self._idle.popitem()
            session.close()

    def __enter__(self) -> "SessionPool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_scale_session(model: Model, options: StyleTransferOptions, scale: ScalePlan, padded: tuple[int, int],
                       styles: Sequence[tuple[int, str, np.ndarray, float]], pool: SessionPool | None,
                       spare_bytes: int, *, masks: RunMasks,
                       mask_digests: tuple[str, ...]) -> tuple[Session, tuple, bool]:
    """The session of one scale of a render, configured as ``scale`` plans, at the ``padded`` (height,
    width), holding the targets of ``styles`` (each: its index among the run's styles, the hash of the
    image as loaded, its float RGB copy, its blend weight > 0) and the run's ``masks`` at the scale (padded
    as the images; ``mask_digests`` identify them), and no content target yet: ``pool``'s session made under
    the same key if there is one (``spare_bytes`` as :meth:`SessionPool.take`), else a new one.

    Returns the session, its key in a pool, and whether it was reused.
    """
    o = options
    shape = (scale.height, scale.width)
    params: dict[str, Any] = dict(content_weight=o.content_weight * masks.content_weight_factor,
                  style_weight=o.style_weight, tv_weight=o.tv_weight,
                  pooling=o.pooling, optimizer=o.optimizer, objective=o.objective, learning_rate=o.learning_rate,
                  lbfgs_history=scale.lbfgs_history or o.lbfgs_history, lbfgs_storage=scale.lbfgs_storage,
                  lbfgs_line_search=o.lbfgs_line_search, threads=o.threads, normalize_gradients=o.normalize_gradients,
                  style_loss=o.style_loss, histogram_weight=o.histogram_weight)
    sides = [style_side(style.shape, max(shape), o.style_scale_at(o.image_size)) for _, _, style, _ in styles]
    # A style target is made from the image (hash), its float copy (whose shape says how far the run
    # downscaled it first; the colour control may have changed it), the side it is resized to at this
    # scale and the masks.
    key = (model, padded, shape, o.content_layers, o.style_layers, o.histogram_layers, tuple(params.items()), scale.strategy,
           scale.anchor_factor, o.anchor_weight if scale.anchor_factor else None, o.color_control, mask_digests,
           tuple((index, digest, style.shape, weight, side)
                 for (index, digest, style, weight), side in zip(styles, sides)))
    if pool is not None:
        reused = pool.take(key, spare_bytes)
        if reused is not None:
            return reused, key, True
    session = Session(model, *padded, content_layers=dict(o.content_layers), style_layers=dict(o.style_layers),
                      histogram_layers=dict(o.histogram_layers), **params)
    try:
        apply_strategy(session, scale.strategy)
        if scale.anchor_factor:
            session.set_anchor(scale.anchor_factor, o.anchor_weight)
        masks.set_masks(session, shape, pad)
        for (index, _, style, weight), side in zip(styles, sides):
            style = images.resize_longest_side(style, side)
            session.add_style(model.preprocess(style), weight,
                              **masks.style_arguments(index, style.shape[:2], shape, pad))
    except BaseException:
        session.close()
        raise
    return session, key, False
