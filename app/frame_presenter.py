"""Keeps what is on screen in step with the model: the frame and its overlay, the confidence
map, the timeline strip, the frame panel, the review panel and the plots.

A view-side helper, no logic of its own: it reads the model (overlay, score map, flags) and
paints. A tracking run changes a few frames twenty times a second, so only what shows a
changed frame is redrawn.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from app.follow_view import FollowView
from app.frame_view import FrameView
from app.navigation import NavigationBar, Navigator
from app.panels.frame_info_panel import FrameInfoPanel
from app.panels.review_panel import ReviewPanel
from app.panels.timeline_plots import TimelinePlots
from app.workers import FrameLoader
from costcore.annotation import Change
from costcore.annotator import AnnotatorModel
from costcore.annotator.overlay import TRAIL_FRAMES


class FramePresenter(QObject):
    """Shows frame ``navigator.index`` of the model's video with everything drawn over it."""

    #: the first frame of an opened video is on screen (used by --screenshot and tests)
    firstFrameShown = Signal()

    def __init__(
        self,
        model: AnnotatorModel,
        navigator: Navigator,
        view: FrameView,
        nav_bar: NavigationBar,
        follow_view: FollowView,
        frame_panel: FrameInfoPanel,
        review_panel: ReviewPanel,
        plots: TimelinePlots,
        say: Callable[[str, int], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model, self.navigator, self.view, self.nav_bar = model, navigator, view, nav_bar
        self.follow_view, self.frame_panel = follow_view, frame_panel
        self.review_panel, self.plots = review_panel, plots
        self.say = say
        #: the confidence map is drawn over the frame (M)
        self.score_maps = False
        self.loader = FrameLoader(self)
        self._waiting_first_frame = False
        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(200)
        self._summary_timer.timeout.connect(self._show_summary)
        #: the plots' curves are set on the event-loop turn after the flags: one refresh of
        #: flags, review list and four 2,800-point curves in one go kept the window from
        #: answering for ~50 ms, twice as long as either half
        self._plots_timer = QTimer(self)
        self._plots_timer.setSingleShot(True)
        self._plots_timer.setInterval(0)
        self._plots_timer.timeout.connect(self._show_series)
        self.loader.frameReady.connect(self._on_frame)
        self.loader.frameFailed.connect(lambda i, text: say(f"Frame {i + 1}: {text}", 8000))
        navigator.indexChanged.connect(self._on_index)
        navigator.is_shown = lambda: view.displayed_index == navigator.index
        model.events.changed.connect(self._on_changed)
        model.events.flags_changed.connect(self._on_flags)
        model.events.proposal_changed.connect(self._redraw_overlay)

    # ================================================================ opening
    def show_opened(self) -> None:
        """Show the model's newly opened video (the window calls it last, once its panels are
        ready: going to the start frame may show it at once, from the cache)."""
        video, annotation = self.model.video, self.model.annotation
        assert video is not None and annotation is not None
        self._waiting_first_frame = True
        self.view.set_image_size(*video.source.frame_size)
        self.loader.set_source(video.source)
        self._refresh_strip()
        self.plots.set_evaluation(None)
        self._on_flags()
        self.frame_panel.show_summary(list(annotation.frames))
        # last: going to the start frame may show it synchronously (cached) and re-enter
        self.nav_bar.reset(annotation.frame_count, video.source.fps)
        self.navigator.reset(annotation.frame_count, video.source.fps, self.model.index)

    # ================================================================ frames
    def _on_index(self, index: int) -> None:
        self.model.set_index(index)
        self.nav_bar.strip.set_current(index)
        self.plots.set_current(index)
        self._show_review_state(index)
        annotation = self.model.annotation
        if annotation is not None and 0 <= index < annotation.frame_count:
            self.frame_panel.show_frame(index, annotation.frame_count, annotation.frame(index))
        # last: a cached frame is shown synchronously, and its handlers may move on already
        self.loader.request(index)

    def _on_frame(self, index: int, image: QImage) -> None:
        self.view.show_frame(index, image)
        overlay = self.model.overlay(index)
        self.view.set_overlay(overlay)
        self.show_score_map(index)
        self.follow_view.follow(overlay.box)
        if self._waiting_first_frame:
            self._waiting_first_frame = False
            self.firstFrameShown.emit()

    def _on_changed(self, change: Change) -> None:
        annotation = self.model.annotation
        if annotation is None or not change.frames:
            return
        shown = self.view.displayed_index
        if shown is not None and _touches(change.frames, shown, TRAIL_FRAMES + 1):
            overlay = self.model.overlay(shown)
            self.view.set_overlay(overlay)
            if shown in change.frames:
                self.show_score_map(shown)
            self.follow_view.follow(overlay.box)
        self._refresh_strip(change.frames)
        index = self.navigator.index
        if index in change.frames:
            self.frame_panel.show_frame(index, annotation.frame_count, annotation.frame(index))
        if not self._summary_timer.isActive():
            self._summary_timer.start()

    def _show_summary(self) -> None:
        annotation = self.model.annotation
        if annotation is not None:
            self.frame_panel.show_summary(list(annotation.frames))

    # ================================================================ overlays
    def show_score_map(self, index: int) -> None:
        stored = self.model.score_map(index) if self.score_maps else None
        if stored is None:
            self.view.set_score_map(None)
        else:
            self.view.set_score_map(stored.data, stored.region)

    def set_score_maps(self, on: bool) -> None:
        """Draw the confidence map over the frame (M); say why when there is none."""
        self.score_maps = on
        shown = self.view.displayed_index
        if shown is None:
            return
        self.show_score_map(shown)
        if on and self.model.score_map(shown) is None:
            self.say(self.model.engine.no_score_map_note(), 6000)

    def _on_flags(self) -> None:
        assist = self.model.assist
        flags = [] if assist is None else assist.flags
        proposable = frozenset() if assist is None else assist.proposable_frames()
        self.nav_bar.strip.set_flags(
            [(f.index, f.severity, f.absent_proposed, f.index in proposable) for f in flags]
        )
        if assist is not None:
            self.review_panel.set_queue(assist.queue, proposable)
        self._plots_timer.start()
        shown = self.view.displayed_index
        if shown is not None and assist is not None:
            self.view.set_overlay(self.model.overlay(shown))
        self._show_review_state(self.navigator.index)

    def _show_series(self) -> None:
        assist = self.model.assist
        self.plots.set_series(None if assist is None else assist.series)

    def _redraw_overlay(self) -> None:
        shown = self.view.displayed_index
        if shown is not None:
            self.view.set_overlay(self.model.overlay(shown))

    def _show_review_state(self, index: int) -> None:
        assist = self.model.assist
        flag = None if assist is None else assist.queue.get(index)
        self.review_panel.set_current(index, bool(flag and flag.absent_proposed))

    def _refresh_strip(self, frames: frozenset[int] | None = None) -> None:
        """Colour the timeline: every frame on opening, only the changed ones after an edit."""
        annotation = self.model.annotation
        if annotation is None:
            return
        strip = self.nav_bar.strip
        if frames is None:
            items = annotation.frames
            kinds = [None if f.provenance is None else f.provenance.value for f in items]
            strip.set_frames(kinds, [f.absent for f in items])
            return
        changes = {}
        for index in frames:
            item = annotation.frame(index)
            kind = None if item.provenance is None else item.provenance.value
            changes[index] = (kind, item.absent)
        strip.update_frames(changes)

    def wait(self) -> None:
        self.loader.wait()


def _touches(frames: frozenset[int], index: int, reach: int) -> bool:
    """Whether any of ``frames`` lies within ``reach`` frames of ``index``."""
    if len(frames) > 4 * reach:
        return any(i in frames for i in range(index - reach, index + reach + 1))
    return any(abs(i - index) <= reach for i in frames)
