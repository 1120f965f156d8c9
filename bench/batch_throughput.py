"""Images per hour of ``swiftnst.batch`` on a local Dask cluster of 1 and of 2 worker processes.

    python bench/batch_throughput.py [--size 512] [--images 4] [--iterations 500] [--workers 1,2]

Needs ``swiftnst[distributed]`` and an idle machine. For each worker count the same batch (``--images``
contents, one style, the default options at ``--size`` px) renders into a fresh directory; the wall
time includes starting the cluster and each worker's loading of the weights, as a user would see it.
Each of N workers gets cores // N engine threads (``swiftnst batch --workers N``). The contents are
distinct images of one size (the content image shifted), so a worker reuses its sessions' style targets
from one item to the next, as in a photo album of one camera. Images: ../shared/images/{tubingen,
starry_night}.jpg when present, else the demo images bundled with swiftnst. Prints one Markdown row
per worker count.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import swiftnst
from swiftnst import images
from swiftnst._batch_dask import available_cores, threads_per_worker
from swiftnst.demo_images import load_demo_content, render_swirl_painting

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"


def write_inputs(folder: Path, count: int) -> tuple[list[str], str, str]:
    """``count`` content images (the content shifted by a few pixels each) and the style, as PNG files."""
    content_path, style_path = SHARED_IMAGES / "tubingen.jpg", SHARED_IMAGES / "starry_night.jpg"
    if content_path.is_file() and style_path.is_file():
        content, style = images.load_image(content_path), images.load_image(style_path)
        names = f"{content_path.name} (shifted) + {style_path.name}"
    else:
        content, style = load_demo_content(), render_swirl_painting()
        names = "swiftnst's demo images"
    contents = [str(images.save_image(np.ascontiguousarray(np.roll(content, 7 * i, axis=1)), folder / f"content{i}.png"))
                for i in range(count)]
    return contents, str(images.save_image(style, folder / "style.png")), names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, help="longest side of each result (default: %(default)s)")
    parser.add_argument("--images", type=int, default=4, help="content images in the batch (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=500, help="L-BFGS steps per image (default: %(default)s)")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default: %(default)s)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="swiftnst-batch-bench-") as temporary:
        folder = Path(temporary)
        contents, style, names = write_inputs(folder, args.images)
        for workers in (int(n) for n in args.workers.split(",")):
            start = time.perf_counter()
            result = swiftnst.batch(contents, [style], folder / f"out{workers}", workers=workers,
                                    image_size=args.size, iterations=args.iterations, progress=False)
            wall = time.perf_counter() - start
            if result.failed:
                raise SystemExit(f"{len(result.failed)} items failed: {result.failed[0][1]}")
            rendering = sum(r["seconds"] for r in result.rendered)
            print(f"| {args.size} px | {args.iterations} steps | {len(result.rendered)} images | {workers} worker(s) x "
                  f"{threads_per_worker(workers)} threads ({available_cores()} cores) | {wall:.1f} s wall | "
                  f"{3600 * len(result.rendered) / wall:.1f} images/hour | {rendering / len(result.rendered):.1f} s "
                  f"per image in a worker | {names} |", flush=True)


if __name__ == "__main__":
    main()
