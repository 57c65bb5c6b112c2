"""The timeline plots draw from pixmap caches (seeking repaints them cheaply): what they show
must still follow new data, the frame cursor and the view range, pixel for pixel."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from app.panels.timeline_plots import TimelinePlots
from costcore.assist.series import TimelineSeries

COUNT = 200


def series(level: float) -> TimelineSeries:
    ramp = np.linspace(0.0, 1.0, COUNT)
    return TimelineSeries(
        score=np.full(COUNT, level),
        speed=ramp * level,
        size=10.0 + 20.0 * ramp * level,
        agreement=np.full(COUNT, 1.0 - level),
    )


def pixels(widget: TimelinePlots, qtbot) -> np.ndarray:
    qtbot.wait(20)  # let queued scene updates run
    image = widget.canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, rows * image.height())
    return data.reshape(image.height(), rows)[:, : image.width() * 3].copy()


@pytest.fixture
def make(qtbot):
    def build(data: TimelineSeries, cursor: int, x_range: tuple[float, float] | None = None):
        widget = TimelinePlots()
        qtbot.addWidget(widget)
        widget.resize(600, 320)
        widget.show()
        qtbot.waitExposed(widget)
        widget.set_series(data)
        if x_range is not None:
            widget.plots["score"].setXRange(*x_range, padding=0)
        widget.set_current(cursor)
        return widget

    return build


def test_cached_plots_show_new_series_like_a_fresh_widget(make, qtbot):
    widget = make(series(0.2), cursor=10)
    before = pixels(widget, qtbot)
    widget.set_series(series(0.8))
    after = pixels(widget, qtbot)
    fresh = pixels(make(series(0.8), cursor=10), qtbot)
    assert not np.array_equal(before, after)  # the new curves are drawn ...
    np.testing.assert_array_equal(after, fresh)  # ... exactly as a widget that never had A


def test_moving_the_cursor_leaves_no_trace(make, qtbot):
    widget = make(series(0.5), cursor=10)
    first = pixels(widget, qtbot)
    for frame in (150, 37, 120):
        widget.set_current(frame)
        pixels(widget, qtbot)
    moved = pixels(widget, qtbot)
    assert not np.array_equal(first, moved)
    np.testing.assert_array_equal(moved, pixels(make(series(0.5), cursor=120), qtbot))


def test_zooming_redraws_the_curves_at_the_new_scale(make, qtbot):
    widget = make(series(0.5), cursor=60)
    pixels(widget, qtbot)
    widget.plots["score"].setXRange(50, 100, padding=0)
    zoomed = pixels(widget, qtbot)
    fresh = pixels(make(series(0.5), cursor=60, x_range=(50, 100)), qtbot)
    np.testing.assert_array_equal(zoomed, fresh)
