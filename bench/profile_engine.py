"""Where one swiftnst evaluation and one L-BFGS step spend their time, per layer type: conv forward and
input gradient (Winograd; im2col for planes at most 4 px wide), ReLU and pooling (forward, backward), the
Gram matrices (forward, backward), the losses without their Gram matrices, everything else; and per
L-BFGS step with its history held: the evaluation, storing the curvature pair, the two-loop direction
and the rest of the step. Plus the Winograd phases and the share of the machine's FMA peak their
products reach.

    python bench/profile_engine.py [--size 512] [--evals 2 6] [--steps 3] [--history-steps 100]
        [--threads 2] [--core-gflops 179.2]

The times come from the engine's timers (SWIFTNST_PROFILE=1, Sources/NSTEngine/LayerProfiler.swift),
which print totals when the process exits. Totals also include the forward passes that build the content
and style targets, so the child is run twice, with N1 and N2 evaluations, and the difference divided by
N2 − N1 is one evaluation's share. The step rows come from a third child taking `--history-steps` L-BFGS
steps (the default history of 100 pairs is full after 101) and then `--steps` more: the engine's timers
keep each step's time, and the rows are the medians over the last `--steps` steps.

`--core-gflops` is one core's FMA peak: 2 AVX-512 FMA units × 16 lanes × 2 FLOP × the clock (GHz); the
default is 2.8 GHz (this Xeon's nominal clock, /proc/cpuinfo, model 106 Ice Lake-SP; a register-only FMA
loop measured 178–186 GFLOP/s per vCPU, bench/RESULTS.md). The products' FLOPs are 2·36·Cin·Cout·tiles per
Winograd pass (F(4x4, 3x3): 36 coefficient planes, ⌈H/4⌉·⌈W/4⌉ tiles); their time is summed over the
worker threads, so the share is of the peak of the cores that ran them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent
PROFILE_LINE = re.compile(r"^swiftnst-profile (\S+) calls=(\d+) seconds=([0-9.]+)(?: each=([0-9.,]*))?$")


def child(size: int, evals: int, steps: int, timed_steps: int, threads: int) -> None:
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
    session = evaluate.session
    session.set_image(problem.x)
    step_s = []
    for _ in range(steps):
        start = time.perf_counter()
        session.step(1)  # one call per step, as swiftnst.stylize drives a session
        step_s.append(time.perf_counter() - start)
    print(json.dumps({"evaluate_s": evaluate_s, "step_s": step_s[len(step_s) - timed_steps:]}), flush=True)


def run_child(size: int, evals: int, steps: int, threads: int,
              timed_steps: int = 0) -> tuple[dict, dict[str, float], dict[str, list[float]]]:
    """Totals per timer, and each call's seconds of the step's timers."""
    env = dict(os.environ, SWIFTNST_PROFILE="1")
    done = subprocess.run([sys.executable, str(HERE / "profile_engine.py"), "--child", str(evals), "--size", str(size),
                           "--steps", str(steps), "--timed-steps", str(timed_steps), "--threads", str(threads)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"profiled run failed:\n{done.stderr}")
    result = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    matches = [m for m in map(PROFILE_LINE.match, done.stderr.splitlines()) if m]
    if not matches:
        raise SystemExit("the engine printed no profile: was it built with LayerProfiler?")
    totals = {m.group(1): float(m.group(3)) for m in matches}
    each = {m.group(1): [float(v) for v in m.group(4).split(",") if v] for m in matches if m.group(4) is not None}
    return result, totals, each


def difference(first: dict[str, float], second: dict[str, float], count: int) -> dict[str, float]:
    """Per unit of ``count``: what ``second``'s totals hold beyond ``first``'s."""
    return {name: (second[name] - first.get(name, 0.0)) / count for name in second}


def winograd_product_flops(size: int) -> float:
    """FLOPs of the Winograd products of one evaluation: 2·36·Cin·Cout·⌈H/4⌉·⌈W/4⌉ per conv, forward and
    input gradient, for the convs on planes wider than the engine's im2col limit (4 px)."""
    from problem import load_problem

    total, side = 0.0, size
    for layer in load_problem(size).layers:
        if layer.kind == "pool":
            side //= 2
        elif layer.kind == "conv" and side > 4:
            cout, cin = layer.weight.shape[:2]
            total += 2 * 2.0 * 36 * cin * cout * math.ceil(side / 4) ** 2
    return total


def print_table(title: str, rows: list[tuple[str, float]], whole: float) -> None:
    print(f"\n{title}\n| part | ms | share |\n|---|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {1e3 * seconds:.1f} | {100 * seconds / whole:.0f}% |")


