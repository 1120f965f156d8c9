"""A batch's ``manifest.jsonl``: one JSON record per finished item, appended and fsynced as each item
finishes, so a crash or Ctrl-C loses at most the items in flight.

A process killed while appending can leave a last line cut short, which does not parse as JSON: reading
ignores it with a warning, and the next batch cuts it off before appending. Any other line that is not
a record (a last line that parses included, e.g. one naming an output outside the directory) is refused
(``ManifestError``): the file was damaged some other way, and guessing could redo or lose work. One batch at a time writes a manifest (an exclusive ``flock`` while it is open).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST_NAME", "Manifest", "ManifestError"]

MANIFEST_NAME = "manifest.jsonl"

logger = logging.getLogger(__name__)


class ManifestError(ValueError):
    """The manifest is damaged, or another batch is writing it."""


def _records(data: bytes, path: Path) -> tuple[list[dict[str, Any]], int]:
    """The records in ``data`` (the manifest's bytes) and the length of its intact part."""
    lines = data.split(b"\n")
    records, intact = [], 0
    for number, line in enumerate(lines, 1):
        last = number == len(lines)
        if not line.strip():
            intact += len(line) + (not last)
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if last:  # cut short while being written: the item it was recording is redone
                logger.warning("ignoring the incomplete last line of '%s' (a batch stopped while writing it)", path)
                break
            record = None
        # A line that parses was written whole (a JSON value cut short does not parse): refused even when last.
        problem = _record_problem(record)
        if problem:
            raise ManifestError(f"line {number} of '{path}'{problem}; repair or remove that line")
        if last:  # a complete record whose newline is missing: keep it, and end the line before appending
            logger.warning("the last line of '%s' lacks its newline; it is kept", path)
        records.append(record)
        intact += len(line) + (not last)
    return records, intact


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _record_problem(record: object) -> str:
    """Why ``record`` (a parsed line) is not a batch record, as the end of a sentence; "" if it is one."""
    if not (isinstance(record, dict) and isinstance(record.get("key"), str) and "output" in record):
        return " is not a batch record (a JSON object with a 'key' and an 'output' file name)"
    if not _plain_name(record["output"]):
        return f": its output {record['output']!r} is not a file name inside the output directory"
    return ""


def _plain_name(value: object) -> bool:
    """A file name inside the output directory (a manifest never names a path elsewhere)."""
    return isinstance(value, str) and value not in ("", ".", "..") and "/" not in value and "\0" not in value


class Manifest:
    """The open manifest of an output directory, locked against other batches; ``with`` closes it.

    ``records`` holds what it listed when opened; :meth:`append` adds one durably.
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        """Open (or create) ``directory/manifest.jsonl`` and read it.

        Raises:
            ManifestError: another batch has it open, it is not a regular file (a FIFO, a device), or a
                line is not a record.
            OSError: it cannot be opened or read.
        """
        self.path = Path(directory) / MANIFEST_NAME
        # O_NONBLOCK: a FIFO in its place must not block the open; fstat then refuses it (and a device).
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NONBLOCK, 0o666)
        try:
            if not stat.S_ISREG(os.fstat(self._fd).st_mode):
                raise ManifestError(f"'{self.path}' is not a regular file; remove it or choose another output directory")
            os.set_blocking(self._fd, True)
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ManifestError(f"another batch is writing to '{self.path.parent}'; wait for it to finish "
                                    f"or choose another output directory") from None
            data = self.path.read_bytes()
            self.records, intact = _records(data, self.path)
            if intact < len(data):
                os.ftruncate(self._fd, intact)
            if data[:intact] and not data[:intact].endswith(b"\n"):
                os.write(self._fd, b"\n")
            os.fsync(self._fd)
            _fsync_directory(self.path.parent)  # the manifest's own name survives a crash too
        except BaseException:
            os.close(self._fd)
            raise

    def finished(self) -> dict[str, dict[str, Any]]:
        """``{key: record}`` of the items whose result file still exists (the last record of a key wins)."""
        return {record["key"]: record for record in self.records if (self.path.parent / record["output"]).is_file()}

    def append(self, record: dict[str, Any]) -> None:
        """Add ``record`` as one line, written and fsynced before this returns."""
        line = json.dumps(record, sort_keys=True, allow_nan=False).encode() + b"\n"
        written = 0
        while written < len(line):
            written += os.write(self._fd, line[written:])
        os.fsync(self._fd)
        self.records.append(record)

    def close(self) -> None:
        """Release the lock and close the file; calling it again does nothing."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "Manifest":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
