"""Every default the engine and Python share is the same everywhere: as swiftnst.h documents it, as
``nst_session_default_params()`` returns it, as ``Session`` passes it, as ``StyleTransferOptions``
(so ``stylize``) has it, and as ``swiftnst --help`` prints it. The default layers, which the ABI
cannot report, are checked against the header's text and against what a session really uses."""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

C = pytest.importorskip("swiftnst._bindings", exc_type=ImportError)  # skips until libswiftnst.so is built
from swiftnst import Session  # noqa: E402
from swiftnst._defaults import (  # noqa: E402
    DEFAULT_CONTENT_LAYERS, DEFAULT_HISTOGRAM_LAYERS, DEFAULT_STYLE_LAYERS, engine_defaults,
)
from swiftnst.options import STYLE_LAYER_PRESETS, StyleTransferOptions  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HEADER = REPO / "Sources" / "CSwiftNST" / "include" / "swiftnst.h"

#: nst_session_params field -> the Python name of the same default (Session keyword, option, CLI flag).
SHARED = {"pooling": "pooling", "optimizer": "optimizer", "objective": "objective", "content_weight": "content_weight",
          "style_weight": "style_weight", "tv_weight": "tv_weight", "learning_rate": "learning_rate",
          "lbfgs_history": "lbfgs_history", "lbfgs_line_search": "lbfgs_line_search", "n_threads": "threads",
          "style_loss": "style_loss", "histogram_weight": "histogram_weight"}
NAMES = {"pooling": {C.NST_POOLING_MAX: "max", C.NST_POOLING_AVG: "avg"},
         "optimizer": {C.NST_OPTIMIZER_LBFGS: "lbfgs", C.NST_OPTIMIZER_ADAM: "adam"},
         "objective": {C.NST_OBJECTIVE_NEURAL_STYLE: "neural-style", C.NST_OBJECTIVE_COURSERA: "coursera"},
         "lbfgs_line_search": {C.NST_LINE_SEARCH_NONE: "none", C.NST_LINE_SEARCH_ARMIJO: "armijo"},
         "style_loss": {C.NST_STYLE_LOSS_GRAM: "gram", C.NST_STYLE_LOSS_W2: "w2",
                        C.NST_STYLE_LOSS_GRAM_HISTOGRAM: "gram+histogram"}}


def _python_value(field: str, c_value):
    """A C default as the Python API spells it: a name for a code, a float32 compared as float32."""
    if field in NAMES:
        return NAMES[field][c_value]
    return c_value


def _same(field: str, python_value, c_value) -> bool:
    if isinstance(c_value, float):  # a C float: equal once rounded to float32, as ctypes will
        return np.float32(python_value) == np.float32(c_value)
    return python_value == _python_value(field, c_value)


def _c_defaults() -> dict[str, object]:
    params = C.nst_session_default_params()
    return {field: getattr(params, field) for field, _ in C.nst_session_params._fields_}


def _header_documented_defaults() -> dict[str, object]:
    """``field -> default`` from the comments of ``nst_session_params`` in swiftnst.h."""
    body = re.search(r"typedef struct nst_session_params \{(.*?)\} nst_session_params;", HEADER.read_text(), re.S)
    found: dict[str, object] = {}
    for field, comment in re.findall(r"(\w+);\s*//([^\n]*)", body.group(1)):
        number = re.search(r"\bdefault (-?[\d.]+(?:e-?\d+)?)", comment)
        code = re.search(r"\b(NST_\w+) \(default\)", comment)
        if number:
            found[field] = float(number.group(1))
        elif code:
            found[field] = getattr(C, code.group(1))
    return found


def test_header_documents_every_default_the_engine_returns():
    documented, engine = _header_documented_defaults(), _c_defaults()
    assert set(documented) == set(engine), "a nst_session_params field without a documented default"
    for field, value in documented.items():
        assert np.float32(engine[field]) == np.float32(value), field


def test_engine_defaults_mirror_the_c_struct():
    defaults, engine = engine_defaults(), _c_defaults()
    for field in ("adam_beta1", "adam_beta2", "adam_epsilon", *SHARED):
        python = getattr(defaults, SHARED.get(field, field))
        assert _same(field, python, engine[field]), (field, python, engine[field])
    assert defaults.tv_weight == 1e-3 and repr(defaults.adam_epsilon) == "1e-08"  # shortest, not 0.0010000000474974513


def test_style_transfer_options_use_the_engine_defaults():
    options, engine = StyleTransferOptions(), _c_defaults()
    for field, name in SHARED.items():
        assert _same(field, getattr(options, name), engine[field]), name
    assert options.content_layers == DEFAULT_CONTENT_LAYERS and options.style_layers == DEFAULT_STYLE_LAYERS
    assert options.histogram_layers == DEFAULT_HISTOGRAM_LAYERS


