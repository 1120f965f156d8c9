"""Every kind of bad call, through the raw bindings and the Python API, raises the ``NSTError``
subclass of its status with a message naming the function, the status and the reason; the
process never crashes and outputs are left untouched."""

from __future__ import annotations

import ctypes
import shutil

import numpy as np
import pytest

pytest.importorskip("swiftnst._bindings", exc_type=ImportError)  # skips until libswiftnst.so is built
from swiftnst import _bindings as C  # noqa: E402
from swiftnst import ops  # noqa: E402
from swiftnst._errors import ERROR_CLASSES, check  # noqa: E402
from swiftnst import (  # noqa: E402
    Model, NSTError, NSTInvalidArgumentError, NSTInvalidHandleError, NSTIOError, NSTNullPointerError,
    NSTNumericError, NSTShapeError, NSTStateError, NSTUnknownLayerError, NSTWeightsFormatError, Session,
)

F32 = np.float32


@pytest.fixture(scope="module")
def model(vgg16_weights_path):
    with Model(vgg16_weights_path) as m:
        yield m


@pytest.fixture()
def session(model):
    with Session(model, 16, 16) as s:  # the smallest size reaching relu5_1
        yield s


def raises(cls: type[NSTError], *fragments: str):
    """``pytest.raises`` for ``cls`` whose message contains every fragment (case-insensitive)."""

    class Matcher:
        def __enter__(self):
            self.ctx = pytest.raises(cls)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            suppressed = self.ctx.__exit__(*exc)
            if not suppressed:
                return False
            message = str(self.info.value).lower()
            assert type(self.info.value) is cls, type(self.info.value)
            if self.info.value.function is not None:  # raised from a C status: the engine's reason
                assert self.info.value.function in message and "no details" not in message, message
            for fragment in fragments:
                assert fragment.lower() in message, (fragment, message)
            return suppressed

    return Matcher()


def call(function, *args):
    check(function(*args), function.__name__)


# MARK: - Status mapping


def test_every_status_has_its_class():
    statuses = {getattr(C, n): n for n in dir(C) if n.startswith("NST_ERR_")}
    assert set(ERROR_CLASSES) == set(statuses)
    for status, cls in ERROR_CLASSES.items():
        assert issubclass(cls, NSTError) and cls.status == status
    assert issubclass(NSTShapeError, ValueError) and issubclass(NSTIOError, OSError)


def test_message_names_function_and_status(model):
    with raises(NSTUnknownLayerError, "nst_model_layer_shape", "NST_ERR_UNKNOWN_LAYER", "nope1_1") as info:
        model.layer_shape("nope1_1", 8, 8)
    assert info.value.status == C.NST_ERR_UNKNOWN_LAYER and info.value.function == "nst_model_layer_shape"


# MARK: - Model loading


def test_missing_file(tmp_path):
    with raises(NSTIOError, "missing.safetensors"):
        Model(tmp_path / "missing.safetensors")


@pytest.mark.parametrize("content", [b"", b"not a safetensors file at all", b"\xff" * 8 + b"{}"])
def test_malformed_files(tmp_path, content):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises((NSTWeightsFormatError, NSTIOError)) as info:
        Model(path)
    assert str(path.name) in str(info.value) or "header" in str(info.value).lower()


def test_truncated_and_nan_weights(tmp_path, vgg16_weights_path):
    data = vgg16_weights_path.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    with raises(NSTWeightsFormatError):
        Model(truncated)
    poisoned = tmp_path / "nan.safetensors"
    shutil.copy(vgg16_weights_path, poisoned)
    with open(poisoned, "r+b") as f:
        f.seek(-400, 2)  # inside the last tensor's data
        f.write(np.full(4, np.nan, F32).tobytes())
    with raises(NSTWeightsFormatError):
        Model(poisoned)


def test_null_pointers_in_model_calls(vgg16_weights_path):
    handle = C.nst_model_p()
    with raises(NSTNullPointerError):
        call(C.nst_model_load_from_file, None, ctypes.byref(handle))
    with raises(NSTNullPointerError):
        call(C.nst_model_load_from_file, str(vgg16_weights_path).encode(), None)
    assert handle.value is None  # out-pointer untouched


# MARK: - Handles


