"""Where a run writes (the result, snapshots, their grid), checked before the work starts.

An output that cannot be written used to be found only after minutes of optimisation, and the result
was lost; an output naming an input image would have replaced it. :func:`prepare_outputs` runs every
check before the model is loaded (``stylize`` calls it, so the CLI and the tutorial class get it too):
a known image extension, not a directory, not an input (compared after resolving links and with
``os.path.samefile``), a directory that exists or can be created and is writable. Files the run will
replace are reported (logged on the ``swiftnst`` logger, printed by the CLI), not refused: re-running
the README's command must keep working.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from PIL import Image

from ._errors import ImageError

logger = logging.getLogger(__name__)

#: The grid of all snapshots, written into the snapshot directory at the end of a run.
SNAPSHOT_GRID_NAME = "iterations.png"
_SNAPSHOT_FILE = re.compile(r"iter_\d{5,}\.png|" + re.escape(SNAPSHOT_GRID_NAME))


def snapshot_name(iteration: int) -> str:
    """File name of the snapshot taken after ``iteration`` steps."""
    return f"iter_{iteration:05d}.png"


def image_format(path: Path) -> str:
    """The Pillow format that writes ``path`` (from its extension), or ImageError naming the path."""
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise ImageError(f"cannot save image '{path}': unknown or unsupported file extension '{path.suffix}' "
                         f"(use .png, .jpg, .webp, .tif, ...)")
    return fmt


def prepare_outputs(output: Path | None, snapshot_dir: Path | None, inputs: Iterable[object],
                    checkpoint: Path | None = None) -> list[Path]:
    """Check the result path, the snapshot directory and the checkpoint file against each other and the
    inputs, then create the missing directories and make sure files can be created in them.

    Args:
        output: the result's path, or None.
        snapshot_dir: the snapshot directory, or None when no snapshots are taken.
        inputs: the run's input images and masks (paths among them are protected; arrays and PIL images
            are ignored).
        checkpoint: the checkpoint file the run writes, or None (it may be the checkpoint it resumes).

    Returns:
        The existing files the run may replace (already reported as warnings on the ``swiftnst`` logger).

    Raises:
        ImageError: the message names the path and the problem.
    """
    input_paths = [Path(source) for source in inputs if isinstance(source, (str, os.PathLike))]
    replaced: list[Path] = []
    if output is not None:
        _check_output_file(output, input_paths)
        if snapshot_dir is not None and _resolved(output.parent) == _resolved(snapshot_dir) \
                and _SNAPSHOT_FILE.fullmatch(output.name):
            raise ImageError(f"cannot save the result as '{output}': the run writes its snapshots under that name")
    if snapshot_dir is not None:
        _check_snapshot_dir(snapshot_dir, input_paths)
    if checkpoint is not None:
        for source, what in [(path, f"the input image '{path}'") for path in input_paths] + \
                [(output, "the result's path")] * (output is not None):
            if _same_file(checkpoint, source):
                raise ImageError(f"cannot write the checkpoint to '{checkpoint}': it is {what}, which the run "
                                 f"would overwrite; choose another checkpoint path")
    for directory in filter(None, (output.parent if output is not None else None, snapshot_dir)):
        make_writable_directory(directory, "snapshot directory" if directory is snapshot_dir else "output directory")
    if output is not None and output.exists():
        replaced.append(output)
        logger.warning("replacing the existing file '%s'", output)
    if snapshot_dir is not None:
        snapshots = sorted(p for p in snapshot_dir.iterdir() if _SNAPSHOT_FILE.fullmatch(p.name))
        if snapshots:
            logger.warning("the snapshot directory '%s' holds %d snapshot files of an earlier run; this run "
                           "replaces those it takes again", snapshot_dir, len(snapshots))
        replaced += snapshots
    return replaced


def _check_output_file(output: Path, inputs: Sequence[Path]) -> None:
    if output.is_dir():
        raise ImageError(f"cannot save the result as '{output}': it is a directory; give a file name such as "
                         f"'{output / 'result.png'}'")
    image_format(output)
    for source in inputs:
        if _same_file(output, source):
            raise ImageError(f"cannot save the result as '{output}': it is the input image '{source}', "
                             f"which swiftnst never overwrites; choose another output path")


def _check_snapshot_dir(directory: Path, inputs: Sequence[Path]) -> None:
    if directory.exists() and not directory.is_dir():
        raise ImageError(f"cannot use '{directory}' as the snapshot directory: it is a file, not a directory")
    for source in inputs:
        if _resolved(source.parent) == _resolved(directory) and _SNAPSHOT_FILE.fullmatch(source.name):
            raise ImageError(f"cannot write snapshots into '{directory}': the input image '{source}' has a "
                             f"snapshot's name and would be overwritten; choose another snapshot directory")


def make_writable_directory(directory: Path, what: str) -> None:
    """Create ``directory`` (and its parents) and check a file can be created in it, the way the
    atomic writer will create its temporary file."""
    directory = directory if str(directory) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".swiftnst-write-check-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        raise ImageError(f"cannot create the {what} '{directory}': a file of that name is in the way") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ImageError(f"cannot write into the {what} '{directory}': {reason}") from None


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path if str(path) else "."))


def _same_file(a: Path, b: Path) -> bool:
    if _resolved(a) == _resolved(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links, bind mounts
    except OSError:
        return False  # one of them does not exist yet
