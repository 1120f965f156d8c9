"""What the dynamic loader will look for when it loads a shared library: its ``NEEDED`` libraries and
its ``RPATH``/``RUNPATH`` directories, read with ``readelf -d`` (binutils, which the Swift toolchain
needs too)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

#: Libraries that only a Swift toolchain (or a Swift runtime installed on its own) provides.
SWIFT_RUNTIME_LIBRARY = re.compile(r"^lib(swift|Foundation|_Foundation|CoreFoundation|dispatch|BlocksRuntime|icu)")


def dynamic_entries(library: Path) -> dict[str, list[str]]:
    """``{"NEEDED": [...], "RPATH": [...], "RUNPATH": [...]}`` of ``library`` (search paths split at ':')."""
    output = subprocess.run(["readelf", "-d", str(library)], check=True, capture_output=True, text=True).stdout
    entries: dict[str, list[str]] = {"NEEDED": [], "RPATH": [], "RUNPATH": []}
    for kind, value in re.findall(r"\((NEEDED|RPATH|RUNPATH)\)\s+[^\[]*\[([^\]]*)\]", output):
        entries[kind] += value.split(":") if kind != "NEEDED" else [value]
    return entries


def toolchain_dependencies(library: Path) -> list[str]:
    """What in ``library``'s dynamic section ties it to a Swift toolchain: Swift runtime libraries it
    needs, and search paths other than its own directory's (``$ORIGIN``-relative ones)."""
    entries = dynamic_entries(library)
    needed = [name for name in entries["NEEDED"] if SWIFT_RUNTIME_LIBRARY.match(name)]
    paths = [path for path in entries["RPATH"] + entries["RUNPATH"] if not path.startswith("$ORIGIN")]
    return needed + paths
