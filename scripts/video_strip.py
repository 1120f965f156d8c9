"""Writes docs/images/video_strip.png, the README's strip of video frames: the synthetic demo clip
(``swiftnst.demo_images.render_demo_clip``) over its frames rendered by ``swiftnst.video`` with the
temporal term, in the demo style. Needs ``swiftnst[video]``, scikit-image and the cached VGG-19.

    python scripts/video_strip.py [--frames 5] [--size 128] [--iterations 100]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import swiftnst
from swiftnst import images
from swiftnst._video_io import frame_name
from swiftnst.demo_images import render_demo_clip, render_swirl_painting

STRIP = Path(__file__).resolve().parents[1] / "docs" / "images" / "video_strip.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=5, help="frames shown (default: %(default)s)")
    parser.add_argument("--size", type=int, default=128, help="width of the frames (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=100, help="L-BFGS steps per frame (default: %(default)s)")
    args = parser.parse_args()
    clip = render_demo_clip(args.frames, args.size, args.size * 3 // 4, step=args.size // 32)
    with tempfile.TemporaryDirectory(prefix="swiftnst-strip-") as temporary:
        folder = Path(temporary)
        (folder / "clip").mkdir()
        for index, frame in enumerate(clip):
            images.save_image(frame, folder / "clip" / frame_name(index))
        style = images.save_image(render_swirl_painting(256, 192), folder / "style.png")
        result = swiftnst.video(folder / "clip", str(style), folder / "out", image_size=args.size,
                                iterations=args.iterations, progress=False)
    labels = [f"input {i + 1}" for i in range(args.frames)] + [f"styled {i + 1}" for i in range(args.frames)]
    strip = images.make_grid([*clip, *result.frames], labels, columns=args.frames, cell_height=args.size * 3 // 4)
    images.save_image(strip, STRIP)
    print(STRIP)


if __name__ == "__main__":
    main()
