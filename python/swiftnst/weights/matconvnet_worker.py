"""Child-process entry point of the MatConvNet reader: ``python -m swiftnst.weights.matconvnet_worker
<file.mat> <out.npz> < file.mat``.

``matconvnet.load_matconvnet`` runs the parse here, under a timeout, and reads back only plain float
arrays, so that whatever a crafted file does to the reader stays in this process. The
file is read from standard input, which the parent opened (and checked to be a regular file); the
path argument only names it in messages. Exit
status 0: ``out.npz`` holds ``architecture``, ``mean`` and ``<layer>.weight``/``<layer>.bias``; exit
status 2: the file was refused and ``out.npz.error`` holds the ``WeightsError`` message (a file, not
stderr, so that warnings printed by a library cannot mix into it).
"""

from __future__ import annotations

import sys

import numpy as np

from . import WeightsError
from .matconvnet import parse_matconvnet


def main(argv: list[str]) -> int:
    source, destination = argv
    try:
        with open(sys.stdin.fileno(), "rb", closefd=False) as stream:
            architecture, layers, mean = parse_matconvnet(stream, source)
    except WeightsError as exc:
        with open(destination + ".error", "w", encoding="utf-8") as handle:
            handle.write(str(exc))
        return 2
    arrays = {"architecture": np.array(architecture), "mean": np.array(mean, np.float64)}
    for name, (weight, bias) in layers.items():
        arrays[f"{name}.weight"], arrays[f"{name}.bias"] = weight, bias
    with open(destination, "wb") as handle:
        np.savez(handle, **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
