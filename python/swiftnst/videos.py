"""``swiftnst.video``: a clip (a video file or a folder of frames) rendered frame by frame in a style, each
frame started from the previous result warped by dense optical flow and, optionally, held to it by the
engine's temporal-consistency term (Ruder, Dosovitskiy and Brox 2016) where the flow is trusted; the
result is a video (with the source's sound) or a folder of frames. Needs ``swiftnst[video]``.

Distribution: a frame needs the previous frame's result, so the frames of one shot render in order. Shots
(cuts are found where the flow trusts less than ``cut_below`` of the frame) are independent, and so are the
chunks a long shot is cut into with ``chunk_frames``: those are the tasks that run in parallel on Dask
(``workers``/``scheduler``, as ``swiftnst.batch``). A chunk starts afresh from its first frame, so a chunk
boundary inside a shot may show a jump; without ``chunk_frames`` only cuts separate chunks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
from tqdm.auto import tqdm

from . import images
from ._arguments import checked_int
from ._batch_worker import release_process_cache
from ._errors import ImageError
from ._flow import PairFlow, import_cv2, pair_flow
from ._model_source import check_model_argument
from ._video_io import VIDEO_SUFFIXES, import_imageio, read_frames, write_frames
from ._video_worker import ChunkResult, ChunkTask, render_chunk
from .batching import execution_options
from .options import StyleTransferOptions
from .session import Losses

__all__ = ["DEFAULT_TEMPORAL_WEIGHT", "VideoResult", "video"]

#: The temporal term's weight (for 0..255 inputs, with the default content and style weights): that of
#: Ruder et al.'s implementation (artistic-videos, ``-temporal_weight 1e3``), whose losses are ours.
DEFAULT_TEMPORAL_WEIGHT = 1e3
#: A frame whose flow from the previous frame trusts less than this share of its pixels starts a new shot.
CUT_BELOW = 0.2
#: Options of one render that a video frame cannot take.
_REFUSED_OPTIONS = ("save_every", "checkpoint")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoResult:
    """The stylised ``frames`` (RGB uint8) and the engine's ``losses`` of each (as ``TransferResult.losses``;
    ``temporal`` is the temporal term's), where they went (``output``), the frame rate, the ``chunks``
    (``(first frame, frame count)`` of each, in order), and each chunk's worker."""

    frames: tuple[np.ndarray, ...]
    losses: tuple[Losses | None, ...]
    output: Path
    fps: float
    chunks: tuple[tuple[int, int], ...]
    workers: tuple[str, ...]


