"""Misusing the C ABI through ctypes gives an error status (and a message from ``nst_last_error``),
never a crash: NULL handles and buffers, wrong counts and shapes, out-of-range options, freed,
double-freed and foreign handles, handles of the wrong type. Through the Python layer, use after
``close()`` raises.

The raw cases run in child processes, one group each (see ``_run_group``): a crash fails that
group's test with the name of the case that was running, instead of ending the pytest run.
"""

from __future__ import annotations

import ctypes
import math
import tempfile

import numpy as np
import pytest

from . import raw_abi as raw
from .conftest import PYTHON_DIR, assert_clean_exit, run_python, small_image

P, I32, I64, F32 = raw.P, raw.I32, raw.I64, raw.F32


def _expect(code: int, names: str | tuple[str, ...], call: str) -> None:
    names = (names,) if isinstance(names, str) else names
    assert code in [raw.status(n) for n in names], f"{call}: got {raw.status_name(code)}, expected {' or '.join(names)}"
    if code != 0:
        assert raw.last_error(), f"{call}: {raw.status_name(code)} without a message in nst_last_error()"


# MARK: - Case groups (run in the child)


def handles(f: raw.RawABI) -> None:
    info = f.Info()
    _expect(f.info(None, ctypes.byref(info)), "NST_ERR_INVALID_HANDLE", "get_info(NULL)")
    _expect(f.info(f.model, None), "NST_ERR_NULL_POINTER", "get_info(model, NULL)")
    junk = np.zeros(64, np.uint8)
    for foreign in (raw.ptr(junk), 0x1234, ctypes.addressof(info)):
        _expect(f.info(foreign, ctypes.byref(info)), "NST_ERR_INVALID_HANDLE", "get_info(foreign)")
    name = ctypes.c_char_p()
    _expect(f.layer_name(f.model, -1, ctypes.byref(name)), "NST_ERR_INVALID_ARGUMENT", "layer_name(-1)")
    _expect(f.layer_name(f.model, 10_000, ctypes.byref(name)), "NST_ERR_INVALID_ARGUMENT", "layer_name(10000)")
    _expect(f.layer_name(f.model, 0, None), "NST_ERR_NULL_POINTER", "layer_name(name_out NULL)")

    freed = f.new_model()
    f.model_free(freed)
    _expect(f.info(freed, ctypes.byref(info)), "NST_ERR_INVALID_HANDLE", "get_info(freed model)")
    f.model_free(freed)  # double free: ignored
    f.model_free(None)

    session = f.new_session()
    _expect(f.info(session, ctypes.byref(info)), "NST_ERR_INVALID_HANDLE", "get_info(session as model)")
    _expect(f.clear(f.model), "NST_ERR_INVALID_HANDLE", "clear_style_images(model as session)")
    f.session_free(session)
    _expect(f.clear(session), "NST_ERR_INVALID_HANDLE", "clear_style_images(freed session)")
    image = raw.buffer(3 * 16 * 16)
    _expect(f.set_image(session, raw.ptr(image), image.size), "NST_ERR_INVALID_HANDLE", "set_image(freed)")
    _expect(f.step(session, 1, None, None, None), "NST_ERR_INVALID_HANDLE", "step(freed)")
    f.session_free(session)
    f.session_free(None)
    f.session_free(f.model)  # a model handle given to session_free must not free the model
    _expect(f.info(f.model, ctypes.byref(info)), "NST_OK", "model still alive after session_free(model)")


def model_outlives_nothing(f: raw.RawABI) -> None:
    """A session keeps its own reference: freeing the model first leaves the session working."""
    model = f.new_model()
    session = f.new_session(model)
    f.model_free(model)
    image = raw.buffer(3 * 16 * 16, 1.0)
    _expect(f.content(session, raw.ptr(image), image.size), "NST_OK", "set_content after model_free")
    _expect(f.style(session, raw.ptr(image), image.size, 16, 16, 1.0), "NST_OK", "add_style after model_free")
    _expect(f.set_image(session, raw.ptr(image), image.size), "NST_OK", "set_image after model_free")
    _expect(f.step(session, 1, None, None, None), "NST_OK", "step after model_free")
    f.session_free(session)


