"""Checkpoint files: everything a render needs to stop and later continue with bitwise the same result
(same machine, library and threads).

A checkpoint is a zip archive holding exactly two stored (uncompressed) members:

- ``checkpoint.json``: ``format`` (``"swiftnst-checkpoint"``), ``version`` (:data:`FORMAT_VERSION`), the
  options and the render plan, where the run is (scale index, steps taken in it, steps it was given,
  steps over all scales), the seconds it ran, the noise generator's state, the scale's loss history
  (for the tolerance) and the SHA-256 of the content and style images (as loaded, so resuming with
  other inputs is refused);
- ``session.state``: the engine's state (``Session.save_state``: image, best image, optimiser state).

It is parsed, never unpickled: JSON and bytes only, every field checked (type and range) before use,
and the engine validates its state completely (``nst_session_load_state``). Written atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ._atomic import atomic_write
from ._errors import CheckpointError
from ._strategies import EvaluationStrategy
from .options import StyleTransferOptions
from .planner import RenderPlan, ScalePlan

__all__ = ["Checkpoint", "CheckpointError", "FORMAT_VERSION", "RUN_CONTROL_OPTIONS", "check_inputs",
           "input_hashes", "options_json", "read_checkpoint", "resume_options", "write_checkpoint"]

FORMAT_VERSION = 1
_FORMAT = "swiftnst-checkpoint"
_HEADER, _STATE = "checkpoint.json", "session.state"
#: A header larger than this is not one of ours (the options and plan take a few kilobytes).
_MAX_HEADER_BYTES = 1 << 20

#: Options that decide when and how a run reports or stops, not what it computes: a resumed run may
#: change them; every other option is the checkpoint's.
RUN_CONTROL_OPTIONS = frozenset({"checkpoint", "checkpoint_every", "progress", "print_every", "save_every",
                                 "snapshot_dir", "raise_on_interrupt", "time_limit"})


@dataclass(frozen=True)
class Checkpoint:
    """Where a render stood: the run's position and the engine state of its current scale."""

    options: StyleTransferOptions
    plan: RenderPlan
    scale_index: int
    scale_steps: int      # steps the scale was given (the plan's, or fewer under a time limit)
    scale_taken: int      # steps taken in the scale
    iteration: int        # steps taken over all scales
    elapsed: float        # seconds the run had taken
    rng_state: dict
    scale_losses: tuple[float, ...]  # per step of the scale: the lowest total loss so far
    inputs: dict
    session_state: bytes


def input_hashes(content: np.ndarray, styles: Sequence[np.ndarray], masks: Sequence[np.ndarray] = ()) -> dict:
    """SHA-256 of the loaded content and style images and the run's masks (shape, dtype and pixels)."""
    def digest(image: np.ndarray) -> str:
        h = hashlib.sha256(f"{image.shape}{image.dtype}".encode())
        h.update(np.ascontiguousarray(image).tobytes())
        return h.hexdigest()
    return {"content": digest(content), "styles": [digest(s) for s in styles], "masks": [digest(m) for m in masks]}


def options_json(options: StyleTransferOptions) -> dict:
    """The options as JSON values (``dataclasses.asdict``, paths as strings)."""
    values = dataclasses.asdict(options)
    if values["snapshot_dir"] is not None:
        values["snapshot_dir"] = os.fspath(values["snapshot_dir"])
    return values


