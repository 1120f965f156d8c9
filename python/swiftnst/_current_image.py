"""The ``image_fn`` a progress callback receives: the current image on request, its size at once."""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["CurrentImage"]


class CurrentImage:
    """``image_fn()`` renders the current image (RGB uint8, at the current scale's size);
    ``image_fn.shape`` is that scale's ``(height, width)``, known without rendering: at a large scale
    the rendered copies take hundreds of megabytes beside the engine's, so a callback that only needs
    the size reads ``shape``."""

    def __init__(self, render: Callable[[], np.ndarray], shape: tuple[int, int]) -> None:
        self._render = render
        self.shape = shape

    def __call__(self) -> np.ndarray:
        return self._render()
