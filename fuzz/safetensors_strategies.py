"""Hypothesis strategies for hostile safetensors files, shared by the Python-reader and engine harnesses.

A generated file is a header (random JSON built from the pieces a real header has: tensor entries
with dtypes, shapes and offsets, plus ``__metadata__``) followed by a data region of random length,
with an 8-byte length prefix that is usually right and sometimes a lie.
"""

from __future__ import annotations

import json
import struct

from hypothesis import strategies as st

_NAMES = ["conv1_1.weight", "conv1_1.bias", "conv5_3.weight", "conv1_1", "x.weight", "", "__metadata__", "conv1_1.bias "]
_DTYPES = ["F32", "F64", "F16", "BF16", "I64", "U8", "BOOL", "f32", "", "F8_E4M3"]
_COUNTS = st.one_of(st.integers(0, 80), st.sampled_from([-1, 2**31, 2**32 + 1, 2**63 - 1, 2**64, 64 * 3 * 3 * 3]))
_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                          st.text(max_size=12))


def _entry() -> st.SearchStrategy:
    offsets = st.lists(_COUNTS, min_size=0, max_size=3)
    proper = st.fixed_dictionaries({"dtype": st.sampled_from(_DTYPES), "shape": st.lists(_COUNTS, max_size=5),
                                    "data_offsets": offsets})
    return st.one_of(proper, proper.map(lambda d: {**d, "extra": 1}), _JSON_SCALARS,
                     st.dictionaries(st.text(max_size=6), _JSON_SCALARS, max_size=3))


def _metadata() -> st.SearchStrategy:
    values = st.one_of(st.sampled_from(["1", "vgg16", "vgg19", "RGB", "BGR", "255", "1,2,3", "nan,1,1", "0,0,0",
                                        "1e40,1,1", "", "2"]), _JSON_SCALARS)
    keys = st.sampled_from(["swiftnst.format", "architecture", "channel_order", "input_scale", "mean", "std",
                            "source", "other"])
    return st.one_of(st.dictionaries(keys, values, max_size=8), _JSON_SCALARS)


@st.composite
def safetensors_files(draw) -> bytes:
    """Bytes of a (usually invalid) safetensors file."""
    header = draw(st.dictionaries(st.sampled_from(_NAMES), _entry(), max_size=4))
    if draw(st.booleans()):
        header["__metadata__"] = draw(_metadata())
    text = json.dumps(header).encode()
    shape = draw(st.integers(0, 19))
    if shape == 0:  # sometimes not even JSON
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.binary(max_size=8))
    elif shape == 1:  # nesting deep enough to exhaust a recursive parser's stack
        depth = draw(st.integers(1, 200_000))
        text = b"[" * depth + b"]" * depth
    length = draw(st.one_of(st.just(len(text)), _COUNTS.filter(lambda n: 0 <= n < 2**64)))
    data = draw(st.binary(max_size=256))
    return struct.pack("<Q", length) + text + data
