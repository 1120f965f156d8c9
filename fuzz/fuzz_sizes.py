"""Fuzz every weights converter with inputs whose declared sizes lie about their real sizes.

Targets (one per format, all through ``read_source``):

- ``lie_pth``: torch zips whose pickle declares storage sizes (up to 2**40 elements) that disagree
  with the members' real sizes, members of up to 8 MiB of deflated zeros, tensors whose size and
  stride claim more than their storage;
- ``lie_h5``: Keras files whose kernel datasets declare shapes (up to 2**20 per side) they never
  store, with chunk shapes larger or smaller than the dataset;
- ``lie_ckpt``: lpips pickles reconstructing arrays of arbitrary declared shapes and dtypes;
- ``lie_mat``: MATLAB v5 files whose tags declare byte counts and dimensions that disagree with the
  (possibly compressed) bytes that follow;
- ``lie_safetensors``: headers whose shapes and offsets claim up to 2**62 bytes over a short data region.

Oracle: ``read_source`` returns ``VGGWeights`` or raises ``WeightsError`` naming the file, and the
process's peak resident memory (with its children: the MATLAB parser) stays under ``PEAK_LIMIT_MB``;
anything else is a finding.
"""

from __future__ import annotations

import collections
import io
import json
import struct
import warnings
import zipfile
import zlib

import numpy as np
from hypothesis import strategies as st

import driver
from fuzz_weights import _DIRECTORY, _read

from reliability import weights_files as wf  # noqa: E402  (driver set sys.path)
from reliability.peak_memory import peak_rss_mb  # noqa: E402

#: Peak RSS allowed over a whole run: the interpreter with NumPy, h5py and scipy (about 150 MB) plus
#: twice the largest legitimate single-layer claim these inputs can make; a believed lie costs GBs.
PEAK_LIMIT_MB = 600

_CLAIMS = st.one_of(st.integers(0, 4096), st.sampled_from([1728, 64, 2**20, 2**28, 2**31, 2**40]))
_SIDES = st.one_of(st.integers(0, 70), st.sampled_from([2**10, 2**16, 2**20]))


def _checked(data: bytes, extension: str) -> None:
    _read(data, extension)
    peak = peak_rss_mb()
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak:.0f} MB after a {len(data)}-byte {extension}"


@st.composite
def _pth(draw) -> bytes:
    layers = wf.tiny_layers()
    state = collections.OrderedDict()
    for (weight, bias), index in zip(layers.values(), wf._conv_indices("vgg16")):
        state[f"features.{index}.weight"] = wf._TorchTensor(f"{index}w", weight)
        state[f"features.{index}.bias"] = wf._TorchTensor(f"{index}b", bias)
    lies = draw(st.dictionaries(st.sampled_from(["0w", "0b", "2w"]), st.tuples(_CLAIMS, _CLAIMS), max_size=3))
    views = draw(st.dictionaries(st.sampled_from(["0w", "2w"]), st.tuples(
        st.lists(_SIDES, min_size=1, max_size=4), st.lists(st.integers(0, 3), min_size=1, max_size=4)), max_size=2))

    class Pickler(wf._TorchPickler):
        def persistent_id(self, obj):
            pid = super().persistent_id(obj)
            return pid[:4] + (lies[obj.key][0],) if pid and obj.key in lies else pid

        def reducer_override(self, obj):
            if isinstance(obj, wf._TorchTensor) and obj.key in views:
                size, stride = views[obj.key]
                return (wf._Global("torch._utils", "_rebuild_tensor_v2"),
                        (wf._TorchStorage(obj.key, obj.values), 0, tuple(size), tuple((stride + [0] * 4)[:len(size)]),
                         False, collections.OrderedDict()))
            return super().reducer_override(obj)

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump(state)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("vgg/data.pkl", buffer.getvalue())
        for tensor in state.values():
            real = min(lies[tensor.key][1] * 4, 8 << 20) if tensor.key in lies else None
            archive.writestr(f"vgg/data/{tensor.key}", tensor.values.tobytes() if real is None else bytes(real))
    return out.getvalue()


