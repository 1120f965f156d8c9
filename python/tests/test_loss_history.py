"""``LossHistory``: a progress callback recording every step (with the scale's size from
``image_fn.shape``, never rendering the image), exported to CSV and JSON and plotted; first with
made-up steps, then on a real multi-scale run."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import swiftnst
from swiftnst import images
from swiftnst._current_image import CurrentImage
from swiftnst.demo_images import load_demo_content, render_swirl_painting
from swiftnst.loss_history import COLUMNS, LossHistory, LossRecord
from swiftnst.session import Losses


def _losses(session_iteration: int, total: float) -> Losses:
    return Losses(total=total, content=total / 2, style=total / 4, tv=total / 8, iteration=session_iteration,
                  evaluations=session_iteration)


def _two_scale_history() -> tuple[LossHistory, list[tuple[int, int]]]:
    """Three steps at 10x20 then two at 20x40, and the list of images rendered meanwhile."""
    history, rendered = LossHistory(), []

    def image_of(shape):
        return CurrentImage(lambda: rendered.append(shape) or np.zeros((*shape, 3), np.uint8), shape)

    for iteration, (session_iteration, shape) in enumerate([(1, (10, 20)), (2, (10, 20)), (3, (10, 20)),
                                                          (1, (20, 40)), (2, (20, 40))], start=1):
        history(iteration, _losses(session_iteration, 100.0 / iteration), image_of(shape))
    return history, rendered


def test_records_every_step_with_the_scale_size_without_rendering_the_image():
    history, rendered = _two_scale_history()
    assert rendered == []                               # the size is image_fn.shape: no image is computed
    assert [r.iteration for r in history] == [1, 2, 3, 4, 5] and len(history) == 5
    assert [(r.height, r.width) for r in history] == [(10, 20)] * 3 + [(20, 40)] * 2
    assert history[3] == LossRecord(4, 25.0, 12.5, 6.25, 3.125, 20, 40, history[3].seconds)
    seconds = history.column("seconds")
    assert np.all(seconds >= 0) and np.all(np.diff(seconds) >= 0)
    np.testing.assert_array_equal(history.column("total"), 100.0 / np.arange(1, 6))
    assert history.scale_starts() == [0, 3]
    assert "5 steps" in repr(history)
    with pytest.raises(ValueError, match="unknown column 'loss'"):
        history.column("loss")
    history.clear()
    assert len(history) == 0 and history.scale_starts() == [] and repr(history) == "LossHistory(no steps)"


def test_exports_csv_and_json_with_every_column(tmp_path):
    history, _ = _two_scale_history()
    history.to_csv(tmp_path / "losses.csv")
    history.to_json(tmp_path / "losses.json")
    with open(tmp_path / "losses.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == COLUMNS == ("iteration", "total", "content", "style", "tv", "height", "width", "seconds")
    records = json.loads((tmp_path / "losses.json").read_text())
    assert len(rows) - 1 == len(records) == len(history)
    for row, record, expected in zip(rows[1:], records, history):
        assert list(record) == list(COLUMNS)
        for column, text in zip(COLUMNS, row):
            value = getattr(expected, column)
            assert float(text) == record[column] == value      # repr-exact floats both ways
            assert type(record[column]) is type(value)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []   # no temporary left over


def test_plot_draws_each_term_on_a_log_axis_and_marks_new_scales():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history, _ = _two_scale_history()
    ax = history.plot()
    assert [line.get_label() for line in ax.get_lines()[:4]] == ["total", "content", "style", "tv"]
    assert len(ax.get_lines()) == 5                       # the four terms and one new-scale marker
    assert list(ax.get_lines()[4].get_xdata()) == [4, 4]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "iteration"
    # A content term near zero (the first steps from the content image) does not stretch the axis.
    from_content = LossHistory()
    for iteration, content in enumerate([0.0, 1e-6, 30.0], start=1):
        from_content(iteration, Losses(total=100.0 + content, content=content, style=100.0, tv=1.0,
                                       iteration=iteration, evaluations=iteration), CurrentImage(None, (8, 8)))
    assert from_content.plot().get_ylim()[0] == pytest.approx(1e-3 * 100.0)
    fig, shared = plt.subplots()
    assert history.plot(shared, terms=["total"], x="seconds", label="run A") is shared
    assert [line.get_label() for line in shared.get_lines()[:1]] == ["run A"]
    np.testing.assert_array_equal(shared.get_lines()[0].get_xdata(), history.column("seconds"))
    plt.close("all")


@pytest.mark.parametrize("arguments, message", [({"terms": ["loss"]}, "terms"), ({"terms": []}, "terms"),
                                                ({"x": "time"}, "x must be")])
def test_plot_rejects_unknown_terms_and_axes(arguments, message):
    history, _ = _two_scale_history()
    with pytest.raises(ValueError, match=message):
        history.plot(**arguments)


def test_plot_of_an_empty_history_says_so():
    with pytest.raises(ValueError, match="empty"):
        LossHistory().plot()


def test_records_a_real_multi_scale_run(vgg19_weights_path):
    content, style = images.resize_longest_side(load_demo_content(), 96), render_swirl_painting(64, 48)
    history, seen = LossHistory(), []

    def both(iteration, losses, image_fn):
        seen.append((iteration, losses, image_fn().shape[:2]))     # the size image_fn.shape promises
        history(iteration, losses, image_fn)

    swiftnst.stylize(content, style, model=vgg19_weights_path, image_size=96, iterations=8, multiscale=True,
                     multiscale_min_size=48, progress=False, callback=both)
    assert len(history) == len(seen) == 8
    for record, (iteration, losses, shape) in zip(history, seen):
        assert (record.iteration, record.total, record.content, record.style, record.tv) == (
            iteration, losses.total, losses.content, losses.style, losses.tv)
        assert (record.height, record.width) == shape
    assert [(history[i].height, history[i].width) for i in history.scale_starts()] == [(32, 48), (64, 96)]
