"""Success / precision plots as PNG files (matplotlib's Agg canvas, never a GUI backend).

The figure is built on a bare ``Figure`` + ``FigureCanvasAgg`` rather than pyplot, so
plotting never switches the process-wide backend (the app runs Qt in the same process).
Like the toolkit, each legend entry carries the tracker's score and trackers are listed
best first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costcore.errors import CostcoreError
from costcore.evaluation.curves import (
    NORM_PRECISION_THRESHOLDS,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
    Curves,
)
from costcore.evaluation.report import TrackerReport
from costcore.evaluation.table import rank_by


@dataclass(frozen=True)
class PlotSpec:
    """One plot: which curve against which thresholds, and which score ranks it."""

    filename: str
    title: str
    xlabel: str
    ylabel: str
    thresholds: np.ndarray
    curve: Callable[[Curves], np.ndarray]
    metric: str


PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec(
        "success.png",
        "Success plots of OPE",
        "Overlap threshold",
        "Success rate",
        SUCCESS_THRESHOLDS,
        lambda c: c.success,
        "AUC",
    ),
    PlotSpec(
        "precision.png",
        "Precision plots of OPE",
        "Location error threshold (pixels)",
        "Precision",
        PRECISION_THRESHOLDS,
        lambda c: c.precision,
        "P",
    ),
    PlotSpec(
        "normalized_precision.png",
        "Normalized precision plots of OPE",
        "Normalized location error threshold",
        "Normalized precision",
        NORM_PRECISION_THRESHOLDS,
        lambda c: c.norm_precision,
        "P_norm",
    ),
    PlotSpec(
        "complete_success.png",
        "Complete success plots of OPE",
        "Overlap threshold",
        "Complete success rate",
        SUCCESS_THRESHOLDS,
        lambda c: c.complete_success,
        "cAUC",
    ),
)

_LINE_STYLES = ("-", "--", "-.", ":")


def _matplotlib() -> tuple[type, type]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise CostcoreError("plots need matplotlib: pip install matplotlib") from None
    return Figure, FigureCanvasAgg


def write_plots(
    reports: Sequence[TrackerReport], out_dir: str | Path, suffix: str = ""
) -> list[Path]:
    """Write one PNG per curve kind into ``out_dir``; returns the files written."""
    figure_class, canvas_class = _matplotlib()
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CostcoreError(f"{out_dir}: cannot create folder: {error.strerror}") from None
    written = []
    for spec in PLOTS:
        figure = figure_class(figsize=(6.4, 4.8), dpi=150)
        canvas_class(figure)
        axes = figure.add_subplot()
        for rank, report in enumerate(rank_by(reports, spec.metric)):
            style = _LINE_STYLES[(rank // 10) % len(_LINE_STYLES)]
            score = report.scores[spec.metric]
            axes.plot(
                spec.thresholds,
                spec.curve(report.overall),
                style,
                linewidth=2,
                label=f"{report.tracker} [{score:.3f}]",
            )
        axes.set(
            xlabel=spec.xlabel,
            ylabel=spec.ylabel,
            xlim=(0, float(spec.thresholds[-1])),
            ylim=(0, 1),
            title=spec.title + suffix,
        )
        axes.grid(True, linestyle="-.")
        axes.legend(loc="best", fontsize=8)
        figure.tight_layout()
        path = out_dir / spec.filename
        try:
            figure.savefig(path)
        except OSError as error:
            raise CostcoreError(f"{path}: cannot write plot: {error.strerror}") from None
        written.append(path)
    return written
