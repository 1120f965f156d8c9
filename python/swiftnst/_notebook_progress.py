"""A run's progress bar inside a Jupyter kernel: tqdm's bar as one output, replaced in place.

On a terminal tqdm redraws one line; in a kernel that text goes to stderr, and every redraw becomes
an output of its own in a notebook saved by a non-interactive runner (nbclient, papermill: hundreds
of outputs and megabytes for a few runs). tqdm's notebook bar needs ipywidgets and saves each bar's
widget state, shown or not, while the output itself keeps its first text. Here the bar is an IPython
display created at the first redraw (after tqdm's ``delay``) and updated at each later one, HTML
with a text fallback: a run occupies one output, and a saved notebook holds the bar's final state.
"""

from __future__ import annotations

import html
import sys

from tqdm import tqdm

__all__ = ["NotebookProgressBar", "in_jupyter_kernel"]

#: Stands for the text bar in the bar format, where the HTML puts its progress element.
_BAR = "<bar/>"


def in_jupyter_kernel() -> bool:
    """Whether this process is a Jupyter kernel (IPython's kernel application, not a terminal IPython)."""
    ipython = sys.modules.get("IPython")   # never imported here: a kernel has imported it
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in shell.config


class NotebookProgressBar(tqdm):
    """tqdm (counts, rate, estimate, ``delay``, redraw intervals) drawn as one IPython display."""

    def __init__(self, *args, **kwargs) -> None:
        self._handle = None
        # gui=True: tqdm's own printer is not set up, so nothing is written to its file.
        super().__init__(*args, **kwargs, gui=True)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        """Show the current state (tqdm calls this at each redraw): the output is made the first time,
        replaced afterwards."""
        from IPython.display import display

        data = {"text/plain": self.format_meter(**self.format_dict), "text/html": self._html()}
        if self._handle is None:
            self._handle = display(data, raw=True, display_id=True)
        else:
            self._handle.update(data, raw=True)
        return True

    def clear(self, *_, **__) -> None:
        """Nothing to erase (``tqdm.write`` calls this around its output): the display is replaced in place."""

    def close(self) -> None:
        """End the bar; one that was shown is drawn a last time, so the output keeps the final state."""
        shown = not self.disable and self._handle is not None
        super().close()
        if shown:
            self.display()

    def _html(self) -> str:
        """The state as HTML: tqdm's text around an HTML progress element in place of the text bar."""
        meter = dict(self.format_dict)
        meter["bar_format"] = (meter["bar_format"] or "{l_bar}{bar}{r_bar}").replace("{bar}", _BAR)
        left, _, right = self.format_meter(**meter).partition(_BAR)
        value = f' value="{min(self.n, self.total)}" max="{self.total}"' if self.total else ""
        return (f'<div class="swiftnst-progress" style="font-family: monospace; white-space: pre">'
                f'{html.escape(left.rstrip("|"))} <progress{value} style="vertical-align: middle; width: 16em">'
                f'</progress>{html.escape(right.lstrip("|"))}</div>')
