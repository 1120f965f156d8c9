"""torchvision ``vgg19-*.pth`` / ``vgg16-*.pth`` state dicts -> ``VGGWeights``, without importing torch.

The same key names also hold Caffe-convention weights (neural-style-pt's files): ``pth_convention``
tells which input convention a file expects.

Two container formats exist. The zip format (torch >= 1.6) holds ``<dir>/data.pkl`` plus one raw
file ``<dir>/data/<key>`` per storage. The legacy format (older releases, e.g. the published
``vgg19-dcbb9e9d.pth``) is a run of pickles (magic number, protocol, system info, the state dict,
storage keys) followed by each storage as an int64 element count and its raw bytes. In both, the state
dict pickle names storages through persistent ids (see ``torch_pickle``).

Sizes are checked before anything is read: the state dict is parsed first, then only the storages of
the conv tensors are read, each after its declared size has been checked against what the
architecture needs and against the size stored in the container (a zip member's declared
uncompressed size, a legacy storage's element count). A zip member that inflates to gigabytes, or a storage that claims
them, is refused before it is decompressed or allocated; the classifier's storages are never read.

torchvision numbers the ``features`` modules conv, ReLU, ..., pool: ``features.{0,2,5,7,10,...}``
are the convs in network order (weights OIHW already); ``classifier.*`` is ignored.
"""

from __future__ import annotations

import math
import os
import re
import struct
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from . import WeightsError
from .architecture import architecture_for_conv_count, conv_layer_names, conv_weight_shapes
from .input_file import open_weights_file
from .layer_checks import check_declared_layer, check_layer_values
from .restricted_unpickler import restricted_load
from .torch_pickle import TORCH_GLOBALS, Storage, Storages, TensorRef, materialise
from .pth_convention import pth_convention
from .vgg_weights import VGGWeights

#: First value pickled by the legacy format (torch.serialization.MAGIC_NUMBER) and its protocol.
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

#: Largest ``data.pkl`` read from a zip: a VGG state dict pickle is a few kB (the data is elsewhere).
MAX_STATE_PICKLE_BYTES = 1 << 20


class _ZipContainer:
    """A torch >= 1.6 zip: the state dict from ``<dir>/data.pkl``, storages read on demand."""

    def __init__(self, handle: BinaryIO, where: str) -> None:
        self.where = where
        try:
            self.archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError) as exc:
            raise WeightsError(f"{where}: not a readable zip archive ({exc})") from None
        names = self.archive.namelist()
        pickles = [name for name in names if name.endswith("/data.pkl") and name.count("/") == 1]
        if len(pickles) != 1:
            raise WeightsError(f"{where}: expected one <dir>/data.pkl in the torch zip, found {len(pickles)}")
        self.prefix = pickles[0][: -len("data.pkl")]
        if f"{self.prefix}byteorder" in names and self._member(f"{self.prefix}byteorder", 16) != b"little":
            raise WeightsError(f"{where}: big-endian torch files are not supported")
        self.storages = Storages(where)
        self.state = restricted_load(self._member(pickles[0], MAX_STATE_PICKLE_BYTES), TORCH_GLOBALS, where,
                                     self.storages)

    def _size(self, name: str) -> int:
        try:
            return self.archive.getinfo(name).file_size
        except KeyError:
            raise WeightsError(f"{self.where}: {name} is missing from the torch zip") from None

    def _member(self, name: str, max_bytes: int) -> bytes:
        """Member ``name``, refused before decompression when its declared size exceeds ``max_bytes``
        (zipfile stops inflating at the declared size and then checks the CRC)."""
        if self._size(name) > max_bytes:
            raise WeightsError(f"{self.where}: {name} declares {self._size(name)} bytes, more than the "
                               f"{max_bytes} it can need; refusing to decompress it")
        try:
            return self.archive.read(name)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:  # e.g. a CRC or inflate error
            raise WeightsError(f"{self.where}: damaged torch zip archive ({exc})") from None

    def read(self, storage: Storage) -> bytes:
        name = f"{self.prefix}data/{storage.key}"
        if self._size(name) != storage.nbytes:
            raise WeightsError(f"{self.where}: storage {storage.key} holds {self._size(name)} bytes, expected "
                               f"{storage.nbytes} (truncated or damaged file)")
        return self._member(name, storage.nbytes)


