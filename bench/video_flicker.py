"""Frame-to-frame flicker of ``swiftnst video`` with and without the temporal-consistency term.

    python bench/video_flicker.py [--frames 8] [--size 96] [--iterations 100] [--temporal-weights 1000,100000]

Makes a short synthetic clip (``swiftnst.demo_images.render_demo_clip``: the demo photo panning, a ball
crossing the other way) and renders it three ways: each frame on its own (``chunk_frames=1``: started from
its content, no flow), each frame started from the previous result warped by optical flow (temporal weight
0), and the same with the temporal term at each weight given (the default's, 1000, and a larger one). Flicker is the mean absolute difference of consecutive frames of
the result over that of the input clip (1: the result changes as much as the input does). Since the clip
moves, part of that is motion; the warped error (mean absolute difference between each frame and the
previous result warped to it, on the pixels the flow trusts) isolates the flicker. Needs ``swiftnst[video]``
and scikit-image. Prints one Markdown row per way.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import swiftnst
from swiftnst import images
from swiftnst._flow import frame_guide, pair_flow
from swiftnst._video_io import frame_name
from swiftnst.demo_images import render_demo_clip, render_swirl_painting


def temporal_difference(frames: list[np.ndarray]) -> float:
    """Mean absolute difference of consecutive frames (RGB in [0, 1])."""
    floats = [images.to_float(frame) for frame in frames]
    return float(np.mean([np.abs(b - a).mean() for a, b in zip(floats, floats[1:])]))


def warped_error(clip: list[np.ndarray], result: list[np.ndarray]) -> float:
    """Mean over frames of |result_t - warp(result_t-1)| on the pixels the clip's flow trusts."""
    errors = []
    for index in range(1, len(clip)):
        guide = frame_guide(pair_flow(clip[index - 1], clip[index]), result[index - 1], 1.0)
        trusted = guide.certainty > 0
        errors.append(np.abs(images.to_float(result[index]) - guide.warped)[trusted].mean())
    return float(np.mean(errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=8, help="frames of the clip (default: %(default)s)")
    parser.add_argument("--size", type=int, default=96, help="width of the clip, 3:4 high (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=100, help="L-BFGS steps per frame (default: %(default)s)")
    parser.add_argument("--temporal-weights", default=f"{swiftnst.videos.DEFAULT_TEMPORAL_WEIGHT:g},100000",
                        help="comma-separated weights of the temporal term (default: %(default)s)")
    args = parser.parse_args()

    clip = render_demo_clip(args.frames, args.size, args.size * 3 // 4)
    input_flicker = temporal_difference(clip)
    ways = [("each frame alone", dict(chunk_frames=1, temporal_weight=0.0)),
            ("warped previous result as start", dict(temporal_weight=0.0)),
            *((f"+ temporal term, weight {float(w):g}", dict(temporal_weight=float(w)))
              for w in args.temporal_weights.split(","))]
    with tempfile.TemporaryDirectory(prefix="swiftnst-video-bench-") as temporary:
        folder = Path(temporary)
        (folder / "clip").mkdir()
        for index, frame in enumerate(clip):
            images.save_image(frame, folder / "clip" / frame_name(index))
        style = str(images.save_image(render_swirl_painting(args.size, args.size), folder / "style.png"))
        for name, settings in ways:
            start = time.perf_counter()
            result = swiftnst.video(folder / "clip", style, folder / name.replace(" ", "_"), image_size=args.size,
                                    iterations=args.iterations, progress=False, **settings)
            seconds = time.perf_counter() - start
            frames = list(result.frames)
            print(f"| {name} | {args.frames} frames, {args.size} px, {args.iterations} steps | flicker "
                  f"{temporal_difference(frames) / input_flicker:.2f} | warped error {warped_error(clip, frames):.4f} | "
                  f"{seconds:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
