"""What this CPU can run: its feature flags, the OpenBLAS kernels to pick for it, and the Swift
``-target-cpu`` builds it can load.

The engine's matrix products go through the system OpenBLAS, and an OpenBLAS release older than the
CPU falls back to its generic SSE kernels ("Prescott"), which made every evaluation about 3x slower
on an AVX-512 Xeon that Debian's OpenBLAS 0.3.21 does not know; ``select_blas_kernels`` runs before
the library is loaded to avoid that. setup.py loads this file by path (it has no imports from the
package) for the ``-target-cpu`` of each library it builds.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import MutableMapping

#: OpenBLAS core names (``OPENBLAS_CORETYPE`` values) whose sgemm uses AVX2 + FMA or AVX-512.
VECTOR_BLAS_CORES = frozenset({"haswell", "zen", "excavator", "skylakex", "cooperlake", "sapphirerapids"})
#: CPU flags (``/proc/cpuinfo``) of OpenBLAS's "SkylakeX" (AVX-512) and "Haswell" (AVX2) kernels.
SKYLAKEX_FLAGS = frozenset({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})
HASWELL_FLAGS = frozenset({"avx2", "fma"})

#: The Swift ``-target-cpu`` values setup.py builds the library for on x86-64, best first, with the
#: CPU flags the code generated for each may use; the last, the x86-64 baseline, runs on every x86-64
#: CPU. A wheel carries one library per entry (``swiftnst/_lib/<target>/``), an editable install the
#: one this machine runs best. A library records its target in a file ``<library>.target-cpu`` beside
#: it and is only loaded on a CPU that has those flags.
TARGET_CPU_FLAGS: dict[str, frozenset[str]] = {
    "skylake-avx512": SKYLAKEX_FLAGS | HASWELL_FLAGS | {"bmi1", "bmi2", "f16c", "movbe", "abm", "popcnt"},
    "haswell": HASWELL_FLAGS | {"bmi1", "bmi2", "f16c", "movbe", "abm", "popcnt"},
    "x86-64": frozenset(),
}


def cpu_flags(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> frozenset[str]:
    """The feature flags of the first processor listed in ``cpuinfo`` (empty where there is none)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as file:
            for line in file:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def blas_core_for(flags: frozenset[str]) -> str | None:
    """The OpenBLAS kernels to use on a CPU with these flags: "SkylakeX", "Haswell" or None (leave
    OpenBLAS's own choice)."""
    if SKYLAKEX_FLAGS <= flags:
        return "SkylakeX"
    if HASWELL_FLAGS <= flags:
        return "Haswell"
    return None


def best_target_cpu(flags: frozenset[str]) -> str:
    """The best ``-target-cpu`` of ``TARGET_CPU_FLAGS`` that an x86-64 CPU with these flags runs."""
    return next(cpu for cpu, needed in TARGET_CPU_FLAGS.items() if needed <= flags)


def missing_cpu_features(library: Path, flags: frozenset[str]) -> frozenset[str]:
    """The CPU flags that ``library`` was built to use (``<library>.target-cpu``) and this CPU lacks;
    empty for a portable build. Checked before loading: running such a library would end the process
    with SIGILL at the first instruction the CPU does not have."""
    try:
        target = library.with_name(library.name + ".target-cpu").read_text(encoding="utf-8").strip()
    except OSError:
        return frozenset()
    return TARGET_CPU_FLAGS.get(target, frozenset()) - flags


def select_blas_kernels(environ: MutableMapping[str, str] = os.environ,
                        cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> str | None:
    """Set ``OPENBLAS_CORETYPE`` from the CPU's flags unless the user already set it; return its value.

    OpenBLAS reads the variable once, when it is loaded, so this runs before the library is. A value
    set by the user (any value) is kept: that is also the way to opt out.
    """
    if environ.get("OPENBLAS_CORETYPE"):
        return environ["OPENBLAS_CORETYPE"]
    core = blas_core_for(cpu_flags(cpuinfo))
    if core is not None:
        environ["OPENBLAS_CORETYPE"] = core
    return core


def warn_if_generic_blas(blas_info: str, flags: frozenset[str]) -> None:
    """Warn when OpenBLAS runs generic kernels on a CPU that has AVX2: the engine is then about 3x
    slower. That happens when OpenBLAS was loaded before swiftnst (by another library in the process)
    without ``OPENBLAS_CORETYPE`` and does not know the CPU."""
    _, _, core = blas_info.rpartition("; core ")
    if core and core.lower() not in VECTOR_BLAS_CORES and HASWELL_FLAGS <= flags:
        warnings.warn(
            f"OpenBLAS uses its generic '{core}' kernels on a CPU with AVX2, so swiftnst runs several times "
            f"slower than it could; set OPENBLAS_CORETYPE={blas_core_for(flags)} before starting Python "
            f"(BLAS: {blas_info})", RuntimeWarning, stacklevel=3)
