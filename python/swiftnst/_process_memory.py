"""The process's memory outside the engine's prediction, and the default memory budget.

The engine predicts what one step holds (``Session.predict_peak_bytes``); a run's peak resident set
is that plus the Python process (interpreter, NumPy, Pillow, the loaded weights) and the images the
run keeps in Python. This module holds those two parts and :func:`default_max_memory`, each once.
"""

from __future__ import annotations

import os
from typing import Sequence

from ._sizes import available_bytes
from .model import Model
from .schedule import LARGE_OUTPUT_ABOVE

__all__ = ["DEFAULT_MEMORY_SHARE", "LARGE_RENDER_MEMORY", "default_budgets", "default_max_memory",
           "process_baseline_bytes", "python_image_bytes"]

#: Resident bytes of a process that imported ``swiftnst.cli`` and ``swiftnst.transfer`` (NumPy,
#: Pillow, tqdm, the native library), beyond the weights. Measured on the project's machine
#: (CPython 3.11, NumPy 2): VmRSS after those imports and ``Model(vgg19)`` was 138.0 MiB, with VGG-16
#: 117.8 MiB; minus the weights files (76.4 and 56.1 MiB, which the engine copies into float arrays)
#: that is 61.6 and 61.7 MiB. Re-measure with ``/proc/self/status`` after the same imports and load.
IMPORTS_BYTES = 61_600 * 1024

#: The share of ``MemAvailable`` a run may plan to use when no ``max_memory`` is given: the rest is
#: left to the system and the other programs (and absorbs the prediction's error).
DEFAULT_MEMORY_SHARE = 0.75


#: Without ``max_memory``, a result larger than ``schedule.LARGE_OUTPUT_ABOVE`` is first planned for at
#: most this (issue 15: a 2048 px render on a laptop-class machine in 3 GiB), and only for the default
#: share of the available memory when it cannot fit. Smaller results are planned for the share at once,
#: so they keep their full L-BFGS history as before.
LARGE_RENDER_MEMORY = 3 * 2**30


def default_budgets(image_size: int) -> list[int]:
    """The budgets a render of ``image_size`` px is planned for when no ``max_memory`` is given, in
    order: the first that fits is used (see :data:`LARGE_RENDER_MEMORY`)."""
    share = default_max_memory()
    if image_size > LARGE_OUTPUT_ABOVE and share > LARGE_RENDER_MEMORY:
        return [LARGE_RENDER_MEMORY, share]
    return [share]


def default_max_memory() -> int:
    """The default memory budget: :data:`DEFAULT_MEMORY_SHARE` of ``MemAvailable`` (Linux), or of the
    physical memory where ``/proc/meminfo`` does not exist."""
    return int(available_bytes() * DEFAULT_MEMORY_SHARE)


def process_baseline_bytes(model: Model) -> int:
    """Resident bytes of the process before the first session: :data:`IMPORTS_BYTES` plus the weights
    (the file's size: its tensors are the float arrays the engine keeps)."""
    return IMPORTS_BYTES + os.path.getsize(model.path)


def python_image_bytes(content_shape: tuple[int, int], style_shapes: Sequence[tuple[int, int]],
                       previous_shape: tuple[int, int] | None) -> int:
    """Bytes of the images Python holds while a scale's steps run (``transfer._Transfer``): the content
    and style images as loaded (uint8 RGB) and as float32 RGB, at their own sizes, for the whole run;
    the previous scale's result (float32 RGB) until the scale ends.

    The copies made while a scale is set up (resizing, padding, model space) and read out (best image,
    back to RGB, crop) are not added: they live while the engine's step arrays do not, and are smaller.
    """
    inputs = sum(height * width * 3 * (1 + 4) for height, width in (content_shape, *style_shapes))
    previous = previous_shape[0] * previous_shape[1] * 3 * 4 if previous_shape else 0
    return inputs + previous
