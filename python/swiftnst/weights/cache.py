"""Where converted weights live, and the sha256 sidecar that detects a damaged cached file.

``$SWIFTNST_HOME`` (default ``~/.cache/swiftnst``) holds ``weights/<arch>.safetensors`` for the
fetched weights and ``weights/converted/`` for user files. Next to each file, ``<file>.sha256`` holds
its hash in ``sha256sum`` format, written after the file itself, so a file whose sidecar is missing
or disagrees is treated as absent and rebuilt.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .._atomic import atomic_write
from .._files import open_regular_file
from .safetensors_io import save_weights
from .vgg_weights import VGGWeights

_CHUNK = 1 << 20


def swiftnst_home() -> Path:
    """``$SWIFTNST_HOME``, or ``~/.cache/swiftnst`` when unset or empty."""
    return Path(os.environ.get("SWIFTNST_HOME") or Path.home() / ".cache" / "swiftnst")


def cached_weights_path(architecture: str) -> Path:
    """Where ``fetch(architecture)`` stores its result (whether or not it exists yet)."""
    return swiftnst_home() / "weights" / f"{architecture}.safetensors"


def file_digests(path: str | os.PathLike) -> tuple[str, str]:
    """``(md5, sha256)`` hex digests of a regular file, read in chunks (``OSError`` for a FIFO, device...)."""
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open_regular_file(path, "file") as handle:
        while chunk := handle.read(_CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def checksum_path(path: str | os.PathLike) -> Path:
    """The sidecar file holding the sha256 of ``path``."""
    return Path(f"{path}.sha256")


def store_weights(path: str | os.PathLike, weights: VGGWeights) -> str:
    """Write ``weights`` atomically, then its sha256 sidecar; returns the sha256."""
    save_weights(path, weights)
    _, digest = file_digests(path)
    with atomic_write(checksum_path(path)) as handle:
        handle.write(f"{digest}  {Path(path).name}\n".encode())
    return digest


def verify_cached(path: str | os.PathLike) -> bool:
    """True when ``path`` and its sidecar exist and the file's sha256 matches the sidecar."""
    sidecar = checksum_path(path)
    try:
        expected = sidecar.read_text().split()[0]
        return file_digests(path)[1] == expected
    except (OSError, IndexError):
        return False
