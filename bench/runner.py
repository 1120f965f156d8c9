"""Runs worker.py in a subprocess (one per framework and size, so that peak RSS is per framework)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Python modules each framework needs; a framework whose module is missing is skipped.
REQUIREMENTS = {"swiftnst": None, "torch": "torch", "torch_channels_last": "torch", "jax": "jax"}


def available(framework: str) -> bool:
    module = REQUIREMENTS[framework]
    return module is None or importlib.util.find_spec(module) is not None


def run_worker(framework: str, size: int, *, reps: int, warmup: int, threads: int, out: Path | None,
               weights: str | None = None, extra_env: dict[str, str] | None = None) -> dict:
    """Returns the worker's JSON result, or ``{"framework", "size", "error"}`` if it failed."""
    command = [sys.executable, str(HERE / "worker.py"), framework, str(size), "--reps", str(reps),
               "--warmup", str(warmup), "--threads", str(threads)]
    if out is not None:
        command += ["--out", str(out)]
    if weights:
        command += ["--weights", weights]
    env = dict(os.environ, **(extra_env or {}))
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"framework": framework, "size": size, "error": tail, "stderr": done.stderr}
    return json.loads(lines[-1])
