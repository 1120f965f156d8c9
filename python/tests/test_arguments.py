"""Integers reach C only after a type and range check: ctypes would pass ``2**64 + 32`` as 32 and
``2**32`` (as an int32_t) as 0, and reject ``1.5`` with a bare ``ArgumentError``. Every caller-supplied
integer of the Python API is checked by ``_arguments.checked_int``, with a message naming it."""

from __future__ import annotations

import re

import numpy as np
import pytest

from swiftnst._arguments import checked_int
from swiftnst._errors import NSTInvalidArgumentError

WRAPS_TO_32 = 2**64 + 32
WRAPS_TO_0 = 2**32


@pytest.mark.parametrize("value, bits, message", [
    (WRAPS_TO_32, 64, r"n must fit a 64-bit C integer \(-9223372036854775808 to 9223372036854775807\), got "
                      r"18446744073709551648"),
    (WRAPS_TO_0, 32, r"n must fit a 32-bit C integer \(-2147483648 to 2147483647\), got 4294967296"),
    (-(2**31) - 1, 32, r"n must fit a 32-bit C integer"),
    (1.5, 32, r"n must be an integer, got 1\.5"),
    (2.0, 64, r"n must be an integer, got 2\.0"),
    (True, 32, r"n must be an integer, got True"),
    ("3", 32, r"n must be an integer, got '3'"),
    (None, 64, r"n must be an integer, got None"),
])
def test_checked_int_refuses_what_ctypes_would_wrap_or_reject(value, bits, message):
    with pytest.raises(NSTInvalidArgumentError, match=message):
        checked_int(value, "n", bits=bits)


def test_checked_int_accepts_the_c_range_and_numpy_integers():
    assert checked_int(2**31 - 1, "n", bits=32) == 2**31 - 1 and checked_int(-(2**31), "n", bits=32) == -(2**31)
    assert checked_int(2**63 - 1, "n", bits=64) == 2**63 - 1
    value = checked_int(np.int64(7), "n", bits=32)
    assert value == 7 and type(value) is int
    assert checked_int(10**30, "n") == 10**30  # no C type: any size


def test_checked_int_bounds_name_the_limit():
    with pytest.raises(ValueError, match=r"^size must be an integer >= 1, got 0$"):
        checked_int(0, "size", minimum=1)
    with pytest.raises(ValueError, match=r"^size must be <= 8192 \(the limit\), got 8193$"):
        checked_int(8193, "size", maximum=8192, maximum_note=" (the limit)")


# MARK: - Every place the API passes a caller's integer to C

BAD_INTEGERS = [
    (WRAPS_TO_32, "must fit a"), (WRAPS_TO_0 * 2**32, "must fit a"), (1.5, "must be an integer, got 1.5"),
    (True, "must be an integer, got True"),
]


@pytest.fixture()
def session(model):
    from swiftnst import Session

    with Session(model, 16, 16) as s:
        yield s


@pytest.mark.parametrize("value, message", BAD_INTEGERS + [(WRAPS_TO_0, "must fit a 32-bit"), (-1, "must be an integer >= 0, got -1")])
def test_step_checks_n(session, value, message):
    with pytest.raises(NSTInvalidArgumentError, match="^" + re.escape(f"step(): n {message}")):
        session.step(value)
    assert session.best_losses is None  # nothing ran


@pytest.mark.parametrize("keyword", ["height", "width", "lbfgs_history", "threads"])
@pytest.mark.parametrize("value, message", BAD_INTEGERS)
def test_session_checks_its_integers(model, keyword, value, message):
    from swiftnst import Session

    sizes = {"height": 16, "width": 16}
    arguments = {**sizes, keyword: value}
    with pytest.raises(NSTInvalidArgumentError, match="^" + re.escape(f"{keyword} {message}")):
        Session(model, arguments.pop("height"), arguments.pop("width"), **arguments)


@pytest.mark.parametrize("keyword", ["lbfgs_history", "threads"])
def test_session_int32_parameters_are_not_wrapped(model, keyword):
    from swiftnst import Session

    with pytest.raises(NSTInvalidArgumentError, match=rf"^{keyword} must fit a 32-bit C integer"):
        Session(model, 16, 16, **{keyword: WRAPS_TO_0})  # ctypes would pass 0 threads / an empty history
    with pytest.raises(NSTInvalidArgumentError, match=keyword.split("_")[-1]):
        Session(model, 16, 16, **{keyword: -1})  # in range for C: the engine's own check answers


@pytest.mark.parametrize("value, message", BAD_INTEGERS)
def test_layer_shape_checks_height_and_width(model, value, message):
    assert model.layer_shape("relu1_1", 32, np.int64(16)) == (64, 32, 16)
    for arguments in ((value, 16), (16, value)):
        with pytest.raises(NSTInvalidArgumentError, match=re.escape(message)):
            model.layer_shape("relu1_1", *arguments)


@pytest.mark.parametrize("field", ["lbfgs_history", "threads"])
def test_options_check_c_range_before_any_work(field):
    from swiftnst import StyleTransferOptions

    with pytest.raises(ValueError, match=rf"{field} must fit a 32-bit C integer"):
        StyleTransferOptions(**{field: WRAPS_TO_0})
