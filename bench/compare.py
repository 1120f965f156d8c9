"""swiftnst vs PyTorch (default and channels_last) vs JAX on the same style-transfer evaluation.

    python bench/compare.py [--sizes 256 512] [--reps 5] [--rounds 3] [--write-results]

Each framework runs in its own subprocess (bench/worker.py) on identical inputs and weights
(bench/problem.py), if installed. The frameworks take turns, --rounds times per size, so that a slow
phase of the machine (shared hosts here drift between ~230 and ~350 ms per swiftnst evaluation at 256 px
over tens of seconds) falls on all of them alike. The table gives ms per evaluation (median and minimum
of all --rounds × --reps timed evaluations, each worker after --warmup),
swiftnst's time as a fraction of each peer's, direct-convolution GFLOP/s, peak RSS of the process,
and the agreement of each peer's loss and image gradient with swiftnst's (relative errors).
--write-results replaces bench/RESULTS.md with the table, the command and the machine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from runner import available, run_worker
from worker import FRAMEWORKS

HERE = Path(__file__).resolve().parent


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def versions() -> str:
    parts = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    for name in ("torch", "jax"):
        try:
            parts.append(f"{name} {__import__(name).__version__}")
        except ImportError:
            pass
    try:
        swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        parts.append(swift.replace("Swift version ", "Swift ").split(" (")[0])
    except OSError:
        pass
    return ", ".join(parts)


def blas() -> str:
    """swiftnst's BLAS and the kernels it picked (in a subprocess: loading it here would fix the kernels
    of this process's OpenBLAS before the workers start)."""
    # problem.py puts the checkout's python/ first on the path, as the workers do.
    code = "import problem, swiftnst; print(swiftnst.blas_info())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=HERE)
    return done.stdout.strip() or "unknown"


def relative_error(a: np.ndarray, reference: np.ndarray) -> float:
    """‖a − reference‖ / ‖reference‖ in float64."""
    a, reference = a.astype(np.float64), reference.astype(np.float64)
    return float(np.linalg.norm(a - reference) / max(np.linalg.norm(reference), 1e-300))


def compare(sizes: list[int], reps: int, warmup: int, threads: int, weights: str | None,
            rounds: int = 1) -> tuple[str, list[dict]]:
    rows = []
    frameworks = [f for f in FRAMEWORKS if available(f)]
    for framework in sorted(set(FRAMEWORKS) - set(frameworks)):
        print(f"{framework}: not installed, skipped", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="swiftnst-bench-") as tmp:
        out = Path(tmp)
        for size in sizes:
            results: dict[str, dict] = {}
            failed: set[str] = set()
            for round_ in range(rounds):
                for framework in frameworks:
                    if framework in failed:
                        continue
                    print(f"[{size}] round {round_ + 1}/{rounds}: {framework} ...", file=sys.stderr, flush=True)
                    result = run_worker(framework, size, reps=reps, warmup=warmup, threads=threads, out=out,
                                        weights=weights)
                    if "error" in result:
                        print(f"[{size}] {framework} failed: {result['error']}", file=sys.stderr)
                        failed.add(framework)
                        results.pop(framework, None)
                        continue
                    merged = results.setdefault(framework, result)
                    if merged is not result:
                        merged["times_ms"] += result["times_ms"]
                        merged["peak_rss_mb"] = max(merged["peak_rss_mb"], result["peak_rss_mb"])
            for result in results.values():
                result["ms_median"] = float(np.median(result["times_ms"]))
                result["ms_min"] = min(result["times_ms"])
            swiftnst = results.get("swiftnst")
            # Agreement is checked against swiftnst, or against the first peer when swiftnst is missing.
            reference = swiftnst or next(iter(results.values()), None)
            for framework, result in results.items():
                result["ratio"] = (swiftnst["ms_median"] / result["ms_median"]) if swiftnst else None
                result["ratio_min"] = (swiftnst["ms_min"] / result["ms_min"]) if swiftnst else None
                if result is not reference:
                    ours = np.load(out / f"{reference['framework']}_{size}.npy")
                    theirs = np.load(out / f"{framework}_{size}.npy")
                    result["grad_rel"] = relative_error(theirs, ours)
                    result["loss_rel"] = abs(result["loss"] - reference["loss"]) / abs(reference["loss"])
                rows.append(result)
    return table(rows), rows


def table(rows: list[dict]) -> str:
    lines = ["| size | framework | ms/eval (median) | ms (min) | swiftnst / this (median) | (min) | GFLOP/s "
             "| peak RSS MB | loss rel. diff | grad rel. diff |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}" if r.get("ratio") is not None else "–"
        ratio_min = f"{r['ratio_min']:.2f}" if r.get("ratio_min") is not None else "–"
        loss = f"{r['loss_rel']:.1e}" if "loss_rel" in r else "(reference)"
        grad = f"{r['grad_rel']:.1e}" if "grad_rel" in r else "(reference)"
        gflops = r["gflops"] / (r["ms_median"] / 1e3)
        lines.append(f"| {r['size']} | {r['framework']} | {r['ms_median']:.0f} | {r['ms_min']:.0f} | {ratio} | {ratio_min} "
                     f"| {gflops:.0f} | {r['peak_rss_mb']:.0f} | {loss} | {grad} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--reps", type=int, default=5, help="timed evaluations per worker run")
    parser.add_argument("--rounds", type=int, default=3, help="turns each framework takes per size")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="threads per framework (JAX uses all cores)")
    parser.add_argument("--weights", default=None, help="VGG-19 safetensors (default: the swiftnst cache)")
    parser.add_argument("--write-results", action="store_true", help="write bench/RESULTS.md")
    parser.add_argument("--note", default="", help="a line about the build measured, for RESULTS.md")
    args = parser.parse_args()

    load_before = load()
    text, rows = compare(args.sizes, args.reps, args.warmup, args.threads, args.weights, args.rounds)
    load_after = load()
    print(text)
    if args.write_results:
        env = {k: os.environ[k] for k in ("SWIFTNST_LIB_PATH", "OPENBLAS_CORETYPE") if k in os.environ}
        command = "python bench/compare.py " + shlex.join(sys.argv[1:])
        (HERE / "RESULTS.md").write_text(
            "# Benchmark results\n\n"
            "One evaluation = VGG-19 forward to relu5_1 + backward to the image (content relu4_2, style "
            "relu1_1..relu5_1, tv), see bench/problem.py. GFLOP/s counts direct-convolution FLOPs "
            "(2·9·Cin·Cout·H·W per conv, forward and input gradient). \"swiftnst / this\" is swiftnst's time "
            "divided by the framework's (the goal is ≤ 0.5 against PyTorch and JAX). Loss and gradient "
            "differences are relative to the row marked (reference), swiftnst when it ran (gradient: "
            "‖g − g_ref‖ / ‖g_ref‖).\n\n"
            f"{text}\n\n"
            f"- Command: `{command}` ({args.rounds} rounds × {args.reps} timed evaluations, each after "
            f"{args.warmup} warm-up ones, {args.threads} threads)\n"
            f"- Date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}\n"
            f"- Machine: {machine()}; load average before/after: {load_before} / {load_after}\n"
            f"- Software: {versions()}\n"
            f"- swiftnst's BLAS: {blas()}\n"
            + (f"- swiftnst environment: {', '.join(f'{k}={v}' for k, v in env.items())} (see bench/README.md)\n"
               if env else "")
            + (f"- Note: {args.note}\n" if args.note else ""))
        print(f"wrote {HERE / 'RESULTS.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
