"""Where an evaluation's matrix products go: every cblas_sgemm and cblas_ssyrk call of one swiftnst
evaluation, grouped by shape, with calls, thread time and GFLOP/s per shape.

    python bench/blas_calls.py [--size 256] [--evals 3 13] [--threads 2] [--top 30]

Builds bench/blas_calls.c (needs a C compiler and libopenblas-dev) into a temporary shared library and runs
the benchmark problem under LD_PRELOAD twice, with N1 and N2 evaluations; the difference divided by
N2 − N1 is one evaluation's share (the first run also holds the weights' setup and the targets).

Reading the shapes (row-major, C[m×n] = op(A)[m×k] · op(B)[k×n]):
- Winograd products: m = output channels of the worker's group, n = tiles in the band, k = input channels;
  `T·` (A transposed) is the input gradient, which multiplies by Uᵀ. 36 calls per band and pass.
- ssyrk: a Gram matrix's part, n = channels, k = positions in the worker's share.
- sgemm with n in the thousands: a Gram matrix's backward pass, (G − A)·F.
Thread time is summed over both workers: with 2 threads busy, half of it is wall time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(size: int, evals: int, threads: int) -> None:
    """Runs under LD_PRELOAD: evaluates the problem's objective `evals` times after one warm-up."""
    sys.path.insert(0, str(HERE))
    from impl_swiftnst import make_evaluator
    from problem import load_problem

    problem = load_problem(size)
    evaluate = make_evaluator(problem, threads)
    evaluate(problem.x)
    start = time.perf_counter()
    for _ in range(evals):
        evaluate(problem.x)
    print(f"{(time.perf_counter() - start) / max(evals, 1) * 1e3:.1f}")


def calls(library: Path, size: int, evals: int, threads: int) -> tuple[float, dict[tuple, list[float]]]:
    """ms per evaluation and {(routine, transposeA, transposeB, m, n, k): [calls, seconds]} of one run."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "calls.txt"
        env = dict(os.environ, LD_PRELOAD=str(library), SWIFTNST_BLAS_CALLS_OUT=str(out))
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(evals),
                               "--size", str(size), "--threads", str(threads)],
                              capture_output=True, text=True, env=env)
        if done.returncode != 0 or not out.exists():
            raise SystemExit(f"the measured run failed:\n{done.stderr}")
        shapes = {}
        for line in out.read_text().splitlines():
            routine, ta, tb, m, n, k, count, seconds = line.split()
            shapes[(routine, int(ta), int(tb), int(m), int(n), int(k))] = [int(count), float(seconds)]
        return float(done.stdout.split()[-1]), shapes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--evals", type=int, nargs=2, default=[3, 13], metavar=("N1", "N2"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top", type=int, default=30, help="shapes listed, by thread time")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)  # evaluations to run
    args = parser.parse_args()
    if args.child is not None:
        child(args.size, args.child, args.threads)
        return
    n1, n2 = args.evals
    if not 0 <= n1 < n2:
        parser.error("--evals N1 N2 needs 0 <= N1 < N2")
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        raise SystemExit("no C compiler (set CC)")

    with tempfile.TemporaryDirectory() as directory:
        library = Path(directory) / "blas_calls.so"
        subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(library), str(HERE / "blas_calls.c"), "-ldl",
                        "-lpthread"], check=True)
        ms_few, few = calls(library, args.size, n1, args.threads)
        ms_many, many = calls(library, args.size, n2, args.threads)

    per_eval = []
    for shape, (count, seconds) in many.items():
        count_few, seconds_few = few.get(shape, [0, 0.0])
        count, seconds = (count - count_few) / (n2 - n1), (seconds - seconds_few) / (n2 - n1)
        if count <= 0:
            continue
        routine, ta, tb, m, n, k = shape
        # ssyrk's multiply-adds: the upper triangle with its diagonal.
        flop = 2 * m * n * k if routine == "sgemm" else n * (n + 1) * k
        per_eval.append((seconds, routine, ta, tb, m, n, k, count, flop * count / max(seconds, 1e-12) / 1e9))
    per_eval.sort(reverse=True)
    total = sum(row[0] for row in per_eval)
    print(f"{args.size} px, {args.threads} threads: {ms_many:.0f} ms per evaluation (run of {n2}); "
          f"BLAS thread time {total * 1e3:.0f} ms per evaluation")
    print("| routine | m | n | k | calls / eval | thread ms / eval | share | GFLOP/s per call |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for seconds, routine, ta, tb, m, n, k, count, rate in per_eval[:args.top]:
        name = routine + (" T·" if ta else "") + (" ·T" if tb else "")
        print(f"| {name} | {m} | {n} | {k} | {count:.0f} | {seconds * 1e3:.1f} | {seconds / total:.1%} | {rate:.0f} |")


if __name__ == "__main__":
    main()
