"""Fuzz the Python weights loaders (Keras .h5, MatConvNet .mat, torchvision .pth, lpips .ckpt and
the safetensors reader, all through ``read_source``).

Targets: ``mutate_<format>`` applies byte edits to a small file in that format; ``safetensors_header``
builds hostile headers; ``lpips_structure`` pickles random nested containers where the checkpoint's
dicts of arrays belong. Oracle: ``read_source`` returns ``VGGWeights`` or raises ``WeightsError``
naming the file; any other exception is a finding.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import driver
from safetensors_strategies import safetensors_files

from reliability.weights_files import WRITERS, tiny_layers  # noqa: E402  (driver set sys.path)
from swiftnst.weights import VGGWeights, WeightsError, read_source  # noqa: E402

_DIRECTORY = driver.scratch_directory("weights")


def _seed(extension: str) -> bytes:
    path = WRITERS[extension](_DIRECTORY / f"seed{extension}", tiny_layers())
    data = path.read_bytes()
    path.unlink()
    return data


def _read(data: bytes, extension: str) -> None:
    path = _DIRECTORY / f"input{extension}"
    path.write_bytes(data)
    try:
        result = read_source(path)
    except WeightsError as exc:
        assert str(exc).startswith(f"{path}: "), f"message does not name the file: {exc}"
        return
    assert isinstance(result, VGGWeights)


def _mutation_target(extension: str):
    seed = _seed(extension)
    return driver.mutations(), lambda edits: _read(driver.mutate(seed, edits), extension)


_ARRAYS = hnp.arrays(st.sampled_from([np.float32, np.float64, np.int32, np.uint8, np.bool_, np.complex64]),
                     hnp.array_shapes(min_dims=0, max_dims=4, max_side=4))
_LEAVES = st.one_of(_ARRAYS, st.none(), st.integers(), st.text(max_size=8), st.floats())
_KEYS = st.one_of(st.sampled_from(["VGG16_0", "NetLinLayer_0", "kernel", "bias"] + [f"Conv_{k}" for k in range(14)]),
                  st.integers(-2, 14), st.text(max_size=4))
_STRUCTURES = st.recursive(_LEAVES, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(_KEYS, children, max_size=14)), max_leaves=40)


def _lpips(structure) -> None:
    _read(pickle.dumps(structure, protocol=3), ".ckpt")


warnings.simplefilter("ignore")
TARGETS = {
    **{f"mutate_{ext.lstrip('.')}": _mutation_target(ext) for ext in sorted(WRITERS)},
    "safetensors_header": (safetensors_files(), lambda data: _read(data, ".safetensors")),
    "lpips_structure": (_STRUCTURES, _lpips),
}

if __name__ == "__main__":
    raise SystemExit(driver.main(TARGETS))
