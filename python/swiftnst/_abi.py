"""The integer constants of swiftnst.h (``#define NST_...``), one name per define, same value.

Plain ints with no imports, so modules that only need a constant or a status code (the exception
classes, image limits, option checks, setup.py) never load the native library. ``_bindings``
re-exports all of them; ``tests/test_abi.py`` parses the header and checks every define is here.
"""

from __future__ import annotations

#: The ABI version of the header these bindings mirror; the library must report the same.
NST_ABI_VERSION = 6

# Status codes (nst_status).
NST_OK = 0
NST_ERR_INVALID_ARGUMENT = 1
NST_ERR_NULL_POINTER = 2
NST_ERR_INVALID_HANDLE = 3
NST_ERR_SHAPE = 4
NST_ERR_UNKNOWN_LAYER = 5
NST_ERR_IO = 6
NST_ERR_WEIGHTS_FORMAT = 7
NST_ERR_STATE = 8
NST_ERR_CANCELLED = 9
NST_ERR_OUT_OF_MEMORY = 10
NST_ERR_NUMERIC = 11
NST_ERR_INTERNAL = 12

NST_ARCH_VGG19 = 0
NST_ARCH_VGG16 = 1

NST_CHANNELS_RGB = 0
NST_CHANNELS_BGR = 1

NST_POOLING_MAX = 0
NST_POOLING_AVG = 1

NST_OPTIMIZER_LBFGS = 0
NST_OPTIMIZER_ADAM = 1
NST_LBFGS_STORAGE_FLOAT32 = 0
NST_LBFGS_STORAGE_BFLOAT16 = 1

NST_OBJECTIVE_NEURAL_STYLE = 0
NST_OBJECTIVE_COURSERA = 1

NST_LINE_SEARCH_NONE = 0
NST_LINE_SEARCH_ARMIJO = 1

NST_STYLE_LOSS_GRAM = 0
NST_STYLE_LOSS_W2 = 1
NST_STYLE_LOSS_GRAM_HISTOGRAM = 2

#: Largest height or width of any image, in pixels.
NST_MAX_IMAGE_SIDE = 8192
#: Longest layer name, in bytes including the terminating NUL.
NST_MAX_LAYER_NAME = 64
#: Bounds of ``nst_session_set_anchor``'s factor when it is not 0.
NST_MIN_ANCHOR_FACTOR = 2
NST_MAX_ANCHOR_FACTOR = 1024
