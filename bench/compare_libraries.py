"""Two builds of libswiftnst.so on the same evaluation, taking turns: ms per evaluation of each.

    python bench/compare_libraries.py LIBRARY_A LIBRARY_B [--size 256] [--rounds 8] [--reps 5]

For comparing builds of the same engine (a wheel's library against a development build, two
``-target-cpu`` values, ...). Each round runs bench/worker.py once per library (``SWIFTNST_LIB_PATH``),
alternating which goes first; a round's figure is the minimum of its --reps timed evaluations. The
machine's drift (see README.md, "Noise") moves both libraries of a round alike, so the median of the
per-round ratios B/A is the figure to read.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from runner import run_worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("libraries", type=Path, nargs=2, metavar="LIBRARY")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--weights", default=None)
    args = parser.parse_args()

    minima: dict[Path, list[float]] = {library: [] for library in args.libraries}
    print("| round | A ms (min) | B ms (min) | B/A |")
    print("|---:|---:|---:|---:|")
    for round_index in range(args.rounds):
        order = args.libraries if round_index % 2 == 0 else args.libraries[::-1]
        for library in order:
            result = run_worker("swiftnst", args.size, reps=args.reps, warmup=args.warmup, threads=args.threads,
                                out=None, weights=args.weights, extra_env={"SWIFTNST_LIB_PATH": str(library)})
            if "error" in result:
                raise SystemExit(f"{library}: {result['error']}")
            minima[library].append(result["ms_min"])
        a, b = (minima[library][-1] for library in args.libraries)
        print(f"| {round_index + 1} | {a:.0f} | {b:.0f} | {b / a:.3f} |", flush=True)
    a_times, b_times = (minima[library] for library in args.libraries)
    ratios = [b / a for a, b in zip(a_times, b_times)]
    print(f"\nA = {args.libraries[0]}\nB = {args.libraries[1]}\n{args.size} px, {args.threads} threads: "
          f"A median {statistics.median(a_times):.0f} ms, B median {statistics.median(b_times):.0f} ms; "
          f"B/A median of rounds {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})")


if __name__ == "__main__":
    main()