def test_freed_and_foreign_handles(vgg16_weights_path):
    m = Model(vgg16_weights_path)
    freed = m.handle
    m.close()
    info = C.nst_model_info()
    with raises(NSTInvalidHandleError):
        call(C.nst_model_get_info, freed, ctypes.byref(info))
    with raises(NSTInvalidHandleError):
        call(C.nst_model_get_info, None, ctypes.byref(info))
    foreign = ctypes.create_string_buffer(64)
    with raises(NSTInvalidHandleError):
        call(C.nst_session_clear_style_images, ctypes.addressof(foreign))
    C.nst_model_free(freed)  # freeing twice, or NULL, is ignored
    C.nst_model_free(None)
    C.nst_session_free(None)


# MARK: - Model queries


def test_model_queries(model):
    name = ctypes.c_char_p()
    with raises(NSTInvalidArgumentError):
        call(C.nst_model_layer_name, model.handle, len(model.layer_names), ctypes.byref(name))
    with raises(NSTInvalidArgumentError):
        call(C.nst_model_layer_name, model.handle, -1, ctypes.byref(name))
    with raises(NSTNullPointerError):
        call(C.nst_model_layer_name, model.handle, 0, None)
    with raises(NSTShapeError):
        model.layer_shape("relu1_1", 0, 8)
    with raises(NSTShapeError):
        model.layer_shape("relu1_1", 8, C.NST_MAX_IMAGE_SIDE + 1)
    with raises(NSTNullPointerError):
        call(C.nst_model_layer_shape, model.handle, b"relu1_1", 8, 8, None)


