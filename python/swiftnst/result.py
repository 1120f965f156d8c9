"""A style transfer's result that shows itself in Jupyter, with the run's loss history.

:func:`swiftnst.notebook.stylize` returns one; :func:`swiftnst.stylize` keeps returning a plain NumPy
array. The result is also array-like (``np.asarray(result)``, ``plt.imshow(result)``)::

    from swiftnst.notebook import stylize

    result = stylize("cat.jpg", "stone.jpg", image_size=256)
    result                               # the last expression of a cell: the image is displayed
    result.history.plot()
    result.image                         # uint8 (H, W, 3), what swiftnst.stylize returns; (H, W, 4) with
                                         # the content's alpha for an RGBA content image
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
from PIL import Image

from .loss_history import LossHistory

__all__ = ["StyleTransferResult", "DISPLAY_MAX_SIDE"]

#: The notebook display of a result is at most this many pixels on its longest side, so a print-size
#: render does not put megabytes of PNG into the notebook file; :attr:`StyleTransferResult.image`
#: and :meth:`~StyleTransferResult.to_pil` keep the full resolution.
DISPLAY_MAX_SIDE = 1024


@dataclasses.dataclass(frozen=True, eq=False)
class StyleTransferResult:
    """The image of a run and how it got there.

    Attributes:
        image: the result, RGB uint8 (H, W, 3), or RGBA (H, W, 4) when the content image had an alpha
            channel (what :func:`swiftnst.stylize` returns).
        history: every step's losses.
        interrupted: whether the run was interrupted (Ctrl-C, the notebook's stop button); ``image``
            is then the best image reached.
        output: where the image was saved, or None.
    """

    image: np.ndarray
    history: LossHistory
    interrupted: bool = False
    output: Path | None = None

    def __post_init__(self) -> None:
        image = np.asarray(self.image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
            raise ValueError(f"image must be RGB or RGBA uint8 (H, W, 3 or 4), got {image.dtype} {image.shape}")

    def to_pil(self) -> Image.Image:
        """The image as a PIL image, at full resolution."""
        return Image.fromarray(self.image, "RGB" if self.image.shape[2] == 3 else "RGBA")

    def _repr_png_(self) -> bytes:
        """Jupyter's rich display: the image as PNG, at most :data:`DISPLAY_MAX_SIDE` pixels on its longest side."""
        picture = self.to_pil()
        picture.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        return buffer.getvalue()

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        """The image, for ``np.asarray(result)`` and anything that takes arrays (NumPy's ``copy``
        semantics: ``copy=False`` refuses a conversion that would copy)."""
        return np.array(self.image, dtype=dtype, copy=copy)

    def __repr__(self) -> str:
        height, width = self.image.shape[:2]
        steps = f"{len(self.history)} steps" + (", interrupted" if self.interrupted else "")
        loss = f", final loss {self.history[-1].total:.4g}" if len(self.history) else ""
        return f"<StyleTransferResult {width}x{height}, {steps}{loss}>"
