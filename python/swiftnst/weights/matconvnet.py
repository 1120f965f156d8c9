"""MatConvNet ``imagenet-vgg-verydeep-{19,16}.mat`` -> ``VGGWeights``.

Three layouts are read (what ``scipy.io.loadmat`` shows at the top level):

- old SimpleNN (the 2014 release most tutorials use): ``layers`` + ``normalization``;
- new SimpleNN (beta16+): ``layers`` + ``meta.normalization``;
- DagNN: ``params`` (``name``/``value`` pairs ``conv1_1f``, ``conv1_1b``, ...) + ``meta.normalization``.

``layers`` is a cell of 1x1 structs (``name``, ``type``, ``weights = {kernel, bias}`` - ``filters``/
``biases`` in the oldest files -, ``stride``, ``pad``...). The convs are taken by name, ``conv1_1`` ..
``conv5_4``: the classifier ``fc6``..``fc8`` is typed 'conv' too (fc6 is 7x7x512x4096) and is left out,
its arrays never read (``mat5_reader`` skips every array larger than a VGG conv kernel).
Kernels are ``[FH, FW, in, out]`` (as vl_nnconv indexes them, against H x W images) and become OIHW.
Should a file hold them W-first instead, every feature map comes out transposed, which leaves Gram
matrices and all losses unchanged.
Inputs are RGB, 0..255, minus the mean of ``normalization.averageImage`` (a 1x1x3 pixel or a full
mean image); no std. MATLAB v7.3 (HDF5) files are not supported: re-save with ``-v7``.

The file is parsed by ``mat5_reader`` in a child process (``matconvnet_worker``, reading the already
opened file as its standard input), so that a reader bug or a file that keeps it busy costs a
``WeightsError`` (or a timeout), never the host process; only float arrays come back. Before that,
the parent walks the file's top-level variables and inflates the compressed ones into nothing, so a
variable that inflates to gigabytes is refused before anything is parsed (``MAX_CONTENT_BYTES``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import WeightsError
from .architecture import architecture_for_conv_count, conv_layer_names, conv_weight_shapes
from .input_file import open_weights_file
from .layer_checks import check_declared_layer, check_layer_values, hwio_to_oihw
from .mat5_reader import SkippedArray, read_mat5
from .mat_content import check_content_size
from .vgg_weights import InputConvention, VGGWeights


def _cell_array(value: Any, name: str, where: str) -> Any:
    """``value`` if it is a cell array (a list once read; one struct when the cell holds one), else a WeightsError."""
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, (list, tuple, np.ndarray)) or np.ndim(value) == 0:
        raise WeightsError(f"{where}: '{name}' is a {type(value).__name__}, expected a cell array of structs; "
                           f"not a MatConvNet network")
    return value


_CONV_NAME = re.compile(r"conv\d+_\d+")


def _convs_from_layers(layers: Any, where: str) -> dict[str, tuple[Any, Any]]:
    """The ``convB_I`` layers by name; the classifier (``fc6``..``fc8``, typed 'conv' too) is left out."""
    layers = _cell_array(layers, "layers", where)
    convs = {}
    for layer in layers:
        name = str(layer.get("name")) if isinstance(layer, dict) else ""
        if not _CONV_NAME.fullmatch(name) or layer.get("type") != "conv":
            continue
        if "weights" in layer:
            pair = layer["weights"]
        else:
            pair = [layer.get("filters"), layer.get("biases")]
        if not isinstance(pair, (list, tuple, np.ndarray)) or len(pair) != 2:
            raise WeightsError(f"{where}: conv layer {name} should hold a kernel and a bias")
        convs[name] = (pair[0], pair[1])
    return convs


def _convs_from_params(params: Any, where: str) -> dict[str, tuple[Any, Any]]:
    values = {str(p.get("name")): p.get("value") for p in _cell_array(params, "params", where) if isinstance(p, dict)}
    names = sorted({name[:-1] for name in values if _CONV_NAME.fullmatch(name[:-1]) and name[-1] in "fb"})
    return {name: (values.get(name + "f"), values.get(name + "b")) for name in names}


def _mean(normalization: Any, where: str) -> tuple[float, float, float]:
    average = normalization.get("averageImage") if isinstance(normalization, dict) else None
    if isinstance(average, (int, float)) or (isinstance(average, np.ndarray) and average.dtype.kind in "iuf"):
        average = np.asarray(average, dtype=np.float64)
    else:  # missing, text, a struct, a cell...
        average = None
    if average is None or average.size == 0 or average.shape[-1] != 3:
        raise WeightsError(f"{where}: normalization.averageImage is missing or not an RGB mean")
    mean = average.reshape(-1, 3).mean(axis=0)  # a mean image averages to its mean pixel
    return tuple(float(v) for v in mean)  # type: ignore[return-value]


#: Parsing a real VGG-19 file takes seconds; a child still busy after this long is stuck.
PARSE_TIMEOUT_SECONDS = 600


def load_matconvnet(path: str | os.PathLike, source: str | None = None) -> VGGWeights:
    """Read a MatConvNet VGG-19/16 file in any of the three layouts above (parsed in a child process)."""
    where = str(path)
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    with open_weights_file(path) as stream, tempfile.TemporaryDirectory(prefix="swiftnst-mat-") as scratch:
        check_content_size(stream, where)
        stream.seek(0)
        output = Path(scratch) / "weights.npz"
        try:
            result = subprocess.run([sys.executable, "-m", "swiftnst.weights.matconvnet_worker", where, str(output)],
                                    stdin=stream, env=env, capture_output=True, text=True, errors="replace",
                                    timeout=PARSE_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise WeightsError(f"{where}: parsing the MATLAB file took over {PARSE_TIMEOUT_SECONDS} s") from None
        refusal = Path(f"{output}.error")
        if result.returncode == 2 and refusal.is_file():
            raise WeightsError(refusal.read_text(encoding="utf-8"))
        if result.returncode != 0:
            detail = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
            raise WeightsError(f"{where}: the MATLAB reader failed on this file ({detail[0]:.200})")
        with np.load(output, allow_pickle=False) as arrays:
            architecture = str(arrays["architecture"])
            mean = tuple(float(v) for v in arrays["mean"])
            layers = {name: (arrays[f"{name}.weight"], arrays[f"{name}.bias"])
                      for name in conv_layer_names(architecture)}
    convention = InputConvention("RGB", 255.0, mean)  # type: ignore[arg-type]
    return VGGWeights(architecture, layers, convention, source or Path(path).name, where)


def parse_matconvnet(stream: BinaryIO, where: str) -> tuple[str, dict[str, tuple[Any, Any]], tuple[float, ...]]:
    """Architecture, OIHW conv layers and RGB mean of the open MatConvNet file ``stream``, parsed in
    this process.

    Only for ``matconvnet_worker``: the parent bounds the time it takes and the file's inflated size.
    """
    content = read_mat5(stream, where, ("layers", "params", "normalization", "meta"))
    if "layers" in content and "params" not in content:
        convs = _convs_from_layers(content["layers"], where)
    elif "params" in content:
        convs = _convs_from_params(content["params"], where)
    else:
        raise WeightsError(f"{where}: no 'layers' or 'params' variable; not a MatConvNet network")
    normalization = content.get("normalization")
    if normalization is None:
        meta = content.get("meta")
        normalization = meta.get("normalization") if isinstance(meta, dict) else None
    mean = _mean(normalization, where)

    architecture = architecture_for_conv_count(len(convs))
    if architecture is None:
        raise WeightsError(f"{where}: found {len(convs)} conv layers named convB_I, expected 16 (VGG-19) or 13 "
                           f"(VGG-16)")
    layers, shapes = {}, conv_weight_shapes(architecture)
    for name in conv_layer_names(architecture):
        if name not in convs:
            raise WeightsError(f"{where}: missing conv layer {name}")
        kernel, bias = (a if isinstance(a, SkippedArray) else np.asarray(a) if a is not None else None
                        for a in convs[name])
        if kernel is None or bias is None:
            raise WeightsError(f"{where}: {name} lacks its kernel or its bias")
        if bias.shape == ():  # a one-element bias comes back as a number
            bias = bias.reshape(1)
        check_declared_layer(where, name, (hwio_to_oihw(kernel.shape), (bias.size,)), (kernel.dtype, bias.dtype),
                             shapes[name])
        layers[name] = (kernel.transpose(3, 2, 0, 1), bias.reshape(-1))  # [FH, FW, in, out] -> OIHW
        check_layer_values(where, name, *layers[name])
    return architecture, layers, mean
