"""A plain C program compiled against swiftnst.h and linked with libswiftnst.so runs a forward pass
whose output matches the NumPy reference: the header is usable as the ABI, not just by ctypes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import reference

C = pytest.importorskip("swiftnst._bindings", exc_type=ImportError)  # skips until libswiftnst.so is built

REPO = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).resolve().parent / "c" / "forward.c"


@pytest.fixture(scope="module")
def forward_program(tmp_path_factory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    library = Path(C.lib._name).resolve()
    binary = tmp_path_factory.mktemp("cprog") / "forward"
    subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
                    "-I", str(REPO / "Sources" / "CSwiftNST" / "include"), str(SOURCE), "-o", str(binary),
                    "-L", str(library.parent), "-lswiftnst", f"-Wl,-rpath,{library.parent}"],
                   check=True, capture_output=True, text=True)
    return binary


@pytest.mark.parametrize("layer, height, width", [("relu1_2", 9, 7), ("pool2", 12, 10)])
def test_c_program_forward_matches_reference(forward_program, vgg16_weights_path, vgg16_weights, layer, height, width):
    weights = vgg16_weights
    run = subprocess.run([str(forward_program), str(vgg16_weights_path), layer, str(height), str(width)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"abi {C.NST_ABI_VERSION}"
    assert lines[1] == f"arch {C.NST_ARCH_VGG16} layers {len(weights.layers) * 2 + 5} order " \
                       f"{C.NST_CHANNELS_RGB if weights.convention.channel_order == 'RGB' else C.NST_CHANNELS_BGR}"
    shape = tuple(int(v) for v in lines[2].split()[1:])
    got = np.array([float(v) for v in lines[3:]], dtype=np.float64).reshape(shape)

    image = ((np.arange(3 * height * width) * 37) % 255 - 127).astype(np.float64).reshape(3, height, width)
    want = reference.loaded_vgg_forward(image, weights, [layer])[layer]  # the model as loaded: Caffe range
    assert got.shape == want.shape
    # float32 engine vs float64 reference, through up to 4 convolutions
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_c_program_reports_errors(forward_program, vgg16_weights_path):
    run = subprocess.run([str(forward_program), str(vgg16_weights_path), "conv9_9", "8", "8"],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert "NST_ERR_UNKNOWN_LAYER" in run.stderr and "conv9_9" in run.stderr
    run = subprocess.run([str(forward_program), str(vgg16_weights_path) + ".missing", "relu1_1", "8", "8"],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "NST_ERR_IO" in run.stderr
