"""The tutorial notebooks and the live preview.

- Committed notebooks are clean: valid nbformat, no outputs, a ``parameters`` cell with the
  documented switches, and only public ``swiftnst`` names imported.
- Every notebook runs top to bottom in a real ipykernel kernel (nbclient) at a tiny size
  (``SWIFTNST_NOTEBOOK_FAST=1``) and draws its figures; any cell error fails the test.
- Executed notebooks stay small: the progress of a run is one output replaced in place (no text
  on stderr per redraw, no widget), so a saved notebook holds figures and a few printed lines.
- :class:`swiftnst.notebook.LivePreview` updates one output in place, and interrupting the kernel
  mid-run keeps the best image.

The execution tests skip when nbclient/ipykernel are missing or the VGG-19 weights are not cached.
"""

from __future__ import annotations

import os
import queue
import re
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
# Every figure a notebook draws, at least: 01 inputs, feature maps, G0, Gram matrices, style costs, Adam's
# snapshots and costs, the tutorial's J along both runs, L-BFGS's first steps, results; 02 inputs, one per
# section (two for layers, init and optimiser) and a result with its loss history; 03 inputs, style masks,
# content mask, colour controls, style losses, alpha, style size.
MIN_FIGURES = {"01_neural_style_transfer.ipynb": 10, "02_exploring_parameters.ipynb": 14,
               "03_controlling_style.ipynb": 7}
CELL_TIMEOUT = 600
# An executed notebook keeps little besides its figures: printed lines and progress outputs.
MAX_STREAM_OUTPUTS_PER_CELL = 3
MAX_STDERR_BYTES = 4 * 1024       # the whole notebook's stderr (tqdm's text bar alone wrote megabytes)
MAX_NON_FIGURE_BYTES = 64 * 1024
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _read(path: Path):
    nbformat = pytest.importorskip("nbformat")
    return nbformat.read(path, as_version=4)


def _code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@pytest.fixture()
def kernel_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment for kernels (also set on this process, which nbclient's kernels inherit):
    this checkout's ``python/`` first on the path, and the notebooks' fast mode on."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("SWIFTNST_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO / "python"),
                                                                   os.environ.get("PYTHONPATH")])))
    return dict(os.environ)


def test_the_tutorial_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == sorted(MIN_FIGURES)