class _LegacyContainer:
    """The pre-1.6 format: pickles, then every storage as ``int64 numel`` + raw bytes, located by seeking."""

    def __init__(self, handle: BinaryIO, where: str) -> None:
        self.handle, self.where = handle, where
        if restricted_load(handle, {}, where) != LEGACY_MAGIC:
            raise WeightsError(f"{where}: not a torch file (bad magic number)")
        if restricted_load(handle, {}, where) != LEGACY_PROTOCOL:
            raise WeightsError(f"{where}: unsupported legacy torch protocol")
        info = restricted_load(handle, {}, where)
        if not isinstance(info, dict) or info.get("little_endian") is not True:
            raise WeightsError(f"{where}: big-endian or malformed legacy torch file")
        self.storages = Storages(where)
        self.state = restricted_load(handle, TORCH_GLOBALS, where, self.storages)
        keys = restricted_load(handle, {}, where)
        if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(self.storages.by_key):
            raise WeightsError(f"{where}: storage key list does not match the storages the tensors use")
        self.offsets = self._locate([self.storages.by_key[str(key)] for key in keys])

    def _locate(self, order: list[Storage]) -> dict[str, int]:
        """Where each storage's bytes start; every element count must match its declaration."""
        end = os.fstat(self.handle.fileno()).st_size
        position, offsets = self.handle.tell(), {}
        for storage in order:
            self.handle.seek(position)
            header = self.handle.read(8)
            if len(header) != 8:
                raise WeightsError(f"{self.where}: truncated before storage {storage.key}")
            (numel,) = struct.unpack("<q", header)
            if numel != storage.numel:
                raise WeightsError(f"{self.where}: storage {storage.key} holds {numel} elements, the pickle "
                                   f"declares {storage.numel} (damaged file)")
            offsets[storage.key], position = position + 8, position + 8 + storage.nbytes
            if position > end:
                raise WeightsError(f"{self.where}: storage {storage.key} holds {end - position + storage.nbytes} "
                                   f"bytes, expected {storage.nbytes} (truncated or damaged file)")
        if position != end:
            raise WeightsError(f"{self.where}: unexpected bytes after the last storage")
        return offsets

    def read(self, storage: Storage) -> bytes:
        self.handle.seek(self.offsets[storage.key])
        return self.handle.read(storage.nbytes)


class _StorageBudget:
    """Reads storages until they add up to the elements of every conv weight and bias of the
    architecture (storages may be shared, but a VGG never needs more); a storage declaring more is
    refused before its bytes are read."""

    def __init__(self, container: _ZipContainer | _LegacyContainer, architecture: str, where: str) -> None:
        self.container, self.where = container, where
        self.left = sum(math.prod(shape) + shape[0] for shape in conv_weight_shapes(architecture).values())

    def __call__(self, storage: Storage) -> bytes:
        if storage.numel > self.left:
            raise WeightsError(f"{self.where}: storage {storage.key} declares {storage.numel} elements, more than "
                               f"the {self.left} the conv layers can still need; refusing to read it")
        self.left -= storage.numel
        return self.container.read(storage)


_FEATURE_KEY = re.compile(r"features\.(\d+)\.(weight|bias)")


def _conv_indices(architecture: str) -> list[int]:
    """torchvision ``features`` indices of the convs: each conv is followed by a ReLU, each block by a pool."""
    indices, position = [], 0
    for name in conv_layer_names(architecture):
        if name.endswith("_1") and name != "conv1_1":
            position += 1  # the pool closing the previous block
        indices.append(position)
        position += 2
    return indices


def _feature_tensors(state: Any, where: str) -> tuple[str, dict[int, dict[str, TensorRef]]]:
    """The architecture and the ``features.*`` tensors of a state dict (nothing read yet)."""
    if not isinstance(state, dict):
        raise WeightsError(f"{where}: expected a state dict, found {type(state).__name__}")
    features: dict[int, dict[str, TensorRef]] = {}
    for key, value in state.items():
        match = _FEATURE_KEY.fullmatch(str(key))
        if match is None:
            if str(key).startswith("classifier."):
                continue
            raise WeightsError(f"{where}: unexpected entry {key!r} (not a plain torchvision VGG state dict)")
        if not isinstance(value, TensorRef):
            raise WeightsError(f"{where}: {key} is not a tensor")
        features.setdefault(int(match[1]), {})[match[2]] = value
    architecture = architecture_for_conv_count(len(features))
    if architecture is None:
        raise WeightsError(f"{where}: found {len(features)} conv layers in features.*, expected 16 or 13")
    indices = _conv_indices(architecture)
    if sorted(features) != indices:
        raise WeightsError(f"{where}: features.* indices {sorted(features)} do not match torchvision "
                           f"{architecture} ({indices})")
    for index in indices:
        if set(features[index]) != {"weight", "bias"}:
            raise WeightsError(f"{where}: features.{index} needs both weight and bias")
    return architecture, features


def load_torch_pth(path: str | os.PathLike, source: str | None = None,
                   input_convention: str | None = None) -> VGGWeights:
    """Read a VGG-19/16 state dict with torchvision's key names (zip or legacy format) via the
    restricted unpickler; ``input_convention`` (``"caffe"``/``"torchvision"``, None: recognise it, see
    ``pth_convention``) says which input the weights expect."""
    where = str(path)
    with open_weights_file(path) as handle:
        is_zip = zipfile.is_zipfile(handle)  # reads the end of the file
        handle.seek(0)
        container = _ZipContainer(handle, where) if is_zip else _LegacyContainer(handle, where)
        architecture, features = _feature_tensors(container.state, where)
        layers, read = {}, _StorageBudget(container, architecture, where)
        shapes = conv_weight_shapes(architecture)
        for name, index in zip(conv_layer_names(architecture), _conv_indices(architecture)):
            entry, shape = features[index], shapes[name]
            weight, bias = (materialise(entry[kind], expected, f"features.{index}.{kind}", where, read)
                            for kind, expected in (("weight", shape), ("bias", shape[:1])))
            check_declared_layer(where, name, (weight.shape, bias.shape), (weight.dtype, bias.dtype), shape)
            check_layer_values(where, name, weight, bias)
            layers[name] = (weight, bias)
    convention = pth_convention(Path(path).name, layers["conv1_1"][0], input_convention, where)
    return VGGWeights(architecture, layers, convention, source or Path(path).name, where)
