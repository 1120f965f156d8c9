"""Every layer operation and tutorial cost of the engine (``swiftnst.ops``) against the float64 NumPy
reference, on random data over many small shapes (odd sizes, single channels, ties for max pooling).

Tolerances: results are float32 computed by the engine against float64; an error is measured
relative to the scale of the result (max |reference|), and allowed 1e-5 for single-pass ops
(products over at most 9*C terms) and 1e-6 for elementwise ones; costs accumulate in double and
must match to 1e-5 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference as ref

pytest.importorskip("swiftnst._bindings", exc_type=ImportError)  # skips until libswiftnst.so is built
from swiftnst import ops  # noqa: E402

SHAPES = [(1, 1, 1), (1, 2, 2), (2, 3, 5), (3, 4, 4), (5, 7, 6), (8, 9, 11), (16, 6, 13)]


def assert_close(got: np.ndarray, want: np.ndarray, rel: float) -> None:
    assert got.dtype == np.float32 and got.shape == want.shape
    scale = max(float(np.abs(want).max(initial=0.0)), 1e-30)
    error = float(np.abs(got - want).max(initial=0.0)) / scale
    assert error <= rel, f"relative error {error:.3g} > {rel:.1g}"


def rng_for(*shape: int) -> np.random.Generator:
    return np.random.default_rng(abs(hash(shape)) % 2**32)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("out_channels", [1, 4])
def test_conv3x3_forward_and_backward(shape, out_channels):
    rng = rng_for(*shape, out_channels)
    x = rng.standard_normal(shape, dtype=np.float32)
    weight = rng.standard_normal((out_channels, shape[0], 3, 3), dtype=np.float32)
    bias = rng.standard_normal(out_channels, dtype=np.float32)
    assert_close(ops.conv3x3(x, weight, bias), ref.conv3x3(x.astype(float), weight.astype(float),
                                                           bias.astype(float)), 1e-5)
    grad_out = rng.standard_normal((out_channels, *shape[1:]), dtype=np.float32)
    assert_close(ops.conv3x3_backward_input(grad_out, weight),
                 ref.conv3x3_backward_input(grad_out.astype(float), weight.astype(float)), 1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_relu_forward_and_backward(shape):
    rng = rng_for(*shape)
    x = rng.standard_normal(shape, dtype=np.float32)
    x.flat[0] = 0.0  # the gradient at exactly 0 is 0
    grad_out = rng.standard_normal(shape, dtype=np.float32)
    assert_close(ops.relu(x), ref.relu(x), 0)
    assert_close(ops.relu_backward(x, grad_out), ref.relu_backward(grad_out, x), 0)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_pool2x2_forward_and_backward(shape, pooling):
    rng = rng_for(*shape)
    # integers make ties common, which exercises the first-maximum rule
    x = rng.integers(-2, 3, size=shape).astype(np.float32)
    forward = ref.max_pool if pooling == "max" else ref.avg_pool
    backward = ref.max_pool_backward if pooling == "max" else ref.avg_pool_backward
    want = forward(x.astype(float))
    got = ops.pool2x2(x, pooling)
    assert got.shape == want.shape == (shape[0], shape[1] // 2, shape[2] // 2)
    if want.size:
        assert_close(got, want, 1e-6)
    grad_out = rng.standard_normal(want.shape, dtype=np.float32)
    assert_close(ops.pool2x2_backward(x, grad_out, pooling), backward(grad_out.astype(float), x.astype(float)),
                 1e-6)


@pytest.mark.parametrize("shape", SHAPES)
def test_gram_and_its_backward(shape):
    rng = rng_for(*shape)
    f = rng.standard_normal(shape, dtype=np.float32)
    flat = f.reshape(shape[0], -1)
    assert_close(ops.gram_matrix(flat), ref.gram(flat.astype(float)), 1e-5)
    assert_close(ops.gram_matrix(f), ref.gram(f.astype(float)), 1e-5)  # [C, H, W] is unrolled
    grad_gram = rng.standard_normal((shape[0], shape[0]), dtype=np.float32)
    assert_close(ops.gram_backward(f, grad_gram), ref.gram_backward(grad_gram.astype(float), f.astype(float)),
                 1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_tutorial_costs(shape):
    rng = rng_for(*shape)
    a, b = rng.standard_normal((2, *shape), dtype=np.float32)
    assert ops.content_cost(a, b) == pytest.approx(ref.tutorial_content_cost(a, b), rel=1e-5)
    assert ops.layer_style_cost(a, b) == pytest.approx(ref.tutorial_layer_style_cost(a, b), rel=1e-5)
    assert ops.content_cost(a, a) == 0.0
    assert ops.layer_style_cost(a, a) == 0.0


@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 6), h=st.integers(1, 9), w=st.integers(1, 9), o=st.integers(1, 5),
       seed=st.integers(0, 2**32 - 1))
def test_conv_and_pool_on_random_shapes(c, h, w, o, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c, h, w), dtype=np.float32)
    weight = rng.standard_normal((o, c, 3, 3), dtype=np.float32)
    bias = rng.standard_normal(o, dtype=np.float32)
    y = ops.conv3x3(x, weight, bias)
    assert_close(y, ref.conv3x3(x.astype(float), weight.astype(float), bias.astype(float)), 1e-5)
    pooled = ops.pool2x2(y)
    if pooled.size:
        assert_close(pooled, ref.max_pool(y.astype(float)), 1e-6)


def test_inputs_are_converted_not_modified():
    x64 = np.linspace(-1, 1, 2 * 4 * 6).reshape(2, 4, 6)  # float64, converted once
    fortran = np.asfortranarray(x64)
    before = fortran.copy()
    got = ops.relu(fortran)
    assert got.dtype == np.float32 and got.flags.c_contiguous
    np.testing.assert_array_equal(fortran, before)
    np.testing.assert_allclose(got, np.maximum(x64, 0), rtol=1e-7)
