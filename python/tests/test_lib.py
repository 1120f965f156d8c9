"""Loading the native library (`_lib`) and the CPU checks before it (`_cpu`): OpenBLAS kernel selection,
the generic-kernel warning and the target-cpu refusal."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import swiftnst
from swiftnst import _cpu, _lib

SKYLAKE_X_CPU = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl\n"
HASWELL_CPU = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma bmi2\n"
OLD_CPU = "processor\t: 0\nflags\t\t: fpu sse2 sse4_2 avx\n"


@pytest.fixture
def cpuinfo(tmp_path: Path):
    def write(text: str) -> Path:
        path = tmp_path / "cpuinfo"
        path.write_text(text)
        return path
    return write


@pytest.mark.parametrize("text, core", [(SKYLAKE_X_CPU, "SkylakeX"), (HASWELL_CPU, "Haswell"), (OLD_CPU, None)])
def test_kernels_follow_the_cpu_flags(cpuinfo, text, core):
    environ: dict[str, str] = {}
    assert _cpu.select_blas_kernels(environ, cpuinfo(text)) == core
    assert environ.get("OPENBLAS_CORETYPE") == core


def test_a_users_coretype_is_kept(cpuinfo):
    environ = {"OPENBLAS_CORETYPE": "Prescott"}
    assert _cpu.select_blas_kernels(environ, cpuinfo(SKYLAKE_X_CPU)) == "Prescott"
    assert environ == {"OPENBLAS_CORETYPE": "Prescott"}


def test_unreadable_cpuinfo_leaves_openblas_to_choose(tmp_path):
    environ: dict[str, str] = {}
    assert _cpu.cpu_flags(tmp_path / "missing") == frozenset()
    assert _cpu.select_blas_kernels(environ, tmp_path / "missing") is None
    assert environ == {}


def test_generic_kernels_on_an_avx2_cpu_warn():
    with pytest.warns(RuntimeWarning, match="OPENBLAS_CORETYPE=Haswell"):
        _cpu.warn_if_generic_blas("OpenBLAS 0.3.21 DYNAMIC_ARCH Prescott; core Prescott", frozenset({"avx2", "fma"}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _cpu.warn_if_generic_blas("OpenBLAS 0.3.21 DYNAMIC_ARCH SkylakeX; core SkylakeX", frozenset({"avx2", "fma"}))
        _cpu.warn_if_generic_blas("OpenBLAS 0.3.21 DYNAMIC_ARCH Prescott; core Prescott", frozenset({"sse2"}))


def test_blas_info_reports_the_loaded_openblas():
    info = swiftnst.blas_info()
    assert info.startswith("OpenBLAS") and "; core " in info


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/cpuinfo")
def test_a_fresh_process_gets_vector_kernels_when_the_cpu_has_them():
    expected = _cpu.blas_core_for(_cpu.cpu_flags())
    if expected is None:
        pytest.skip("this CPU has neither AVX2 nor AVX-512")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    out = subprocess.run([sys.executable, "-W", "error", "-c", "import swiftnst; print(swiftnst.blas_info())"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith(f"; core {expected}")


def test_best_target_cpu_follows_the_flags(cpuinfo):
    assert _cpu.best_target_cpu(_cpu.cpu_flags(cpuinfo(OLD_CPU))) == "x86-64"
    haswell = _cpu.TARGET_CPU_FLAGS["haswell"]
    assert _cpu.best_target_cpu(haswell) == "haswell"
    assert _cpu.best_target_cpu(haswell | _cpu.SKYLAKEX_FLAGS) == "skylake-avx512"
    assert _cpu.best_target_cpu(haswell - {"bmi2"}) == "x86-64"


def test_a_library_built_for_a_missing_cpu_feature_is_refused_not_loaded(tmp_path, monkeypatch):
    library = tmp_path / _lib.library_file_name()
    library.write_bytes(b"not an ELF file: loading it would fail differently")
    (tmp_path / (library.name + ".target-cpu")).write_text("skylake-avx512\n")
    monkeypatch.setattr(_lib, "cpu_flags", lambda *_: _cpu.TARGET_CPU_FLAGS["haswell"])
    with pytest.raises(_lib.LibraryNotFoundError, match=r"built for another CPU, this one lacks avx512bw, avx512cd"):
        _lib._load_first([library])
    assert _cpu.missing_cpu_features(library, _cpu.TARGET_CPU_FLAGS["skylake-avx512"]) == frozenset()
    assert _cpu.missing_cpu_features(tmp_path / "portable.so", frozenset()) == frozenset()



def _fake_wheel_libraries(directory: Path, targets) -> None:
    for target in targets:
        library = directory / target / _lib.library_file_name()
        library.parent.mkdir(parents=True)
        library.write_bytes(b"not an ELF file")
        library.with_name(library.name + ".target-cpu").write_text(target + "\n")


def test_a_wheels_libraries_are_tried_best_first_passing_over_those_this_cpu_cannot_run(tmp_path, monkeypatch):
    _fake_wheel_libraries(tmp_path, ["x86-64", "skylake-avx512", "haswell"])
    name = _lib.library_file_name()
    assert _lib.packaged_libraries(tmp_path) == [tmp_path / target / name for target in _cpu.TARGET_CPU_FLAGS]
    monkeypatch.setattr(_lib, "cpu_flags", lambda *_: _cpu.TARGET_CPU_FLAGS["haswell"])
    with pytest.raises(_lib.LibraryNotFoundError) as failure:
        _lib._load_first(_lib.packaged_libraries(tmp_path))
    lines = str(failure.value).splitlines()
    assert "skylake-avx512" in lines[1] and "built for another CPU" in lines[1]
    assert "haswell" in lines[2] and "built for another CPU" not in lines[2]  # tried: this CPU runs it
    assert "x86-64" in lines[3] and "built for another CPU" not in lines[3]


def test_an_editable_install_has_one_library(tmp_path):
    assert _lib.packaged_libraries(tmp_path) == [tmp_path / _lib.library_file_name()]
    _fake_wheel_libraries(tmp_path, ["x86-64"])
    assert _lib.packaged_libraries(tmp_path) == [tmp_path / "x86-64" / _lib.library_file_name()]