def loading(f: raw.RawABI) -> None:
    sentinel = P(0xDEAD)
    _expect(f.load(None, ctypes.byref(sentinel)), "NST_ERR_NULL_POINTER", "load(NULL path)")
    _expect(f.load(f.weights.encode(), None), "NST_ERR_NULL_POINTER", "load(model_out NULL)")
    _expect(f.load(b"/nonexistent/vgg.safetensors", ctypes.byref(sentinel)), "NST_ERR_IO", "load(missing)")
    _expect(f.load(b"/", ctypes.byref(sentinel)), "NST_ERR_IO", "load(directory)")
    _expect(f.load(b"/dev/null", ctypes.byref(sentinel)), ("NST_ERR_IO", "NST_ERR_WEIGHTS_FORMAT"), "load(/dev/null)")
    with tempfile.NamedTemporaryFile(suffix=".safetensors") as empty:
        _expect(f.load(empty.name.encode(), ctypes.byref(sentinel)), "NST_ERR_WEIGHTS_FORMAT", "load(empty file)")
    assert sentinel.value == 0xDEAD, "model_out was written on error"


def forward(f: raw.RawABI) -> None:
    h = w = 16
    image = raw.buffer(3 * h * w, 0.5)
    shape = (I64 * 3)()
    _expect(f.layer_shape(f.model, b"relu1_1", h, w, shape), "NST_OK", "layer_shape")
    count = shape[0] * shape[1] * shape[2]
    out = raw.buffer(count, 7.0)
    outs = (P * 1)(raw.ptr(out))
    counts = (I64 * 1)(count)
    names, keep = raw.names("relu1_1")
    good = dict(image=raw.ptr(image), count=image.size, h=h, w=w, pool=0, names=names, n=1,
                outs=ctypes.cast(outs, P), counts=ctypes.cast(counts, P))

    def call(**changes):
        a = {**good, **changes}
        return f.forward(f.model, a["image"], a["count"], a["h"], a["w"], a["pool"], a["names"], a["n"],
                         a["outs"], a["counts"])

    _expect(call(image=None), "NST_ERR_NULL_POINTER", "forward(image NULL)")
    _expect(call(count=image.size - 1), "NST_ERR_SHAPE", "forward(image_count - 1)")
    for hh, ww in ((0, w), (h, -1), (8193, 1), (2**40, 2**40)):
        code = call(h=hh, w=ww, count=image.size)
        assert code in (raw.status("NST_ERR_SHAPE"), raw.status("NST_ERR_INVALID_ARGUMENT")), \
            f"forward({hh}x{ww}): {raw.status_name(code)}"
    _expect(call(pool=7), "NST_ERR_INVALID_ARGUMENT", "forward(pooling 7)")
    _expect(call(names=None), "NST_ERR_NULL_POINTER", "forward(layers NULL)")
    null_name, keep2 = raw.names(None)
    _expect(call(names=null_name), "NST_ERR_NULL_POINTER", "forward(layers[0] NULL)")
    unknown, keep3 = raw.names("relu9_9")
    _expect(call(names=unknown), "NST_ERR_UNKNOWN_LAYER", "forward(relu9_9)")
    long_name, keep4 = raw.names("relu1_1" * 200)
    code = call(names=long_name)
    assert code in (raw.status("NST_ERR_UNKNOWN_LAYER"), raw.status("NST_ERR_INVALID_ARGUMENT")), raw.status_name(code)
    for n in (0, -1, 1000):
        _expect(call(n=n), "NST_ERR_INVALID_ARGUMENT", f"forward(n_layers {n})")
    _expect(call(outs=None), "NST_ERR_NULL_POINTER", "forward(outputs NULL)")
    _expect(call(outs=ctypes.cast((P * 1)(None), P)), "NST_ERR_NULL_POINTER", "forward(outputs[0] NULL)")
    _expect(call(counts=None), "NST_ERR_NULL_POINTER", "forward(output_counts NULL)")
    small = raw.buffer(count - 1, 7.0)
    _expect(call(outs=ctypes.cast((P * 1)(raw.ptr(small)), P), counts=ctypes.cast((I64 * 1)(count - 1), P)),
            "NST_ERR_SHAPE", "forward(output_count - 1)")
    assert (out == 7.0).all() and (small == 7.0).all(), "outputs were written on error"
    _expect(call(), "NST_OK", "forward(valid)")
    assert not (out == 7.0).all()
    del keep, keep2, keep3, keep4


