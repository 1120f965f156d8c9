"""The items of a batch (``swiftnst.batch``): every content x style x point of the option grid, each with
the key that says what it computes and a readable, deterministic output file name.

An item's key is the SHA-256 of a canonical JSON of what determines its result: the SHA-256 of the
content, style and weights files, the output format and every option except those that only say how the
work is done (:data:`RESOURCE_OPTIONS`). A re-run recognises a finished item by its key, whatever the
paths or the number of workers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .checkpoint import options_json
from .options import StyleTransferOptions
from .weights.cache import file_digests

__all__ = ["BatchItem", "GRID_OPTIONS", "RESOURCE_OPTIONS", "batch_items", "file_sha256", "grid_points",
           "parse_grid", "check_batch_options"]

#: Options that change how an item is computed but not its result (threads: the same result for the
#: same count, recorded in the manifest; the memory budget: the plan only shortens the L-BFGS history
#: when memory is short), or only what a run reports: left out of the item key.
RESOURCE_OPTIONS = frozenset({"threads", "max_memory", "progress", "print_every", "raise_on_interrupt"})
#: Options a batch item cannot take: one style image each (no blend), no snapshots, no checkpoints
#: (a batch resumes by items), no masks (each drawn for one content or style set); the CLI does not offer them.
_REFUSED_OPTIONS = frozenset({"style_blend_weights", "save_every", "snapshot_dir", "checkpoint", "checkpoint_every",
                              "style_masks", "content_mask"})
#: The options ``--grid`` may vary.
GRID_OPTIONS = tuple(field.name for field in dataclasses.fields(StyleTransferOptions)
                     if field.name not in RESOURCE_OPTIONS | _REFUSED_OPTIONS)

_SCALARS = (bool, int, float, str, type(None))
#: Longest part of an output name taken from an input's file name.
_NAME_PART = 40
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class BatchItem:
    """One render of a batch: a content image in the style of a style image with one grid point's options."""

    content: str
    style: str
    content_sha256: str
    style_sha256: str
    #: The grid point: ``((option, value), ...)`` in the grid's order; empty without a grid.
    grid: tuple[tuple[str, object], ...]
    options: StyleTransferOptions
    #: Hex SHA-256 of what the item computes (see the module docstring).
    key: str
    #: File name of the result in the output directory.
    output: str


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes (hex)."""
    return file_digests(path)[1]


def check_batch_options(options: StyleTransferOptions) -> None:
    """Refuse the options a batch cannot take (``ValueError`` naming them)."""
    if options.style_blend_weights is not None:
        raise ValueError("a batch renders each style image on its own: style_blend_weights does not apply")
    if options.save_every or options.checkpoint is not None:
        raise ValueError("a batch takes no snapshots (save_every) or checkpoints (checkpoint): it resumes by "
                         "items, skipping those its manifest lists as finished")
    if options.style_masks is not None or options.content_mask is not None:
        raise ValueError("a batch pairs every content with every style: style_masks and content_mask, drawn for "
                         "one content and style set, do not apply")
    if options.noise_ratio() is None:
        raise ValueError(f"a batch starts every item from its content or noise: init must be 'content', 'noise' or "
                         f"'noise:R', got the image path {options.init!r}")


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"{text!r} is not true or false")


def _converter(name: str) -> Callable[[str], object]:
    """How a ``--grid`` value of option ``name`` is read: by the option's declared type."""
    kind = next(str(field.type) for field in dataclasses.fields(StyleTransferOptions) if field.name == name)
    if kind.startswith("bool"):
        return _parse_bool
    return {"int": int, "float": float}.get(kind, str)


