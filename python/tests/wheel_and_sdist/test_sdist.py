"""The sdist carries everything a wheel is built from (the whole Swift package), and a wheel builds from it."""

from __future__ import annotations

import tarfile

import pytest

from .conftest import Distributions

pytestmark = pytest.mark.packaging


def test_the_sdist_carries_the_swift_package(distributions: Distributions):
    with tarfile.open(distributions.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in ["Package.swift", "setup.py", "pyproject.toml", "Sources/CSwiftNST/include/swiftnst.h",
                   "Sources/COpenBLAS/module.modulemap", "Sources/NSTEngine/Weights/JSONParser.swift",
                   "Tests/NSTEngineTests/Support/Tensor.swift", "Tests/CBridgeTests/CBridgeTestSupport.swift",
                   "bench/layers/main.swift", "python/swiftnst/_cpu.py"]:
        assert needed in names, f"{needed} is missing from {distributions.sdist.name}"
    assert not [name for name in names if name.endswith((".so", ".safetensors")) or name.startswith(".build/")]


def test_a_wheel_builds_from_the_sdist(distributions: Distributions):
    assert "Building wheel from sdist" in distributions.log
    assert distributions.wheel.name.startswith(distributions.sdist.name.removesuffix(".tar.gz"))