def params(f: raw.RawABI) -> None:
    lbfgs, adam = raw.status("NST_OPTIMIZER_LBFGS"), raw.status("NST_OPTIMIZER_ADAM")
    # the optimiser's own fields are checked with that optimiser (the other one ignores them)
    for optimizer, field, value in [
            (lbfgs, "height", 0), (lbfgs, "height", -1), (lbfgs, "width", 8193), (lbfgs, "height", 2**62),
            (lbfgs, "pooling", 5), (lbfgs, "optimizer", -1), (lbfgs, "content_weight", math.nan),
            (lbfgs, "style_weight", -1.0), (lbfgs, "tv_weight", math.inf), (lbfgs, "lbfgs_history", 0),
            (lbfgs, "n_threads", -1), (adam, "learning_rate", 0.0), (adam, "learning_rate", math.nan),
            (adam, "adam_beta1", 1.0), (adam, "adam_beta2", -0.1), (adam, "adam_epsilon", 0.0),
            (adam, "adam_epsilon", math.inf), (lbfgs, "style_loss", 3), (lbfgs, "style_loss", -1),
            (lbfgs, "histogram_weight", -1.0), (lbfgs, "histogram_weight", math.nan)]:
        p = f.defaults()
        p.optimizer = optimizer
        setattr(p, field, value)
        out = P(0xBEEF)
        _expect(f.init(f.model, ctypes.byref(p), ctypes.byref(out)), "NST_ERR_INVALID_ARGUMENT",
                f"init({field}={value})")
        assert out.value == 0xBEEF, f"session_out written on error ({field})"
    p = f.defaults()
    _expect(f.init(None, ctypes.byref(p), ctypes.byref(P())), "NST_ERR_INVALID_HANDLE", "init(NULL model)")
    _expect(f.init(f.model, None, ctypes.byref(P())), "NST_ERR_NULL_POINTER", "init(NULL params)")
    _expect(f.init(f.model, ctypes.byref(p), None), "NST_ERR_NULL_POINTER", "init(NULL session_out)")