def test_forward_errors(model):
    image = np.zeros((3, 8, 8), F32)
    out = np.full((64, 8, 8), 7.0, F32)
    pointers = (ctypes.POINTER(ctypes.c_float) * 1)(out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
    names = (ctypes.c_char_p * 1)(b"relu1_1")

    def forward(image=image, count=image.size, h=8, w=8, pooling=C.NST_POOLING_MAX, layers=names, n=1,
                outputs=pointers, counts=np.array([out.size], np.int64)):
        call(C.nst_model_forward, model.handle, image, count, h, w, pooling, layers, n, outputs, counts)

    with raises(NSTShapeError):
        forward(count=image.size - 1)
    with raises(NSTShapeError):
        forward(counts=np.array([out.size + 1], np.int64))
    with raises(NSTInvalidArgumentError):
        forward(n=0)
    with raises(NSTInvalidArgumentError):
        forward(pooling=7)
    with raises(NSTNullPointerError):
        forward(image=None)
    with raises(NSTNullPointerError):
        forward(outputs=None)
    with raises(NSTUnknownLayerError, "relu0_0"):
        forward(layers=(ctypes.c_char_p * 1)(b"relu0_0"))
    assert (out == 7.0).all()  # outputs untouched on error
    with raises(NSTInvalidArgumentError, "pooling"):
        model.activations(image, ["relu1_1"], pooling="median")


# MARK: - Session parameters and inputs


@pytest.mark.parametrize("field, value", [
    ("height", 0), ("width", C.NST_MAX_IMAGE_SIDE + 1), ("pooling", 3), ("optimizer", 9),
    ("content_weight", -1.0), ("style_weight", float("nan")), ("tv_weight", float("inf")),
    ("learning_rate", 0.0), ("adam_beta1", 1.0), ("adam_epsilon", 0.0), ("lbfgs_history", 0), ("n_threads", -1),
])
def test_bad_session_params(model, field, value):
    params = C.nst_session_default_params()
    params.height = params.width = 16
    if field == "learning_rate" or field.startswith("adam"):  # the engine checks the chosen optimiser's fields
        params.optimizer = C.NST_OPTIMIZER_ADAM
    setattr(params, field, value)
    handle = C.nst_session_p()
    with raises(NSTInvalidArgumentError, field.split("_")[0]):
        call(C.nst_session_init, model.handle, ctypes.byref(params), ctypes.byref(handle))
    assert handle.value is None


def test_session_init_nulls(model):
    params = C.nst_session_default_params()
    with raises(NSTNullPointerError):
        call(C.nst_session_init, model.handle, None, ctypes.byref(C.nst_session_p()))
    with raises(NSTNullPointerError):
        call(C.nst_session_init, model.handle, ctypes.byref(params), None)


def test_layer_lists(model, session):
    with raises(NSTUnknownLayerError, "conv9_1"):
        Session(model, 16, 16, content_layers=["conv9_1"])
    with raises(NSTInvalidArgumentError):
        Session(model, 16, 16, style_layers={"relu1_1": -1.0})
    with raises(NSTInvalidArgumentError):
        Session(model, 16, 16, style_layers={"relu1_1": float("nan")})
    with raises(NSTInvalidArgumentError, "string"):
        Session(model, 16, 16, style_layers="relu1_1")
    with raises(NSTNullPointerError):
        call(C.nst_session_set_style_layers, session.handle, None, np.ones(1, F32), 1)
    with raises(NSTInvalidArgumentError):
        call(C.nst_session_set_style_layers, session.handle, (ctypes.c_char_p * 1)(b"relu1_1"), np.ones(1, F32), -1)


def test_image_inputs(session):
    good = np.zeros((3, 16, 16), F32)
    with raises(NSTShapeError):
        session.set_content(np.zeros((3, 16, 17), F32))
    with raises(NSTShapeError):
        session.set_image(np.zeros((3, 4, 4), F32))
    with raises(NSTShapeError):
        session.add_style(np.zeros((4, 16, 16), F32))
    nan = good.copy()
    nan[1, 2, 3] = np.nan
    with raises(NSTNumericError):
        session.set_content(nan)
    with raises(NSTNumericError):
        session.set_image(nan)
    with raises(NSTNumericError):
        session.add_style(nan)
    with raises(NSTInvalidArgumentError):
        session.add_style(good, weight=0.0)
    with raises(NSTInvalidArgumentError):
        session.add_style(good, weight=float("nan"))
    with raises(NSTShapeError):
        call(C.nst_session_add_style_image, session.handle, good, good.size, 16, 17, 1.0)
    with raises(NSTNullPointerError):
        call(C.nst_session_set_image, session.handle, None, good.size)


def test_evaluate_step_and_outputs(session):
    good = np.zeros((3, 16, 16), F32)
    with raises(NSTStateError):  # no content target, no style image
        session.evaluate(good)
    session.set_content(good)
    with raises(NSTStateError, "style"):
        session.step(1)
    session.add_style(np.ones((3, 20, 20), F32))
    grad = np.full(good.size - 1, 5.0, F32)
    with raises(NSTShapeError):
        call(C.nst_session_evaluate, session.handle, good, good.size, grad, grad.size, None)
    assert (grad == 5.0).all()
    with raises(NSTInvalidArgumentError):
        call(C.nst_session_step, session.handle, -1, C.nst_progress_callback(), None, None)
    with raises(NSTShapeError):
        call(C.nst_session_get_image, session.handle, np.zeros(10, F32), 10)
    with raises(NSTShapeError):
        call(C.nst_session_get_best_image, session.handle, np.zeros(10, F32), 10, None)
    with raises(NSTNullPointerError):
        call(C.nst_session_get_image, session.handle, None, good.size)


# MARK: - Operations and tutorial costs


def test_op_errors():
    x = np.ones((2, 4, 4), F32)
    with raises(NSTShapeError):
        call(C.nst_gram_matrix, x, 2, 16, np.zeros(3, F32), 3)
    with raises(NSTNullPointerError):
        call(C.nst_gram_matrix, None, 2, 16, np.zeros(4, F32), 4)
    with raises(NSTShapeError):
        call(C.nst_op_relu_forward, x, np.zeros(4, F32), -1)
    with raises(NSTInvalidArgumentError):
        call(C.nst_op_pool2x2_forward, 5, x, 2, 4, 4, np.zeros(8, F32), 8)
    with raises(NSTShapeError):
        call(C.nst_op_conv3x3_forward, x, 2, 4, 4, np.ones((3, 2, 3, 3), F32), np.ones(3, F32), 3,
             np.zeros(47, F32), 47)
    with raises(NSTNullPointerError):
        call(C.nst_content_cost, x, x, 2, 4, 4, None)
    with raises(NSTShapeError):
        call(C.nst_layer_style_cost, x, x, 0, 4, 4, ctypes.byref(ctypes.c_double()))
    # the NumPy wrappers check shapes before the call, with the same exception classes
    with raises(NSTShapeError):
        ops.conv3x3(x, np.ones((3, 5, 3, 3), F32), np.ones(3, F32))
    with raises(NSTShapeError):
        ops.content_cost(x, np.ones((2, 4, 5), F32))
    with raises(NSTShapeError):
        ops.pool2x2_backward(x, np.ones((2, 3, 3), F32))
    with raises(NSTInvalidArgumentError):
        ops.relu(np.ones(3, complex))
    with raises(NSTInvalidArgumentError):
        ops.pool2x2(x, "min")


def test_last_error_is_per_call():
    with pytest.raises(NSTShapeError):
        call(C.nst_gram_matrix, np.ones(4, F32), 2, 2, np.zeros(3, F32), 3)
    assert C.nst_last_error()
    status = C.nst_gram_matrix(np.ones(4, F32), 2, 2, np.zeros(4, F32), 4)
    assert status == C.NST_OK