def write_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` to ``path`` atomically (a reader sees the old file or the new one)."""
    header = {
        "format": _FORMAT, "version": FORMAT_VERSION,
        "options": options_json(checkpoint.options), "plan": dataclasses.asdict(checkpoint.plan),
        "scale_index": checkpoint.scale_index, "scale_steps": checkpoint.scale_steps,
        "scale_taken": checkpoint.scale_taken, "iteration": checkpoint.iteration, "elapsed": checkpoint.elapsed,
        "rng_state": checkpoint.rng_state, "scale_losses": list(checkpoint.scale_losses),
        "inputs": checkpoint.inputs,
    }
    with atomic_write(path) as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(_HEADER, json.dumps(header, indent=1, allow_nan=False))
        archive.writestr(_STATE, checkpoint.session_state)


def _field(header: dict, name: str, kind: type | tuple[type, ...], minimum: float | None = None) -> Any:
    value = header.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CheckpointError(f"checkpoint field '{name}' is missing or not a {kind}")
    if minimum is not None and value < minimum:
        raise CheckpointError(f"checkpoint field '{name}' must be >= {minimum}, got {value}")
    return value


def _plan(value: Any) -> RenderPlan:
    try:
        scales = tuple(ScalePlan(**{**scale, "strategy": EvaluationStrategy(**scale["strategy"])})
                       for scale in value["scales"])
        plan = RenderPlan(**{**value, "scales": scales, "notes": tuple(value["notes"])})
    except (TypeError, KeyError) as error:
        raise CheckpointError(f"checkpoint's render plan is malformed: {error}") from None
    if not plan.scales or not all(isinstance(s.height, int) and isinstance(s.width, int) and isinstance(s.steps, int)
                                  and s.height >= 1 and s.width >= 1 and s.steps >= 1 for s in plan.scales):
        raise CheckpointError("checkpoint's render plan has no scales or a scale with a bad size or step count")
    return plan


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read and check a checkpoint (see the module docstring); the engine state is checked when loaded.

    Raises:
        CheckpointError: not a swiftnst checkpoint, another format version, damaged or inconsistent.
        OSError: the file cannot be read.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            if set(members) != {_HEADER, _STATE} or any(i.compress_type != zipfile.ZIP_STORED for i in members.values()):
                raise CheckpointError(f"{os.fspath(path)} is not a swiftnst checkpoint (members {sorted(members)})")
            if members[_HEADER].file_size > _MAX_HEADER_BYTES:
                raise CheckpointError("checkpoint header is too large")
            header = json.loads(archive.read(_HEADER))
            state = archive.read(_STATE)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, UnicodeDecodeError, json.JSONDecodeError, EOFError) as error:
        raise CheckpointError(f"{os.fspath(path)} is not a readable swiftnst checkpoint: {error}") from None
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise CheckpointError(f"{os.fspath(path)} is not a swiftnst checkpoint")
    if header.get("version") != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint format version {header.get('version')!r}; this swiftnst reads {FORMAT_VERSION}")
    try:
        options = StyleTransferOptions(**_field(header, "options", dict))
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"checkpoint's options are invalid: {error}") from None
    plan = _plan(_field(header, "plan", dict))
    index = _field(header, "scale_index", int, 0)
    if index >= len(plan.scales):
        raise CheckpointError(f"checkpoint's scale index {index} is outside its {len(plan.scales)}-scale plan")
    steps, taken = _field(header, "scale_steps", int, 1), _field(header, "scale_taken", int, 0)
    if taken > steps:
        raise CheckpointError(f"checkpoint's scale has taken {taken} of {steps} steps")
    losses = _field(header, "scale_losses", list)
    if len(losses) != taken or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in losses):
        raise CheckpointError("checkpoint's scale loss history does not match its steps")
    inputs = _field(header, "inputs", dict)
    if not isinstance(inputs.get("content"), str) or not isinstance(inputs.get("styles"), list):
        raise CheckpointError("checkpoint's input hashes are malformed")
    return Checkpoint(options, plan, index, steps, taken, _field(header, "iteration", int, 0),
                      float(_field(header, "elapsed", (int, float), 0)), _field(header, "rng_state", dict),
                      tuple(float(x) for x in losses), inputs, state)


def resume_options(checkpoint: Checkpoint, given: StyleTransferOptions | None, overrides: dict) -> StyleTransferOptions:
    """The checkpoint's options, with the run-control ones (:data:`RUN_CONTROL_OPTIONS`) that are given
    (in ``overrides``, or in ``given`` with a value other than the default) replaced; any other option
    given must equal the checkpoint's.

    Raises:
        CheckpointError: an option that changes the result differs from the checkpoint's.
    """
    options = checkpoint.options
    requested = {f.name: getattr(given, f.name) for f in dataclasses.fields(given)} if given is not None else {}
    requested.update(overrides)
    defaults = StyleTransferOptions()
    for name, value in requested.items():
        wanted = getattr(dataclasses.replace(defaults, **{name: value}), name)  # normalised as the options do
        explicit = name in overrides or wanted != getattr(defaults, name)
        if name in RUN_CONTROL_OPTIONS:
            if explicit:
                options = dataclasses.replace(options, **{name: value})
            continue
        if wanted != getattr(options, name) and explicit:
            raise CheckpointError(f"resuming uses the checkpoint's options: {name} is {getattr(options, name)!r} "
                                  f"there, not {wanted!r}")
    return options


def check_inputs(checkpoint: Checkpoint, hashes: dict) -> None:
    """Refuse to resume with other content or style images than the checkpoint's."""
    if hashes["content"] != checkpoint.inputs.get("content"):
        raise CheckpointError("the content image differs from the one the checkpoint was made with")
    if hashes["styles"] != checkpoint.inputs.get("styles"):
        raise CheckpointError("the style images differ from the ones the checkpoint was made with")
    if hashes.get("masks", []) != checkpoint.inputs.get("masks", []):
        raise CheckpointError("the masks (style_masks, content_mask or an image's alpha) differ from the checkpoint's")
