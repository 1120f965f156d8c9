"""Files that *claim* far more than they hold are refused before the claim is allocated.

Each hostile file is a few kB or MB and asks for about 1.5 GB: a torch zip member that inflates to
1.5 GB, a storage declaring 1.5 GB, an HDF5 dataset declaring 1.5 GB that it never stores, an lpips
pickle rebuilding a 1.6 GB array, a MATLAB variable inflating to 1.5 GB, a safetensors header
claiming 1.5 GB. Each is converted in a fresh interpreter that reports its peak resident memory
(``peak_memory.peak_rss_mb``: its own ``VmHWM`` and its waited-for children's ``ru_maxrss``, which
covers the MATLAB parser process).

Bound: ``PEAK_LIMIT_MB`` = 400 MB. An interpreter with NumPy, h5py and scipy loaded peaks at about
150 MB, and a legitimate VGG-16 conversion adds about twice its 58 MB of weights (the values read and
the float32 copy), so 400 MB is what a real file may need, while any allocation of the claimed 1.5 GB
would show (untouched allocations do not count towards RSS, so the converters' *use* of a claim is
what is measured, which is what exhausts a machine).
"""

from __future__ import annotations

import collections
import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from . import weights_files as wf
from .conftest import assert_clean_exit, run_python

CLAIM_BYTES = 1_500_000_000
PEAK_LIMIT_MB = 400
SECONDS = 60


def _convert_measured(path: Path, pattern: str) -> None:
    result = run_python(f"""
        import json, sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from peak_memory import peak_rss_mb
        from swiftnst.weights import WeightsError, convert
        start = time.monotonic()
        try:
            convert({str(path)!r}, {str(path.with_suffix('.out.safetensors'))!r})
            message = None
        except WeightsError as exc:
            message = str(exc)
        print(json.dumps({{"message": message, "peak_mb": peak_rss_mb(), "seconds": time.monotonic() - start}}))
    """, timeout=SECONDS * 3)
    assert_clean_exit(result)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{path.name}: peak {report['peak_mb']:.0f} MB, {report['seconds']:.2f} s")  # shown with pytest -s
    assert report["message"] is not None, "the hostile file was accepted"
    assert report["message"].startswith(f"{path}: ") and re.search(pattern, report["message"]), report["message"]
    assert report["peak_mb"] < PEAK_LIMIT_MB, f"peak {report['peak_mb']:.0f} MB for a refused file: {report}"
    assert report["seconds"] < SECONDS, report
    assert not path.with_suffix(".out.safetensors").exists()


