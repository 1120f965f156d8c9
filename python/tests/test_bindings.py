"""The ctypes bindings mirror swiftnst.h: every NST_API function is bound with matching argument and
result types and exported by the library, the records have the header's fields in order, and the
constants and ABI version agree."""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

C = pytest.importorskip("swiftnst._bindings", exc_type=ImportError)  # skips until libswiftnst.so is built

HEADER = Path(__file__).resolve().parents[2] / "Sources" / "CSwiftNST" / "include" / "swiftnst.h"


def _header_code() -> str:
    """The header without comments."""
    return re.sub(r"//[^\n]*|/\*.*?\*/", "", HEADER.read_text(), flags=re.S)


def _prototypes() -> dict[str, tuple[str, list[str]]]:
    """name -> (return type, [parameter types]) of every NST_API declaration."""
    found = {}
    for ret, name, params in re.findall(r"NST_API\s+([\w\s\*]+?)\s*\b(nst_\w+)\s*\(([^)]*)\)\s*;", _header_code()):
        params = " ".join(params.split())
        types = [] if params in ("", "void") else [
            re.sub(r"\s*\b\w+(\[\d+\])?$", lambda m: " *" if m.group(1) else "", p.strip()) for p in params.split(",")]
        found[name] = (" ".join(ret.split()), [" ".join(t.replace("*", " * ").split()) for t in types])
    return found


PROTOTYPES = _prototypes()


def _expected_ctype(c_type: str):
    """A predicate on a ctypes argtype/restype for a C type spelled as in the header."""
    bare = c_type.replace("const", "").split()
    stars, base = bare.count("*"), [t for t in bare if t != "*"][0]
    scalars = {"int32_t": ctypes.c_int32, "nst_status": ctypes.c_int32, "int64_t": ctypes.c_int64,
               "float": ctypes.c_float, "double": ctypes.c_double}
    if stars == 0 and base in scalars:
        return lambda t: t is scalars[base]
    if stars == 0 and base in ("nst_session_params", "nst_losses", "nst_model_info"):
        return lambda t: t is getattr(C, base)
    if stars == 0 and base == "void":
        return lambda t: t is None
    if stars == 0 and base == "nst_progress_callback":
        return lambda t: t is C.nst_progress_callback
    if stars == 1 and base in ("float", "int64_t", "void"):  # NumPy buffers (void *: bytes as uint8)
        dtype = {"float": np.float32, "int64_t": np.int64, "void": np.uint8}[base]
        writeable = "const" not in c_type
        buffer = lambda t: (getattr(t, "_dtype_", None) == dtype and "C_CONTIGUOUS" in _flag_names(t)
                            and ("WRITEABLE" in _flag_names(t)) == writeable)
        # An opaque void * (callback user data) is a plain c_void_p.
        return (lambda t: t is ctypes.c_void_p or buffer(t)) if base == "void" else buffer
    if stars == 1 and base == "char":
        return lambda t: t is ctypes.c_char_p
    if stars == 2 and base == "char":
        return lambda t: t is ctypes.POINTER(ctypes.c_char_p)
    if stars == 2 and base == "float":
        return lambda t: t is ctypes.POINTER(ctypes.POINTER(ctypes.c_float))
    if stars == 1 and base in ("nst_model", "nst_session"):
        return lambda t: t is ctypes.c_void_p
    if stars == 2 and base in ("nst_model", "nst_session"):
        return lambda t: t is ctypes.POINTER(ctypes.c_void_p)
    if stars == 1 and base in ("nst_losses", "nst_model_info", "nst_session_params", "double"):
        target = ctypes.c_double if base == "double" else getattr(C, base)
        return lambda t: t is ctypes.POINTER(target)
    raise AssertionError(f"test_bindings does not know the C type {c_type!r}: extend _expected_ctype")


def _flag_names(ndpointer_type) -> set[str]:
    # NPY_ARRAY_C_CONTIGUOUS and NPY_ARRAY_WRITEABLE bits of ndpointer's _flags_
    return {name for name, bit in (("C_CONTIGUOUS", 1), ("WRITEABLE", 0x400)) if ndpointer_type._flags_ & bit}


def test_header_has_prototypes():
    assert len(PROTOTYPES) >= 30, sorted(PROTOTYPES)
    assert "nst_session_step" in PROTOTYPES


def test_every_prototype_is_bound_in_header_order():
    assert list(C.FUNCTIONS) == list(PROTOTYPES)


