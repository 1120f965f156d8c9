"""Long fuzzing run: every harness target in its own low-priority child process, sharing a time
budget, with a summary of inputs tried and findings.

    python3 fuzz/run.py --minutes 10            # the release-check run (>= 10 minutes in total)
    python3 fuzz/run.py --minutes 1 images      # one harness only

Each child runs ``nice -n 19`` (other work on the machine keeps priority) and records the input it is
about to try under ``--record`` (default: a fresh temporary directory), so a crash (the child dies
from a signal) is reported with the input that caused it. Exit status: 0 when every target ran its
budget without a finding, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: harness file -> its targets (kept here so the runner can split the budget without importing them).
HARNESSES: dict[str, list[str]] = {
    "fuzz_images.py": ["load_image"],
    "fuzz_weights.py": ["mutate_ckpt", "mutate_h5", "mutate_mat", "mutate_pth", "mutate_safetensors",
                        "safetensors_header", "lpips_structure"],
    "fuzz_sizes.py": ["lie_pth", "lie_h5", "lie_ckpt", "lie_mat", "lie_safetensors"],
    "fuzz_engine.py": ["model_header", "model_mutated_header", "ops", "session_params", "session_calls"],
}


def _run(harness: str, target: str, seconds: float, record: Path) -> dict:
    command = ["nice", "-n", "19", sys.executable, str(HERE / harness), "--seconds", str(seconds),
               "--record", str(record), target]
    start = time.monotonic()
    try:
        child = subprocess.run(command, capture_output=True, text=True, timeout=seconds * 3 + 300)
    except subprocess.TimeoutExpired:
        return {"harness": harness, "target": target, "seconds": round(time.monotonic() - start, 1), "inputs": 0,
                "finding": f"HANG: still running {seconds * 3 + 300:.0f} s in (budget {seconds:.0f} s)"}
    summary = {"harness": harness, "target": target, "seconds": round(time.monotonic() - start, 1)}
    lines = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
    summary["inputs"] = sum(line["inputs"] for line in lines)
    if child.returncode < 0:
        last = record / f"{target}.last"
        summary["finding"] = (f"CRASH ({signal.Signals(-child.returncode).name}) on input: "
                              f"{last.read_text()[:2000] if last.exists() else '?'}")
    elif child.returncode != 0:
        summary["finding"] = "\n".join(child.stderr.strip().splitlines()[-25:])
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="total budget (default %(default)s)")
    parser.add_argument("--record", type=Path, default=None, help="where inputs are recorded")
    parser.add_argument("--json", type=Path, default=None, help="also write the summaries here")
    parser.add_argument("harnesses", nargs="*", help="e.g. images weights engine (default: all)")
    args = parser.parse_args(argv)
    chosen = {h: t for h, t in HARNESSES.items()
              if not args.harnesses or any(name in h for name in args.harnesses)}
    targets = [(h, t) for h, names in chosen.items() for t in names]
    record = args.record or Path(tempfile.mkdtemp(prefix="swiftnst-fuzz-"))
    record.mkdir(parents=True, exist_ok=True)
    per_target = args.minutes * 60 / len(targets)
    summaries = []
    for harness, target in targets:
        summary = _run(harness, target, per_target, record)
        summaries.append(summary)
        status = "ok" if "finding" not in summary else "FINDING"
        print(f"{harness:18} {target:22} {summary['inputs']:>8} inputs {summary['seconds']:>7.1f} s  {status}",
              flush=True)
        if "finding" in summary:
            print("    " + summary["finding"].replace("\n", "\n    "), flush=True)
    total = sum(s["inputs"] for s in summaries)
    findings = sum("finding" in s for s in summaries)
    crashes = sum("CRASH" in s.get("finding", "") for s in summaries)
    hangs = sum("HANG" in s.get("finding", "") for s in summaries)
    # ru_maxrss of RUSAGE_CHILDREN: the largest peak of any child (with the processes it waited for)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"total: {total} inputs in {sum(s['seconds'] for s in summaries) / 60:.1f} min, "
          f"{findings} targets with findings, {crashes} crashes, {hangs} hangs, peak RSS of a target "
          f"{peak_mb:.0f} MB; inputs recorded in {record}")
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=1))
    return 1 if findings else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
