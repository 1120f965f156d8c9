"""Large renders: the engine's peak memory and speed, whole image against strips (issue 15).

Two measurements, each case in a fresh child process so that one does not inherit another's memory:

* ``memory``: for each size, load the model, create a session (default layers and weights, L-BFGS
  with ``--history`` pairs), choose the strategy, set random content and style images, take
  ``--steps`` steps, and report the resident set: the baseline just after loading the model (current
  RSS), the high-water mark after the steps (``ru_maxrss``), their difference (the session's growth),
  the engine's prediction for this run (``Session.predict_peak_bytes`` with the L-BFGS pairs held
  after these steps, ``min(steps - 1, history)``) and for a long run (full history), and the time per step.
* ``time``: for each size, the time of one evaluation (objective and gradient), whole and strips
  alternating call by call in one process, median and minimum of ``--repeats`` after one warm-up each.

A benchmark, not a test: run it on a quiet machine and read the numbers (bench/RESULTS.md, "Large
renders: engine memory"). Example::

    python bench/large_render_memory.py memory --sizes 1024x1024 2048x2048 --split pool3 --rows 128
    python bench/large_render_memory.py time --sizes 512x512 1024x1024 --split pool3 --rows 128
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GIB = 2**30

_CHILD = """
import json, resource, statistics, sys, time
import numpy as np
import swiftnst

mode, height, width, split, rows, history, steps, repeats = sys.argv[1:9]
height, width, rows, history, steps, repeats = map(int, (height, width, rows, history, steps, repeats))
split = split or None
model = swiftnst.Model()
with open("/proc/self/status") as status:
    baseline = next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) * 1024
rng = np.random.default_rng(0)
session = swiftnst.Session(model, height, width, lbfgs_history=history)
session.set_strips(split, rows)
content = rng.standard_normal((3, height, width), dtype=np.float32) * 50
session.set_content(content)
session.add_style(rng.standard_normal((3, height, width), dtype=np.float32) * 50)
session.set_image(content)
result = {"predicted": session.predict_peak_bytes(split, rows)}
# What this run holds: after `steps` steps L-BFGS keeps min(steps - 1, history) pairs of image-sized arrays.
pairs = min(steps - 1, history)
pair_bytes = 2 * 3 * height * width * 4
result["predicted_this_run"] = session.predict_peak_bytes(split, rows, 1) + (pairs - 1) * pair_bytes
if mode == "memory":
    start = time.perf_counter()
    session.step(steps)
    result["seconds_per_step"] = (time.perf_counter() - start) / steps
    result["baseline"] = baseline
    result["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
else:
    # Whole and strips alternate call by call in this one process, so that a load that comes and goes on a
    # shared machine falls on both alike.
    whole = swiftnst.Session(model, height, width)
    whole.set_content(content)
    whole.add_style(rng.standard_normal((3, height, width), dtype=np.float32) * 50)
    times = {"whole": [], "strips": []}
    for name, s in [("whole", whole), ("strips", session)] * (repeats + 1):
        start = time.perf_counter()
        s.evaluate(content)
        times[name].append(time.perf_counter() - start)
    for name, values in times.items():  # the first call of each is a warm-up
        result[name] = {"median": statistics.median(values[1:]), "min": min(values[1:])}
print(json.dumps(result))
"""


def size(text: str) -> tuple[int, int]:
    """``HxW`` -> (height, width)."""
    height, width = text.lower().split("x")
    return int(height), int(width)


def run_case(mode: str, height: int, width: int, split: str | None, rows: int, args: argparse.Namespace) -> dict:
    """One case in a fresh interpreter importing swiftnst from this checkout."""
    argv = [mode, str(height), str(width), split or "", str(rows), str(args.history), str(args.steps), str(args.repeats)]
    result = subprocess.run([sys.executable, "-c", _CHILD, *argv], capture_output=True, text=True, check=False,
                            env=dict(os.environ, PYTHONPATH=str(REPO / "python")))
    if result.returncode != 0:
        raise SystemExit(f"case {argv} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["memory", "time"])
    parser.add_argument("--sizes", type=size, nargs="+", default=[(1024, 1024), (2048, 2048)], help="HxW")
    parser.add_argument("--split", default="pool3", help="strip split layer (a pooling layer)")
    parser.add_argument("--rows", type=int, default=128, help="strip rows (a multiple of the split's alignment)")
    parser.add_argument("--history", type=int, default=5, help="L-BFGS history pairs")
    parser.add_argument("--steps", type=int, default=1, help="steps per memory case")
    parser.add_argument("--repeats", type=int, default=3, help="timed evaluations per time case")
    parser.add_argument("--no-whole", action="store_true", help="skip the whole-image cases (too large to fit)")
    args = parser.parse_args()
    strategies = ([] if args.no_whole else [(None, 0)]) + [(args.split, args.rows)]
    for height, width in args.sizes:
        if args.mode == "time":
            r = run_case("time", height, width, args.split, args.rows, args)
            w, s = r["whole"], r["strips"]
            print(f"{height}x{width}: whole {w['median']:.2f} s/evaluation (min {w['min']:.2f}), strips "
                  f"{args.split}/{args.rows} {s['median']:.2f} (min {s['min']:.2f}), ratio {s['median'] / w['median']:.2f}")
            continue
        for split, rows in strategies:
            r = run_case(args.mode, height, width, split, rows, args)
            label = f"{height}x{width} {'whole' if split is None else f'strips {split}/{rows}'}"
            growth = r["peak"] - r["baseline"]
            print(f"{label}: peak RSS {r['peak'] / GIB:.2f} GiB (baseline {r['baseline'] / GIB:.2f}, growth "
                  f"{growth / GIB:.2f}, predicted {r['predicted_this_run'] / GIB:.2f}; with {args.history} pairs "
                  f"{r['predicted'] / GIB:.2f}), {r['seconds_per_step']:.1f} s/step")


if __name__ == "__main__":
    main()
