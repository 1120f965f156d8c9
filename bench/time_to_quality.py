"""Time to quality: the default command against the reference recipe, per content/style pair.

    python bench/time_to_quality.py [--pairs tubingen+starry_night ...] [--size 512] [--threads 0]
                                    [--options JSON] [--judge-at STEPS] [--cache DIR] [--rerun-reference]
                                    [--only default|reference] [--out DIR]

For each pair (``CONTENT+STYLE``, file stems in ../shared/images) two recipes, each in its own process:

- ``default``: ``swiftnst.stylize(content, style, output=..., image_size=SIZE)``, every other option
  the default (the command a user types without ``-n``); ``--options '{"iterations": 300, "multiscale":
  false}'`` replaces it by a candidate recipe (those keyword arguments on top), labelled ``candidate``;
- ``reference``: the jcjohnson/neural-style recipe, 500 L-BFGS steps single-scale at SIZE (the options
  in :data:`REFERENCE_OPTIONS`, pinned so that a change of a default does not move the reference).

Wall time runs from the call to the saved file (weights load and image preparation included); the
process's peak RSS is printed on stderr. Both results are judged at SIZE by ``bench/look.py`` (style and
content distance, scale-free) and the default's ratios to the reference's are printed as a markdown table
with the issue's verdict (issue 19: product of the two ratios <= 1.0 and style ratio <= 1.5).
``--judge-at 60,100,200`` also judges the default (or candidate) at those steps of its run, with the
clock stopped while it judges, and prints a second table: quality along the run against its wall time
(the current iterate; the saved result is the best image so far, ``keep_best``, which the first table judges).

A reference run takes 10-20 minutes at 512 px, so its result image, its wall time, the command and the
commit it ran at are cached in ``--cache`` (default ~/.cache/swiftnst/bench/reference, outside the
repository) and reused while the pair, size and recipe are the same; the table marks such rows
"(cached)" and ``--rerun-reference`` runs them again. Time the default on an idle machine; the
distances do not depend on the load.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from look import Look

BENCH = Path(__file__).resolve().parent
SHARED_IMAGES = BENCH.parents[1] / "shared" / "images"
DEFAULT_PAIRS = ("tubingen+starry_night", "tubingen+the_scream", "seated-nude+starry_night")
DEFAULT_CACHE = Path("~/.cache/swiftnst/bench/reference").expanduser()

#: The reference recipe (jcjohnson/neural-style's L-BFGS: 100 pairs, every move taken whole, from the
#: content image, 500 steps at one scale), pinned to the values swiftnst's defaults had when issue 19
#: set the target; every other option is the default.
REFERENCE_OPTIONS = dict(iterations=500, multiscale=False, optimizer="lbfgs", lbfgs_history=100,
                         lbfgs_line_search="none", init="content", tolerance=0.0)

#: The issue's verdict: the product of the style and content ratios to the reference at most this, and
#: the style ratio at most :data:`MAX_STYLE_RATIO`.
MAX_PRODUCT, MAX_STYLE_RATIO = 1.0, 1.5


def pair_paths(pair: str) -> tuple[Path, Path]:
    """(content, style) of ``CONTENT+STYLE`` in ../shared/images (a .jpg of each stem)."""
    content, plus, style = pair.partition("+")
    if not plus:
        raise SystemExit(f"a pair is CONTENT+STYLE (file stems in {SHARED_IMAGES}), got {pair!r}")
    paths = SHARED_IMAGES / f"{content}.jpg", SHARED_IMAGES / f"{style}.jpg"
    for path in paths:
        if not path.is_file():
            raise SystemExit(f"image {path} of pair {pair!r} not found")
    return paths


def recipe_options(recipe: str, size: int, threads: int, overrides: dict | None = None) -> dict:
    """The ``stylize`` keyword arguments of ``recipe`` at ``size`` px (``overrides`` on top of the default's)."""
    options = dict(image_size=size, progress=False, threads=threads)
    return {**options, **REFERENCE_OPTIONS} if recipe == "reference" else {**options, **(overrides or {})}


def render(content: str, style: str, output: str, options: dict, judge_at: list[int]) -> dict:
    """One timed ``stylize`` (called in a child process): wall time, steps and evaluations over all scales,
    and the distances at the steps ``judge_at`` (``bench/look.py`` at the run's size, against the cached
    reference's image when there is one) with the wall time so far, judging excluded."""
    import swiftnst
    from swiftnst import images

    meter = None
    if judge_at:
        from look import LookMeter
        meter = LookMeter(swiftnst.Model(), images.load_image(content), images.load_image(style), options["image_size"])
    finished = 0        # the evaluations of the scales before the current one
    session = [0, 0]    # the current scale's (steps, evaluations)
    steps = 0
    judging = 0.0       # seconds spent judging, not counted as the run's
    along: list[dict] = []

    def count(iteration: int, losses: object, image_fn: object) -> None:
        nonlocal finished, steps, judging
        if losses.iteration <= session[0]:  # a new scale's session counts from 1 again
            finished += session[1]
        session[:] = losses.iteration, losses.evaluations
        steps = iteration
        if meter is not None and iteration in judge_at:
            paused = time.perf_counter()
            look = meter(image_fn())
            along.append(dict(step=iteration, wall_seconds=round(paused - started - judging, 1),
                              side=max(image_fn.shape), style=look.style, content=look.content))
            judging += time.perf_counter() - paused

    started = time.perf_counter()
    swiftnst.stylize(content, style, output=output, callback=count, **options)
    wall = time.perf_counter() - started - judging
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(wall_seconds=round(wall, 1), steps=steps, evaluations=finished + session[1], peak_rss_mb=round(peak),
                along=along)


def run_child(content: Path, style: Path, output: Path, options: dict, judge_at: list[int] | None = None) -> dict:
    """:func:`render` in a fresh Python process (its own weights load and memory)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import time_to_quality as t; "
            "print(json.dumps(t.render(sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]), "
            "json.loads(sys.argv[6]))))")
    done = subprocess.run([sys.executable, "-c", code, str(BENCH), str(content), str(style), str(output),
                           json.dumps(options), json.dumps(judge_at or [])], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def commit() -> str:
    """The repository's commit, with ``+changes`` when the work tree differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(BENCH), *args], capture_output=True, text=True).stdout.strip()
    return git("rev-parse", "--short", "HEAD") + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def reference(pair: str, content: Path, style: Path, size: int, threads: int, cache: Path, rerun: bool) -> tuple[Path, dict, bool]:
    """The reference result of ``pair``: (image, record, whether it came from the cache). The cache holds
    ``result.png`` and ``record.json`` (wall time, steps, evaluations, options, inputs' digests, command,
    commit, date, load average) per pair and size; a record of other options or inputs is not reused."""
    folder = cache / f"{pair}_{size}"
    image, record_file = folder / "result.png", folder / "record.json"
    options = recipe_options("reference", size, threads)
    inputs = dict(content=file_digest(content), style=file_digest(style))
    if not rerun and image.is_file() and record_file.is_file():
        record = json.loads(record_file.read_text())
        if record.get("inputs") == inputs and {k: record["options"].get(k) for k in REFERENCE_OPTIONS} == REFERENCE_OPTIONS \
                and record["options"].get("image_size") == size:
            return image, record, True
    folder.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    record = run_child(content, style, image, options)
    record.update(options=options, inputs=inputs, commit=commit(), command=f"swiftnst.stylize({content.name!r}, "
                  f"{style.name!r}, {', '.join(f'{k}={v!r}' for k, v in options.items())})",
                  date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  load_average=[round(a, 2) for a in (*load_before, *os.getloadavg())])
    temporary = record_file.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=1))
    temporary.replace(record_file)  # atomic: a record always belongs to the image beside it
    return image, record, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", nargs="+", default=DEFAULT_PAIRS, help="CONTENT+STYLE file stems in "
                        "../shared/images (default: %(default)s)")
    parser.add_argument("--size", type=int, default=512, help="longest side of the results (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=0, help="engine threads of every run, 0: one per core "
                                                                "(default: %(default)s)")
    parser.add_argument("--options", type=json.loads, default=None, metavar="JSON",
                        help="stylize keyword arguments of a candidate recipe run instead of the default command")
    parser.add_argument("--judge-at", type=lambda text: sorted({int(step) for step in text.split(",")}), default=[],
                        metavar="STEPS", help="comma-separated steps at which to judge the default (or candidate)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="reference results (default: %(default)s)")
    parser.add_argument("--rerun-reference", action="store_true", help="run the references even when cached")
    parser.add_argument("--only", choices=("default", "reference"), help="run one recipe (the table needs both)")
    parser.add_argument("--out", type=Path, default=Path("time_to_quality"), help="the default's results "
                                                                                    "(default: %(default)s)")
    args = parser.parse_args()
    pairs = {pair: pair_paths(pair) for pair in args.pairs}
    args.out.mkdir(parents=True, exist_ok=True)
    label = "candidate" if args.options else "default"
    rows = []
    for pair, (content, style) in pairs.items():
        entry = {}
        if args.only != "default":
            entry["reference"] = reference(pair, content, style, args.size, args.threads, args.cache,
                                           args.rerun_reference)
        if args.only != "reference":
            image = args.out / f"{pair}_{args.size}_{label}.png"
            options = recipe_options("default", args.size, args.threads, args.options)
            entry[label] = image, run_child(content, style, image, options, args.judge_at), False
        rows.append((pair, content, style, entry))
        print(f"{pair}: " + ", ".join(f"{recipe} {record['wall_seconds']} s, peak RSS {record.get('peak_rss_mb')} MB"
                                      for recipe, (_, record, _) in entry.items()), file=sys.stderr)
    if args.options:
        print(f"candidate: stylize(..., {', '.join(f'{k}={v!r}' for k, v in args.options.items())})")
    print_table(rows, args.size)


def verdict(look: Look, reference: Look) -> list[str]:
    """The ratio, product and verdict cells of ``look`` against the reference's."""
    style_ratio, content_ratio = look.ratios(reference)
    product = style_ratio * content_ratio
    passed = product <= MAX_PRODUCT and style_ratio <= MAX_STYLE_RATIO
    return [f"{style_ratio:.3f}", f"{content_ratio:.3f}", f"{product:.3f}", "**pass**" if passed else "**fail**"]


def print_table(rows: list, size: int) -> None:
    """The markdown tables: per pair the reference, then the default (or candidate) with its ratios and
    verdict; then, for runs judged along the way, those steps' distances and ratios."""
    from look import Look, LookMeter

    import swiftnst
    from swiftnst import images

    print("| pair | recipe | wall s | steps / evaluations | style distance | content distance "
          "| style ratio | content ratio | product | verdict |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    along = []
    with swiftnst.Model() as model:
        for pair, content, style, entry in rows:
            meter = LookMeter(model, images.load_image(content), images.load_image(style), size)
            looks = {recipe: meter(images.load_image(image)) for recipe, (image, _, _) in entry.items()}
            reference = looks.get("reference")
            for recipe, (image, record, cached) in entry.items():
                look = looks[recipe]
                cells = verdict(look, reference) if recipe != "reference" and reference else ["", "", "", ""]
                wall = f"{record['wall_seconds']:.1f}" + (" (cached)" if cached else "")
                print(f"| {pair} | {recipe} | {wall} | {record['steps']} / {record['evaluations']} | {look.style:.4f} "
                      f"| {look.content:.4f} | {' | '.join(cells)} |")
                along += [(pair, point, reference) for point in record.get("along", [])]
    if along:
        print("\n| pair | step | side px | wall s | style distance | content distance | style ratio | content ratio "
              "| product | verdict |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for pair, point, reference in along:
            look = Look(style=point["style"], content=point["content"])
            cells = verdict(look, reference) if reference else ["", "", "", ""]
            print(f"| {pair} | {point['step']} | {point['side']} | {point['wall_seconds']:.1f} | {look.style:.4f} "
                  f"| {look.content:.4f} | {' | '.join(cells)} |")


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    main()
