"""The planner's predicted peak memory against the measured one, for the whole process: the CLI runs
in a child at two sizes and its peak resident set (``VmHWM``, read by the child as it exits) is compared
with the "predicted peak memory" its ``--dry-run`` prints.

Tolerance: 15 % (issue 15). The prediction is the engine's (``nst_session_predict_peak_bytes``) plus
the process baseline and the images Python holds (``swiftnst._process_memory``); what it leaves out
(allocator slack, small buffers) is a few per cent at these sizes. Not ``ru_maxrss``: Linux carries it
across ``fork`` and ``exec`` (see ``peak_memory.py``), so a child of a large pytest reported pytest's
size, about 100 MB above the truth at 384 px in a whole-suite run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from swiftnst._quantities import parse_memory_size
from swiftnst.demo_images import write_demo_images

from .conftest import PYTHON_DIR

TOLERANCE = 0.15


def _cli(*args: object, output: Path) -> tuple[int, str, int]:
    """Run the CLI; its exit code, its stdout and stderr, and its peak resident set in bytes."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PYTHON_DIR), os.environ.get("PYTHONPATH")]))}
    peak_file = output.with_suffix(".vmhwm")
    with open(output, "w+") as log:
        child = subprocess.run([sys.executable, "-c", _CLI_REPORTING_PEAK, str(peak_file), *map(str, args)], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
        log.seek(0)
        return child.returncode, log.read(), int(peak_file.read_text()) * 1024


#: Runs ``swiftnst.cli.main`` on ``argv[2:]`` and, whatever happens, writes the process's ``VmHWM`` (KiB)
#: into the file ``argv[1]``.
_CLI_REPORTING_PEAK = """
import sys
from swiftnst.cli import main
peak_file, sys.argv[1:] = sys.argv[1], sys.argv[2:]
try:
    code = main(sys.argv[1:])
finally:
    with open("/proc/self/status") as status:
        hwm = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(peak_file, "w") as out:
        out.write(hwm)
sys.exit(code)
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    return write_demo_images(tmp_path_factory.mktemp("inputs"))


@pytest.mark.parametrize("size", [384, 768])
def test_predicted_peak_is_within_15_percent_of_the_measured(inputs, vgg19_weights_path, tmp_path, size):
    command = [*inputs, "--model", vgg19_weights_path, "-s", size, "-n", 2, "--no-progress", "-o", tmp_path / "o.png"]
    code, text, _ = _cli(*command, "--dry-run", output=tmp_path / "dry.txt")
    assert code == 0, text
    predicted = parse_memory_size(re.search(r"predicted peak memory ([0-9.]+ [GM]iB)", text)[1].replace(" ", ""))
    code, text, measured = _cli(*command, output=tmp_path / "run.txt")
    assert code == 0, text
    assert abs(predicted - measured) <= TOLERANCE * measured, (size, predicted / 2**20, measured / 2**20)