def test_session_passes_the_engine_defaults(model, monkeypatch):
    passed = []
    real_init = C.nst_session_init

    def spy(model_handle, params, session_out):
        struct = ctypes.cast(params, ctypes.POINTER(C.nst_session_params)).contents
        passed.append(C.nst_session_params.from_buffer_copy(struct))  # a copy: the caller's struct is freed
        return real_init(model_handle, params, session_out)

    monkeypatch.setattr(C, "nst_session_init", spy)
    with Session(model, 24, 40):
        pass
    with Session(model, 24, 40, pooling="avg", optimizer="adam", content_weight=2.0, lbfgs_history=7, threads=1,
                 objective="coursera"):
        pass
    defaults, engine = passed[0], _c_defaults()
    assert (defaults.height, defaults.width) == (24, 40)
    for field in engine.keys() - {"height", "width"}:
        assert getattr(defaults, field) == engine[field], field
    chosen = passed[1]
    assert (chosen.pooling, chosen.optimizer, chosen.content_weight, chosen.lbfgs_history, chosen.n_threads,
            chosen.objective) == (C.NST_POOLING_AVG, C.NST_OPTIMIZER_ADAM, 2.0, 7, 1, C.NST_OBJECTIVE_COURSERA)


def test_header_documents_the_default_layers():
    comment = " ".join(line.strip().removeprefix("//").strip()
                       for line in HEADER.read_text().split("NST_API nst_status nst_session_init")[0]
                       .split("// MARK: - Session lifecycle")[1].splitlines())
    match = re.search(r"starts with content layers? (.+?) \(weight 1\) and style layers (.+?) \(weight 1 each\)",
                      comment)
    assert match, comment
    assert tuple((name, 1.0) for name in match.group(1).split(", ")) == DEFAULT_CONTENT_LAYERS
    assert tuple((name, 1.0) for name in match.group(2).split(", ")) == DEFAULT_STYLE_LAYERS
    histogram = re.search(r"nst_session_set_histogram_layers\b.*?\(default (\w+) and (\w+), weight 1\s*//\s*each",
                          HEADER.read_text(), re.S)
    assert histogram, "the header states the default histogram layers"
    assert tuple((name, 1.0) for name in histogram.groups()) == DEFAULT_HISTOGRAM_LAYERS


def test_a_session_without_layers_uses_the_python_default_layers(model):
    rng = np.random.default_rng(3)
    content, style, image = (rng.standard_normal((3, 32, 32), dtype=np.float32) * 50 for _ in range(3))

    def losses(**layers):
        with Session(model, 32, 32, **layers) as session:
            session.set_content(content)
            session.add_style(style)
            return session.evaluate(image, gradient=False)[0]

    explicit = losses(content_layers=dict(DEFAULT_CONTENT_LAYERS), style_layers=dict(DEFAULT_STYLE_LAYERS))
    engine = losses()
    assert (engine.content, engine.style) == (explicit.content, explicit.style) and engine.style > 0
    other = losses(style_layers=dict(DEFAULT_STYLE_LAYERS[:2]))
    assert other.style != engine.style  # the comparison can tell layer lists apart


def _cli_help_defaults() -> dict[str, str]:
    """``flag -> text of its "(default: X)"`` in ``swiftnst --help`` (wide, so nothing wraps)."""
    env = {**os.environ, "COLUMNS": "1000",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "python"), os.environ.get("PYTHONPATH")]))}
    text = subprocess.run([sys.executable, "-m", "swiftnst", "--help"], env=env, capture_output=True, text=True,
                          check=True, timeout=120).stdout
    found = {}
    for entry in re.split(r"\n(?=  -)", text):
        flag, default = re.search(r"--([\w-]+)", entry), re.search(r"\(default: ([^)]*)\)", entry)
        if flag and default:
            found[flag.group(1)] = default.group(1)
    return found


def test_cli_help_shows_the_engine_defaults():
    shown, engine = _cli_help_defaults(), _c_defaults()
    for field, name in SHARED.items():
        text = shown[name.replace("_", "-")]
        value = text if field in NAMES else float(text)
        assert _same(field, value, engine[field]), (name, text)
    assert shown["tv-weight"] == "0.001"
    assert shown["content-layers"] == ",".join(name for name, _ in DEFAULT_CONTENT_LAYERS)
    assert STYLE_LAYER_PRESETS[shown["style-layers"]] == DEFAULT_STYLE_LAYERS
    assert shown["histogram-layers"] == ",".join(name for name, _ in DEFAULT_HISTOGRAM_LAYERS)
    options = StyleTransferOptions()
    for name in ("image_size", "iterations", "style_scale", "multiscale_min_size", "seed"):
        assert float(shown[name.replace("_", "-")]) == getattr(options, name), name
