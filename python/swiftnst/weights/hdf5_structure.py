"""Refusing the HDF5 features that reach outside the file or cost more than the file holds.

HDF5 lets a file name *other* files: an external link points at an object in another file, a
dataset with external storage keeps its bytes in other (raw) files, and a virtual dataset (VDS)
assembles its values from datasets in other files. Reading such a file would open paths chosen by
its author, so a crafted ``.h5`` could copy any readable local file (``~/.ssh/id_rsa``) into the
converted weights. Soft links name paths inside the file and can make a walk loop; a VGG weights
file needs none of this. Filters (compression) let a small chunk inflate to gigabytes inside the
HDF5 library before any check of ours can run, and a chunk larger than its dataset is allocated
whole, so both are refused too: Keras writes its weights contiguous and uncompressed.

:func:`check_hdf5_structure` walks every link of the open file *without following any*, and
inspects every dataset's creation properties (which are metadata) before a single value is read.
"""

from __future__ import annotations

import math
from typing import Any

from . import WeightsError

_LINK_KINDS = {1: "a soft link", 64: "an external link (to another file)"}  # h5l.TYPE_SOFT, h5l.TYPE_EXTERNAL


def check_hdf5_structure(h5py: Any, handle: Any, where: str) -> None:
    """Raise ``WeightsError`` naming the first object of ``handle`` that uses a refused feature."""

    def visit(name: bytes, info: Any) -> WeightsError | None:
        # an exception must not cross HDF5's C iteration, so the refusal is returned: a non-None
        # result stops the walk, and visit() hands it back
        path = "/" + name.decode("utf-8", "replace")
        if info.type != h5py.h5l.TYPE_HARD:
            kind = _LINK_KINDS.get(info.type, "a user-defined link")
            return WeightsError(f"{where}: HDF5 object {path} is {kind}; links are not allowed in a weights file "
                                "(refusing before opening anything it names)")
        target = h5py.h5o.open(handle.id, name)
        return _dataset_problem(h5py, target, path, where) if isinstance(target, h5py.h5d.DatasetID) else None

    problem = handle.id.links.visit(visit, info=True)
    if problem is not None:
        raise problem


def _dataset_problem(h5py: Any, dataset: Any, path: str, where: str) -> WeightsError | None:
    properties = dataset.get_create_plist()
    problem = None
    if properties.get_layout() == h5py.h5d.VIRTUAL:
        problem = "is a virtual dataset (VDS), which reads other files"
    elif properties.get_external_count() > 0:
        problem = "keeps its data in external storage (other files)"
    elif properties.get_nfilters() > 0:
        names = [properties.get_filter(i)[3].decode("ascii", "replace") for i in range(properties.get_nfilters())]
        problem = (f"uses filters ({', '.join(names)}); compressed datasets are not supported "
                   "(Keras stores weights uncompressed)")
    elif properties.get_layout() == h5py.h5d.CHUNKED:
        chunk, size = math.prod(properties.get_chunk()), math.prod(dataset.shape)
        if chunk > max(size, 1):
            problem = f"has chunks of {chunk} elements, more than the dataset's {size}"
    return None if problem is None else WeightsError(f"{where}: HDF5 dataset {path} {problem}; refusing the file")