def evaluation_rows(per_eval: dict[str, float], evaluate_s: float) -> list[tuple[str, float]]:
    """One evaluation by layer type; "other" is what no timer covers (copies, the backward's bookkeeping)."""
    get = per_eval.get
    gram = get("gram.forward", 0.0) + get("gram.backward", 0.0)
    losses = get("loss.forward", 0.0) + get("loss.backward", 0.0) - gram
    rows = [("conv forward, Winograd (with the fused ReLU)", get("winograd.forward", 0.0)),
            ("conv input gradient, Winograd (with the fused ReLU mask)", get("winograd.backward_input", 0.0)),
            ("conv forward, im2col (planes <= 4 px)", get("im2col.forward", 0.0)),
            ("conv input gradient, im2col", get("im2col.backward_input", 0.0)),
            ("ReLU forward (not fused into a conv)", get("relu.forward", 0.0)),
            ("ReLU backward (not fused into a conv or pool)", get("relu.backward", 0.0)),
            ("pooling forward", get("pool.forward", 0.0)),
            ("pooling backward (incl. fused ReLU mask)", get("pool.backward", 0.0)),
            ("Gram matrices, forward (ssyrk)", get("gram.forward", 0.0)),
            ("Gram matrices, backward (sgemm)", get("gram.backward", 0.0)),
            ("losses without their Gram matrices (content, style, tv; value and gradient)", losses)]
    rows.append(("other (copies, zeroing, the passes' bookkeeping)", evaluate_s - sum(s for _, s in rows)))
    return [*rows, ("= one evaluation", evaluate_s)]


def step_rows(each: dict[str, list[float]], python_s: list[float], steps: int) -> list[tuple[str, float]]:
    """One L-BFGS step (medians of the last ``steps``): its evaluation, the optimiser's parts, the session's
    and the driver's rest."""
    per_step = {name: statistics.median(values[-steps:]) for name, values in each.items()}
    step, python_median = per_step["session.step"], statistics.median(python_s)
    optimiser = [("evaluation inside the step", per_step["session.step_evaluation"]),
                 ("L-BFGS: store the curvature pair", per_step["lbfgs.pairs"]),
                 ("L-BFGS: two-loop direction and move", per_step["lbfgs.direction"])]
    rest = step - sum(s for _, s in optimiser)
    return [*optimiser, ("rest of Session.step (image copies, best image, checks)", rest),
            ("Python and C bridge (session.step(1) call minus Session.step)", python_median - step),
            ("= one step as session.step(1) sees it", python_median)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--evals", type=int, nargs=2, default=[2, 6], metavar=("N1", "N2"))
    parser.add_argument("--steps", type=int, default=3, help="L-BFGS steps timed for the step rows (0: none)")
    parser.add_argument("--history-steps", type=int, default=100,
                        help="L-BFGS steps taken before the timed ones (fills the history)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--core-gflops", type=float, default=2 * 16 * 2 * 2.8,
                        help="one core's FMA peak in GFLOP/s (default: 2 AVX-512 FMA units at 2.8 GHz)")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)  # evaluations to run
    parser.add_argument("--timed-steps", type=int, default=0, help=argparse.SUPPRESS)  # the child's steps kept
    args = parser.parse_args()
    if args.child is not None:
        child(args.size, args.child, args.steps, args.timed_steps, args.threads)
        return

    n1, n2 = args.evals
    if n2 <= n1:
        raise SystemExit("--evals N1 N2 needs N2 > N1")
    _, totals1, _ = run_child(args.size, n1, 0, args.threads)
    second, totals2, _ = run_child(args.size, n2, 0, args.threads)
    per_eval = difference(totals1, totals2, n2 - n1)
    evaluate_s = second["evaluate_s"]
    print(f"swiftnst profile at {args.size}x{args.size}, {args.threads} threads")
    print_table("One evaluation (wall time):", evaluation_rows(per_eval, evaluate_s), evaluate_s)

    phases = ("winograd.input_transform", "winograd.products", "winograd.output_transform")
    phase_total = sum(per_eval[p] for p in phases)
    print("\nWinograd phases (thread-seconds summed over workers, forward + input gradient):")
    for p in phases:
        print(f"- {p.split('.')[1]}: {1e3 * per_eval[p]:.1f} ms ({100 * per_eval[p] / phase_total:.0f}%)")
    flops = winograd_product_flops(args.size)
    per_core = flops / per_eval["winograd.products"] / 1e9
    print(f"- products: {flops / 1e9:.1f} GFLOP, {per_core:.0f} GFLOP/s per busy core = "
          f"{100 * per_core / args.core_gflops:.0f}% of its FMA peak ({args.core_gflops:.1f} GFLOP/s)")

    if args.steps:
        stepped, _, each = run_child(args.size, 0, args.history_steps + args.steps, args.threads, args.steps)
        rows = step_rows(each, stepped["step_s"], args.steps)
        print_table(f"One L-BFGS step after {args.history_steps} (wall time, median of {args.steps}):", rows,
                    rows[-1][1])


if __name__ == "__main__":
    main()
