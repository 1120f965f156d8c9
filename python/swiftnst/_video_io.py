"""Reading and writing the frames of ``swiftnst video``: a video file through imageio's ffmpeg plugin
(``imageio[ffmpeg]``, the optional extra ``swiftnst[video]``) or a folder of images, and the audio of the
source copied into a video result with imageio-ffmpeg's own ffmpeg binary.

A video result is written next to its destination under a temporary name and moved into place when
complete (with its audio), so a reader never sees half a file; a folder result gets each frame atomically.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Sequence

import numpy as np

from . import images
from ._errors import ImageError, ImageNotFoundError
from ._extras import import_extra
from ._files import NotRegularFileError, open_regular_file
from ._flow import VIDEO_EXTRA

__all__ = ["VIDEO_SUFFIXES", "FrameSource", "frame_name", "import_imageio", "read_frames", "write_frames"]

#: Destinations written as one video file; any other path is a folder of frames.
VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".mov", ".avi", ".webm"})
#: Frames per second of a folder of frames, unless given.
DEFAULT_FOLDER_FPS = 24.0
#: Image files read from a folder of frames (in name order).
_FRAME_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})

logger = logging.getLogger(__name__)


def import_imageio() -> ModuleType:
    """``imageio.v2`` with its ffmpeg plugin, or ``ImportError`` naming the extra that installs them."""
    import_extra("imageio_ffmpeg", "swiftnst video needs imageio's ffmpeg plugin", VIDEO_EXTRA)
    return import_extra("imageio.v2", "swiftnst video needs imageio", VIDEO_EXTRA)


@dataclass(frozen=True)
class FrameSource:
    """A clip's frames (RGB uint8, one size), its frame rate and whether it has a sound track to copy."""

    frames: list[np.ndarray]
    fps: float
    has_audio: bool


def frame_name(index: int) -> str:
    """The file name of frame ``index`` (from 0) in a folder result."""
    return f"frame_{index + 1:05d}.png"


def read_frames(source: str | os.PathLike, fps: float | None = None) -> FrameSource:
    """The frames of a video file or of a folder of images (sorted by name; ``fps`` or
    :data:`DEFAULT_FOLDER_FPS`). A video's own frame rate is used unless ``fps`` is given.

    Raises:
        ImageNotFoundError: ``source`` does not exist.
        ImageError: no frames, frames of different sizes, a file that cannot be decoded or that is not a
            regular file (a FIFO, a device; named).
        ImportError: a video file without the ``video`` extra.
    """
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _FRAME_SUFFIXES and p.is_file())
        if not files:
            raise ImageError(f"folder of frames '{path}' holds no image files ({', '.join(sorted(_FRAME_SUFFIXES))})")
        frames = [images.load_image(p) for p in files]
        return FrameSource(_same_size(frames, path), fps or DEFAULT_FOLDER_FPS, has_audio=False)
    if not path.exists():
        raise ImageNotFoundError(f"video '{path}' does not exist")
    try:  # ffmpeg would wait for a FIFO's writer forever, or read a device without end
        open_regular_file(path, "video").close()
    except NotRegularFileError as exc:
        raise ImageError(str(exc)) from None
    imageio = import_imageio()
    try:
        with imageio.get_reader(path, "ffmpeg") as reader:
            meta = reader.get_meta_data()
            frames = [np.ascontiguousarray(frame[..., :3], dtype=np.uint8) for frame in reader]
    except (OSError, RuntimeError, ValueError) as exc:
        # imageio appends ffmpeg's whole log (its banner and configuration) to the first line, its reason
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImageError(f"cannot read video '{path}': not a video ffmpeg can decode ({reason})") from None
    if not frames:
        raise ImageError(f"video '{path}' has no frames")
    return FrameSource(_same_size(frames, path), fps or float(meta.get("fps") or DEFAULT_FOLDER_FPS),
                       has_audio=bool(meta.get("audio_codec")))


def _same_size(frames: list[np.ndarray], source: Path) -> list[np.ndarray]:
    sizes = {frame.shape[:2] for frame in frames}
    if len(sizes) > 1:
        raise ImageError(f"the frames of '{source}' have different sizes: {sorted(sizes)}")
    return frames


def write_frames(frames: Sequence[np.ndarray], output: Path, fps: float, audio_from: Path | None) -> None:
    """Write ``frames`` (RGB uint8) as the video ``output`` (its suffix in :data:`VIDEO_SUFFIXES`; H.264 in
    an mp4) with the sound of ``audio_from`` if given, or as a folder of PNG frames (:func:`frame_name`)."""
    if output.suffix.lower() not in VIDEO_SUFFIXES:
        output.mkdir(parents=True, exist_ok=True)
        for index, frame in enumerate(frames):
            images.save_image(frame, output / frame_name(index))
        return
    imageio = import_imageio()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{output.name}.", dir=output.parent) as work:
        silent = Path(work) / f"frames{output.suffix}"
        # Sides rounded up to even by ffmpeg (macro_block_size 2): H.264's yuv420p needs them.
        with imageio.get_writer(silent, "ffmpeg", fps=fps, macro_block_size=2, ffmpeg_log_level="error") as writer:
            for frame in frames:
                writer.append_data(frame)
        finished = silent if audio_from is None else _with_audio(silent, audio_from, Path(work) / f"muxed{output.suffix}")
        os.replace(finished, output)


def _with_audio(video: Path, audio_from: Path, muxed: Path) -> Path:
    """``video`` with the sound tracks of ``audio_from``: copied as they are, or re-encoded as AAC when the
    container does not take their codec; ``video`` alone (with a warning) when ffmpeg cannot do either."""
    import imageio_ffmpeg
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    for audio_codec in ("copy", "aac"):
        command = [ffmpeg, "-y", "-loglevel", "error", "-i", str(video), "-i", str(audio_from), "-map", "0:v:0",
                   "-map", "1:a?", "-c:v", "copy", "-c:a", audio_codec, "-shortest", str(muxed)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode == 0:
            return muxed
        with contextlib.suppress(FileNotFoundError):
            muxed.unlink()
    logger.warning("the sound of '%s' could not be copied (ffmpeg: %s); the result has none", audio_from,
                   done.stderr.strip().splitlines()[-1:] or "no message")
    return video
