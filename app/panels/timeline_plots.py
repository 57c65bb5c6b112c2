"""Timeline plots synchronised with the current frame: score, speed, size, agreement / IoU.

The series come from ``costcore.assist.series`` (and an engine evaluation's per-frame IoU);
this widget only draws them. Frame numbers on the x axis are 1-based like everywhere in the
UI; clicking a plot goes to that frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QGraphicsItem, QScrollArea, QVBoxLayout, QWidget

from costcore.assist.series import TimelineSeries
from costcore.engines import engine_infos

#: the engines (from the registry) whose runs leave the score plot empty
_NO_SCORE = "/".join(i.display_name for i in engine_infos() if not i.gives_score)
_NO_SCORE += " and interpolation" if _NO_SCORE else "interpolation"

#: each plot's least height in pixels: its title, three tick labels and a readable curve
#: (squashed to ~25 px the titles overlapped the next plot and the curves were flat lines)
PLOT_MIN_HEIGHT = 64
#: the x axis under the last plot
_AXIS_HEIGHT = 26

_PLOTS = (
    ("score", "Tracker score", "#ffa726"),
    ("speed", "Relative speed (Eq. 1)", "#80cbc4"),
    ("size", "Box size √(wh) px", "#90caf9"),
    ("iou", "F/B agreement · IoU vs annotation", "#ce93d8"),
)


def _cache_pixels(item: QGraphicsItem) -> None:
    """Keep what ``item`` painted as a pixmap: moving the frame cursor (every seek) then
    repaints the plots from pixmaps instead of drawing thousands of points and the grid again
    (a full repaint took ~8 ms and made seeking during a run stutter)."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class TimelinePlots(QWidget):
    seekRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, foreground="#cfcfcf")
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(QColor(30, 30, 34))
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.cursors: dict[str, pg.InfiniteLine] = {}
        self.labels: dict[str, pg.LabelItem] = {}
        first: pg.PlotItem | None = None
        for row, (key, title, color) in enumerate(_PLOTS):
            plot = self.canvas.addPlot(row=row, col=0)
            plot.setMinimumHeight(PLOT_MIN_HEIGHT + (_AXIS_HEIGHT if row == len(_PLOTS) - 1 else 0))
            label = pg.LabelItem(title, size="8pt", color=color)
            label.setParentItem(plot.vb)
            label.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(4, 0))
            self.labels[key] = label
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMouseEnabled(x=True, y=False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getAxis("left").setWidth(38)
            if row < len(_PLOTS) - 1:
                plot.getAxis("bottom").setStyle(showValues=False)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            curve = plot.plot([], [], pen=pg.mkPen(color, width=1.2), connect="finite")
            _cache_pixels(curve.curve)
            for axis in ("left", "bottom"):
                _cache_pixels(plot.getAxis(axis))
            self.curves[key] = curve
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#ffffff", width=1))
            plot.addItem(cursor, ignoreBounds=True)
            self.cursors[key] = cursor
            self.plots[key] = plot
        self.evaluation_curve = self.plots["iou"].plot(
            [], [], pen=pg.mkPen("#66bb6a", width=1.2), connect="finite"
        )
        _cache_pixels(self.evaluation_curve.curve)
        self.plots["iou"].setYRange(0, 1.05)
        self.plots["score"].setYRange(0, 1.05)
        self.canvas.scene().sigMouseClicked.connect(self._clicked)
        self.canvas.ci.layout.setSpacing(0)
        self.canvas.setMinimumHeight(len(_PLOTS) * PLOT_MIN_HEIGHT + _AXIS_HEIGHT)
        # a dock dragged smaller than that scrolls the plots instead of squashing them
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)
        self._count = 0

    def set_series(self, series: TimelineSeries | None) -> None:
        if series is None:
            for curve in (*self.curves.values(), self.evaluation_curve):
                curve.setData([], [])
            self._count = 0
            return
        count = series.frame_count
        x = np.arange(1, count + 1, dtype=np.float64)
        for key, values in (
            ("score", series.score),
            ("speed", series.speed),
            ("size", series.size),
            ("iou", series.agreement),
        ):
            self.curves[key].setData(x, np.asarray(values, dtype=np.float64))
        title = dict((k, t) for k, t, _c in _PLOTS)["score"]
        if not np.isfinite(series.score).any():
            title += f" — none yet ({_NO_SCORE} give no score)"
        if self.labels["score"].text != title:  # setText lays the plot out again
            self.labels["score"].setText(title)
        if count != self._count:
            self._count = count
            self.plots["score"].setXRange(1, max(count, 2), padding=0.01)

    def set_evaluation(self, iou: np.ndarray | None) -> None:
        """The per-frame IoU of an engine evaluation (green), or None to clear it."""
        if iou is None:
            self.evaluation_curve.setData([], [])
            return
        x = np.arange(1, len(iou) + 1, dtype=np.float64)
        self.evaluation_curve.setData(x, np.asarray(iou, dtype=np.float64))

    def set_current(self, index: int) -> None:
        for cursor in self.cursors.values():
            cursor.setValue(index + 1)

    def curve_data(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """What a curve shows (``x`` 1-based frames, ``y``), for tests."""
        curve = self.evaluation_curve if key == "evaluation" else self.curves[key]
        x, y = curve.getData()
        return (np.zeros(0) if x is None else x), (np.zeros(0) if y is None else y)

    def frame_at(self, key: str, scene_pos: QPointF) -> int | None:
        plot = self.plots[key]
        if not plot.sceneBoundingRect().contains(scene_pos):
            return None
        point = plot.vb.mapSceneToView(scene_pos)
        if self._count <= 0:
            return None
        return int(min(max(round(point.x()) - 1, 0), self._count - 1))

    def _clicked(self, event: object) -> None:
        pos = event.scenePos()  # type: ignore[attr-defined]
        for key in self.plots:
            frame = self.frame_at(key, pos)
            if frame is not None:
                self.seekRequested.emit(frame)
                return
