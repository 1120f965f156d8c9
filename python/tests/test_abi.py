"""The header's constants live once in Python (``swiftnst._abi``), with the header's values; every
status code has its exception class; every public exception is an ``NSTError`` that keeps its
built-in bases. None of this needs the native library, and reading it does not load it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import swiftnst
from swiftnst import _abi
from swiftnst._errors import ERROR_CLASSES, NOT_AN_ENGINE_STATUS, NSTError

REPO = Path(__file__).resolve().parents[2]
HEADER = REPO / "Sources" / "CSwiftNST" / "include" / "swiftnst.h"


def _header_defines() -> dict[str, int]:
    """``NST_NAME -> value`` of every integer ``#define`` in swiftnst.h."""
    return {name: int(value) for name, value in re.findall(r"^#define\s+(NST_\w+)\s+(-?\d+)\b", HEADER.read_text(),
                                                           flags=re.M)}


def test_every_header_define_has_the_same_value_in_python():
    defines = _header_defines()
    assert len(defines) >= 20 and "NST_ABI_VERSION" in defines and "NST_MAX_IMAGE_SIDE" in defines
    for name, value in defines.items():
        assert getattr(_abi, name, None) == value, name
    constants = {name for name in vars(_abi) if name.startswith("NST_")}
    assert constants == set(defines), "constants in _abi.py that the header does not define"


def test_every_status_code_has_its_exception_class():
    statuses = {name: value for name, value in _header_defines().items() if name.startswith("NST_ERR_")}
    assert set(ERROR_CLASSES) == set(statuses.values())
    for name, value in statuses.items():
        cls = ERROR_CLASSES[value]
        assert cls.status == value and issubclass(cls, NSTError), name
        assert cls.__name__.upper().replace("_", "") == ("NST" + name[len("NST_ERR_"):] + "ERROR").replace("_", ""), \
            (name, cls.__name__)


@pytest.mark.parametrize("name, builtins", [
    ("ImageError", (ValueError,)), ("ImageNotFoundError", (FileNotFoundError, ValueError)),
    ("WeightsError", (ValueError,)), ("LibraryNotFoundError", (ImportError,)),
    ("StyleTransferInterrupted", (KeyboardInterrupt,)), ("MemoryBudgetError", (MemoryError,)),
])
def test_python_side_errors_are_nst_errors_and_keep_their_builtin_bases(name, builtins):
    cls = getattr(swiftnst, name)
    assert issubclass(cls, NSTError) and all(issubclass(cls, base) for base in builtins)
    assert cls.status == NOT_AN_ENGINE_STATUS and cls.function is None
    assert name in swiftnst.__all__


def test_every_public_exception_class_is_an_nst_error():
    exported = [getattr(swiftnst, name) for name in swiftnst.__all__ if name.endswith(("Error", "Interrupted"))]
    assert len(exported) == 20
    assert all(issubclass(cls, NSTError) for cls in exported)


def test_error_objects_behave_like_before():
    missing = swiftnst.ImageNotFoundError(2, "image file not found", "x.png")
    assert (str(missing), missing.filename, missing.function) == ("[Errno 2] image file not found: 'x.png'", "x.png",
                                                                  None)
    library = swiftnst.LibraryNotFoundError("no library")
    assert str(library) == library.msg == "no library"
    stop = swiftnst.StyleTransferInterrupted("image", 7, None)
    assert (str(stop), stop.image, stop.iteration, stop.output) == ("interrupted after 7 iterations", "image", 7, None)
    assert isinstance(stop, KeyboardInterrupt) and str(swiftnst.ImageError("bad image")) == "bad image"


def test_constants_images_and_errors_do_not_load_the_library():
    code = ("import sys, swiftnst, swiftnst._abi, swiftnst._errors, swiftnst._arguments, swiftnst.images, "
            "swiftnst.weights; from swiftnst import _lib; "
            "assert _lib._library is None and 'swiftnst._bindings' not in sys.modules, 'library loaded'")
    env = {**os.environ, "PYTHONPATH": str(REPO / "python"), "SWIFTNST_LIB_PATH": "/nonexistent/libswiftnst.so"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
