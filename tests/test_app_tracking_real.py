"""The real CSRT engine on a real sequence (Crossing), through the GUI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from costcore.annotation import Provenance
from costcore.assist.plan import Extent
from costcore.boxes import iou
from costcore.formats import read_sequence
from tests.gui_helpers import TIMEOUT_MS, make_window, open_and_wait

pytest.importorskip("cv2")


def ious(window, truth: np.ndarray, frames: range) -> np.ndarray:
    boxes = window.model.annotation.boxes_array()[list(frames)]
    return iou(boxes, truth[list(frames)])


@pytest.mark.slow
def test_csrt_propagation_and_segment_fill_on_crossing(qtbot, tmp_path: Path, crossing) -> None:
    truth = read_sequence(crossing).boxes
    window = make_window(qtbot, tmp_path)
    window.model.set_engine("csrt")
    open_and_wait(qtbot, window, crossing)
    c, t = window.model, window.runner

    # propagate from frame 1 (the annotator draws the true box there)
    c.set_box(0, tuple(truth[0]))
    assert c.track(start=0, extent=Extent.COUNT, count=25)
    qtbot.waitUntil(lambda: not t.busy, timeout=TIMEOUT_MS * 2)
    annotation = c.annotation
    assert all(annotation.frame(i).provenance is Provenance.TRACKED for i in range(1, 26))
    assert annotation.frame(26).provenance is Provenance.IMPORTED
    assert annotation.frame(5).engine == "csrt"
    early = ious(window, truth, range(1, 26))
    assert early.min() > 0.5 and np.median(early) > 0.7, early.round(2)
    assert "csrt · CPU" in window.engine_label.text() and "fps" in window.engine_label.text()

    # segment fill between two ground-truth keyframes
    c.set_box(50, tuple(truth[50]))
    c.set_box(90, tuple(truth[90]))
    assert c.fill_segment(70)
    qtbot.waitUntil(lambda: not t.busy, timeout=TIMEOUT_MS * 2)
    filled = range(51, 90)
    assert all(annotation.frame(i).provenance is Provenance.TRACKED for i in filled)
    overlap = ious(window, truth, filled)
    assert overlap.min() > 0.5 and np.median(overlap) > 0.7, overlap.round(2)
    agreement = c.assist.state.diagnostics(annotation).agreement[list(filled)]
    assert np.isfinite(agreement).all() and np.median(agreement) > 0.5
    window.runner.shutdown()
