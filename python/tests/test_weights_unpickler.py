"""The restricted unpickler never runs code from a file: only allowlisted constructors are reachable."""

from __future__ import annotations

import io
import os
import pickle

import numpy as np
import pytest

from swiftnst.weights import WeightsError
from swiftnst.weights.restricted_unpickler import NUMPY_GLOBALS, restricted_load


class _RunsShell:
    """Unpickling this with the standard pickle module would run a shell command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _Evaluates:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_os_system_is_refused_and_never_runs(tmp_path, protocol):
    marker = tmp_path / "pwned"
    data = pickle.dumps({"weights": [_RunsShell(f"touch {marker}")]}, protocol=protocol)
    with pytest.raises(WeightsError, match=r"evil.ckpt: pickle references (posix|os)\.system, which is not allowed"):
        restricted_load(data, NUMPY_GLOBALS, "evil.ckpt")
    assert not marker.exists()
    pickle.loads(data)  # the same bytes really are dangerous with an ordinary unpickler
    assert marker.exists()


def test_builtins_are_refused():
    with pytest.raises(WeightsError, match="builtins.eval"):
        restricted_load(pickle.dumps(_Evaluates()), NUMPY_GLOBALS, "f")
    with pytest.raises(WeightsError, match="builtins.getattr"):
        restricted_load(b"cbuiltins\ngetattr\n(cnumpy\nndarray\nS'dump'\ntR.", NUMPY_GLOBALS, "f")


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_plain_numpy_arrays_load(protocol):
    tree = {"a": {"kernel": np.arange(24, dtype=np.float32).reshape(2, 3, 4), "bias": np.ones(3, ">f8")},
            "n": [1, 2.5, "x", None, (True,)]}
    loaded = restricted_load(pickle.dumps(tree, protocol=protocol), NUMPY_GLOBALS, "f")
    np.testing.assert_array_equal(loaded["a"]["kernel"], tree["a"]["kernel"])
    np.testing.assert_array_equal(loaded["a"]["bias"], tree["a"]["bias"])
    assert loaded["n"] == tree["n"]


def test_object_arrays_and_ndarray_subclasses_are_refused():
    with pytest.raises(WeightsError, match="object dtype"):
        restricted_load(pickle.dumps(np.array([1, "x"], dtype=object)), NUMPY_GLOBALS, "f")
    with pytest.raises(WeightsError, match="f: pickle reconstructs <function _plain_dtype.*only numpy.ndarray"):
        restricted_load(b"cnumpy._core.multiarray\n_reconstruct\n(cnumpy\ndtype\n(I0\ntVb\ntR.", NUMPY_GLOBALS, "f")


def test_protocol_5_buffer_path_refuses_object_dtypes():
    with pytest.raises(WeightsError, match="object dtype"):
        restricted_load(b"\x80\x05cnumpy._core.numeric\n_frombuffer\n(C\x00cnumpy\ndtype\n(VO\nI00\nI01\ntR"
                        b"(I1\ntVC\ntR.", NUMPY_GLOBALS, "f")


def test_codecs_encode_only_as_the_protocol_2_bytes_constructor():
    with pytest.raises(WeightsError, match="only latin1"):
        restricted_load(b"c_codecs\nencode\n(S'x'\nS'rot13'\ntR.", NUMPY_GLOBALS, "f")
    assert restricted_load(b"c_codecs\nencode\n(Vabc\nVlatin1\ntR.", NUMPY_GLOBALS, "f") == b"abc"


def test_truncated_trailing_and_garbage_pickles():
    data = pickle.dumps({"k": np.ones(100, np.float32)}, protocol=4)
    with pytest.raises(WeightsError, match="f: truncated pickle|f: malformed pickle"):
        restricted_load(data[:-30], NUMPY_GLOBALS, "f")
    with pytest.raises(WeightsError, match="1 unexpected bytes after the pickle"):
        restricted_load(data + b".", NUMPY_GLOBALS, "f")
    with pytest.raises(WeightsError, match="f: malformed pickle"):
        restricted_load(b"\x80\x04\xff\xff", NUMPY_GLOBALS, "f")


def test_stream_source_stops_after_one_pickle():
    stream = io.BytesIO(pickle.dumps(1) + pickle.dumps(2) + b"raw")
    assert restricted_load(stream, {}, "f") == 1
    assert restricted_load(stream, {}, "f") == 2
    assert stream.read() == b"raw"


def test_persistent_ids_are_refused_unless_resolved():
    class WithPid(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", 1) if obj == "ref" else None

    buffer = io.BytesIO()
    WithPid(buffer, protocol=2).dump(["ref"])
    with pytest.raises(WeightsError, match="persistent ids"):
        restricted_load(buffer.getvalue(), {}, "f")
    assert restricted_load(buffer.getvalue(), {}, "f", persistent_load=lambda pid: pid) == [("storage", 1)]
