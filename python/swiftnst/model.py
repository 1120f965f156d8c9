"""``Model``: a loaded VGG network (owns one ``nst_model`` handle) with its input convention."""

from __future__ import annotations

import ctypes
import logging
import os
from typing import Sequence

import numpy as np

from . import _bindings as C
from ._arguments import c_strings, check_image, checked_int, pooling_code
from ._errors import NSTInvalidArgumentError, NSTShapeError, check
from ._handles import NativeHandle
from .images import to_float

_ARCHITECTURES = {C.NST_ARCH_VGG19: "vgg19", C.NST_ARCH_VGG16: "vgg16"}
_CHANNEL_ORDERS = {C.NST_CHANNELS_RGB: "RGB", C.NST_CHANNELS_BGR: "BGR"}
logger = logging.getLogger(__name__)


class Model(NativeHandle):
    """A VGG-16/19 feature network loaded from a swiftnst weights file.

    The model is immutable and may be shared by sessions on several threads. Free it with
    ``close()`` (or use ``with``); sessions created from it keep working after that, because the
    engine keeps its own reference.

    Every model reads the Caffe input range (0..255 minus the mean, std 1), whatever its file's
    convention: the engine rescales torchvision-convention weights exactly on loading, so that one set
    of loss weights fits every model (``input_scale``, ``mean`` and ``std`` describe the loaded model;
    ``activations`` are the file's network's times a constant, see swiftnst.h).

    Args:
        path: a swiftnst safetensors weights file, or a model name (``swiftnst.weights.MODEL_NAMES``:
            ``"vgg19"``, ``"vgg16"``) for its cached weights, fetched and converted first if missing;
            ``None`` is the default VGG-19.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"Model(path): path must be a weights file path, a model name or None, "
                            f"got {type(path).__name__}")
        from .weights import resolve_model

        self.path = os.fspath(resolve_model(path))
        handle = C.nst_model_p()
        check(C.nst_model_load_from_file(self.path.encode("utf-8"), ctypes.byref(handle)),
              "nst_model_load_from_file")
        self._handle = handle.value
        info = C.nst_model_info()
        check(C.nst_model_get_info(self._handle, ctypes.byref(info)), "nst_model_get_info")
        self.architecture: str = _ARCHITECTURES[info.architecture]
        self.channel_order: str = _CHANNEL_ORDERS[info.channel_order]
        self.input_scale: float = float(info.input_scale)
        self.mean: np.ndarray = np.array(info.mean[:], dtype=np.float32)
        self.std: np.ndarray = np.array(info.std[:], dtype=np.float32)
        self.layer_names: list[str] = [self._layer_name(i) for i in range(info.n_layers)]
        logger.debug("loaded %s: %s, %s input scaled to 0..%g", self.path, self.architecture, self.channel_order,
                     self.input_scale)

    # MARK: - Lifetime

    def _free(self, handle: int) -> None:
        C.nst_model_free(handle)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self.layer_names)} layers"
        return f"Model({self.architecture}, {self.channel_order}, {state}, path={self.path!r})"

    # MARK: - Layers

    def _layer_name(self, index: int) -> str:
        name = ctypes.c_char_p()
        check(C.nst_model_layer_name(self.handle, index, ctypes.byref(name)), "nst_model_layer_name")
        return name.value.decode("utf-8")

    def layer_shape(self, layer: str, height: int, width: int) -> tuple[int, int, int]:
        """``(channels, height, width)`` of ``layer``'s activations for an input of ``height`` x ``width``."""
        height, width = checked_int(height, "height", bits=64), checked_int(width, "width", bits=64)
        shape = np.zeros(3, dtype=np.int64)
        check(C.nst_model_layer_shape(self.handle, layer.encode("utf-8"), height, width, shape),
              "nst_model_layer_shape")
        return int(shape[0]), int(shape[1]), int(shape[2])

    def activations(self, x: np.ndarray, layers: Sequence[str], pooling: str = "max") -> dict[str, np.ndarray]:
        """Run the network on ``x`` (float32 ``[3, H, W]`` in model space, see ``preprocess``).

        Returns new float32 ``[C, h, w]`` arrays keyed by layer name; the network runs only as deep
        as the deepest of ``layers``.
        """
        image = check_image(x)
        if isinstance(layers, str):
            layers = [layers]
        layers = list(dict.fromkeys(layers))
        if not layers:
            raise NSTInvalidArgumentError("activations() needs at least one layer")
        _, height, width = image.shape
        outputs = [np.empty(self.layer_shape(layer, height, width), dtype=np.float32) for layer in layers]
        pointers = (ctypes.POINTER(ctypes.c_float) * len(outputs))(
            *(out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)) for out in outputs))
        counts = np.array([out.size for out in outputs], dtype=np.int64)
        check(C.nst_model_forward(self.handle, image, image.size, height, width, pooling_code(pooling),
                                  c_strings(layers), len(layers), pointers, counts), "nst_model_forward")
        return dict(zip(layers, outputs))

    # MARK: - Input convention

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """HxWx3 RGB (uint8, or floats in [0, 1]) -> float32 ``[3, H, W]`` in the model's input space.

        Floats outside [0, 1] (e.g. 0..255) are refused with an ``ImageError`` (see ``images.to_float``).

        ``x = ((rgb * input_scale)[channel order] - mean) / std``; ``deprocess`` is its inverse.
        """
        array = np.asarray(rgb)
        if array.ndim != 3 or array.shape[2] != 3:
            raise NSTShapeError(f"expected an HxWx3 RGB image, got shape {list(array.shape)}")
        x = to_float(array) * np.float32(self.input_scale)
        if self.channel_order == "BGR":
            x = x[:, :, ::-1]
        return np.ascontiguousarray(((x - self.mean) / self.std).transpose(2, 0, 1), dtype=np.float32)

    def deprocess(self, x: np.ndarray) -> np.ndarray:
        """float32 ``[3, H, W]`` in model space -> HxWx3 float32 RGB in [0, 1] (clipped)."""
        image = check_image(x)
        hwc = image.transpose(1, 2, 0) * self.std + self.mean
        if self.channel_order == "BGR":
            hwc = hwc[:, :, ::-1]
        return np.ascontiguousarray(np.clip(hwc / np.float32(self.input_scale), 0.0, 1.0), dtype=np.float32)
