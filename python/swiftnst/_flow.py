"""Dense optical flow between video frames and what a frame's render takes from it (OpenCV, the optional
extra ``swiftnst[video]``): the previous result warped to the frame, and where that warp can be trusted.

This is image pre-processing; the temporal term's numerics are the engine's (``nst_session_set_temporal_target``).
Following Ruder, Dosovitskiy and Brox 2016 ("Artistic style transfer for videos", section 3.2), a pixel of
frame t is trusted when the backward flow (t -> t-1) and the forward flow (t-1 -> t) undo each other
(else it was disoccluded), when it is not on a motion boundary, and, added here because Farneback's flow is
smooth across cuts and untextured areas, when the warped previous frame matches the frame there.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from . import images
from ._extras import import_extra
from ._frame_guide import FrameGuide

__all__ = ["VIDEO_EXTRA", "PairFlow", "frame_guide", "import_cv2", "pair_flow", "warp"]

#: How to install what ``swiftnst video`` needs.
VIDEO_EXTRA = "pip install 'swiftnst[video]'"
#: A mean absolute difference (RGB in [0, 1]) of the warped previous frame above this is a mismatch.
MISMATCH_THRESHOLD = 0.1


def import_cv2() -> ModuleType:
    """The ``cv2`` module, or ``ImportError`` naming the extra that installs it."""
    return import_extra("cv2", "swiftnst video needs OpenCV", VIDEO_EXTRA)


@dataclass(frozen=True)
class PairFlow:
    """Frame t-1 to frame t: ``backward`` (H, W, 2) float32, for each pixel p of frame t the offset
    (dx, dy) to where it was in frame t-1; ``certainty`` (H, W) float32, 1 where that is trusted, else 0."""

    backward: np.ndarray
    certainty: np.ndarray

    @property
    def trusted_fraction(self) -> float:
        """The share of trusted pixels (a new shot starts where it is low)."""
        return float(self.certainty.mean())


def _gray(rgb: np.ndarray) -> np.ndarray:
    return import_cv2().cvtColor(images.to_uint8(rgb), import_cv2().COLOR_RGB2GRAY)


def _farneback(source: np.ndarray, destination: np.ndarray) -> np.ndarray:
    """Flow f with source(p) ~ destination(p + f(p)), both grey uint8 (OpenCV's default-like parameters)."""
    return import_cv2().calcOpticalFlowFarneback(source, destination, None, pyr_scale=0.5, levels=3, winsize=15,
                                                 iterations=3, poly_n=5, poly_sigma=1.2, flags=0)


def warp(image: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """``image`` (frame t-1's, (H, W, C) float32) moved to frame t: each pixel p takes image(p + backward(p)),
    bilinear, edges replicated."""
    cv2 = import_cv2()
    height, width = backward.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return cv2.remap(np.ascontiguousarray(image, dtype=np.float32), grid_x + backward[..., 0],
                     grid_y + backward[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def pair_flow(previous: np.ndarray, current: np.ndarray) -> PairFlow:
    """The flow from ``previous`` to ``current`` (RGB frames of one size, uint8 or float in [0, 1])."""
    previous_gray, current_gray = _gray(previous), _gray(current)
    backward = _farneback(current_gray, previous_gray)
    forward = _farneback(previous_gray, current_gray)
    # Ruder et al. eq. 5: the forward flow seen from frame t should cancel the backward flow.
    forward_at = warp(forward, backward)
    squared = lambda v: (v ** 2).sum(axis=2)  # noqa: E731
    disoccluded = squared(forward_at + backward) > 0.01 * (squared(forward_at) + squared(backward)) + 0.5
    # Eq. 6: motion boundaries, where the backward flow's gradient is large.
    du_y, du_x = np.gradient(backward[..., 0])
    dv_y, dv_x = np.gradient(backward[..., 1])
    boundary = du_x ** 2 + du_y ** 2 + dv_x ** 2 + dv_y ** 2 > 0.01 * squared(backward) + 0.002
    mismatch = np.abs(warp(images.to_float(previous), backward) - images.to_float(current)).mean(axis=2) > MISMATCH_THRESHOLD
    certainty = (~(disoccluded | boundary | mismatch)).astype(np.float32)
    return PairFlow(backward.astype(np.float32), certainty)


def frame_guide(flow: PairFlow, previous_result: np.ndarray, weight: float) -> FrameGuide:
    """The guide of frame t's render: frame t-1's result (float RGB) warped by ``flow``, with its certainty."""
    warped = np.clip(warp(images.to_float(previous_result), flow.backward), 0.0, 1.0)
    return FrameGuide(warped, flow.certainty, weight)
