"""Memory sizes and durations as people write them (``4G``, ``1500M``, ``2.5GiB``; ``90s``, ``20m``,
``1h30m``), parsed to bytes and seconds, and formatted back for messages and plans.

Memory units are binary: ``K``/``KiB`` = 1024 bytes, ``M``/``MiB`` = 1024², ``G``/``GiB`` = 1024³,
``T``/``TiB`` = 1024⁴ (as ``free -h`` and ``docker --memory`` read them); ``KB``/``MB``/``GB``/``TB``
are decimal (10³ ...), as SI writes them. A bare number is bytes. Case does not matter.
"""

from __future__ import annotations

import math
import re

__all__ = ["format_bytes", "format_seconds", "parse_duration", "parse_memory_size"]

_BINARY = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_DECIMAL = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmgt]i?b?|b)?\s*", re.IGNORECASE)
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}
_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]+)\s*([hms])", re.IGNORECASE)


def parse_memory_size(value: str | int, what: str = "memory size") -> int:
    """Bytes from an int (bytes) or a string like ``"4G"``, ``"1500M"``, ``"2.5GiB"``, ``"800MB"``.

    Raises:
        ValueError: not a size, not finite, or not positive; the message names ``what``.
    """
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number of bytes or a size like '4G', got {value!r}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (match := _SIZE.fullmatch(value)):
        unit = (match.group(2) or "").lower()
        factor = _DECIMAL.get(unit) or _BINARY[unit.removesuffix("ib").removesuffix("b")]
        number = float(match.group(1))
        size = int(number * factor) if math.isfinite(number * factor) else -1
    else:
        raise ValueError(f"{what} must be a number of bytes or a size like '4G', '1500M' or '2.5GiB', "
                         f"got {value!r}")
    if size <= 0:
        raise ValueError(f"{what} must be > 0 bytes, got {value!r}")
    return size


def parse_duration(value: str | float | int, what: str = "duration") -> float:
    """Seconds from a number (seconds) or a string like ``"90s"``, ``"20m"``, ``"1h"``, ``"1h30m"``, ``"45"``.

    Raises:
        ValueError: not a duration, not finite, or not positive; the message names ``what``.
    """
    if isinstance(value, bool):
        raise ValueError(f"{what} must be seconds or a duration like '20m', got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION_PART.findall(text)
            if not parts or _DURATION_PART.sub("", text).strip():
                raise ValueError(f"{what} must be seconds or a duration like '90s', '20m', '1h' or '1h30m', "
                                 f"got {value!r}") from None
            seconds = sum(float(number) * _SECONDS[unit.lower()] for number, unit in parts)
    else:
        raise ValueError(f"{what} must be seconds or a duration like '20m', got {value!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{what} must be > 0 seconds, got {value!r}")
    return seconds


def format_bytes(size: float, *, round_up: bool = False) -> str:
    """``2.71 GiB``, ``850 MiB``, ``12 KiB``: binary units, the way ``--max-memory`` reads them back.

    ``round_up`` rounds away from zero to the digits shown, so a minimum stated this way is enough.
    """
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= factor:
            digits = 2 if unit == "GiB" and size < 100 * factor else 0
            scaled = size / factor * 10**digits
            value = (math.ceil(scaled) if round_up else round(scaled)) / 10**digits
            return f"{value:.{digits}f} {unit}"
    return f"{math.ceil(size) if round_up else round(size)} B"


def format_seconds(seconds: float) -> str:
    """``45 s``, ``12 min 5 s``, ``1 h 3 min``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
