"""Images for the demo that exist on a fresh machine: a content photo and a style painting.

- Content: scikit-image's bundled ``chelsea`` cat photo (300 x 451), read from the installed
  ``scikit-image`` package, no download.
- Style: :func:`render_swirl_painting` draws a Van-Gogh-like night sky (swirling brush strokes
  around a few vortices, glowing stars, a dark cypress) with Pillow. It is deterministic: the same
  size and seed always give the same pixels, so the demo's output is reproducible.

Run ``python -m swiftnst.demo_images DIR`` to write ``DIR/chelsea.png`` and ``DIR/swirls.png``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .images import resize, save_image

__all__ = ["load_demo_content", "render_demo_clip", "render_swirl_painting", "write_demo_images"]


def load_demo_content() -> np.ndarray:
    """Return scikit-image's ``chelsea`` cat photo as an RGB uint8 array (300, 451, 3).

    Raises:
        ImportError: scikit-image is not installed (``pip install scikit-image``).
    """
    try:
        from skimage import data
    except ImportError as exc:
        raise ImportError("the demo content image comes from scikit-image: pip install scikit-image") from exc
    return np.ascontiguousarray(data.chelsea(), dtype=np.uint8)


# Brush colours, roughly The Starry Night: deep and bright blues for the sky, pale blue-white
# highlights, yellows for stars and the moon's glow.
_SKY = [(16, 38, 96), (28, 64, 140), (45, 95, 170), (70, 130, 190), (115, 160, 205), (170, 200, 220)]
_GLOW = [(235, 205, 80), (250, 230, 120), (245, 245, 200), (215, 170, 60)]
_CYPRESS = [(20, 30, 20), (35, 45, 25), (60, 55, 30), (15, 20, 35)]


def render_swirl_painting(width: int = 512, height: int = 384, seed: int = 1889) -> np.ndarray:
    """Draw a swirling brush-stroke night sky, deterministic for a given size and seed.

    Thousands of short strokes follow a flow field made of a few vortices plus a horizontal
    drift, so the texture has the long curved strokes and strong local orientation that
    make Gram-matrix style transfer visibly "painterly". Strokes near a star take its glow colour.

    Returns:
        RGB uint8 array of shape (height, width, 3).
    """
    if width < 16 or height < 16:
        raise ValueError(f"the painting needs at least 16 x 16 pixels, got {width} x {height}")
    rng = np.random.default_rng(seed)
    scale = min(width, height) / 384
    canvas = Image.new("RGB", (width, height), _SKY[0])
    draw = ImageDraw.Draw(canvas)

    # Vortex centres (x, y, strength, radius) in relative coordinates; the big one is the
    # painting's central swirl.
    vortices = [(0.45, 0.35, 1.0, 0.22), (0.72, 0.22, -0.7, 0.15), (0.2, 0.2, 0.6, 0.14),
                (0.62, 0.55, 0.5, 0.18)]
    stars = [(0.12, 0.12, 0.05), (0.85, 0.12, 0.08), (0.35, 0.1, 0.04), (0.9, 0.45, 0.04), (0.58, 0.3, 0.035)]

    def flow(x: float, y: float) -> tuple[float, float]:
        u, v = 1.0, 0.15 * math.sin(6.0 * x + 3.0 * y)   # left-to-right drift with ripples
        for cx, cy, strength, radius in vortices:
            dx, dy = x - cx, (y - cy) * height / width
            falloff = strength * math.exp(-(dx * dx + dy * dy) / (radius * radius))
            u, v = u - dy * falloff * 12.0, v + dx * falloff * 12.0
        norm = math.hypot(u, v) or 1.0
        return u / norm, v / norm

    n_strokes = int(5200 * (width * height) / (512 * 384))
    for _ in range(n_strokes):
        x, y = rng.random(), rng.random()
        star_light = max(max(0.0, 1.0 - math.hypot(x - sx, (y - sy) * height / width) / (3 * r))
                         for sx, sy, r in stars)
        if rng.random() < star_light:
            colour = _GLOW[rng.integers(len(_GLOW))]
        else:
            # Lighter blues higher up and on the vortex rims, darker towards the horizon.
            shade = int(np.clip(rng.normal(3.2 - 2.0 * y, 1.1), 0, len(_SKY) - 1))
            colour = _SKY[shade]
        points = [(x * width, y * height)]
        step = (3.0 + 3.0 * rng.random()) * scale / max(width, height)
        for _ in range(int(rng.integers(4, 12))):
            u, v = flow(x, y)
            x, y = x + u * step, y + v * step * width / height
            points.append((x * width, y * height))
        draw.line(points, fill=colour, width=max(1, round((2 + 3 * rng.random()) * scale)), joint="curve")

    for sx, sy, r in stars:
        centre = (sx * width, sy * height)
        for ring in range(6, 0, -1):
            radius = r * min(width, height) * ring / 3
            colour = _GLOW[ring % len(_GLOW)] if ring > 1 else (255, 252, 230)
            draw.ellipse([centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius],
                         outline=colour, width=max(1, round(2 * scale)))

    # A cypress: a tall dark flame of vertical wavy strokes on the left.
    base_x, top_y = 0.16 * width, 0.18 * height
    for _ in range(int(700 * scale * scale)):
        t = rng.random()                                   # 0 at the tip, 1 at the ground
        half_width = (0.02 + 0.09 * t ** 0.8) * width
        x0 = base_x + rng.uniform(-half_width, half_width)
        y0 = top_y + t * (height - top_y)
        sway = rng.uniform(-4, 4) * scale
        draw.line([(x0, y0), (x0 + sway, y0 - 10 * scale), (x0 - sway, y0 - 20 * scale)],
                  fill=_CYPRESS[rng.integers(len(_CYPRESS))], width=max(1, round(3 * scale)), joint="curve")

    # A touch of blur merges stroke edges like wet paint without losing the stroke structure.
    return np.asarray(canvas.filter(ImageFilter.GaussianBlur(0.6 * scale)))


def render_demo_clip(frame_count: int = 6, width: int = 64, height: int = 48, step: int = 2) -> list[np.ndarray]:
    """A short synthetic clip (RGB uint8 frames) for the video tests, benchmark and README: the demo photo
    panned by ``step`` px a frame (the camera moving right) while a shaded ball crosses the other way at
    twice that speed, so every pixel moves and the ball uncovers background the previous frame did not show.

    Raises:
        ImportError: scikit-image is not installed (see :func:`load_demo_content`).
    """
    photo = load_demo_content()
    travel = width + step * (frame_count - 1)
    scale = max(travel / photo.shape[1], height / photo.shape[0])
    photo = resize(photo, math.ceil(photo.shape[0] * scale), math.ceil(photo.shape[1] * scale))
    top = (photo.shape[0] - height) // 2
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    radius = height / 5
    frames = []
    for index in range(frame_count):
        frame = photo[top:top + height, index * step:index * step + width].astype(np.float32)
        centre_x, centre_y = width * 0.75 - 2 * step * index, height / 2
        distance = np.hypot(columns - centre_x, rows - centre_y) / radius
        inside = distance < 1
        shade = (1 - 0.6 * distance[inside])[:, None]  # brightest at the centre
        frame[inside] = shade * np.array([250, 140, 40], dtype=np.float32)
        frames.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
    return frames


def write_demo_images(directory: str | Path) -> tuple[Path, Path]:
    """Write ``chelsea.png`` (content) and ``swirls.png`` (style) into ``directory`` (created if
    needed) and return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    content = save_image(load_demo_content(), directory / "chelsea.png")
    style = save_image(render_swirl_painting(), directory / "swirls.png")
    return content, style


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m swiftnst.demo_images",
                                     description="Write the demo content (chelsea.png) and style (swirls.png) images.")
    parser.add_argument("directory", help="where to write the two images (created if missing)")
    for path in write_demo_images(parser.parse_args(argv).directory):
        print(path)


if __name__ == "__main__":
    main()
