"""Find the target in the app: a grounding engine proposes the first box from the description,
shown dashed over the frame until the annotator accepts it (Ctrl+Enter) or draws their own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt

from costcore.annotation import Provenance
from costcore.formats import read_sequence
from tests.gui_helpers import TIMEOUT_MS, key, make_window, open_and_wait

torch = pytest.importorskip("torch")

FIXTURE = Path(__file__).parent / "fixtures" / "uvltrack"
TEXT = "a man in a black shirt crossing the street"


def test_uvltrack_finds_the_target_and_the_annotator_accepts_it(qtbot, tmp_path, crossing):
    """The real UVLTrack engine (the tests' tiny network, the authors' format) grounds the
    description on the frame shown; the box it proposes is the engine's own answer."""
    from costcore.engines import create_engine
    from costcore.video import open_frame_source

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, crossing)
    panel, model = window.tracking_panel, window.model
    assert not panel.find.isEnabled()  # CSRT, the default here, cannot find from a sentence
    panel.engine.setCurrentIndex(panel.engine.findData("uvltrack"))
    panel._set_weights(str(FIXTURE))
    assert panel.find.isEnabled() and not panel.accept.isVisible()
    model.set_language(TEXT)
    model.clear_frames([0])  # the imported ground truth out of the way
    window.view.setFocus()
    key(
        window,
        Qt.Key.Key_F,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: model.proposal is not None, timeout=TIMEOUT_MS * 3)

    source = open_frame_source(read_sequence(crossing).frames[:1])
    try:
        expected = create_engine("uvltrack", FIXTURE, "cpu").ground(source.frame(0), TEXT)
    finally:
        source.close()
    assert np.allclose(tuple(model.proposal.box), tuple(expected.box), atol=1e-4)
    assert window.view.proposal_item.box() == QRectF(*expected.box)  # drawn over the frame
    assert "proposed box" in window.view._hud_text and panel.accept.isVisible()
    assert model.annotation.frame(0).box is None  # not an edit until accepted
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    frame = model.annotation.frame(0)
    assert frame.provenance is Provenance.KEYFRAME
    assert np.allclose(tuple(frame.box), tuple(expected.box))
    assert window.view.proposal_item.box() is None and not panel.accept.isVisible()
    window.close()