# MARK: - Committed form


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path: Path):
    nbformat = pytest.importorskip("nbformat")
    nb = _read(path)
    nbformat.validate(nb)
    for index, cell in enumerate(_code_cells(nb)):
        assert cell.outputs == [], f"{path.name}: code cell {index} has outputs (clear them before committing)"
        assert cell.execution_count is None, f"{path.name}: code cell {index} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_a_parameters_cell_with_the_documented_switches(path: Path):
    tagged = [cell for cell in _code_cells(_read(path)) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected exactly one cell tagged 'parameters'"
    source = tagged[0].source
    for assignment in ("CONTENT_PATH = None", "STYLE_PATH = None", "IMAGE_SIZE = ", "ITERATIONS = "):
        assert assignment in source, f"{path.name}: the parameters cell lacks '{assignment}'"
    assert 'os.environ.get("SWIFTNST_NOTEBOOK_FAST") == "1"' in source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_only_the_public_api(path: Path):
    private = re.compile(r"swiftnst(\.\w+)*\._\w|from swiftnst(\.\w+)* import[^\n]*\b_\w")
    for cell in _code_cells(_read(path)):
        match = private.search(cell.source)
        assert match is None, f"{path.name} uses a private swiftnst name: {match.group(0)!r}"


# MARK: - Execution


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_top_to_bottom(path: Path, tmp_path: Path, vgg19_weights_path: Path, kernel_env):
    from nbclient import NotebookClient

    nb = _read(path)
    # Any cell error raises CellExecutionError here, naming the cell and the traceback.
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    outputs = [output for cell in _code_cells(nb) for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= MIN_FIGURES[path.name], (
        f"{path.name} drew {len(figures)} figures, expected at least {MIN_FIGURES[path.name]}")
    stderr = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stderr")
    assert "Traceback" not in stderr and "IProgress" not in stderr
    _assert_saved_small(nb)


def _assert_saved_small(nb) -> None:
    """The executed notebook ``nb`` holds no flood of outputs: a few stream outputs per cell, little on
    stderr, no widgets, and outputs other than figures small."""
    nbformat = pytest.importorskip("nbformat")
    for index, cell in enumerate(_code_cells(nb)):
        streams = [o for o in cell.outputs if o.output_type == "stream"]
        assert len(streams) <= MAX_STREAM_OUTPUTS_PER_CELL, f"code cell {index}: {len(streams)} stream outputs"
        assert not [o for o in cell.outputs if WIDGET_VIEW in o.get("data", {})], f"code cell {index}: a widget"
    stderr = sum(len(o.text) for cell in _code_cells(nb) for o in cell.outputs
                 if o.output_type == "stream" and o.name == "stderr")
    assert stderr <= MAX_STDERR_BYTES, f"{stderr} characters on stderr"
    assert "widgets" not in nb.metadata
    figures = sum(len(o.data["image/png"]) for cell in _code_cells(nb) for o in cell.outputs
                  if "image/png" in o.get("data", {}))
    rest = len(nbformat.writes(nb)) - figures - sum(len(cell.source) for cell in nb.cells)
    assert rest <= MAX_NON_FIGURE_BYTES, f"{rest} bytes of outputs other than figures"


# MARK: - Progress in a kernel

_LONG_RUNS = """
import numpy as np
import swiftnst

y, x = np.mgrid[0:48, 0:64] / 64.0
content = np.stack([x, y, 0.5 * (x + y)], axis=2).astype(np.float32)
style = np.stack([np.sin(20 * x) ** 2, np.cos(15 * y) ** 2, x * y], axis=2).astype(np.float32)
model = swiftnst.Model()
for seconds in (4, 4):   # longer than the bar's two-second delay
    swiftnst.stylize(content, style, model=model, image_size=64, iterations=100000, time_limit=seconds)
"""
# Usually shorter than the delay, so without a bar; on a loaded machine it may take longer and show one.
_SHORT_RUN = "short = swiftnst.stylize(content, style, model=model, image_size=64, iterations=2)"


def test_each_run_in_a_notebook_shows_one_progress_output_replaced_in_place(vgg19_weights_path, kernel_env,
                                                                              tmp_path: Path):
    from nbclient import NotebookClient

    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in (_LONG_RUNS, _SHORT_RUN)])
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    long_runs, short_run = nb.cells[0].outputs, nb.cells[1].outputs
    assert [o.output_type for o in long_runs] == ["display_data", "display_data"], long_runs   # nothing on stderr
    assert [o.output_type for o in short_run] in ([], ["display_data"]), short_run
    for output in long_runs + short_run:
        assert set(output.data) == {"text/plain", "text/html"}
        assert output.data["text/plain"].startswith("100%|")            # the final state, not the first
        assert "<progress" in output.data["text/html"] and "scale 1/1, iteration " in output.data["text/html"]
    _assert_saved_small(nb)
    assert len(nbformat.writes(nb)) < 8 * 1024


# MARK: - Live preview, outside a kernel


def _losses(iteration: int):
    from swiftnst.session import Losses

    return Losses(total=100.0 / iteration, content=1.0, style=2.0, tv=3.0, iteration=iteration, evaluations=iteration)


@pytest.mark.parametrize("arguments", [{"every": 0}, {"every": 1.5}, {"min_interval": -1.0},
                                       {"min_interval": float("nan")}, {"width": 0}, {"width": True}])
def test_live_preview_rejects_bad_settings(arguments):
    from swiftnst.notebook import LivePreview

    with pytest.raises(ValueError):
        LivePreview(**arguments)


def test_live_preview_records_every_step_but_renders_only_due_ones(capsys: pytest.CaptureFixture[str]):
    import numpy as np
    from swiftnst._current_image import CurrentImage
    from swiftnst.notebook import LivePreview

    preview = LivePreview(every=3, min_interval=0)
    rendered = []

    def render():
        rendered.append(len(preview.history))
        return np.full((4, 5, 3), 0.5, dtype=np.float32)

    for iteration in range(1, 10):
        preview(iteration, _losses(iteration), CurrentImage(render, (4, 5)))
    assert [record.iteration for record in preview.history] == list(range(1, 10))
    assert [record.total for record in preview.history] == [100.0 / i for i in range(1, 10)]
    assert rendered == [3, 6, 9]
    assert preview.image.dtype == np.uint8 and preview.image.shape == (4, 5, 3) and preview.image.max() == 128
    # Outside IPython the status line is printed instead of drawn.
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[-1].startswith("iteration 9: loss 11.11 (content 1, style 2, tv 3)")


