"""CI-sized runs of the fuzz harnesses in fuzz/ (a few seconds each, derandomised so every run tries
the same inputs). Each target runs in a child process: a crash fails its test with the input that
caused it. Long runs: ``python3 fuzz/run.py --minutes 10``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import REPO, assert_clean_exit

FUZZ = REPO / "fuzz"
EXAMPLES = 150


PYTHON_TARGETS = [
    ("fuzz_images.py", "load_image"),
    ("fuzz_weights.py", "mutate_ckpt"),
    ("fuzz_weights.py", "mutate_h5"),
    ("fuzz_weights.py", "mutate_mat"),
    ("fuzz_weights.py", "mutate_pth"),
    ("fuzz_weights.py", "mutate_safetensors"),
    ("fuzz_weights.py", "safetensors_header"),
    ("fuzz_weights.py", "lpips_structure"),
    *(("fuzz_sizes.py", target) for target in ["lie_pth", "lie_h5", "lie_ckpt", "lie_mat", "lie_safetensors"]),
]
ENGINE_TARGETS = ["model_header", "model_mutated_header", "ops", "session_params", "session_calls"]


def _fuzz(harness: str, target: str, tmp_path) -> None:
    result = subprocess.run([sys.executable, str(FUZZ / harness), "--ci", "--examples", str(EXAMPLES),
                             "--record", str(tmp_path), target], capture_output=True, text=True, timeout=600)
    if result.returncode < 0:
        last = tmp_path / f"{target}.last"
        result.stderr += f"\nlast input: {last.read_text()[:2000] if last.exists() else '?'}"
    assert_clean_exit(result)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["target"] == target and summary["inputs"] >= EXAMPLES


@pytest.mark.parametrize("harness, target", PYTHON_TARGETS)
def test_python_loaders(harness, target, tmp_path):
    _fuzz(harness, target, tmp_path)


@pytest.mark.parametrize("target", ENGINE_TARGETS)
def test_engine(swiftnst_engine, target, tmp_path):
    _fuzz("fuzz_engine.py", target, tmp_path)