@st.composite
def _h5(draw) -> bytes:
    import h5py

    path = _DIRECTORY / "lie-seed.h5"
    wf.write_h5(path, wf.tiny_layers())
    shape = tuple(draw(st.lists(_SIDES.filter(lambda n: n > 0), min_size=1, max_size=4)))
    chunks = tuple(max(1, min(c, 2**16)) for c in draw(st.lists(_SIDES, min_size=len(shape), max_size=len(shape))))
    with h5py.File(path, "a") as handle:
        group = handle["block1_conv1/block1_conv1"]
        del group["kernel:0"]
        try:
            if draw(st.booleans()):
                group.create_dataset("kernel:0", shape=shape, dtype="<f4", chunks=chunks, maxshape=(None,) * len(shape))
            else:
                group.create_dataset("kernel:0", shape=shape, dtype=draw(st.sampled_from(["<f4", "<f8", "<f2"])))
        except (ValueError, OSError):  # h5py refuses some chunk/shape combinations itself
            group.create_dataset("kernel:0", shape=(1,), dtype="<f4")
    data = path.read_bytes()
    path.unlink()
    return data


class _Reconstructed:
    def __init__(self, shape, dtype) -> None:
        self.shape, self.dtype = shape, dtype

    def __reduce__(self):
        return (wf._Global("numpy.core.multiarray", "_reconstruct"), (wf._Global("numpy", "ndarray"), self.shape, self.dtype))


@st.composite
def _ckpt(draw) -> bytes:
    shape = tuple(draw(st.lists(_SIDES, min_size=0, max_size=5)))
    dtype = draw(st.sampled_from(["f4", "f8", "V1000000", "b", "f2", "c16"]))
    convs = {f"Conv_{k}": {"kernel": np.zeros((3, 3, 2, 2), np.float32), "bias": np.zeros(2, np.float32)}
             for k in range(13)}
    convs[draw(st.sampled_from(["Conv_0", "Conv_5"]))]["kernel"] = _Reconstructed(shape, dtype)
    return wf.torch_pickle({"VGG16_0": convs})


@st.composite
def _mat(draw) -> bytes:
    declared = draw(st.lists(st.tuples(_CLAIMS, _CLAIMS), min_size=1, max_size=3))
    elements = []
    for dims, nbytes in declared:
        real = draw(st.integers(0, 4096)) * 8
        body = (struct.pack("<II", 6, 8) + struct.pack("<II", 6, 0) + struct.pack("<II", 5, 8)
                + struct.pack("<ii", min(dims, 2**31 - 1), 1) + struct.pack("<II", 1, 6) + b"layers\0\0"
                + struct.pack("<II", 9, min(nbytes * 8, 2**32 - 1)) + bytes(real))
        matrix = struct.pack("<II", 14, min(len(body) + nbytes, 2**32 - 1)) + body
        if draw(st.booleans()):
            packed = zlib.compress(matrix + bytes(draw(st.sampled_from([0, 2**20, 8 << 20]))), 1)
            elements.append(struct.pack("<II", 15, len(packed)) + packed)
        else:
            elements.append(matrix)
    header = b"MATLAB 5.0 MAT-file, fuzz".ljust(116, b" ") + bytes(8) + struct.pack("<H", 0x0100) + b"IM"
    return header + b"".join(elements)


@st.composite
def _safetensors(draw) -> bytes:
    names = ["conv1_1.weight", "conv1_1.bias", "conv1_2.weight"]
    header, offset = {}, 0
    for name in names[:draw(st.integers(1, 3))]:
        shape = draw(st.lists(_SIDES, min_size=1, max_size=4))
        claimed = draw(st.one_of(st.just(4 * int(np.prod(shape, dtype=object))), _CLAIMS, st.just(2**62)))
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + claimed]}
        offset += claimed
    header["__metadata__"] = dict(wf.CAFFE_METADATA)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + bytes(draw(st.integers(0, 4096)))


warnings.simplefilter("ignore")
TARGETS = {
    "lie_pth": (_pth(), lambda data: _checked(data, ".pth")),
    "lie_h5": (_h5(), lambda data: _checked(data, ".h5")),
    "lie_ckpt": (_ckpt(), lambda data: _checked(data, ".ckpt")),
    "lie_mat": (_mat(), lambda data: _checked(data, ".mat")),
    "lie_safetensors": (_safetensors(), lambda data: _checked(data, ".safetensors")),
}

if __name__ == "__main__":
    raise SystemExit(driver.main(TARGETS))
