"""HDF5 features that make a file read *other* files are refused before any data is read.

A crafted ``.h5`` can keep a dataset's bytes in another file (external storage), link to an object
in another file (external link) or assemble a dataset from other files (virtual dataset). Each test
points such a feature at a "secret" file and checks that conversion is refused with a message naming
the feature, that nothing was written, and that the secret's bytes appear nowhere (output, message).
"""

from __future__ import annotations

import numpy as np
import pytest

from swiftnst.weights import WeightsError, convert, read_source

from . import weights_files as wf

SECRET = b"TOP-SECRET-KEY-0123456789abcdef"


@pytest.fixture
def secret(tmp_path):
    """A local file whose bytes a hostile weights file tries to copy (repeated to fill a kernel)."""
    path = tmp_path / "secret.bin"
    path.write_bytes(SECRET * 256)
    return path


def _replace_kernel(path, make):
    """Swap ``block1_conv1``'s kernel (HWIO float32 [3, 3, 3, 64]) for what ``make(group, name)`` builds."""
    import h5py

    with h5py.File(path, "a") as handle:
        group = handle["block1_conv1/block1_conv1"]
        del group["kernel:0"]
        make(group, "kernel:0")


def _external_storage(secret):
    def make(group, name):
        group.create_dataset(name, shape=(3, 3, 3, 64), dtype="<f4", external=[(str(secret), 0, 3 * 3 * 3 * 64 * 4)])
    return make


def _external_link(secret_h5):
    import h5py

    def make(group, name):
        group[name] = h5py.ExternalLink(str(secret_h5), "/kernel")
    return make


def _virtual_dataset(secret_h5):
    import h5py

    def make(group, name):
        layout = h5py.VirtualLayout(shape=(3, 3, 3, 64), dtype="<f4")
        layout[...] = h5py.VirtualSource(str(secret_h5), "/kernel", shape=(3, 3, 3, 64))
        group.create_virtual_dataset(name, layout)
    return make


def _secret_h5(tmp_path, secret):
    """An HDF5 file holding the secret's bytes as a float kernel, for links and virtual datasets."""
    import h5py

    path = tmp_path / "secret.h5"
    with h5py.File(path, "w") as handle:
        handle["kernel"] = np.frombuffer(secret.read_bytes()[:3 * 3 * 3 * 64 * 4], "<f4").reshape(3, 3, 3, 64)
    return path


CASES = {
    "external_storage": (lambda tmp_path, secret: _external_storage(secret), r"external storage \(other files\)"),
    "external_link": (lambda tmp_path, secret: _external_link(_secret_h5(tmp_path, secret)),
                      r"is an external link \(to another file\)"),
    "virtual_dataset": (lambda tmp_path, secret: _virtual_dataset(_secret_h5(tmp_path, secret)),
                        r"is a virtual dataset \(VDS\)"),
}


@pytest.mark.parametrize("feature", sorted(CASES))
def test_convert_refuses_files_naming_other_files(tmp_path, secret, feature):
    builder, pattern = CASES[feature]
    path = wf.write_h5(tmp_path / f"{feature}.h5", wf.tiny_layers())
    _replace_kernel(path, builder(tmp_path, secret))
    output = tmp_path / "out.safetensors"
    with pytest.raises(WeightsError, match=pattern) as info:
        convert(path, output)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "/block1_conv1/block1_conv1/kernel:0" in message
    assert SECRET.decode() not in message
    assert not output.exists()
    for written in tmp_path.rglob("*"):  # nothing anywhere (no temporary left) carries the secret
        if written.is_file() and written not in (secret, tmp_path / "secret.h5"):
            assert SECRET not in written.read_bytes(), f"{written} holds the secret"


def test_external_link_is_refused_even_when_the_target_is_missing(tmp_path):
    """The link is refused for what it is, before HDF5 could try to open the path it names."""
    path = wf.write_h5(tmp_path / "dangling.h5", wf.tiny_layers())
    _replace_kernel(path, _external_link(tmp_path / "does-not-exist.h5"))
    with pytest.raises(WeightsError, match=r"is an external link"):
        read_source(path)


def test_soft_links_and_compression_are_refused(tmp_path):
    import h5py

    path = wf.write_h5(tmp_path / "soft.h5", wf.tiny_layers())
    with h5py.File(path, "a") as handle:
        handle["alias"] = h5py.SoftLink("/block1_conv1")
    with pytest.raises(WeightsError, match=r"/alias is a soft link"):
        read_source(path)
    path = wf.write_h5(tmp_path / "gzip.h5", wf.tiny_layers())
    _replace_kernel(path, lambda group, name: group.create_dataset(
        name, data=np.ones((3, 3, 3, 64), np.float32), compression="gzip"))
    with pytest.raises(WeightsError, match=r"kernel:0 uses filters \(deflate\); compressed datasets are not supported"):
        read_source(path)


def test_matconvnet_v73_files_are_never_read_as_hdf5(tmp_path, secret):
    """MATLAB v7.3 files are HDF5 inside; they are refused by their header, before HDF5 is involved."""
    import h5py

    path = tmp_path / "net.mat"
    with h5py.File(path, "w", userblock_size=512) as handle:
        handle.create_dataset("layers", shape=(64,), dtype="<f4", external=[(str(secret), 0, 256)])
    with open(path, "r+b") as raw:
        raw.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .")
    with pytest.raises(WeightsError, match=r"unrecognised contents|v7\.3") as info:
        convert(path, tmp_path / "out.safetensors")
    assert SECRET.decode() not in str(info.value)
    assert not (tmp_path / "out.safetensors").exists()