def session_inputs(f: raw.RawABI) -> None:
    s = f.new_session()
    n = 3 * 16 * 16
    image = raw.buffer(n, 1.0)
    _expect(f.content(s, None, n), "NST_ERR_NULL_POINTER", "set_content(NULL)")
    _expect(f.content(s, raw.ptr(image), n - 1), "NST_ERR_SHAPE", "set_content(count - 1)")
    _expect(f.content(s, raw.ptr(image), -n), "NST_ERR_SHAPE", "set_content(negative count)")
    bad = image.copy()
    bad[17] = np.nan
    _expect(f.content(s, raw.ptr(bad), n), "NST_ERR_NUMERIC", "set_content(NaN)")
    _expect(f.set_image(s, raw.ptr(bad), n), "NST_ERR_NUMERIC", "set_image(NaN)")
    _expect(f.style(s, raw.ptr(image), n, 16, 15, 1.0), "NST_ERR_SHAPE", "add_style(h*w mismatch)")
    _expect(f.style(s, raw.ptr(image), n, -16, -16, 1.0), "NST_ERR_SHAPE", "add_style(negative size)")
    for weight in (0.0, -1.0, math.nan, math.inf):
        _expect(f.style(s, raw.ptr(image), n, 16, 16, weight), "NST_ERR_INVALID_ARGUMENT", f"add_style(weight {weight})")
    _expect(f.step(s, 1, None, None, None), "NST_ERR_STATE", "step(no targets)")
    _expect(f.step(s, -1, None, None, None), "NST_ERR_INVALID_ARGUMENT", "step(-1)")

    names, keep = raw.names("relu1_1", "relu9_9")
    weights = (F32 * 2)(1.0, 1.0)
    _expect(f.style_layers(s, names, ctypes.cast(weights, P), 2), "NST_ERR_UNKNOWN_LAYER", "style_layers(relu9_9)")
    _expect(f.style_layers(s, None, ctypes.cast(weights, P), 1), "NST_ERR_NULL_POINTER", "style_layers(names NULL)")
    _expect(f.style_layers(s, names, None, 1), "NST_ERR_NULL_POINTER", "style_layers(weights NULL)")
    _expect(f.style_layers(s, names, ctypes.cast(weights, P), -1), "NST_ERR_INVALID_ARGUMENT", "style_layers(n -1)")
    nan_weights = (F32 * 1)(math.nan)
    _expect(f.content_layers(s, names, ctypes.cast(nan_weights, P), 1), "NST_ERR_INVALID_ARGUMENT",
            "content_layers(NaN weight)")
    _expect(f.content_layers(s, None, None, 0), "NST_OK", "content_layers(n 0) removes the term")

    _expect(f.content(s, raw.ptr(image), n), "NST_OK", "set_content")
    _expect(f.style(s, raw.ptr(image), n, 16, 16, 1.0), "NST_OK", "add_style")
    gradient = raw.buffer(n - 3, 5.0)
    _expect(f.evaluate(s, raw.ptr(image), n, raw.ptr(gradient), n - 3, None), "NST_ERR_SHAPE", "evaluate(grad count)")
    assert (gradient == 5.0).all(), "gradient written on error"
    _expect(f.evaluate(s, None, n, None, 0, None), "NST_ERR_NULL_POINTER", "evaluate(image NULL)")
    _expect(f.evaluate(s, raw.ptr(image), n, None, 0, None), "NST_OK", "evaluate(no gradient, no losses)")
    out = raw.buffer(n + 1)
    _expect(f.get_image(s, raw.ptr(out), n + 1), "NST_ERR_SHAPE", "get_image(count + 1)")
    _expect(f.get_image(s, None, n), "NST_ERR_NULL_POINTER", "get_image(NULL)")
    _expect(f.best(s, raw.ptr(out), n - 1, None), "NST_ERR_SHAPE", "get_best_image(count - 1)")
    f.session_free(s)
    del keep


def callbacks(f: raw.RawABI) -> None:
    s = f.new_session()
    n = 3 * 16 * 16
    image = raw.buffer(n, 1.0)
    other = np.random.default_rng(0).random(n).astype(np.float32)
    for call in (f.content(s, raw.ptr(image), n), f.style(s, raw.ptr(other), n, 16, 16, 1.0),
                 f.set_image(s, raw.ptr(other), n)):
        _expect(call, "NST_OK", "setup")
    seen = []
    Callback = ctypes.CFUNCTYPE(I32, P, P)
    stop_at_two = Callback(lambda losses, user: (seen.append(1), len(seen) >= 2)[1])
    _expect(f.step(s, 10, ctypes.cast(stop_at_two, P), None, None), "NST_ERR_CANCELLED", "step(callback stops)")
    assert len(seen) == 2, f"callback ran {len(seen)} times"
    losses = f.Losses()
    best = raw.buffer(n)
    _expect(f.best(s, raw.ptr(best), n, ctypes.byref(losses)), "NST_OK", "best after cancel")
    assert np.isfinite(best).all() and math.isfinite(losses.total)
    _expect(f.step(s, 0, None, None, None), "NST_OK", "step(0)")
    f.session_free(s)


def status_names(f: raw.RawABI) -> None:
    for name, value in raw.constants().items():
        if name.startswith("NST_ERR_") or name == "NST_OK":
            assert raw.status_name(value) == name
    for bogus in (-1, 13, 999, 2**31 - 1):
        assert raw.status_name(bogus) == "NST_UNKNOWN_STATUS"