def test_live_preview_throttles_redraws_by_time():
    import numpy as np
    from swiftnst._current_image import CurrentImage
    from swiftnst.notebook import LivePreview

    preview = LivePreview(every=1, min_interval=3600)
    calls = []
    for iteration in range(1, 6):
        preview(iteration, _losses(iteration),
                CurrentImage(lambda: calls.append(iteration) or np.zeros((2, 2, 3), np.uint8), (2, 2)))
    assert calls == [1] and len(preview.history) == 5


# MARK: - Live preview in a real kernel

_PREVIEW_RUN = """
import numpy as np
from swiftnst.notebook import LivePreview

y, x = np.mgrid[0:48, 0:64] / 64.0
content = np.stack([x, y, 0.5 * (x + y)], axis=2).astype(np.float32)
style = np.stack([np.sin(20 * x) ** 2, np.cos(15 * y) ** 2, x * y], axis=2).astype(np.float32)
preview = LivePreview(every=1, min_interval=0)
result = preview.run(content, style, image_size=64, iterations=100000)
"""


def _iopub_until(client, predicate, timeout: float) -> list[dict]:
    """Collect iopub messages until ``predicate(messages)`` holds; fail on a kernel error or after
    ``timeout`` seconds."""
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    while not predicate(messages):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"kernel did not produce the expected messages in {timeout} s; got "
                        f"{[m['msg_type'] for m in messages][-20:]}")
        try:
            message = client.get_iopub_msg(timeout=min(remaining, 5))
        except queue.Empty:
            continue
        if message["msg_type"] == "error":
            pytest.fail("the kernel raised:\n" + "\n".join(message["content"]["traceback"]))
        messages.append(message)
    return messages


def _shell_reply(client, parent_id: str, timeout: float) -> dict:
    """The shell reply to request ``parent_id``. Replies to other requests are skipped: while a kernel
    starts, ``wait_for_ready`` may send kernel_info requests more than once and leave a late reply queued."""
    deadline = time.monotonic() + timeout
    while True:
        reply = client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == parent_id:
            return reply
        assert reply["msg_type"] == "kernel_info_reply", f"unexpected shell reply {reply['msg_type']}"


def _status_idle(parent_id: str):
    return lambda messages: any(m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                                and m["parent_header"].get("msg_id") == parent_id for m in messages)


def test_live_preview_updates_in_place_and_an_interrupt_keeps_the_best_image(vgg19_weights_path: Path,
                                                                             kernel_env, tmp_path: Path):
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", env=kernel_env, cwd=str(tmp_path))
    try:
        run_id = client.execute(_PREVIEW_RUN)
        # Wait until the run has drawn a few steps, so there is something to keep.
        updates = lambda ms: [m for m in ms if m["msg_type"] == "update_display_data"]
        messages = _iopub_until(client, lambda ms: len(updates(ms)) >= 3, timeout=120)
        manager.interrupt_kernel()
        messages += _iopub_until(client, _status_idle(run_id), timeout=60)
        reply = _shell_reply(client, run_id, timeout=10)
        assert reply["content"]["status"] == "ok", reply["content"]   # the interrupt did not escape run()

        shown = [m for m in messages if m["msg_type"] == "display_data"]
        assert len(shown) == 1, "the preview must create exactly one output"
        display_id = shown[0]["content"]["transient"]["display_id"]
        assert all(m["content"]["transient"]["display_id"] == display_id for m in updates(messages))
        last_frame = updates(messages)[-1]["content"]["data"]["text/html"]
        assert "interrupted after" in last_frame and "data:image/png;base64," in last_frame

        check_id = client.execute("print(preview.interrupted, result.shape, result.dtype, "
                                  "bool((result == preview.image).all()), len(preview.history))")
        output = _iopub_until(client, _status_idle(check_id), timeout=30)
        text = "".join(m["content"]["text"] for m in output if m["msg_type"] == "stream")
        interrupted, height, width, dtype, same, steps = re.fullmatch(
            r"(\w+) \((\d+), (\d+), 3\) (\w+) (\w+) (\d+)\n", text).groups()
        assert (interrupted, height, width, dtype, same) == ("True", "48", "64", "uint8", "True")
        assert 3 <= int(steps) < 100000
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
