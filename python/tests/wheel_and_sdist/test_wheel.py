"""The wheel: one ``py3-none-manylinux`` wheel whose libraries need no Swift toolchain, installed in a
fresh venv and rendering with the toolchain hidden from the dynamic loader."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO, Distributions, environment_without_toolchain, swift_toolchain_root
from .elf import dynamic_entries, toolchain_dependencies

pytestmark = pytest.mark.packaging


def test_the_wheel_is_tagged_py3_none_manylinux(distributions: Distributions):
    assert re.fullmatch(r"swiftnst-[^-]+-py3-none-manylinux_\d+_\d+_x86_64\.whl", distributions.wheel.name)
    with zipfile.ZipFile(distributions.wheel) as archive:
        metadata = archive.read(next(name for name in archive.namelist() if name.endswith(".dist-info/WHEEL")))
    assert re.search(rb"^Tag: py3-none-manylinux_\d+_\d+_x86_64$", metadata, re.MULTILINE)


def test_the_libraries_need_no_swift_toolchain(unpacked_wheel: Path):
    libraries = sorted((unpacked_wheel / "swiftnst" / "_lib").glob("*/libswiftnst.so"))
    assert libraries, "no library in the wheel"
    for library in libraries:
        assert toolchain_dependencies(library) == [], library
        assert (library.parent / "libswiftnst.so.target-cpu").read_text().strip() == library.parent.name
        # OpenBLAS comes with the wheel, renamed by auditwheel and found through an $ORIGIN path.
        (openblas,) = [name for name in dynamic_entries(library)["NEEDED"] if name.startswith("libopenblas")]
        assert (unpacked_wheel / "swiftnst.libs" / openblas).is_file()


def test_the_check_sees_a_toolchain_dependency():
    """The check above can fail: a development build links the toolchain's runtime."""
    development_build = REPO / ".build" / "release" / "libswiftnst.so"
    if not development_build.is_file():
        pytest.skip(f"no development build at {development_build}")
    found = toolchain_dependencies(development_build)
    assert "libswiftCore.so" in found, found


RENDER = """
import json, pathlib, shutil, sys
import swiftnst
from swiftnst import _lib
content, style, weights, output = sys.argv[1:]
image = swiftnst.stylize(content, style, model=weights, output=output, image_size=64, iterations=2, progress=False)
print(json.dumps({
    "module": swiftnst.__file__,
    "library": _lib.load_library()._name,
    "shape": list(image.shape),
    "maps": sorted({line.split()[-1] for line in open("/proc/self/maps") if "/" in line}),
    "swift": shutil.which("swift"),
}))
"""


def test_the_installed_wheel_renders_without_the_toolchain(wheel_venv: Path, vgg19_weights_path: Path,
                                                          tmp_path: Path):
    from PIL import Image
    import numpy as np

    rng = np.random.default_rng(0)
    content, style, output = tmp_path / "content.png", tmp_path / "style.png", tmp_path / "result.png"
    for path in (content, style):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
    result = subprocess.run([str(wheel_venv / "python"), "-c", RENDER, str(content), str(style),
                             str(vgg19_weights_path), str(output)],
                            env=environment_without_toolchain(wheel_venv), cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    site_packages = wheel_venv.parent / "lib"
    assert Path(report["module"]).is_relative_to(site_packages), report["module"]
    assert Path(report["library"]).is_relative_to(site_packages), report["library"]
    assert report["shape"] == [64, 64, 3]
    assert Image.open(output).size == (64, 64)
    assert report["swift"] is None
    root = swift_toolchain_root()
    if root:
        assert [path for path in report["maps"] if Path(path).is_relative_to(root)] == []
