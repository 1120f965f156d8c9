"""Runs one framework on one problem size in this process and prints one JSON line of results.

Used by compare.py and bench_engine.py as a subprocess per (framework, size), so that peak RSS is the
framework's own. Also writes the gradient at the problem's point to ``--out`` for cross-checking.

    python bench/worker.py FRAMEWORK SIZE [--reps 5] [--warmup 2] [--threads 2] [--out DIR]

FRAMEWORK: swiftnst | torch | torch_channels_last | jax.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

import numpy as np

from problem import load_problem

FRAMEWORKS = ("swiftnst", "torch", "torch_channels_last", "jax")


def make_evaluator(framework: str, problem, threads: int):
    if framework == "swiftnst":
        from impl_swiftnst import make_evaluator as make
        return make(problem, threads)
    if framework in ("torch", "torch_channels_last"):
        from impl_torch import make_evaluator as make
        return make(problem, threads, channels_last=framework == "torch_channels_last")
    if framework == "jax":
        from impl_jax import make_evaluator as make
        return make(problem, threads)
    raise SystemExit(f"unknown framework {framework!r}; choose from {', '.join(FRAMEWORKS)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("framework", choices=FRAMEWORKS)
    parser.add_argument("size", type=int)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--out", type=Path, default=None, help="directory for <framework>_<size>.npy gradients")
    args = parser.parse_args()

    problem = load_problem(args.size, args.weights)
    start = time.perf_counter()
    evaluate = make_evaluator(args.framework, problem, args.threads)
    for _ in range(args.warmup):  # first calls build caches / compile (jit, transformed weights)
        loss, grad = evaluate(problem.x)
    setup = time.perf_counter() - start
    times = []
    for _ in range(args.reps):
        t = time.perf_counter()
        loss, grad = evaluate(problem.x)
        times.append(time.perf_counter() - t)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        np.save(args.out / f"{args.framework}_{args.size}.npy", np.asarray(grad, np.float32))
    print(json.dumps({
        "framework": args.framework, "size": args.size, "threads": args.threads,
        "ms_median": 1e3 * statistics.median(times), "ms_min": 1e3 * min(times), "reps": args.reps,
        "times_ms": [1e3 * t for t in times],
        "setup_s": setup, "loss": loss, "gflops": problem.conv_flops / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