GROUPS = [handles, model_outlives_nothing, loading, forward, params, session_inputs, callbacks, status_names]


def _run_group(name: str, weights: str) -> None:
    """Child-process entry point: run one group, printing each step so a crash can be located."""
    print(f"running {name}", flush=True)
    globals()[name](raw.RawABI(weights))
    print(f"passed {name}", flush=True)


@pytest.mark.parametrize("group", [g.__name__ for g in GROUPS])
def test_raw_abi_misuse(swiftnst_engine, vgg16_random_path, group):
    result = run_python(f"""
        from reliability.test_abi_misuse import _run_group
        _run_group({group!r}, {str(vgg16_random_path)!r})
    """, env={"PYTHONPATH": f"{PYTHON_DIR}:{PYTHON_DIR / 'tests'}"})
    assert_clean_exit(result)
    assert f"passed {group}" in result.stdout


def test_layer_too_deep_for_the_session_size(swiftnst_engine, vgg16_random_path):
    result = run_python(f"""
        import ctypes
        from reliability import raw_abi as raw
        f = raw.RawABI({str(vgg16_random_path)!r})
        session = f.new_session(height=16, width=16)
        names, keep = raw.names("pool5")
        weights = (ctypes.c_float * 1)(1.0)
        print(raw.status_name(f.style_layers(session, names, ctypes.cast(weights, raw.P), 1)))
    """, env={"PYTHONPATH": f"{PYTHON_DIR}:{PYTHON_DIR / 'tests'}"})
    assert_clean_exit(result)
    # swiftnst.h: set_{content,style}_layers report a layer too deep for the session's size as NST_ERR_SHAPE
    # (nst_session_init reports the same condition for its default layers as NST_ERR_INVALID_ARGUMENT)
    assert result.stdout.strip() == "NST_ERR_SHAPE", result.stdout


# MARK: - Through the Python layer


def test_python_objects_refuse_use_after_close(swiftnst_engine, vgg16_random_path):
    model = swiftnst_engine.Model(vgg16_random_path)
    session = swiftnst_engine.Session(model, 16, 16)
    session.close()
    session.close()  # idempotent
    for use in (lambda: session.step(1), lambda: session.image, lambda: session.set_content(small_image(model, 16, 16)),
                lambda: session.evaluate(small_image(model, 16, 16))):
        with pytest.raises((swiftnst_engine.NSTError, ValueError, RuntimeError), match=r"(?i)closed"):
            use()
    model.close()
    model.close()
    with pytest.raises((swiftnst_engine.NSTError, ValueError, RuntimeError), match=r"(?i)closed"):
        model.activations(np.zeros((3, 16, 16), np.float32), ["relu1_1"])
    with pytest.raises((swiftnst_engine.NSTError, ValueError, RuntimeError), match=r"(?i)closed"):
        swiftnst_engine.Session(model, 16, 16)


def test_session_keeps_working_after_its_model_is_closed(swiftnst_engine, vgg16_random_path):
    model = swiftnst_engine.Model(vgg16_random_path)
    x = small_image(model, 16, 16)
    with swiftnst_engine.Session(model, 16, 16) as session:
        model.close()
        session.set_content(x)
        session.add_style(x)
        session.set_image(x)
        assert math.isfinite(session.step(1).total)


def test_wrong_arrays_through_the_python_layer(swiftnst_engine, model):
    with swiftnst_engine.Session(model, 16, 16) as session:
        for bad in (np.zeros((16, 16, 3), np.float32), np.zeros((3, 16), np.float32), np.zeros(768, np.float32),
                    np.zeros((1, 3, 16, 16), np.float32)):
            with pytest.raises((swiftnst_engine.NSTError, ValueError), match=r"(?i)shape|size|count"):
                session.set_content(bad)
        # dtype and memory order are converted, not refused: a float64 Fortran-ordered array works
        session.set_content(np.asfortranarray(small_image(model, 16, 16).astype(np.float64)))
