"""The published ``imagenet-vgg-verydeep-{19,16}.mat``: built here as MatConvNet lays them out.

``layers`` is a 1x43 (VGG-19) or 1x37 (VGG-16) cell of 1x1 structs, the classifier included: fc6, fc7
and fc8 are typed 'conv' with kernels 7x7x512xN, 1x1xNxN and 1x1xNxK (N = 4096, K = 1000 in the real
files, smaller here), and ``prob`` is a softmax. Two layouts: the 2014 release (``layers``,
``normalization`` with a full mean image, ``classes``; structs with ``weights`` first) and MatConvNet
beta16+ (``layers`` and ``meta`` with ``normalization`` and ``classes``; fields ``name, type, weights, size,
pad, stride, precious, dilate, opts``). The converter must take the 16/13 convs by name, leave the
classifier out without building its arrays, and keep refusing what is not a VGG.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

scipy_io = pytest.importorskip("scipy.io")

from swiftnst.weights import WeightsError, convert, layer_names, load_weights  # noqa: E402

MEAN = np.array([123.68, 116.779, 103.939])
CLASSIFIER = ("fc6", "relu6", "fc7", "relu7", "fc8", "prob")


def _cell(items) -> np.ndarray:
    cell = np.empty((1, len(items)), dtype=object)
    for i, item in enumerate(items):
        cell[0, i] = item
    return cell


def _classifier_kernel(name: str, width: int, classes: int, rng) -> np.ndarray:
    shape = {"fc6": (7, 7, 512, width), "fc7": (1, 1, width, width), "fc8": (1, 1, width, classes)}[name]
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.01)


def _layer(name: str, layout: str, weights: list | None) -> dict:
    kind = ("conv" if weights is not None else "relu" if name.startswith("relu") else
            "softmax" if name == "prob" else "pool")
    if layout == "2014":  # the 2014 structs list their fields in another order, weights first
        entry = {"weights": _cell(weights)} if weights is not None else {}
        entry.update(pad=np.array([[1, 1, 1, 1]]), type=kind, name=name, stride=np.array([[1, 1]]))
        return entry
    entry = {"name": name, "type": kind, "weights": _cell(weights if weights is not None else [])}
    shape = list(weights[0].shape) if weights is not None else [0, 0]
    entry.update(size=np.array([shape], dtype=float), pad=np.array([[1, 1, 1, 1]], dtype=float),
                 stride=np.array([[1, 1]], dtype=float), precious=False, dilate=1.0, opts=_cell([]))
    return entry


def write_published_mat(path: Path, layers, architecture: str, *, layout: str, fc_width: int = 8,
                        classes: int = 5, compress: bool = True, drop: tuple[str, ...] = ()) -> Path:
    """A MatConvNet VGG file of ``layout`` '2014' or 'beta16' holding the OIHW conv ``layers``."""
    rng = np.random.default_rng(7)
    entries = []
    for name in [*layer_names(architecture), *CLASSIFIER]:
        if name in drop:
            continue
        weights = None
        if name in layers:
            weight, bias = layers[name]
            weights = [np.einsum("oihw->hwio", weight), bias.reshape(1, -1)]  # [FH, FW, in, out]
        elif name.startswith("fc"):
            kernel = _classifier_kernel(name, fc_width, classes, rng)
            weights = [kernel, np.zeros((1, kernel.shape[-1]), np.float32)]
        entries.append(_layer(name, layout, weights))
    names = {"name": _cell([f"n{k:08d}" for k in range(classes)]),
             "description": _cell([f"class {k}" for k in range(classes)])}
    if layout == "2014":
        noise = rng.normal(size=(8, 8, 3))
        normalization = {"averageImage": (MEAN + noise - noise.mean(axis=(0, 1))).astype(np.float32),
                         "keepAspect": 1.0, "border": np.array([[32.0, 32.0]]),
                         "imageSize": np.array([[224.0, 224, 3]]),
                         "interpolation": "bilinear"}
        content = {"layers": _cell(entries), "classes": names, "normalization": normalization}
    else:
        normalization = {"imageSize": np.array([[224.0, 224, 3]]), "border": np.array([[32.0, 32.0]]),
                         "averageImage": MEAN.reshape(1, 1, 3).astype(np.float32), "keepAspect": True,
                         "interpolation": "bilinear", "cropSize": 0.875}
        content = {"layers": _cell(entries), "meta": {"inputs": _cell([{"name": "input", "size": [224, 224, 3, 10]}]),
                                                       "classes": names, "normalization": normalization}}
    scipy_io.savemat(path, content, do_compression=compress)
    return path


@pytest.mark.parametrize("architecture, layout, compress", [("vgg19", "2014", True), ("vgg19", "beta16", False),
                                                             ("vgg16", "beta16", True), ("vgg16", "2014", False)])
def test_published_layout_converts_its_convs_and_leaves_the_classifier_out(tmp_path, random_vgg_layers,
                                                                          architecture, layout, compress):
    layers = random_vgg_layers(architecture)
    path = write_published_mat(tmp_path / f"imagenet-vgg-verydeep-{architecture[3:]}.mat", layers, architecture,
                               layout=layout, compress=compress)
    raw = scipy_io.loadmat(path)["layers"]
    assert raw.shape == (1, 43 if architecture == "vgg19" else 37)  # what the tutorials index
    assert str(raw[0][-4][0][0]["type"][0]) == "conv"  # fc7, typed 'conv' as in the real files
    weights = load_weights(convert(path, tmp_path / "out.safetensors"))
    assert weights.architecture == architecture
    assert (weights.convention.channel_order, weights.convention.input_scale) == ("RGB", 255.0)
    np.testing.assert_allclose(weights.convention.mean, MEAN, rtol=1e-6)
    assert weights.convention.std == (1.0, 1.0, 1.0)
    assert list(weights.layers) == list(layers)
    for name, (weight, bias) in layers.items():
        np.testing.assert_array_equal(weights.layers[name][0], weight)
        np.testing.assert_array_equal(weights.layers[name][1], bias)


def test_published_layout_still_refuses_what_is_not_a_vgg(tmp_path, random_vgg_layers):
    layers = random_vgg_layers("vgg16")
    missing = write_published_mat(tmp_path / "missing.mat", layers, "vgg16", layout="beta16", drop=("conv3_2",))
    with pytest.raises(WeightsError, match=r"missing\.mat: found 12 conv layers named convB_I"):
        convert(missing, tmp_path / "a.safetensors")
    # conv5_3 holding a classifier-sized kernel (skipped unread): refused for its declared shape
    swapped = dict(layers, conv5_3=(np.zeros((1024, 512, 7, 7), np.float32), np.zeros(1024, np.float32)))
    path = write_published_mat(tmp_path / "swapped.mat", swapped, "vgg16", layout="2014")
    with pytest.raises(WeightsError, match=r"swapped\.mat: conv5_3\.weight has shape \(1024, 512, 7, 7\), "
                                           r"expected \(512, 512, 3, 3\)"):
        convert(path, tmp_path / "b.safetensors")
    wrong = dict(layers, conv2_1=(layers["conv2_1"][0][:, :32], layers["conv2_1"][1]))
    path = write_published_mat(tmp_path / "wrong.mat", wrong, "vgg16", layout="beta16")
    with pytest.raises(WeightsError, match=r"wrong\.mat: conv2_1\.weight has shape \(128, 32, 3, 3\)"):
        convert(path, tmp_path / "c.safetensors")
    assert not list(tmp_path.glob("*.safetensors"))


_MEASURE = """
    import json, sys
    sys.path.insert(0, {reliability!r})
    from peak_memory import peak_rss_mb
    from swiftnst.weights import convert
    convert({source!r}, {output!r})
    print(json.dumps(peak_rss_mb()))
"""


def _conversion_peak_mb(source: Path) -> float:
    code = textwrap.dedent(_MEASURE).format(reliability=str(Path(__file__).parent / "reliability"),
                                            source=str(source), output=str(source.with_suffix(".safetensors")))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_classifier_is_never_materialised(tmp_path, random_vgg_layers):
    """Converting a file whose fc6 holds 103 MB costs no more memory than one whose fc6 is tiny."""
    layers = random_vgg_layers("vgg16")
    small = write_published_mat(tmp_path / "small.mat", layers, "vgg16", layout="beta16")
    large = write_published_mat(tmp_path / "large.mat", layers, "vgg16", layout="beta16", fc_width=1024)
    assert large.stat().st_size - small.stat().st_size > 90e6  # random floats barely compress
    small_mb, large_mb = _conversion_peak_mb(small), _conversion_peak_mb(large)
    print(f"peak: {small_mb:.0f} MB with a tiny classifier, {large_mb:.0f} MB with a 103 MB fc6")
    assert large_mb - small_mb < 25, (small_mb, large_mb)
