"""Shared pytest fixtures.

The tests import ``swiftnst`` from this checkout (``python/``) rather than from an installed copy,
and find the team's shared data (golden values, images) at ``<repo>/../shared``; tests that need
it, or the cached converted weights, skip cleanly when it is absent.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))

SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout holding these tests."""
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``<repo>/../shared`` (golden values, images, tutorials); skips when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def golden(shared_dir: Path) -> dict[str, np.ndarray]:
    """The arrays of ``shared/golden/vgg19_keras_64.npz`` (see its README); skips when absent."""
    path = shared_dir / "golden" / "vgg19_keras_64.npz"
    if not path.is_file():
        pytest.skip(f"golden values not found at {path}")
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def _cached_path(architecture: str) -> Path:
    from swiftnst.weights import cached_weights_path, verify_cached

    path = cached_weights_path(architecture)
    if not verify_cached(path):
        pytest.skip(f"no intact cached {architecture} weights at {path} (run: swiftnst weights fetch {architecture})")
    return path


def _cached(path: Path):
    from swiftnst.weights import WeightsError, load_weights

    try:
        return load_weights(path)
    except WeightsError as exc:  # pragma: no cover - only on a damaged cache
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def vgg19_weights_path() -> Path:
    """The cached converted VGG-19 weights file; skips when not fetched (or damaged)."""
    return _cached_path("vgg19")


@pytest.fixture(scope="session")
def vgg16_weights_path() -> Path:
    """The cached converted VGG-16 weights file; skips when not fetched (or damaged)."""
    return _cached_path("vgg16")


@pytest.fixture(scope="session")
def vgg19_keras_weights(vgg19_weights_path: Path):
    """The cached converted Keras VGG-19 (``VGGWeights``, BGR/255/Caffe mean); skips when not fetched."""
    weights = _cached(vgg19_weights_path)
    if weights.convention.channel_order != "BGR":
        pytest.skip("the cached vgg19 weights are not the Keras (Caffe-convention) ones")
    return weights


@pytest.fixture(scope="session")
def vgg16_weights(vgg16_weights_path: Path):
    """The cached converted VGG-16 (``VGGWeights``, lpips/torchvision); skips when not fetched."""
    return _cached(vgg16_weights_path)


@pytest.fixture(scope="module")
def model(vgg19_keras_weights, vgg19_weights_path: Path):
    """A ``swiftnst.Model`` of the cached Keras VGG-19, closed after the module; skips until
    libswiftnst.so is built or when those weights are not cached. Modules testing another
    network override this fixture."""
    pytest.importorskip("swiftnst._bindings", exc_type=ImportError)
    from swiftnst import Model

    with Model(vgg19_weights_path) as loaded:
        yield loaded


@pytest.fixture(scope="session")
def random_vgg_layers():
    """Factory: ``random_vgg_layers("vgg16")`` -> ``{convB_I: (weight OIHW float32, bias)}`` of the real
    shapes, random but fixed per architecture (cached for the session: VGG-19 is 80 MB)."""
    from swiftnst.weights import conv_weight_shapes

    cache: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}

    def make(architecture: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        if architecture not in cache:
            rng = np.random.default_rng(sum(map(ord, architecture)))
            cache[architecture] = {
                name: (rng.standard_normal(shape, dtype=np.float32), rng.standard_normal(shape[0], dtype=np.float32))
                for name, shape in conv_weight_shapes(architecture).items()}
        return cache[architecture]

    return make
