"""Where one swiftnst evaluation spends its time: conv forward, conv input gradient, ReLU and pooling
(forward, backward), everything else (Gram matrices, losses, copies), and the optimiser's own work per step.

    python bench/profile_engine.py [--size 512] [--evals 2 6] [--threads 2]

The conv times come from the engine's layer timers (SWIFTNST_PROFILE=1, Sources/NSTEngine/
LayerProfiler.swift), which print totals when the process exits. Totals also include the
forward passes that build the content and style targets, so the child is run twice, with N1 and N2
evaluations, and the difference divided by N2 − N1 is one evaluation's share. The optimiser row is the
time of one L-BFGS step minus the time of one evaluation (a step evaluates the objective once).
Layers that use im2col (planes at most 4 px wide) count under "other".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent
PROFILE_LINE = re.compile(r"^swiftnst-profile (\S+) calls=(\d+) seconds=([0-9.]+)$")


def child(size: int, evals: int, steps: int, threads: int) -> None:
    """Runs in the profiled subprocess: prints one JSON line; the engine prints its totals at exit."""
    from impl_swiftnst import make_evaluator
    from problem import load_problem

    problem = load_problem(size)
    evaluate = make_evaluator(problem, threads)
    evaluate(problem.x)  # builds the transformed weights; in both runs, so it cancels out
    start = time.perf_counter()
    for _ in range(evals):
        evaluate(problem.x)
    evaluate_s = (time.perf_counter() - start) / max(evals, 1)
    step_s = None
    if steps:
        session = evaluate.session
        session.set_image(problem.x)
        session.step(1)  # the first step sets up the optimiser's state
        start = time.perf_counter()
        session.step(steps)
        step_s = (time.perf_counter() - start) / steps
    print(json.dumps({"evaluate_s": evaluate_s, "step_s": step_s}), flush=True)


def run_child(size: int, evals: int, steps: int, threads: int) -> tuple[dict, dict[str, float]]:
    env = dict(os.environ, SWIFTNST_PROFILE="1")
    done = subprocess.run([sys.executable, str(HERE / "profile_engine.py"), "--child", str(evals), "--size", str(size),
                           "--steps", str(steps), "--threads", str(threads)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"profiled run failed:\n{done.stderr}")
    result = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    totals = {m.group(1): float(m.group(3))
              for m in map(PROFILE_LINE.match, done.stderr.splitlines()) if m}
    if not totals:
        raise SystemExit("the engine printed no profile: is this build's kernel WinogradConv3x3?")
    return result, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--evals", type=int, nargs=2, default=[2, 6], metavar=("N1", "N2"))
    parser.add_argument("--steps", type=int, default=3, help="L-BFGS steps timed for the optimiser row")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)  # evaluations to run
    args = parser.parse_args()
    if args.child is not None:
        child(args.size, args.child, args.steps, args.threads)
        return

    n1, n2 = args.evals
    if n2 <= n1:
        raise SystemExit("--evals N1 N2 needs N2 > N1")
    first, totals1 = run_child(args.size, n1, 0, args.threads)
    # The optimiser's steps run in a separate child: each step evaluates the objective at least
    # once, and those evaluations must not leak into the N2 − N1 difference.
    second, totals2 = run_child(args.size, n2, 0, args.threads)
    stepped = run_child(args.size, 1, args.steps, args.threads)[0] if args.steps else {"step_s": None}
    per_eval = {name: (totals2[name] - totals1.get(name, 0.0)) / (n2 - n1) for name in totals2}
    evaluate_s = second["evaluate_s"]
    forward, backward = per_eval["winograd.forward"], per_eval["winograd.backward_input"]
    layers = [("ReLU forward (ReLUs not fused into their conv)", per_eval.get("relu.forward", 0.0)),
              ("ReLU backward (ReLUs not fused into a conv or pool)", per_eval.get("relu.backward", 0.0)),
              ("pooling forward", per_eval.get("pool.forward", 0.0)),
              ("pooling backward (incl. fused ReLU mask)", per_eval.get("pool.backward", 0.0))]
    rest = evaluate_s - forward - backward - sum(s for _, s in layers)
    rows = [("conv forward (Winograd, with the fused ReLU)", forward),
            ("conv input gradient (Winograd, with the fused ReLU mask)", backward), *layers,
            ("other: Gram matrices and their gradients, losses, im2col layers, copies", rest),
            ("= one evaluation", evaluate_s)]
    if stepped["step_s"] is not None:
        rows.append(("optimiser (L-BFGS step minus one evaluation)", stepped["step_s"] - evaluate_s))
    print(f"swiftnst profile at {args.size}x{args.size}, {args.threads} threads")
    print("| part | ms per evaluation | share |")
    print("|---|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {1e3 * seconds:.1f} | {100 * seconds / evaluate_s:.0f}% |")
    phases = ("winograd.input_transform", "winograd.products", "winograd.output_transform")
    phase_total = sum(per_eval[p] for p in phases)
    print("\nWinograd phases (thread-seconds summed over workers, forward + input gradient):")
    for p in phases:
        print(f"- {p.split('.')[1]}: {1e3 * per_eval[p]:.1f} ms ({100 * per_eval[p] / phase_total:.0f}%)")


if __name__ == "__main__":
    main()
