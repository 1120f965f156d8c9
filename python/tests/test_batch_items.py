"""A batch's items, keys, names and option grid (``_batch_items``), and the manifest (``_manifest``):
pure Python, no rendering."""

from __future__ import annotations

import dataclasses
import json
import logging
import os

import pytest

from swiftnst._batch_items import (GRID_OPTIONS, RESOURCE_OPTIONS, batch_items, check_batch_options, file_sha256,
                                   grid_points, parse_grid)
from swiftnst._manifest import MANIFEST_NAME, Manifest, ManifestError
from swiftnst.options import StyleTransferOptions


@pytest.fixture()
def files(tmp_path):
    """Two content files with the same bytes in different directories, and a style file."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    paths = {"a": tmp_path / "a" / "cat photo.jpg", "b": tmp_path / "b" / "cat photo.jpg",
             "other": tmp_path / "dog.png", "style": tmp_path / "starry night.png"}
    for name, path in paths.items():
        path.write_bytes(b"same" if name in ("a", "b") else name.encode())
    return {name: os.fspath(path) for name, path in paths.items()}


# MARK: - The option grid


def test_the_grid_reads_each_value_as_its_options_type():
    grid = parse_grid(["style-weight=50,100", "seed=0,1", "multiscale=true,off", "init=noise:0.5", "style_layers=tutorial"])
    assert grid == {"style_weight": (50.0, 100.0), "seed": (0, 1), "multiscale": (True, False),
                    "init": ("noise:0.5",), "style_layers": ("tutorial",)}
    assert isinstance(grid["seed"][0], int) and isinstance(grid["style_weight"][0], float)


@pytest.mark.parametrize("spec, message", [
    ("style_weight", "NAME=VALUE1"), ("=1,2", "NAME=VALUE1"), ("style_weight=", "NAME=VALUE1"),
    ("colour=1", "cannot vary 'colour'"), ("threads=1,2", "cannot vary 'threads'"),
    ("checkpoint=x", "cannot vary 'checkpoint'"), ("seed=1.5", "seed"), ("multiscale=maybe", "true or false"),
])
def test_a_bad_grid_is_refused_naming_the_problem(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_grid([spec])


def test_an_option_given_twice_in_the_grid_is_refused():
    with pytest.raises(ValueError, match="twice"):
        parse_grid(["seed=1", "seed=2"])


def test_grid_points_are_the_cartesian_product_validated():
    base = StyleTransferOptions(image_size=64)
    points = grid_points(base, {"style_weight": [50, 100], "seed": [0, 1, 2]})
    assert len(points) == 6
    assert [(o.style_weight, o.seed) for _, o in points] == [(w, s) for w in (50, 100) for s in (0, 1, 2)]
    assert all(o.image_size == 64 for _, o in points)
    assert grid_points(base, {}) == [((), base)]
    with pytest.raises(ValueError, match="style_weight=-1"):
        grid_points(base, {"style_weight": [-1]})
    with pytest.raises(ValueError, match="non-empty list"):
        grid_points(base, {"seed": []})
    assert "threads" not in GRID_OPTIONS and "style_weight" in GRID_OPTIONS


@pytest.mark.parametrize("change, message", [
    (dict(style_blend_weights=[1.0]), "style_blend_weights"), (dict(save_every=5, snapshot_dir="s"), "snapshots"),
    (dict(checkpoint="c.ckpt"), "checkpoints"), (dict(init="start.png"), "init"),
])
def test_options_of_a_single_render_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        check_batch_options(StyleTransferOptions(**change))


# MARK: - Items, keys and names


def test_items_come_grid_point_then_style_then_content_with_readable_unique_names(files):
    points = grid_points(StyleTransferOptions(), {"style_weight": [50, 100]})
    items = batch_items([files["a"], files["other"]], [files["style"]], points, "model", "png")
    assert [(os.path.basename(i.content), i.options.style_weight) for i in items] == [
        ("cat photo.jpg", 50.0), ("dog.png", 50.0), ("cat photo.jpg", 100.0), ("dog.png", 100.0)]
    first = items[0]
    assert first.output == f"cat_photo__starry_night__style_weight-50__{first.key[:10]}.png"
    assert first.content_sha256 == file_sha256(files["a"]) and first.grid == (("style_weight", 50.0),)
    # The grid's values as the options hold them: given as 50 or as "50" on the command line, the same names.
    assert batch_items([files["a"]], [files["style"]], grid_points(StyleTransferOptions(), parse_grid(
        ["style_weight=50"])), "model", "png")[0].output == first.output
    assert len({i.output for i in items}) == len({i.key for i in items}) == 4


def test_the_key_is_what_the_item_computes(files):
    def key(content="a", model="model", extension="png", **options):
        return batch_items([files[content]], [files["style"]], [((), StyleTransferOptions(**options))], model,
                           extension)[0].key

    # The same bytes elsewhere, and options that only say how to compute: the same key.
    assert key() == key("b") == key(threads=1, max_memory="1G", progress=False, print_every=3)
    # Anything that changes the result: another key.
    others = [key("other"), key(model="other weights"), key(extension="jpg"), key(seed=1), key(style_weight=1.0),
              key(iterations=3), key(time_limit="1m")]
    assert len({key(), *others}) == len(others) + 1
    assert RESOURCE_OPTIONS.isdisjoint(GRID_OPTIONS)


def test_items_computing_the_same_thing_are_listed_once(files):
    items = batch_items([files["a"], files["b"], files["a"]], [files["style"]], [((), StyleTransferOptions())],
                        "model", "png")
    assert len(items) == 1


# MARK: - The manifest


def _record(key: str, output: str) -> dict:
    return {"key": key, "output": output, "seconds": 1.5}


def test_records_are_appended_durably_and_read_back(tmp_path):
    (tmp_path / "one.png").write_bytes(b"x")
    with Manifest(tmp_path) as manifest:
        assert manifest.records == []
        manifest.append(_record("k1", "one.png"))
        manifest.append(_record("k2", "missing.png"))
    lines = (tmp_path / MANIFEST_NAME).read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["k1", "k2"]
    with Manifest(tmp_path) as manifest:
        assert [r["key"] for r in manifest.records] == ["k1", "k2"]
        assert list(manifest.finished()) == ["k1"]  # a record whose file is gone is not finished


def test_a_last_line_cut_short_is_ignored_with_a_warning_and_cut_off(tmp_path, caplog):
    path = tmp_path / MANIFEST_NAME
    intact = json.dumps(_record("k1", "one.png")) + "\n"
    path.write_text(intact + '{"key": "k2", "outp')
    with caplog.at_level(logging.WARNING, logger="swiftnst"), Manifest(tmp_path) as manifest:
        assert [r["key"] for r in manifest.records] == ["k1"]
        manifest.append(_record("k3", "three.png"))
    assert "incomplete last line" in caplog.text
    assert [json.loads(line)["key"] for line in path.read_text().splitlines()] == ["k1", "k3"]


def test_a_complete_last_record_without_its_newline_is_kept(tmp_path):
    path = tmp_path / MANIFEST_NAME
    path.write_text(json.dumps(_record("k1", "one.png")))
    with Manifest(tmp_path) as manifest:
        manifest.append(_record("k2", "two.png"))
    assert [json.loads(line)["key"] for line in path.read_text().splitlines()] == ["k1", "k2"]


@pytest.mark.parametrize("line", ["not json", json.dumps([1, 2]), json.dumps({"key": "k"}),
                                  json.dumps(_record("k", "../elsewhere.png")), json.dumps(_record("k", "/abs.png"))])
def test_a_damaged_line_before_the_last_is_refused(tmp_path, line):
    (tmp_path / MANIFEST_NAME).write_text(line + "\n" + json.dumps(_record("k1", "one.png")) + "\n")
    with pytest.raises(ManifestError, match="line 1"):
        Manifest(tmp_path)
    assert (tmp_path / MANIFEST_NAME).read_text().startswith(line)  # nothing was changed


def test_one_batch_at_a_time_writes_a_manifest(tmp_path):
    with Manifest(tmp_path):
        with pytest.raises(ManifestError, match="another batch"):
            Manifest(tmp_path)
    Manifest(tmp_path).close()  # free again once closed


def test_options_change_the_key_through_dataclasses_replace(files):
    """Grid points are ``dataclasses.replace`` of the batch's options: validated and normalised like them."""
    base = StyleTransferOptions(style_layers="relu1_1,relu2_1")
    (_, changed), = grid_points(base, {"tv_weight": [0.5]})
    assert changed == dataclasses.replace(base, tv_weight=0.5)
