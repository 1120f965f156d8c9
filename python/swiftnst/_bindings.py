"""Raw ctypes bindings of Sources/CSwiftNST/include/swiftnst.h, one block per declaration.

Each function block has the C prototype pasted above it; ``tests/test_bindings.py`` parses the
header and checks that every ``NST_API`` function is bound here with the same number of arguments,
that the structs list the same fields in the same order, and that the constants (defined in
``_abi.py``, re-exported here) agree.

Float buffers are typed with NumPy ``ndpointer``s, so a float64, non-contiguous or (for outputs)
read-only array is rejected with ``ctypes.ArgumentError`` before the call. Every buffer argument also
accepts ``None`` (NULL), which the engine reports as ``NST_ERR_NULL_POINTER`` where NULL is not
allowed; the error tests rely on that. Importing this module loads the library (``_lib.load_library``).
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, Structure, c_char_p, c_double, c_float, c_int32, c_int64, c_void_p
from typing import Any, Callable

import numpy as np

# Every #define of the header, as plain ints: they live in _abi, so reading one never loads the library.
from ._abi import *  # noqa: F401, F403
from ._lib import load_library

lib = load_library()

# MARK: - Types

nst_status = c_int32

# MARK: - Argument types


#: ``const float *``: a C-contiguous float32 array (or None).
F32_IN = np.ctypeslib.ndpointer(np.float32, flags="C_CONTIGUOUS")
#: ``float *`` written by the engine: also WRITEABLE.
F32_OUT = np.ctypeslib.ndpointer(np.float32, flags="C_CONTIGUOUS,WRITEABLE")
#: ``const int64_t *``.
I64_IN = np.ctypeslib.ndpointer(np.int64, flags="C_CONTIGUOUS")
#: ``int64_t *`` written by the engine.
I64_OUT = np.ctypeslib.ndpointer(np.int64, flags="C_CONTIGUOUS,WRITEABLE")
#: ``const void *`` bytes: a C-contiguous uint8 array (or None).
BYTES_IN = np.ctypeslib.ndpointer(np.uint8, flags="C_CONTIGUOUS")
#: ``void *`` bytes written by the engine.
BYTES_OUT = np.ctypeslib.ndpointer(np.uint8, flags="C_CONTIGUOUS,WRITEABLE")
_BUFFER_TYPES = (F32_IN, F32_OUT, I64_IN, I64_OUT, BYTES_IN, BYTES_OUT)

# Opaque handles: the engine owns them, Python only passes them back (None is NULL).
nst_model_p = c_void_p
nst_session_p = c_void_p

# MARK: - Records


class nst_model_info(Structure):
    """What a model expects as input and what it contains (swiftnst.h ``nst_model_info``)."""

    _fields_ = [
        ("architecture", c_int32),
        ("n_layers", c_int32),
        ("channel_order", c_int32),
        ("input_scale", c_float),
        ("mean", c_float * 3),
        ("std", c_float * 3),
    ]


class nst_losses(Structure):
    """Losses of one objective evaluation, each already weighted (swiftnst.h ``nst_losses``)."""

    _fields_ = [
        ("total", c_double),
        ("content", c_double),
        ("style", c_double),
        ("tv", c_double),
        ("temporal", c_double),
        ("iteration", c_int64),
        ("evaluations", c_int64),
    ]


class nst_session_params(Structure):
    """Options of a session; start from ``nst_session_default_params()`` (swiftnst.h)."""

    _fields_ = [
        ("height", c_int64),
        ("width", c_int64),
        ("pooling", c_int32),
        ("optimizer", c_int32),
        ("objective", c_int32),
        ("content_weight", c_float),
        ("style_weight", c_float),
        ("tv_weight", c_float),
        ("learning_rate", c_float),
        ("adam_beta1", c_float),
        ("adam_beta2", c_float),
        ("adam_epsilon", c_float),
        ("lbfgs_history", c_int32),
        ("lbfgs_storage", c_int32),
        ("lbfgs_line_search", c_int32),
        ("n_threads", c_int32),
        ("normalize_gradients", c_int32),
        ("style_loss", c_int32),
        ("histogram_weight", c_float),
    ]


# typedef int32_t (*nst_progress_callback)(const nst_losses * losses, void * user_data);
nst_progress_callback = ctypes.CFUNCTYPE(c_int32, POINTER(nst_losses), c_void_p)

# MARK: - Functions

#: C function name -> bound ctypes function, in header order (used by test_bindings).
FUNCTIONS: dict[str, Callable[..., Any]] = {}


class _BoundFunction:
    """A C function whose NumPy buffer arguments are checked, and turned into addresses, before ctypes
    sees them: ctypes itself then converts only plain values, in C.

    Why: ctypes runs an argtype's ``from_param`` inside its argument conversion and turns whatever it
    raises into ``ctypes.ArgumentError`` -- the ``KeyboardInterrupt`` of a Ctrl-C too, when the signal
    handler runs inside ``ndpointer.from_param`` (Python code). An interruption then became an error: a
    batch recorded the item as failed and went on. Raised here, in plain Python, it stays a Ctrl-C.
    """

    def __init__(self, function: Any, argtypes: list[Any], restype: Any) -> None:
        self._function = function
        self._buffers = [(index, argtype) for index, argtype in enumerate(argtypes) if argtype in _BUFFER_TYPES]
        function.argtypes = [c_void_p if argtype in _BUFFER_TYPES else argtype for argtype in argtypes]
        function.restype = restype
        self.__name__ = function.__name__
        #: The argument types as declared (a buffer's ``ndpointer``); ``test_bindings`` checks them.
        self.argtypes = argtypes
        self.restype = restype

    def __call__(self, *args: Any) -> Any:
        converted = list(args)
        for index, argtype in self._buffers:
            if index < len(args) and args[index] is not None:  # missing arguments: ctypes says how many
                converted[index] = _address(argtype, args[index], index)
        return self._function(*converted)  # ``args`` keeps the arrays alive during the call


def _address(argtype: Any, array: Any, index: int) -> int:
    """The data address of ``array`` passed as argument ``index`` (from 0) of type ``argtype``."""
    try:
        checked = argtype.from_param(array)  # the array's ctypes view
    except TypeError as error:  # the message ctypes itself would give
        raise ctypes.ArgumentError(f"argument {index + 1}: TypeError: {error}") from error
    return checked.data


def _bind(name: str, argtypes: list[Any], restype: Any) -> Callable[..., Any]:
    function = _BoundFunction(getattr(lib, name), argtypes, restype)
    FUNCTIONS[name] = function
    return function


# --- Version

# NST_API int32_t nst_abi_version(void);
nst_abi_version = _bind("nst_abi_version", [], c_int32)

# NST_API const char * nst_version_string(void);
nst_version_string = _bind("nst_version_string", [], c_char_p)

# NST_API const char * nst_blas_info(void);
nst_blas_info = _bind("nst_blas_info", [], c_char_p)

# --- Diagnostics

# NST_API const char * nst_last_error(void);
nst_last_error = _bind("nst_last_error", [], c_char_p)

# NST_API const char * nst_status_name(nst_status status);
nst_status_name = _bind("nst_status_name", [nst_status], c_char_p)

# --- Model

# NST_API nst_status nst_model_load_from_file(const char * path, nst_model ** model_out);
nst_model_load_from_file = _bind("nst_model_load_from_file", [c_char_p, POINTER(nst_model_p)], nst_status)

# NST_API void nst_model_free(nst_model * model);
nst_model_free = _bind("nst_model_free", [nst_model_p], None)

# NST_API nst_status nst_model_get_info(const nst_model * model, nst_model_info * info_out);
nst_model_get_info = _bind("nst_model_get_info", [nst_model_p, POINTER(nst_model_info)], nst_status)

# NST_API nst_status nst_model_layer_name(const nst_model * model, int32_t index, const char ** name_out);
nst_model_layer_name = _bind("nst_model_layer_name", [nst_model_p, c_int32, POINTER(c_char_p)], nst_status)

# NST_API nst_status nst_model_layer_shape(const nst_model * model, const char * layer,
#                                          int64_t height, int64_t width, int64_t shape_out[3]);
nst_model_layer_shape = _bind("nst_model_layer_shape", [nst_model_p, c_char_p, c_int64, c_int64, I64_OUT],
                              nst_status)

# NST_API nst_status nst_model_forward(const nst_model * model, const float * image, int64_t image_count,
#                                      int64_t height, int64_t width, int32_t pooling,
#                                      const char * const * layers, int32_t n_layers,
#                                      float * const * outputs, const int64_t * output_counts);
nst_model_forward = _bind(
    "nst_model_forward",
    [nst_model_p, F32_IN, c_int64, c_int64, c_int64, c_int32, POINTER(c_char_p), c_int32,
     POINTER(POINTER(c_float)), I64_IN],
    nst_status)

# --- Params

# NST_API nst_session_params nst_session_default_params(void);
nst_session_default_params = _bind("nst_session_default_params", [], nst_session_params)

# --- Session lifecycle

# NST_API nst_status nst_session_init(const nst_model * model, const nst_session_params * params,
#                                     nst_session ** session_out);
nst_session_init = _bind("nst_session_init", [nst_model_p, POINTER(nst_session_params), POINTER(nst_session_p)],
                         nst_status)

# NST_API void nst_session_free(nst_session * session);
nst_session_free = _bind("nst_session_free", [nst_session_p], None)

# --- Inputs

# NST_API nst_status nst_session_set_content_layers(nst_session * session, const char * const * names,
#                                                   const float * weights, int32_t n);
nst_session_set_content_layers = _bind("nst_session_set_content_layers",
                                       [nst_session_p, POINTER(c_char_p), F32_IN, c_int32], nst_status)

# NST_API nst_status nst_session_set_style_layers(nst_session * session, const char * const * names,
#                                                 const float * weights, int32_t n);
nst_session_set_style_layers = _bind("nst_session_set_style_layers",
                                     [nst_session_p, POINTER(c_char_p), F32_IN, c_int32], nst_status)

# NST_API nst_status nst_session_set_histogram_layers(nst_session * session, const char * const * names,
#                                                     const float * weights, int32_t n);
nst_session_set_histogram_layers = _bind("nst_session_set_histogram_layers",
                                         [nst_session_p, POINTER(c_char_p), F32_IN, c_int32], nst_status)

# NST_API nst_status nst_session_set_content_image(nst_session * session, const float * image,
#                                                  int64_t image_count);
nst_session_set_content_image = _bind("nst_session_set_content_image", [nst_session_p, F32_IN, c_int64],
                                      nst_status)

# NST_API nst_status nst_session_add_style_image(nst_session * session, const float * image,
#                                                int64_t image_count, int64_t height, int64_t width,
#                                                float blend_weight);
nst_session_add_style_image = _bind("nst_session_add_style_image",
                                    [nst_session_p, F32_IN, c_int64, c_int64, c_int64, c_float], nst_status)

# NST_API nst_status nst_session_clear_style_images(nst_session * session);
nst_session_clear_style_images = _bind("nst_session_clear_style_images", [nst_session_p], nst_status)

# NST_API nst_status nst_session_add_style_image_masked(nst_session * session, const float * image,
#                                                       int64_t image_count, int64_t height, int64_t width,
#                                                       float blend_weight, const float * mask, int64_t mask_count,
#                                                       const float * region, int64_t region_count);
nst_session_add_style_image_masked = _bind(
    "nst_session_add_style_image_masked",
    [nst_session_p, F32_IN, c_int64, c_int64, c_int64, c_float, F32_IN, c_int64, F32_IN, c_int64], nst_status)

# NST_API nst_status nst_session_set_masks(nst_session * session, const float * content_mask,
#                                          int64_t content_mask_count, const float * style_mask,
#                                          int64_t style_mask_count);
nst_session_set_masks = _bind("nst_session_set_masks", [nst_session_p, F32_IN, c_int64, F32_IN, c_int64], nst_status)

# --- Optimisation

# NST_API nst_status nst_session_evaluate(nst_session * session, const float * image, int64_t image_count,
#                                         float * gradient_out, int64_t gradient_count,
#                                         nst_losses * losses_out);
nst_session_evaluate = _bind("nst_session_evaluate",
                             [nst_session_p, F32_IN, c_int64, F32_OUT, c_int64, POINTER(nst_losses)], nst_status)

# NST_API nst_status nst_session_set_image(nst_session * session, const float * image, int64_t image_count);
nst_session_set_image = _bind("nst_session_set_image", [nst_session_p, F32_IN, c_int64], nst_status)

# NST_API nst_status nst_session_step(nst_session * session, int32_t n_steps,
#                                     nst_progress_callback callback, void * user_data,
#                                     nst_losses * losses_out);
nst_session_step = _bind("nst_session_step",
                         [nst_session_p, c_int32, nst_progress_callback, c_void_p, POINTER(nst_losses)], nst_status)

# --- Outputs

# NST_API nst_status nst_session_get_image(const nst_session * session, float * image_out, int64_t image_count);
nst_session_get_image = _bind("nst_session_get_image", [nst_session_p, F32_OUT, c_int64], nst_status)

# NST_API nst_status nst_session_get_best_image(const nst_session * session, float * image_out,
#                                               int64_t image_count, nst_losses * losses_out);
nst_session_get_best_image = _bind("nst_session_get_best_image",
                                   [nst_session_p, F32_OUT, c_int64, POINTER(nst_losses)], nst_status)

# --- Tutorial costs

# NST_API nst_status nst_gram_matrix(const float * features, int64_t channels, int64_t n_positions,
#                                    float * gram_out, int64_t gram_count);
nst_gram_matrix = _bind("nst_gram_matrix", [F32_IN, c_int64, c_int64, F32_OUT, c_int64], nst_status)

# NST_API nst_status nst_content_cost(const float * a_c, const float * a_g, int64_t channels,
#                                     int64_t height, int64_t width, double * cost_out);
nst_content_cost = _bind("nst_content_cost", [F32_IN, F32_IN, c_int64, c_int64, c_int64, POINTER(c_double)],
                         nst_status)

# NST_API nst_status nst_layer_style_cost(const float * a_s, const float * a_g, int64_t channels,
#                                         int64_t height, int64_t width, double * cost_out);
nst_layer_style_cost = _bind("nst_layer_style_cost",
                             [F32_IN, F32_IN, c_int64, c_int64, c_int64, POINTER(c_double)], nst_status)

# --- Layer operations [EXPERIMENTAL]

# NST_API nst_status nst_op_conv3x3_forward(const float * input, int64_t in_channels, int64_t height,
#                                           int64_t width, const float * weight, const float * bias,
#                                           int64_t out_channels, float * output, int64_t output_count);
nst_op_conv3x3_forward = _bind("nst_op_conv3x3_forward",
                               [F32_IN, c_int64, c_int64, c_int64, F32_IN, F32_IN, c_int64, F32_OUT, c_int64],
                               nst_status)

# NST_API nst_status nst_op_conv3x3_backward_input(const float * grad_output, int64_t out_channels,
#                                                  int64_t height, int64_t width, const float * weight,
#                                                  int64_t in_channels, float * grad_input,
#                                                  int64_t grad_input_count);
nst_op_conv3x3_backward_input = _bind("nst_op_conv3x3_backward_input",
                                      [F32_IN, c_int64, c_int64, c_int64, F32_IN, c_int64, F32_OUT, c_int64],
                                      nst_status)

# NST_API nst_status nst_op_relu_forward(const float * input, float * output, int64_t count);
nst_op_relu_forward = _bind("nst_op_relu_forward", [F32_IN, F32_OUT, c_int64], nst_status)

# NST_API nst_status nst_op_relu_backward(const float * input, const float * grad_output,
#                                         float * grad_input, int64_t count);
nst_op_relu_backward = _bind("nst_op_relu_backward", [F32_IN, F32_IN, F32_OUT, c_int64], nst_status)

# NST_API nst_status nst_op_pool2x2_forward(int32_t pooling, const float * input, int64_t channels,
#                                           int64_t height, int64_t width, float * output,
#                                           int64_t output_count);
nst_op_pool2x2_forward = _bind("nst_op_pool2x2_forward",
                               [c_int32, F32_IN, c_int64, c_int64, c_int64, F32_OUT, c_int64], nst_status)

# NST_API nst_status nst_op_pool2x2_backward(int32_t pooling, const float * input, int64_t channels,
#                                            int64_t height, int64_t width, const float * grad_output,
#                                            int64_t grad_output_count, float * grad_input,
#                                            int64_t grad_input_count);
nst_op_pool2x2_backward = _bind("nst_op_pool2x2_backward",
                                [c_int32, F32_IN, c_int64, c_int64, c_int64, F32_IN, c_int64, F32_OUT, c_int64],
                                nst_status)

# NST_API nst_status nst_op_gram_backward(const float * features, int64_t channels, int64_t n_positions,
#                                         const float * grad_gram, float * grad_features,
#                                         int64_t grad_features_count);
nst_op_gram_backward = _bind("nst_op_gram_backward", [F32_IN, c_int64, c_int64, F32_IN, F32_OUT, c_int64],
                             nst_status)

# --- Large renders: strip evaluation and memory prediction

# NST_API nst_status nst_session_set_strips(nst_session * session, const char * split_layer, int64_t strip_rows);
nst_session_set_strips = _bind("nst_session_set_strips", [nst_session_p, c_char_p, c_int64], nst_status)

# NST_API nst_status nst_session_predict_peak_bytes(const nst_session * session, const char * split_layer,
#                                                   int64_t strip_rows, int64_t lbfgs_history,
#                                                   int64_t * bytes_out);
nst_session_predict_peak_bytes = _bind("nst_session_predict_peak_bytes",
                                       [nst_session_p, c_char_p, c_int64, c_int64, I64_OUT], nst_status)

# NST_API nst_status nst_session_set_anchor(nst_session * session, int64_t factor, float weight);
nst_session_set_anchor = _bind("nst_session_set_anchor", [nst_session_p, c_int64, c_float], nst_status)

# --- Video: temporal consistency

# NST_API nst_status nst_session_set_temporal_target(nst_session * session, const float * target,
#                                                    int64_t target_count, const float * weights,
#                                                    int64_t weights_count);
nst_session_set_temporal_target = _bind("nst_session_set_temporal_target",
                                        [nst_session_p, F32_IN, c_int64, F32_IN, c_int64], nst_status)

# --- Session state (checkpoints)

# NST_API nst_status nst_session_state_size(const nst_session * session, int64_t * bytes_out);
nst_session_state_size = _bind("nst_session_state_size", [nst_session_p, I64_OUT], nst_status)

# NST_API nst_status nst_session_save_state(const nst_session * session, void * buffer, int64_t size);
nst_session_save_state = _bind("nst_session_save_state", [nst_session_p, BYTES_OUT, c_int64], nst_status)

# NST_API nst_status nst_session_load_state(nst_session * session, const void * buffer, int64_t size);
nst_session_load_state = _bind("nst_session_load_state", [nst_session_p, BYTES_IN, c_int64], nst_status)
