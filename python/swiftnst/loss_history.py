"""A run's losses, step by step: recorded by a progress callback, exported to CSV or JSON, plotted.

::

    history = swiftnst.LossHistory()
    image = swiftnst.stylize("cat.jpg", "stone.jpg", callback=history)
    history.to_csv("losses.csv")          # or history.to_json("losses.json")
    history.plot()                        # matplotlib (needed only here)

One record per optimiser step: the iteration (counted over all scales from 1), the total and its
three terms, the size of the scale the step ran at and the seconds since the history was created
(or last cleared).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import time
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from ._atomic import atomic_write
from ._current_image import CurrentImage
from .session import Losses

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["LossHistory", "LossRecord"]

#: The loss terms of a record, in the order of the objective (total first).
TERMS = ("total", "content", "style", "tv")


@dataclasses.dataclass(frozen=True)
class LossRecord:
    """The losses of one optimiser step."""

    iteration: int      #: steps over all scales of the run, from 1
    total: float
    content: float
    style: float
    tv: float
    height: int         #: height of the scale the step ran at, in pixels
    width: int          #: its width
    seconds: float      #: wall-clock seconds from the history's creation (or last ``clear``) to the step's end


#: Column names of the exports, in record order.
COLUMNS = tuple(field.name for field in dataclasses.fields(LossRecord))


class LossHistory:
    """Records every step's losses when passed as ``callback`` to :func:`swiftnst.stylize`.

    It is a :data:`~swiftnst.transfer.ProgressCallback` that never stops the run. Create it just
    before the run (its clock starts then) and use one history per run; :meth:`clear` empties it
    for another.

    Attributes:
        records: the :class:`LossRecord` of every step seen, in order.
    """

    def __init__(self) -> None:
        self.records: list[LossRecord] = []
        self.clear()

    def __call__(self, iteration: int, losses: Losses, image_fn: CurrentImage) -> None:
        """Record one step (the :data:`~swiftnst.transfer.ProgressCallback` signature; the scale's size
        is ``image_fn.shape``: the image itself is never rendered)."""
        seconds = time.perf_counter() - self._started
        height, width = image_fn.shape
        self.records.append(LossRecord(iteration, losses.total, losses.content, losses.style, losses.tv,
                                       height, width, seconds))

    def clear(self) -> None:
        """Forget every record and restart the clock (for another run)."""
        self.records = []
        self._started = time.perf_counter()

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[LossRecord]:
        return iter(self.records)

    def __getitem__(self, index: int) -> LossRecord:
        return self.records[index]

    def __repr__(self) -> str:
        if not self.records:
            return "LossHistory(no steps)"
        last = self.records[-1]
        return f"LossHistory({len(self.records)} steps, last: iteration {last.iteration}, total {last.total:.4g})"

    def column(self, name: str) -> np.ndarray:
        """One column over all records as an array (``"total"``, ``"iteration"``, ``"seconds"``, ...)."""
        if name not in COLUMNS:
            raise ValueError(f"unknown column {name!r}; the columns are {', '.join(COLUMNS)}")
        return np.array([getattr(record, name) for record in self.records])

    def scale_starts(self) -> list[int]:
        """Indices of the records that begin a new scale (the first record included when there is one)."""
        return [index for index, record in enumerate(self.records)
                if index == 0 or (record.height, record.width) != (self.records[index - 1].height,
                                                                   self.records[index - 1].width)]

    # MARK: - Export

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write the records as CSV (a header of :data:`COLUMNS`, one row per step), atomically."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(dataclasses.astuple(record) for record in self.records)
        with atomic_write(path) as handle:
            handle.write(text.getvalue().encode("utf-8"))

    def to_json(self, path: str | os.PathLike) -> None:
        """Write the records as a JSON list of objects (keys :data:`COLUMNS`), atomically."""
        data = [dataclasses.asdict(record) for record in self.records]
        with atomic_write(path) as handle:
            handle.write(json.dumps(data, indent=1).encode("utf-8"))

    # MARK: - Plot

    def plot(self, ax: Axes | None = None, *, terms: Sequence[str] = TERMS, x: str = "iteration",
             label: str | None = None) -> Axes:
        """Plot the loss ``terms`` against ``x`` (``"iteration"`` or ``"seconds"``) on a log scale.

        A new scale's first step is marked by a dotted vertical line. The axis reaches down to a
        thousandth of the smallest total: smaller values are negligible in the objective (such as the
        content term of the first steps of a run started from the content image, zero at the first)
        and would stretch the axis over many decades.

        Args:
            ax: the matplotlib axes to draw on; None makes a new figure.
            terms: which of ``"total"``, ``"content"``, ``"style"``, ``"tv"`` to draw.
            x: the horizontal axis.
            label: prefix of the legend entries (to compare several runs on one axes).

        Returns:
            The axes drawn on.

        Raises:
            ImportError: matplotlib is not installed (it is needed only here).
            ValueError: an unknown term or ``x``, or an empty history.
        """
        unknown = [term for term in terms if term not in TERMS]
        if unknown or not terms:
            raise ValueError(f"terms must be some of {', '.join(TERMS)}, got {list(terms)!r}")
        if x not in ("iteration", "seconds"):
            raise ValueError(f"x must be 'iteration' or 'seconds', got {x!r}")
        if not self.records:
            raise ValueError("the history is empty: nothing to plot")
        ax = ax if ax is not None else _new_axes()
        positions = self.column(x)
        for term in terms:
            name = term if label is None else (label if len(terms) == 1 else f"{label}: {term}")
            ax.plot(positions, np.ma.masked_less_equal(self.column(term), 0), label=name)
        for index in self.scale_starts()[1:]:
            ax.axvline(positions[index], color="grey", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        smallest_total = self.column("total").min()
        if smallest_total > 0:
            ax.set_ylim(bottom=max(ax.get_ylim()[0], 1e-3 * smallest_total))
        ax.set_xlabel("iteration" if x == "iteration" else "seconds")
        ax.set_ylabel("loss")
        ax.legend()
        ax.grid(True, alpha=0.3)
        return ax


def _new_axes() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("LossHistory.plot needs matplotlib: pip install matplotlib "
                          "(or the swiftnst[notebooks] extra)") from error
    return plt.subplots(figsize=(8, 4))[1]
