"""What the package and the command line say: ``--version``, the version's single source, the
``swiftnst`` loggers (a NullHandler on the package logger, modules logging under their own names) and
``-v``/``-q`` on the command line."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import swiftnst
from swiftnst import _version
from swiftnst._cli_output import logging_to_stderr
from swiftnst.cli import _options_from_args, build_parser
from test_cli import inputs, swiftnst as run_cli  # noqa: F401 (inputs is a fixture: 96 px cat.jpg, stone.png)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pyproject_version() -> str:
    """The version pyproject.toml states (read with tomllib: Python >= 3.11)."""
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_the_version_comes_from_pyproject(pyproject_version):
    assert swiftnst.__version__ == pyproject_version
    assert _version.package_version() == pyproject_version


def test_outside_a_checkout_the_version_is_the_installed_metadata_or_unknown(tmp_path, monkeypatch):
    assert _version.checkout_version(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\nversion = "9.9"\n')
    assert _version.checkout_version(tmp_path) is None  # another project's pyproject.toml is not ours
    monkeypatch.setattr(metadata, "version", lambda name: "7.7.7" if name == "swiftnst" else "")
    assert _version.package_version(tmp_path) == "7.7.7"

    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert _version.package_version(tmp_path) == _version.UNKNOWN_VERSION
    (tmp_path / "pyproject.toml").write_text('[build-system]\nversion = "1"\n[project]\nname = "swiftnst"\n'
                                             'version = "3.2.1"\n[tool.x]\nversion = "0"\n')
    assert _version.package_version(tmp_path) == "3.2.1"


def test_version_prints_the_package_and_library_versions(pyproject_version):
    result = run_cli("--version")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"swiftnst {pyproject_version}"
    assert re.fullmatch(rf"library \d+\.\d+\.\d+\S*, C ABI {swiftnst._abi.NST_ABI_VERSION}: \S*libswiftnst\S*",
                        lines[1]), lines
    assert lines[2].startswith("BLAS: ") and len(lines) == 3


def test_a_library_that_cannot_be_loaded_is_reported_without_a_traceback(tmp_path):
    package = tmp_path / "python" / "swiftnst"  # a copy with no library anywhere around it
    shutil.copytree(Path(swiftnst.__file__).parent, package, ignore=shutil.ignore_patterns("_lib", "__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(package.parent), "SWIFTNST_LIB_PATH": str(tmp_path / "none.so")}
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "swiftnst", *args], env=env, capture_output=True, text=True,
                              timeout=120)

    version = run("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.splitlines()[1].startswith("library: not loaded: could not load the swiftnst library")
    render = run("a.jpg", "b.jpg")
    assert render.returncode == 1 and "Traceback" not in render.stderr
    assert render.stderr.startswith("swiftnst: error: could not load the swiftnst library; tried:")


def test_the_package_logger_has_a_null_handler_and_modules_log_below_it():
    handlers = logging.getLogger("swiftnst").handlers
    assert any(isinstance(handler, logging.NullHandler) for handler in handlers)
    from swiftnst import images, model
    assert model.logger.name == "swiftnst.model" and images.logger.name == "swiftnst.images"


def test_logging_to_stderr_sets_the_level_and_restores_it(capsys):
    logger = logging.getLogger("swiftnst")
    before = (logger.level, list(logger.handlers))
    with logging_to_stderr(logging.WARNING):
        logging.getLogger("swiftnst.options").info("hidden")
        logging.getLogger("swiftnst.options").warning("shown")
    assert (logger.level, logger.handlers) == before
    assert capsys.readouterr().err == "swiftnst: shown\n"


def test_quiet_turns_the_progress_bar_off():
    parser = build_parser()
    assert _options_from_args(parser.parse_args(["a.jpg", "b.jpg"])).progress
    assert not _options_from_args(parser.parse_args(["a.jpg", "b.jpg", "-q"])).progress
    with pytest.raises(SystemExit):
        parser.parse_args(["a.jpg", "b.jpg", "-q", "-v"])


def test_quiet_and_verbose_runs(inputs, vgg19_weights_path, tmp_path, pyproject_version):
    out = tmp_path / "out.png"
    common = (*inputs, "--model", vgg19_weights_path, "-s", "32", "-n", "2", "-o", out)
    quiet = run_cli(*common, "-q")
    assert quiet.returncode == 0, quiet.stderr
    assert out.is_file() and quiet.stdout == "" and quiet.stderr == ""
    again = run_cli(*common, "-q")  # warnings still pass -q
    assert again.stderr == f"swiftnst: replacing the existing file '{out}'\n" and again.stdout == ""
    normal = run_cli(*common, "--no-progress")
    assert normal.stdout == f"{out}\n" and "swiftnst: render plan:" in normal.stderr
    assert "[swiftnst" not in normal.stderr and "C ABI" not in normal.stderr  # no debug output without -v
    verbose = run_cli(*common, "-v", "--no-progress")
    assert verbose.returncode == 0, verbose.stderr
    assert f"swiftnst: [swiftnst] swiftnst {pyproject_version}; library " in verbose.stderr
    assert f"swiftnst: [swiftnst.model] loaded {vgg19_weights_path}: vgg19" in verbose.stderr
    assert "swiftnst: [swiftnst] render plan:" in verbose.stderr and verbose.stdout == f"{out}\n"


def test_quiet_weights_commands_print_only_what_was_asked(tmp_path, vgg19_weights_path):
    assert run_cli("weights", "path", "-q").stdout == f"{vgg19_weights_path}\n"
    fetched = run_cli("weights", "fetch", "vgg19", "-q")  # already cached: nothing to download
    assert fetched.returncode == 0 and fetched.stdout == "" and fetched.stderr == ""
    assert run_cli("weights", "fetch", "vgg19", "-v").stderr.endswith(f"{vgg19_weights_path}: intact, not fetched again\n")
    missing = run_cli("weights", "convert", tmp_path / "missing.h5", "-q")
    assert missing.returncode == 1 and "missing.h5" in missing.stderr  # errors are never silenced
