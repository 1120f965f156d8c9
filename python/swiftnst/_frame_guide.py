"""What a video frame's render takes from the previous frame's (``swiftnst.video``): the start image and
the temporal-consistency target (Ruder et al. 2016). Made by ``_flow.frame_guide``; used by ``transfer``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import images
from ._padding import pad, pad_mask

__all__ = ["FrameGuide"]


@dataclass(frozen=True)
class FrameGuide:
    """The previous frame's result warped to this frame by optical flow (float RGB (H, W, 3) in [0, 1], the
    frame's size): the render starts from it, and with ``weight`` > 0 its final scale adds the engine's
    temporal term towards it, weighted per pixel by ``weight * certainty``; ``certainty`` (H, W) in [0, 1]
    is 0 where the flow is unreliable (disocclusions, motion boundaries), 1 elsewhere."""

    warped: np.ndarray
    certainty: np.ndarray
    weight: float

    def __post_init__(self) -> None:
        if self.warped.ndim != 3 or self.warped.shape[2] != 3 or self.certainty.shape != self.warped.shape[:2]:
            raise ValueError(f"a frame guide needs an (H, W, 3) image and an (H, W) certainty, got "
                             f"{self.warped.shape} and {self.certainty.shape}")
        if not (self.weight >= 0 and np.isfinite(self.weight)):
            raise ValueError(f"temporal weight must be finite and >= 0, got {self.weight!r}")

    def temporal_target(self, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """The temporal term's target (float RGB) and per-pixel weights at a scale of (``height``, ``width``),
        padded as the session's images (the padding weighted 0)."""
        warped, certainty = images.resize(self.warped, height, width), self.certainty
        if certainty.shape != (height, width):
            certainty = images.resize(np.repeat(certainty[..., None], 3, axis=2), height, width)[..., 0]
        return pad(warped), pad_mask(self.weight * certainty)
