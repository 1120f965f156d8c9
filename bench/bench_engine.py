"""swiftnst alone: ms per evaluation of the style-transfer objective, GFLOP/s and peak RSS per size.

    python bench/bench_engine.py [--sizes 128 256 512] [--reps 5] [--threads 2]

One evaluation = VGG-19 forward to relu5_1 + backward to the image (bench/problem.py), through
swiftnst.Session.evaluate. GFLOP/s counts direct-convolution FLOPs (2·9·Cin·Cout·H·W per conv, forward
and input gradient), so a Winograd engine can exceed the machine's sgemm peak. Each size runs in its own
process so peak RSS is that size's.
"""

from __future__ import annotations

import argparse

from runner import run_worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--weights", default=None)
    args = parser.parse_args()

    print("| size | ms/eval (median) | ms (min) | GFLOP (direct) | GFLOP/s | peak RSS MB | first 2 evals s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        r = run_worker("swiftnst", size, reps=args.reps, warmup=args.warmup, threads=args.threads, out=None,
                       weights=args.weights)
        if "error" in r:
            print(f"| {size} | failed: {r['error']} |||||")
            continue
        print(f"| {size} | {r['ms_median']:.0f} | {r['ms_min']:.0f} | {r['gflops']:.1f} "
              f"| {r['gflops'] / (r['ms_median'] / 1e3):.0f} | {r['peak_rss_mb']:.0f} | {r['setup_s']:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