def video(source: str | os.PathLike, style: str | os.PathLike | Sequence[str | os.PathLike],
          output: str | os.PathLike, *, model: str | os.PathLike | None = None, input_convention: str | None = None,
          options: StyleTransferOptions | None = None, temporal_weight: float = DEFAULT_TEMPORAL_WEIGHT,
          chunk_frames: int | None = None, cut_below: float = CUT_BELOW, fps: float | None = None,
          workers: int | None = None, scheduler: str | None = None, progress: bool = True,
          **option_overrides: Any) -> VideoResult:
    """Render the clip ``source`` in the style of ``style`` into ``output``.

    Args:
        source: a video file (anything ffmpeg reads) or a folder of frames (image files, in name order).
        style: a style image path, or several (blended by ``style_blend_weights``).
        output: a video file (``.mp4``, ``.mkv``, ``.mov``, ``.avi``, ``.webm``; with the source's sound) or a
            folder (created) that receives ``frame_00001.png``, ...; never the source.
        model, input_convention: the weights, as in :func:`swiftnst.stylize` (a path or None: each worker
            process loads them).
        options, option_overrides: every frame's render options, as in ``stylize`` (``image_size`` is the
            frames' longest side); not ``save_every`` nor ``checkpoint``.
        temporal_weight: weight of the temporal-consistency term (0: frames are only started from the warped
            previous result).
        chunk_frames: cut shots into chunks of at most this many frames, which render in parallel (None: whole
            shots).
        cut_below: a frame whose flow trusts less than this share of its pixels starts a new shot.
        fps: frame rate of the result (default: the source video's, or 24 for a folder of frames).
        workers, scheduler: render chunks on a new local Dask cluster of ``workers`` processes or on the
            cluster of ``scheduler``, as :func:`swiftnst.batch` (``swiftnst[distributed]``).
        progress: show a progress bar over the frames.

    Raises:
        ValueError: options a frame does not take, a bad argument.
        ImportError: the ``video`` extra (or, with workers, ``distributed``) is not installed (named).
        ImageError: the source cannot be read, the output would replace it or cannot be written.
        NSTError, MemoryBudgetError: as ``stylize``.
    """
    import_cv2()
    import_imageio()
    options = dataclasses.replace(options or StyleTransferOptions(), **option_overrides)
    for name in _REFUSED_OPTIONS:
        if getattr(options, name):
            raise ValueError(f"a video's frames cannot take the option {name}")
    options = dataclasses.replace(execution_options(options, workers, scheduler), print_every=0)
    if not (np.isfinite(temporal_weight) and temporal_weight >= 0):
        raise ValueError(f"temporal_weight must be finite and >= 0, got {temporal_weight!r}")
    if chunk_frames is not None:
        chunk_frames = checked_int(chunk_frames, "chunk_frames", minimum=1)
    check_model_argument(model, input_convention)
    if not isinstance(model, (str, os.PathLike, type(None))):
        raise TypeError("a video's model must be a weights file path or None: each worker process loads it")
    source, output = Path(source), Path(output)
    _check_output(source, output)
    styles = [style] if isinstance(style, (str, os.PathLike)) else list(style)
    style_rgbs = tuple(images.load_image(s) for s in styles)
    clip = read_frames(source, fps)
    height, width = images.fit_longest_side(*clip.frames[0].shape[:2], options.image_size)
    frames = [images.resize(frame, height, width) for frame in clip.frames]
    flows = [pair_flow(previous, current) for previous, current in zip(frames, frames[1:])]
    model_path = os.path.abspath(model) if model is not None else None
    tasks = [ChunkTask(start, tuple(frames[start:start + count]), tuple(flows[start:start + count - 1]), style_rgbs,
                       options, float(temporal_weight), model_path, input_convention)
             for start, count in _chunks(flows, len(frames), chunk_frames, cut_below)]
    logger.info("%d frames of %dx%d in %d chunks", len(frames), width, height, len(tasks))
    results: dict[int, ChunkResult] = {}
    with _outcomes(tasks, workers, scheduler) as outcomes, \
            tqdm(total=len(frames), unit="frame", desc="video", disable=not progress) as bar:
        for result in outcomes:
            results[result.start] = result
            bar.update(len(result.frames))
    ordered = [results[task.start] for task in tasks]
    stylised = tuple(frame for result in ordered for frame in result.frames)
    write_frames(stylised, output, clip.fps, source if clip.has_audio else None)
    return VideoResult(stylised, tuple(losses for result in ordered for losses in result.losses), output, clip.fps, tuple((t.start, len(t.frames)) for t in tasks),
                       tuple(result.worker for result in ordered))


def _check_output(source: Path, output: Path) -> None:
    """Refuse an output that is the source, or a video path that is a directory, before any work."""
    if not source.exists():
        return  # read_frames names the missing source
    if output.exists() and os.path.samefile(source, output):
        raise ImageError(f"output '{output}' is the source: choose another path")
    if output.suffix.lower() in VIDEO_SUFFIXES:
        if output.is_dir():
            raise ImageError(f"output '{output}' is a directory, not a video file")
    elif output.exists() and not output.is_dir():
        raise ImageError(f"output '{output}' is a file: give a video file name ({', '.join(sorted(VIDEO_SUFFIXES))}) "
                         f"or a folder for the frames")


def _chunks(flows: Sequence[PairFlow], count: int, chunk_frames: int | None, cut_below: float) -> list[tuple[int, int]]:
    """``(first frame, frame count)`` of each chunk: a new one at each cut and every ``chunk_frames`` frames."""
    starts = [0]
    for index, flow in enumerate(flows, 1):
        if flow.trusted_fraction < cut_below or (chunk_frames is not None and index - starts[-1] >= chunk_frames):
            starts.append(index)
    return [(start, end - start) for start, end in zip(starts, [*starts[1:], count])]


@contextlib.contextmanager
def _outcomes(tasks: list[ChunkTask], workers: int | None, scheduler: str | None) -> Iterator[Iterator[ChunkResult]]:
    """Each chunk's result as it finishes, here or on Dask; a failed chunk raises its error."""
    if workers is None and scheduler is None:
        try:
            yield (render_chunk(task) for task in tasks)
        finally:
            release_process_cache()
        return
    from ._batch_dask import dask_client, import_distributed

    distributed = import_distributed()
    with dask_client(workers, scheduler) as client:
        futures = [client.submit(render_chunk, task, pure=False) for task in tasks]
        try:
            yield (future.result() for future in distributed.as_completed(futures))
        finally:
            client.cancel(futures)