def parse_grid(specs: Sequence[str]) -> dict[str, tuple[object, ...]]:
    """``["style_weight=50,100", "seed=0,1"]`` (the CLI's ``--grid``; ``-`` in names read as ``_``) ->
    ``{"style_weight": (50.0, 100.0), "seed": (0, 1)}``, each value read as its option's type.

    Raises:
        ValueError: not ``NAME=V1,V2,...``, an option the grid cannot vary, a name given twice, a value
            of the wrong type.
    """
    grid: dict[str, tuple[object, ...]] = {}
    for spec in specs:
        name, equals, values = spec.partition("=")
        name = name.strip().replace("-", "_")
        texts = [text.strip() for text in values.split(",") if text.strip()]
        if not equals or not name or not texts:
            raise ValueError(f"--grid takes NAME=VALUE1,VALUE2,... (e.g. style_weight=50,100,200), got {spec!r}")
        _check_grid_name(name)
        if name in grid:
            raise ValueError(f"--grid {name} is given twice; list all its values in one --grid")
        convert = _converter(name)
        try:
            grid[name] = tuple(convert(text) for text in texts)
        except ValueError as exc:
            raise ValueError(f"--grid {name}: {exc}") from None
    return grid


def _check_grid_name(name: str) -> None:
    if name not in GRID_OPTIONS:
        raise ValueError(f"the option grid cannot vary {name!r}; it can vary: {', '.join(GRID_OPTIONS)}")


def grid_points(options: StyleTransferOptions,
                grid: Mapping[str, Sequence[Any]]) -> list[tuple[tuple[tuple[str, object], ...], StyleTransferOptions]]:
    """Every point of the cartesian product of ``grid`` (``{option: values}``), with ``options`` changed
    to its values (validated: ``ValueError`` names the point); one point, ``options``, for an empty grid."""
    names = list(grid)
    for name in names:
        _check_grid_name(name)
        if isinstance(grid[name], (str, bytes)) or not grid[name]:
            raise ValueError(f"the grid's values of {name} must be a non-empty list, got {grid[name]!r}")
    points = []
    for values in itertools.product(*(grid[name] for name in names)):
        try:
            changed = dataclasses.replace(options, **dict(zip(names, values)))
        except ValueError as exc:
            shown = ", ".join(f"{name}={value}" for name, value in zip(names, values))
            raise ValueError(f"the grid point {shown}: {exc}") from None
        # The options' own values where they are scalars (50 and "50" both 50.0), else the values given.
        point = tuple((name, getattr(changed, name) if isinstance(getattr(changed, name), _SCALARS) else value)
                      for name, value in zip(names, values))
        points.append((point, changed))
    return points


def _canonical(value: object) -> object:
    """``value`` with every number a float: ``style_weight=50`` and ``50.0`` are the same render."""
    if isinstance(value, bool) or not isinstance(value, (int, float, list, tuple, dict)):
        return value
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    return float(value)


def _item_key(content_sha256: str, style_sha256: str, model_identity: str, image_format: str,
              options: StyleTransferOptions) -> str:
    computed = {name: _canonical(value) for name, value in options_json(options).items()
                if name not in RESOURCE_OPTIONS}
    text = json.dumps({"content": content_sha256, "style": style_sha256, "model": model_identity,
                       "format": image_format, "options": computed}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _name_part(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._")[:_NAME_PART] or "image"


def _output_name(content: str, style: str, point: tuple[tuple[str, object], ...], key: str, extension: str) -> str:
    """``<content>__<style>[__<option>-<value>...]__<key prefix>.<ext>``: readable, and unique by the key."""
    parts = [_name_part(Path(content).stem), _name_part(Path(style).stem)]
    parts += [_name_part(f"{name}-{value:g}" if isinstance(value, float) else f"{name}-{value}") for name, value in point]
    return "__".join([*parts, key[:10]]) + f".{extension}"


def batch_items(contents: Sequence[str], styles: Sequence[str], points: Sequence[tuple[tuple, StyleTransferOptions]],
                model_identity: str, extension: str) -> list[BatchItem]:
    """The items in render order: grid point, then style, then content (consecutive items share a style
    and options, so a worker can reuse the style targets). Each input file is hashed once; items that
    compute the same thing (the same files given twice) are listed once."""
    digests = {path: file_sha256(path) for path in dict.fromkeys([*contents, *styles])}
    items: dict[str, BatchItem] = {}
    for point, options in points:
        for style in styles:
            for content in contents:
                key = _item_key(digests[content], digests[style], model_identity, extension, options)
                if key not in items:
                    items[key] = BatchItem(content, style, digests[content], digests[style], point, options, key,
                                           _output_name(content, style, point, key, extension))
    return list(items.values())
