"""The package's public names: every name in ``swiftnst.__all__`` resolves, and type checkers see the
lazily imported ones through the ``if TYPE_CHECKING:`` block of ``__init__.py``, which must list exactly
the names of ``_LAZY`` (from the module ``_LAZY`` says) and ``_SUBMODULES``."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import swiftnst

INIT = Path(swiftnst.__file__)


def _type_checking_imports() -> dict[str, str]:
    """``{name: module}`` imported under ``if TYPE_CHECKING:`` in ``__init__.py`` (``from . import x``: x -> x)."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    blocks = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    assert len(blocks) == 1, "expected one top-level `if TYPE_CHECKING:` block"
    names: dict[str, str] = {}
    for statement in blocks[0].body:
        assert isinstance(statement, ast.ImportFrom) and statement.level == 1, ast.unparse(statement)
        for alias in statement.names:
            assert alias.asname is None and alias.name not in names, alias.name
            names[alias.name] = statement.module or alias.name
    return names


def test_every_public_name_resolves():
    for name in swiftnst.__all__:
        assert getattr(swiftnst, name) is not None, name
    for name, module in swiftnst._LAZY.items():
        assert swiftnst.__getattr__(name) is getattr(importlib.import_module(f"swiftnst.{module}"), name)
    assert set(swiftnst.__all__) <= set(dir(swiftnst))


def test_the_type_checking_block_lists_exactly_the_lazy_names():
    imported = _type_checking_imports()
    expected = {**{name: module for name, module in swiftnst._LAZY.items()},
                **{module: module for module in swiftnst._SUBMODULES}}
    assert imported == expected


def test_a_type_checker_sees_every_public_name(tmp_path, monkeypatch):
    """mypy reveals a real type for each public name (through ``__getattr__`` alone it would be ``Any``)."""
    api = pytest.importorskip("mypy.api")
    names = [name for name in swiftnst.__all__ if not name.startswith("__")] + list(swiftnst._SUBMODULES)
    snippet = tmp_path / "uses_swiftnst.py"
    snippet.write_text("import swiftnst\n" + "".join(f"reveal_type(swiftnst.{name})\n" for name in names))
    monkeypatch.setenv("MYPYPATH", str(INIT.parents[1]))  # this checkout's package, not an installed one
    stdout, stderr, _ = api.run([
        "--cache-dir", str(tmp_path / "cache"), "--no-site-packages", "--follow-imports=silent",
        "--ignore-missing-imports", "--no-error-summary", str(snippet)])
    revealed = re.findall(r":(\d+): note: Revealed type is \"(.*)\"", stdout)
    assert len(revealed) == len(names), stdout + stderr
    untyped = [names[int(line) - 2] for line, kind in revealed if kind == "Any"]
    assert not untyped, f"type checkers see these names as Any: {untyped}"