@pytest.mark.parametrize("name", sorted(PROTOTYPES))
def test_binding_types_match_prototype(name):
    ret, params = PROTOTYPES[name]
    function = C.FUNCTIONS[name]
    assert getattr(C, name) is function
    assert len(function.argtypes) == len(params), (name, params)
    for index, (c_type, argtype) in enumerate(zip(params, function.argtypes)):
        assert _expected_ctype(c_type)(argtype), f"{name} argument {index}: {c_type} bound as {argtype}"
    assert _expected_ctype(ret)(function.restype), f"{name} returns {ret}, bound as {function.restype}"


def test_exported_symbols_match_header():
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm not available")
    path = C.lib._name
    out = subprocess.run([nm, "-D", "--defined-only", path], check=True, capture_output=True, text=True).stdout
    exported = {line.split()[-1] for line in out.splitlines() if re.search(r"\sT\snst_", line)}
    assert exported == set(PROTOTYPES), {"missing": set(PROTOTYPES) - exported, "extra": exported - set(PROTOTYPES)}


_C_SCALARS = {"int32_t": ctypes.c_int32, "int64_t": ctypes.c_int64, "float": ctypes.c_float, "double": ctypes.c_double}


@pytest.mark.parametrize("struct", ["nst_model_info", "nst_losses", "nst_session_params"])
def test_struct_fields_match_header(struct):
    body = re.search(r"typedef struct %s \{(.*?)\} %s;" % (struct, struct), _header_code(), re.S).group(1)
    fields = re.findall(r"(\w+)\s+(\w+)(?:\[(\d+)\])?\s*;", body)
    expected = [(name, _C_SCALARS[t] * int(n) if n else _C_SCALARS[t]) for t, name, n in fields]
    actual = getattr(C, struct)._fields_
    assert [f[0] for f in actual] == [f[0] for f in expected]
    for (name, want), (_, got) in zip(expected, actual):
        assert got == want or (issubclass(got, ctypes.Array) and got._type_ is want._type_
                               and got._length_ == want._length_), name


def test_bindings_reexport_every_constant():
    # test_abi.py checks the values of _abi against the header's #defines.
    from swiftnst import _abi

    constants = [name for name in vars(_abi) if name.startswith("NST_")]
    assert len(constants) >= 20
    for name in constants:
        assert getattr(C, name) == getattr(_abi, name), name


def test_abi_version_and_version_string():
    assert C.nst_abi_version() == C.NST_ABI_VERSION == 6
    assert re.fullmatch(rb"\d+\.\d+\.\d+\S*", C.nst_version_string())


def test_status_names():
    for name in [n for n in dir(C) if n == "NST_OK" or n.startswith("NST_ERR_")]:
        assert C.nst_status_name(getattr(C, name)).decode() == name
    assert C.nst_status_name(999).decode() == "NST_UNKNOWN_STATUS"


def test_default_params_are_documented_defaults():
    p = C.nst_session_default_params()
    assert (p.height, p.width, p.pooling, p.optimizer) == (256, 256, C.NST_POOLING_MAX, C.NST_OPTIMIZER_LBFGS)
    assert (p.content_weight, p.style_weight, p.lbfgs_history, p.n_threads) == (5, 100, 100, 0)
    assert p.tv_weight == pytest.approx(1e-3) and p.learning_rate == 10
    assert p.adam_beta1 == pytest.approx(0.9) and p.adam_beta2 == pytest.approx(0.999)


class _CtrlCWhileChecked(np.ndarray):
    """An array whose flags are read just as a Ctrl-C's handler runs."""

    @property
    def flags(self):
        raise KeyboardInterrupt


def test_a_ctrl_c_while_a_buffer_is_checked_stays_a_keyboard_interrupt():
    # ctypes turns what an argtype's from_param raises into ArgumentError; a Ctrl-C landing in
    # ndpointer's checks became an error, and a batch recorded the item as failed and went on.
    with pytest.raises(KeyboardInterrupt):
        C.nst_op_relu_forward(np.zeros(4, np.float32).view(_CtrlCWhileChecked), np.zeros(4, np.float32), 4)


def test_ndpointer_rejects_wrong_buffers_before_the_call():
    with pytest.raises(ctypes.ArgumentError):
        C.nst_op_relu_forward(np.zeros(4), np.zeros(4, np.float32), 4)  # float64 input
    with pytest.raises(ctypes.ArgumentError):
        C.nst_op_relu_forward(np.zeros(4, np.float32), np.zeros(4, np.float32)[::-1], 4)  # not contiguous
    read_only = np.zeros(4, np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ctypes.ArgumentError):
        C.nst_op_relu_forward(np.zeros(4, np.float32), read_only, 4)
