"""The package's metadata in pyproject.toml: the MIT licence and its file, classifiers that exist and
agree with requires-python and py.typed, py.typed in the package data, a Pillow minimum equal to the
newest Pillow API the code uses, and extras (and the ones scripts/setup.sh installs) that hold what
the notebooks need."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "python" / "swiftnst"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]

#: Pillow APIs swiftnst uses (as spelled in its source) -> the Pillow release that added them.
PILLOW_API_VERSIONS = {
    "Image.Resampling": (9, 1),
    "ImageOps.exif_transpose": (6, 0),
    ".getexif()": (6, 0),
    "UnidentifiedImageError": (7, 0),
    "Image.DecompressionBombError": (5, 0),
    "Image.alpha_composite": (4, 0),
}


def test_the_licence_is_mit_with_its_file():
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and re.search(r"Copyright \(c\) \d{4} the swiftnst authors\n", text)
    # setuptools >= 77 refuses a licence classifier beside an SPDX expression
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]


def test_every_classifier_exists():
    trove = pytest.importorskip("trove_classifiers")
    assert [c for c in PROJECT["classifiers"] if c not in trove.classifiers] == []


def test_python_classifiers_follow_requires_python():
    minimum = re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"])
    assert minimum, PROJECT["requires-python"]
    minors = sorted(int(c.rsplit(".", 1)[1]) for c in PROJECT["classifiers"]
                    if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert minors[0] == int(minimum.group(1)) and minors == list(range(minors[0], minors[-1] + 1))


def test_py_typed_is_package_data_and_declared():
    assert (PACKAGE / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["swiftnst"]
    assert "Typing :: Typed" in PROJECT["classifiers"]


def test_the_pillow_minimum_is_the_newest_api_used():
    source = "\n".join(path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py"))
    used = {api: version for api, version in PILLOW_API_VERSIONS.items() if api in source}
    assert "Image.Resampling" in used
    requirement = next(d for d in PROJECT["dependencies"] if d.lower().startswith("pillow"))
    floor = tuple(int(part) for part in re.fullmatch(r"(?i)pillow>=([\d.]+)", requirement).group(1).split("."))
    assert floor == max(used.values()), (requirement, used)


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!\[; ]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


#: What executing the tutorial notebooks needs: nbclient and a kernel, matplotlib for the figures,
#: scikit-image for the demo inputs, ipywidgets for tqdm's notebook bars (no "IProgress not found").
NOTEBOOK_NEEDS = {"nbclient", "nbformat", "ipykernel", "ipywidgets", "matplotlib", "scikit-image"}


@pytest.mark.parametrize("extra", ["notebooks", "test"])
def test_the_notebook_extras_install_what_the_notebooks_import(extra):
    """The notebooks extra runs the tutorial notebooks; the test extra executes them the same way."""
    names = _names(PYPROJECT["project"]["optional-dependencies"][extra])
    assert NOTEBOOK_NEEDS <= names, f"the {extra} extra lacks {sorted(NOTEBOOK_NEEDS - names)}"


def test_setup_sh_installs_what_the_notebooks_need():
    """scripts/setup.sh's default extras (``EXTRAS=${SWIFTNST_EXTRAS:-...}``) cover the notebooks' needs."""
    script = (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8")
    extras = re.search(r"^EXTRAS=\$\{SWIFTNST_EXTRAS:-([\w,-]+)\}$", script, re.MULTILINE).group(1).split(",")
    optional = PYPROJECT["project"]["optional-dependencies"]
    names = set().union(*(_names(optional[extra]) for extra in extras))
    assert NOTEBOOK_NEEDS <= names, f"setup.sh's extras {extras} lack {sorted(NOTEBOOK_NEEDS - names)}"


def test_the_distributed_extra_holds_dask_and_setup_sh_installs_it():
    """``swiftnst batch --workers/--scheduler`` needs Dask distributed: the extra its error message names."""
    from swiftnst._batch_dask import DISTRIBUTED_EXTRA

    assert "swiftnst[distributed]" in DISTRIBUTED_EXTRA
    assert _names(PYPROJECT["project"]["optional-dependencies"]["distributed"]) == {"dask"}
    assert "dask[distributed]" in PYPROJECT["project"]["optional-dependencies"]["distributed"][0]
    script = (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8")
    extras = re.search(r"^EXTRAS=\$\{SWIFTNST_EXTRAS:-([\w,-]+)\}$", script, re.MULTILINE).group(1).split(",")
    assert "distributed" in extras


def test_the_video_extra_holds_imageio_ffmpeg_and_opencv_and_setup_sh_installs_it():
    """``swiftnst video`` needs imageio's ffmpeg plugin and OpenCV: the extra its error message names."""
    from swiftnst._flow import VIDEO_EXTRA

    assert "swiftnst[video]" in VIDEO_EXTRA
    video = PYPROJECT["project"]["optional-dependencies"]["video"]
    assert _names(video) == {"imageio", "opencv-python-headless"}
    assert any(requirement.startswith("imageio[ffmpeg]") for requirement in video)
    script = (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8")
    extras = re.search(r"^EXTRAS=\$\{SWIFTNST_EXTRAS:-([\w,-]+)\}$", script, re.MULTILINE).group(1).split(",")
    assert "video" in extras


def test_video_without_its_extra_names_the_extra(monkeypatch, tmp_path):
    """Without OpenCV (or imageio's ffmpeg plugin) ``swiftnst.video`` stops before any work, naming the extra."""
    import sys

    import swiftnst

    for missing in ("cv2", "imageio_ffmpeg"):
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, missing, None)  # as if it were not installed
            with pytest.raises(ImportError, match=r"swiftnst\[video\]"):
                swiftnst.video(tmp_path / "clip.mp4", tmp_path / "style.png", tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()
