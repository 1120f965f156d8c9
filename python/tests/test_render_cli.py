"""The command line's memory and time options: --dry-run prints the plan and exits 0 without rendering,
a budget that cannot be met exits 1 naming what would, and the flags reach the options."""

from __future__ import annotations

import pytest

from swiftnst.cli import _options_from_args, build_parser
from test_cli import inputs, swiftnst  # noqa: F401 (inputs is a fixture: 96 px cat.jpg, stone.png)


def test_dry_run_prints_the_plan_and_renders_nothing(inputs, vgg19_weights_path, tmp_path):
    out = tmp_path / "out.png"
    result = swiftnst(*inputs, "--model", vgg19_weights_path, "-s", "800", "-n", "60", "--max-memory", "6G",
                      "--time-limit", "20m", "--tolerance", "1e-3", "-o", out, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert not out.exists() and result.stderr == ""
    text = result.stdout
    for expected in ("render plan: 2 scale(s), 60 steps", "of 6.00 GiB", "limit 20 min 0 s",
                     "scale 1: 400x267, 30 steps, whole image, L-BFGS history 100", "scale 2: 800x533, 30 steps",
                     "s/step", "predicted time", "early stop"):
        assert expected in text, text


def test_a_budget_that_cannot_be_met_is_refused_before_any_work(inputs, vgg19_weights_path, tmp_path):
    out = tmp_path / "out.png"
    for extra in ((), ("--dry-run",)):
        result = swiftnst(*inputs, "--model", vgg19_weights_path, "-s", "64", "--max-memory", "200M", "-o", out,
                          "--no-progress", *extra)
        assert result.returncode == 1 and not out.exists()
        assert result.stderr.startswith("swiftnst: error: a 64x43 render needs at least ")
        assert "the memory budget (--max-memory / max_memory) is 200 MiB" in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_run_logs_its_plan(inputs, vgg19_weights_path, tmp_path):
    result = swiftnst(*inputs, "--model", vgg19_weights_path, "-s", "32", "-n", "2", "--no-progress",
                      "-o", tmp_path / "out.png")
    assert result.returncode == 0, result.stderr
    assert "swiftnst: render plan: 1 scale(s), 2 steps" in result.stderr
    assert result.stdout.strip() == str(tmp_path / "out.png")


@pytest.mark.parametrize("flags, message", [
    (["--max-memory", "lots"], "max_memory"), (["--max-memory", "0"], "max_memory"),
    (["--time-limit", "soon"], "time_limit"), (["--tolerance", "-1"], "tolerance"),
])
def test_bad_values_are_usage_errors(flags, message):
    result = swiftnst("a.jpg", "b.jpg", *flags)
    assert result.returncode == 2 and message in result.stderr


def test_flags_reach_the_options():
    args = build_parser().parse_args(["a.jpg", "b.jpg", "--max-memory", "2.5GiB", "--time-limit", "1h30m",
                                      "--tolerance", "0.01", "--lbfgs-storage", "bfloat16"])
    options = _options_from_args(args)
    assert (options.max_memory, options.time_limit, options.tolerance) == (int(2.5 * 2**30), 5400.0, 0.01)
    assert options.lbfgs_storage == "bfloat16"
    defaults = _options_from_args(build_parser().parse_args(["a.jpg", "b.jpg"]))
    assert (defaults.max_memory, defaults.time_limit, defaults.tolerance) == (None, None, 0.0)
    assert defaults.lbfgs_storage is None  # --lbfgs-storage auto: the planner decides
