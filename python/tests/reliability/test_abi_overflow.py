"""Every C export that takes sizes or counts, called with extreme values (``Int64.max``, ``Int64.max/2``,
2^32, 2^31, -1, ``Int64.min``, 0): each call returns a status, never a trap from an unchecked
multiplication (``nst_layer_style_cost`` with 2^32 channels used to die with SIGILL computing the size of
its Gram matrix). Tests/CBridgeTests/ABIOverflowTests.swift runs the same table in-process.

The table runs in a child process per group, printing each case before calling it, so a trap fails that
group's test with the case's name instead of ending the pytest run. Buffers are small; every case claims
sizes the library must refuse before it touches them (see ``sweep``).
"""

from __future__ import annotations

import ctypes
from typing import Callable, Sequence

import numpy as np
import pytest

from . import raw_abi as raw
from .conftest import run_group_in_child

EXTREMES = (2**63 - 1, (2**63 - 1) // 2, 2**32, 2**31, -1, -(2**63), 0)
EXTREMES_32 = (2**31 - 1, (2**31 - 1) // 2, 2**16, -1, -(2**31))
HUGE = 2**31  # a companion size: times any extreme size >= 2^31 its byte size overflows int64
BUFFER = np.zeros(1024, np.float32)  # more than one 16x16 image
B = raw.ptr(BUFFER)
ERRORS = {code for name, code in raw.constants().items() if name.startswith("NST_ERR_")} - {raw.status("NST_ERR_INTERNAL")}


def check(name: str, sizes: Sequence[int], code: int, may_accept: bool = False) -> None:
    allowed = ERRORS | ({0} if may_accept else set())
    assert code in allowed, f"{name}{list(sizes)}: got {raw.status_name(code)} ({raw.last_error()})"
    if code != 0:
        assert raw.last_error(), f"{name}{list(sizes)}: {raw.status_name(code)} without a message"


def sweep(name: str, arity: int, call: Callable[[list[int]], int], companions: Sequence[int] = (HUGE,),
          may_accept: Callable[[list[int]], bool] = lambda sizes: False) -> None:
    """``call(sizes)`` with each of the ``arity`` sizes in turn at each extreme value and the others at
    each of ``companions``."""
    for position in range(arity):
        for companion in companions:
            for value in EXTREMES:
                sizes = [companion] * arity
                sizes[position] = value
                print(f"case {name}{sizes}", flush=True)
                check(name, sizes, call(sizes), may_accept(sizes))


# MARK: - Case groups (run in the child)


def costs_and_ops(f: raw.RawABI) -> None:
    ops, cost = f.ops, ctypes.c_double()
    out = ctypes.byref(cost)
    sweep("nst_gram_matrix", 2, lambda s: ops["gram"](B, s[0], s[1], B, BUFFER.size), companions=(1, HUGE))
    sweep("nst_gram_matrix(gram_count)", 1, lambda s: ops["gram"](B, 2, 2, B, s[0]))
    sweep("nst_content_cost", 3, lambda s: ops["content_cost"](B, B, *s, out))
    sweep("nst_layer_style_cost", 3, lambda s: ops["layer_style_cost"](B, B, *s, out))
    # channels alone: the two channels x channels Gram matrices are refused before a_s is read
    sweep("nst_layer_style_cost(channels)", 1, lambda s: ops["layer_style_cost"](B, B, s[0], 1, 1, out))
    sweep("nst_op_conv3x3_forward", 5, lambda s: ops["conv_forward"](B, s[0], s[1], s[2], B, B, s[3], B, s[4]),
          companions=(1, HUGE))
    sweep("nst_op_conv3x3_backward_input", 5, lambda s: ops["conv_backward"](B, s[0], s[1], s[2], B, s[3], B, s[4]),
          companions=(1, HUGE))
    # the count is the buffers' own length: NULL buffers, so a count the library accepts reads nothing
    sweep("nst_op_relu_forward", 1, lambda s: ops["relu_forward"](None, None, s[0]), may_accept=lambda s: s[0] == 0)
    sweep("nst_op_relu_backward", 1, lambda s: ops["relu_backward"](None, None, None, s[0]),
          may_accept=lambda s: s[0] == 0)
    # a 1x1 input pools to nothing: an empty output (count 0) is right
    sweep("nst_op_pool2x2_forward", 4, lambda s: ops["pool_forward"](0, B, s[0], s[1], s[2], B, s[3]),
          companions=(1, HUGE), may_accept=lambda s: s == [1, 1, 1, 0])
    sweep("nst_op_pool2x2_backward", 5, lambda s: ops["pool_backward"](1, B, s[0], s[1], s[2], B, s[3], B, s[4]),
          companions=(1, HUGE), may_accept=lambda s: s == [1, 1, 1, 0, 1])
    sweep("nst_op_gram_backward", 3, lambda s: ops["gram_backward"](B, s[0], s[1], B, B, s[2]), companions=(1, HUGE))


def model(f: raw.RawABI) -> None:
    shape = (raw.I64 * 3)()
    sweep("nst_model_layer_shape", 2, lambda s: f.layer_shape(f.model, b"relu1_1", s[0], s[1], shape), companions=(16,))
    names, keep = raw.names("relu1_1")
    outputs = ctypes.cast((raw.P * 1)(B), raw.P)

    def forward(image_count: int, height: int, width: int, output_count: int) -> int:
        counts = (raw.I64 * 1)(output_count)
        return f.forward(f.model, B, image_count, height, width, 0, names, 1, outputs, ctypes.cast(counts, raw.P))

    sweep("nst_model_forward", 4, lambda s: forward(*s), companions=(16,))
    sweep("nst_model_forward(output_counts[0])", 1, lambda s: forward(768, 16, 16, s[0]))
    name = ctypes.c_char_p()
    for index in EXTREMES_32:
        print(f"case nst_model_layer_name[{index}]", flush=True)
        check("nst_model_layer_name", [index], f.layer_name(f.model, index, ctypes.byref(name)))
    del keep


def session(f: raw.RawABI) -> None:
    s, losses, nbytes = f.new_session(), f.Losses(), ctypes.c_int64()
    sweep("nst_session_set_content_image", 1, lambda n: f.content(s, B, n[0]))
    sweep("nst_session_set_image", 1, lambda n: f.set_image(s, B, n[0]))
    sweep("nst_session_add_style_image", 3, lambda n: f.style(s, B, n[0], n[1], n[2], 1.0), companions=(16, HUGE))
    sweep("nst_session_evaluate", 2, lambda n: f.evaluate(s, B, n[0], B, n[1], ctypes.byref(losses)), companions=(768,))
    sweep("nst_session_get_image", 1, lambda n: f.get_image(s, B, n[0]))
    sweep("nst_session_get_best_image", 1, lambda n: f.best(s, B, n[0], ctypes.byref(losses)))
    sweep("nst_session_set_strips", 1, lambda n: f.set_strips(s, b"pool1", n[0]))
    # a large history is a valid question with a large answer
    sweep("nst_session_predict_peak_bytes", 2,
          lambda n: f.predict(s, b"pool1" if n[0] else None, n[0], n[1], ctypes.byref(nbytes)),
          companions=(0, 8), may_accept=lambda n: n[0] >= 0 and n[1] >= 0)
    names, keep = raw.names("relu1_1")
    weights = ctypes.cast((raw.F32 * 1)(1.0), raw.P)
    for n in EXTREMES_32:
        print(f"case nst_session_step/set_style_layers[{n}]", flush=True)
        check("nst_session_step", [n], f.step(s, n, None, None, None))
        check("nst_session_set_style_layers", [n], f.style_layers(s, names, weights, n))
    for field in ("height", "width", "lbfgs_history", "n_threads"):
        for value in EXTREMES:
            params = f.defaults()
            params.height, params.width = 16, 16
            setattr(params, field, value if field in ("height", "width") else ctypes.c_int32(value).value)
            created = raw.P()
            print(f"case nst_session_init[{field}={value}]", flush=True)
            # a large history or thread count is allowed (allocated on use, bounded by the work)
            check("nst_session_init", [value], f.init(f.model, ctypes.byref(params), ctypes.byref(created)),
                  may_accept=field in ("lbfgs_history", "n_threads"))
            f.session_free(created.value)
    f.session_free(s)
    del keep


GROUPS = [costs_and_ops, model, session]


@pytest.mark.parametrize("group", [g.__name__ for g in GROUPS])
def test_extreme_sizes_give_a_status(swiftnst_engine, vgg16_random_path, group):
    run_group_in_child("test_abi_overflow", group, vgg16_random_path, timeout=300)
