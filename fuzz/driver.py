"""The loop every fuzz harness shares: run Hypothesis properties for a number of examples or a
time budget, count the inputs tried, and report one JSON line per property.

A harness module defines ``TARGETS = {name: (strategy, check)}`` and ends with
``if __name__ == "__main__": raise SystemExit(driver.main(TARGETS))``; files it writes go in
``driver.scratch_directory(name)``, which is removed when the process exits. ``check(example)``
returns normally when the code under test either succeeded or failed *cleanly* (the documented
exception type and message); anything else it raises is a finding, which Hypothesis shrinks and
prints before the harness exits with status 1. A crash (signal) ends the process; with
``--record DIR`` the input being tried is written to ``DIR/<target>.last`` first, so the runner can
show what crashed.

Usage: ``python fuzz/fuzz_images.py [--examples N | --seconds S] [--ci] [--record DIR] [TARGET ...]``
(``--ci``: derandomised, so a CI run tries the same inputs every time).
"""

from __future__ import annotations

import argparse
import atexit
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
# harnesses import swiftnst from this checkout and the test suite's file writers
for entry in (REPO / "python", REPO / "python" / "tests"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

Check = Callable[[Any], None]
Targets = Mapping[str, tuple[st.SearchStrategy, Check]]


def scratch_directory(harness: str) -> Path:
    """A fresh directory for the files a harness writes, removed with its contents at exit."""
    directory = Path(tempfile.mkdtemp(prefix=f"swiftnst-fuzz-{harness}-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def _run_target(name: str, strategy: st.SearchStrategy, check: Check, tried: list[int], *,
                examples: int | None, seconds: float | None, ci: bool, record: Path | None) -> None:
    """Run one target; ``tried[0]`` counts the inputs, and stays valid when a finding aborts the run."""

    def body(example: Any) -> None:
        tried[0] += 1
        if record is not None:
            (record / f"{name}.last").write_text(repr(example)[:100_000])
        check(example)

    # Without shrinking or the example database a round is pure generation: fast, and no files
    # appear in the working tree. Shrinking stays on so a finding is reported minimal.
    batch = examples if examples is not None else 25  # small rounds: the deadline is checked between them
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        options = settings(max_examples=batch, deadline=None, database=None, derandomize=ci,
                           suppress_health_check=list(HealthCheck),
                           phases=[Phase.explicit, Phase.generate, Phase.shrink])
        def one_round(example: Any) -> None:  # a fresh function: Hypothesis binds settings to it once
            body(example)

        given(strategy)(options(one_round))()
        if deadline is None or time.monotonic() >= deadline or ci:
            return


def main(targets: Targets, argv: list[str] | None = None) -> int:
    """Parse the command line, run the chosen targets, print ``{"target", "inputs", "seconds"}`` lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--examples", type=int, default=None, help="examples per target (default 100)")
    budget.add_argument("--seconds", type=float, default=None, help="time budget per target")
    parser.add_argument("--ci", action="store_true", help="derandomised: the same inputs on every run")
    parser.add_argument("--record", type=Path, default=None, help="write each input to DIR/<target>.last first")
    parser.add_argument("names", nargs="*", metavar="TARGET", help=f"default: all of {', '.join(targets)}")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(targets)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; known: {', '.join(targets)}")
    if args.examples is None and args.seconds is None:
        args.examples = 100
    if args.record is not None:
        args.record.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(targets):
        strategy, check = targets[name]
        start, tried = time.monotonic(), [0]
        try:
            _run_target(name, strategy, check, tried, examples=args.examples, seconds=args.seconds,
                        ci=args.ci, record=args.record)
        finally:  # reported on a finding too, so a long run's input count stays exact
            print(json.dumps({"target": name, "inputs": tried[0], "seconds": round(time.monotonic() - start, 1)}),
                  flush=True)
    return 0


# MARK: - Byte mutation shared by the file-format harnesses


def mutations(max_edits: int = 8) -> st.SearchStrategy:
    """Edits to apply to a seed file: ``(kind, position in [0, 1), byte, length)`` tuples."""
    edit = st.tuples(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "repeat"]),
                     st.floats(0, 1, exclude_max=True), st.integers(0, 255), st.integers(1, 64))
    return st.lists(edit, min_size=1, max_size=max_edits)


def mutate(seed: bytes, edits: list[tuple[str, float, int, int]]) -> bytes:
    """Apply ``edits`` (see :func:`mutations`) to ``seed``: the classic dumb-fuzzer operations,
    aimed by relative position so the same edit makes sense for any seed length."""
    data = bytearray(seed)
    for kind, where, value, length in edits:
        at = int(where * len(data)) if data else 0
        if kind == "flip" and data:
            data[at] ^= 1 << (value % 8)
        elif kind == "set" and data:
            data[at:at + 1] = bytes([value])
        elif kind == "insert":
            data[at:at] = bytes([value]) * length
        elif kind == "delete":
            del data[at:at + length]
        elif kind == "truncate":
            del data[at:]
        elif kind == "repeat":
            data[at:at] = data[at:at + length]
    return bytes(data)