def _zeros_member(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """A member of ``size`` zero bytes, deflated (about 1.5 MB for 1.5 GB)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as member:
        block = bytes(1 << 24)
        for start in range(0, size, len(block)):
            member.write(block[:min(len(block), size - start)])


def _pth_bomb(path: Path, declared_numel: int) -> Path:
    """A torch zip whose storage ``0w`` holds 1.5 GB of zeros; the pickle declares ``declared_numel``."""
    layers = wf.tiny_layers()
    state = collections.OrderedDict()
    for (weight, bias), index in zip(layers.values(), wf._conv_indices("vgg16")):
        state[f"features.{index}.weight"] = wf._TorchTensor(f"{index}w", weight)
        state[f"features.{index}.bias"] = wf._TorchTensor(f"{index}b", bias)

    class Pickler(wf._TorchPickler):
        def persistent_id(self, obj):
            pid = super().persistent_id(obj)
            return pid[:4] + (declared_numel,) if pid and obj.key == "0w" else pid

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump(state)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("vgg/data.pkl", buffer.getvalue())
        archive.writestr("vgg/byteorder", "little")
        _zeros_member(archive, "vgg/data/0w", CLAIM_BYTES)
        for tensor in list(state.values())[1:]:
            archive.writestr(f"vgg/data/{tensor.key}", tensor.values.tobytes())
    return path


@pytest.mark.parametrize("declared", ["true_size", "layer_size"])
def test_torch_zip_member_inflating_to_gigabytes(tmp_path, declared):
    numel = CLAIM_BYTES // 4 if declared == "true_size" else 64 * 3 * 3 * 3
    path = _pth_bomb(tmp_path / "bomb.pth", numel)
    assert path.stat().st_size < 16 * 2**20
    _convert_measured(path, r"storage 0w (declares \d+ elements, more than|holds 1500000000 bytes, expected 6912)")


def test_h5_dataset_declaring_gigabytes_it_does_not_store(tmp_path):
    import h5py

    path = wf.write_h5(tmp_path / "claim.h5", wf.tiny_layers())
    with h5py.File(path, "a") as handle:
        group = handle["block1_conv1/block1_conv1"]
        del group["kernel:0"]
        group.create_dataset("kernel:0", shape=(250, 250, 100, 60), dtype="<f4")  # never written: no storage
    assert path.stat().st_size < 2**20
    _convert_measured(path, r"conv1_1\.weight has shape \(60, 100, 250, 250\), expected \(64, 3, 3, 3\)")


class _Huge:
    """Pickles as ``numpy.core.multiarray._reconstruct(ndarray, shape, 'f4')``: an uninitialised
    array of any declared shape, costing a few bytes of pickle."""

    def __reduce__(self):
        return (wf._Global("numpy.core.multiarray", "_reconstruct"),
                (wf._Global("numpy", "ndarray"), (250, 250, 100, 60), "f4"))


def test_lpips_pickle_rebuilding_a_huge_array(tmp_path):
    convs = {f"Conv_{k}": {"kernel": _Huge() if k == 0 else np.zeros((3, 3, 2, 2), np.float32),
                           "bias": np.zeros(2, np.float32)} for k in range(13)}
    path = tmp_path / "huge.ckpt"
    path.write_bytes(wf.torch_pickle({"VGG16_0": convs}))
    assert path.stat().st_size < 8192
    _convert_measured(path, r"declares an array of shape \(250, 250, 100, 60\).*refusing to allocate it")


def _mat_bomb(path: Path) -> Path:
    """A MATLAB v5 file whose one compressed variable, ``layers``, inflates to 1.5 GB of doubles."""
    count = CLAIM_BYTES // 8
    name = b"layers\0\0"
    body = (struct.pack("<II", 6, 8) + struct.pack("<II", 6, 0)          # array flags: mxDOUBLE_CLASS
            + struct.pack("<II", 5, 8) + struct.pack("<ii", count, 1)    # dimensions
            + struct.pack("<II", 1, 6) + name                            # name
            + struct.pack("<II", 9, count * 8))                          # real part, miDOUBLE
    compressor = zlib.compressobj(1)
    stream = [compressor.compress(struct.pack("<II", 14, len(body) + count * 8) + body)]
    block = bytes(1 << 24)
    for start in range(0, count * 8, len(block)):
        stream.append(compressor.compress(block[:min(len(block), count * 8 - start)]))
    stream.append(compressor.flush())
    data = b"".join(stream)
    header = b"MATLAB 5.0 MAT-file, swiftnst test".ljust(116, b" ") + bytes(8) + struct.pack("<H", 0x0100) + b"IM"
    path.write_bytes(header + struct.pack("<II", 15, len(data)) + data)
    return path


def test_matlab_variable_inflating_to_gigabytes(tmp_path):
    path = _mat_bomb(tmp_path / "bomb.mat")
    assert path.stat().st_size < 16 * 2**20
    _convert_measured(path, r"MATLAB variables hold over \d+ bytes once inflated")


def test_safetensors_header_claiming_gigabytes(tmp_path):
    header = {"conv1_1.weight": {"dtype": "F32", "shape": [CLAIM_BYTES // 4], "data_offsets": [0, CLAIM_BYTES]}}
    text = json.dumps(header).encode()
    path = tmp_path / "claim.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(64))
    _convert_measured(path, r"truncated: tensors need 1500000000 data bytes")
