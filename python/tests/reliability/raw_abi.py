"""Raw access to the C ABI for misuse tests and the ABI fuzzer: every pointer is a plain ``void *``.

``swiftnst._bindings`` types its arguments (NumPy ``ndpointer``s, handle types) so that honest Python
code cannot pass NULL or the wrong dtype; misuse tests need exactly what those types forbid. The
functions returned here are fresh ctypes objects (``CDLL[name]``), so giving them other argument
types never changes the bindings the rest of the process uses. Status constants are read from the
header itself, the ABI's single source of truth.
"""

from __future__ import annotations

import ctypes
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

HEADER = Path(__file__).resolve().parents[3] / "Sources" / "CSwiftNST" / "include" / "swiftnst.h"

P = ctypes.c_void_p
I32, I64, F32 = ctypes.c_int32, ctypes.c_int64, ctypes.c_float


@cache
def constants() -> dict[str, int]:
    """Every ``#define NST_NAME <integer>`` of the header."""
    return {name: int(value) for name, value in
            re.findall(r"^#define\s+(NST_\w+)\s+(-?\d+)\b", HEADER.read_text(), flags=re.MULTILINE)}


def status(name: str) -> int:
    """The value of a status constant, e.g. ``status("NST_ERR_SHAPE")``."""
    return constants()[name]


@cache
def library() -> ctypes.CDLL:
    """The libswiftnst the Python package loaded (same file, same process-wide state)."""
    from swiftnst import _lib

    return _lib.load_library()


def function(name: str, restype: Any, *argtypes: Any):
    """A fresh ctypes function object for ``name`` with the given raw types."""
    fn = library()[name]
    fn.restype, fn.argtypes = restype, list(argtypes)
    return fn


def buffer(count: int, fill: float = 0.0) -> np.ndarray:
    """A float32 buffer of exactly ``count`` elements (an honest caller: the count it declares)."""
    return np.full(max(count, 0), fill, np.float32)


def ptr(array: np.ndarray | None) -> int | None:
    """The address of ``array``'s data, or None (NULL)."""
    return None if array is None else array.ctypes.data


def last_error() -> str:
    return function("nst_last_error", ctypes.c_char_p)().decode("utf-8", "replace")


def status_name(code: int) -> str:
    return function("nst_status_name", ctypes.c_char_p, I32)(code).decode()


def names(*layer_names: str | None):
    """A ``const char * const *`` of the names (None gives a NULL entry); keep the second value alive."""
    array = (ctypes.c_char_p * len(layer_names))(*(n.encode() if n is not None else None for n in layer_names))
    return ctypes.cast(array, P), array


class RawABI:
    """The C functions with raw types, plus a loaded model handle to call them on."""

    def __init__(self, weights: str) -> None:
        from swiftnst import _bindings

        self.Params = _bindings.nst_session_params
        self.Info = _bindings.nst_model_info
        self.Losses = _bindings.nst_losses
        self.load = function("nst_model_load_from_file", I32, ctypes.c_char_p, P)
        self.model_free = function("nst_model_free", None, P)
        self.info = function("nst_model_get_info", I32, P, P)
        self.layer_name = function("nst_model_layer_name", I32, P, I32, P)
        self.layer_shape = function("nst_model_layer_shape", I32, P, ctypes.c_char_p, I64, I64, P)
        self.forward = function("nst_model_forward", I32, P, P, I64, I64, I64, I32, P, I32, P, P)
        self.defaults = function("nst_session_default_params", self.Params)
        self.init = function("nst_session_init", I32, P, P, P)
        self.session_free = function("nst_session_free", None, P)
        self.content_layers = function("nst_session_set_content_layers", I32, P, P, P, I32)
        self.style_layers = function("nst_session_set_style_layers", I32, P, P, P, I32)
        self.content = function("nst_session_set_content_image", I32, P, P, I64)
        self.style = function("nst_session_add_style_image", I32, P, P, I64, I64, I64, F32)
        self.clear = function("nst_session_clear_style_images", I32, P)
        self.evaluate = function("nst_session_evaluate", I32, P, P, I64, P, I64, P)
        self.set_image = function("nst_session_set_image", I32, P, P, I64)
        self.step = function("nst_session_step", I32, P, I32, P, P, P)
        self.get_image = function("nst_session_get_image", I32, P, P, I64)
        self.best = function("nst_session_get_best_image", I32, P, P, I64, P)
        self.set_strips = function("nst_session_set_strips", I32, P, ctypes.c_char_p, I64)
        self.predict = function("nst_session_predict_peak_bytes", I32, P, ctypes.c_char_p, I64, I64, P)
        # tutorial costs and single layers: every pointer a float buffer, every int a count or size
        self.ops = {
            "gram": function("nst_gram_matrix", I32, P, I64, I64, P, I64),
            "content_cost": function("nst_content_cost", I32, P, P, I64, I64, I64, P),
            "layer_style_cost": function("nst_layer_style_cost", I32, P, P, I64, I64, I64, P),
            "conv_forward": function("nst_op_conv3x3_forward", I32, P, I64, I64, I64, P, P, I64, P, I64),
            "conv_backward": function("nst_op_conv3x3_backward_input", I32, P, I64, I64, I64, P, I64, P, I64),
            "relu_forward": function("nst_op_relu_forward", I32, P, P, I64),
            "relu_backward": function("nst_op_relu_backward", I32, P, P, P, I64),
            "pool_forward": function("nst_op_pool2x2_forward", I32, I32, P, I64, I64, I64, P, I64),
            "pool_backward": function("nst_op_pool2x2_backward", I32, I32, P, I64, I64, I64, P, I64, P, I64),
            "gram_backward": function("nst_op_gram_backward", I32, P, I64, I64, P, P, I64),
        }
        self.weights = weights
        self.model = self.new_model()

    def new_model(self) -> int:
        """Load the weights file; a new model handle."""
        handle = P()
        code = self.load(self.weights.encode(), ctypes.byref(handle))
        if code != 0:
            raise RuntimeError(f"nst_model_load_from_file: {status_name(code)}: {last_error()}")
        return handle.value

    def ready_session(self, model: int | None = None) -> int:
        """A 16x16 session with a content and a style target and an image set: ready to step."""
        session = self.new_session(model)
        n = 3 * 16 * 16
        image = np.random.default_rng(0).random(n).astype(np.float32)
        style = image[::-1].copy()  # kept alive: the call reads it through a plain address
        for name, code in (("set_content_image", self.content(session, ptr(image), n)),
                           ("add_style_image", self.style(session, ptr(style), n, 16, 16, 1.0)),
                           ("set_image", self.set_image(session, ptr(image), n))):
            if code != 0:
                raise RuntimeError(f"nst_session_{name}: {status_name(code)}: {last_error()}")
        return session

    def new_session(self, model: int | None = None, height: int = 16, width: int = 16) -> int:
        """A session (one engine thread) on ``model`` (default: the loaded one)."""
        params = self.defaults()
        params.height, params.width, params.n_threads = height, width, 1
        handle = P()
        code = self.init(model or self.model, ctypes.byref(params), ctypes.byref(handle))
        if code != 0:
            raise RuntimeError(f"nst_session_init: {status_name(code)}: {last_error()}")
        return handle.value
