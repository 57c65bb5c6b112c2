"""The main window: the layout, and the wiring of views to the annotator's model.

Data flow (DESIGN.md section 2, docs/ARCHITECTURE.md): the window is a view over
:class:`~costcore.annotator.AnnotatorModel`. Frames go ``source -> FrameLoader (worker) ->
FrameView``; a person's edits go ``view/panel -> model (costcore commands) -> events ->
views``; automatic work goes ``model (decides the job) -> JobRunner (worker) -> model``. The
window holds no annotation state and computes nothing about boxes; its commands are declared
once in :mod:`app.actions`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QPointF, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from app.actions import ACTIONS, build_actions, build_menus, navigation_keys
from app.attribute_proposals import AttributeProposals
from app.follow_view import FollowView
from app.frame_presenter import FramePresenter
from app.frame_view import FrameView
from app.job_runner import JobRunner
from app.key_routing import NavigationKeyRouter
from app.navigation import NavigationBar, Navigator
from app.panels.attributes_panel import AttributesPanel
from app.panels.frame_info_panel import FrameInfoPanel
from app.panels.language_panel import LanguagePanel
from app.panels.review_panel import ReviewPanel
from app.panels.timeline_plots import TimelinePlots
from app.panels.tracking_panel import TrackingPanel
from app.session_controller import SessionController
from app.settings import AppSettings
from app.window_commands import APP_NAME, WindowCommands
from costcore.annotation.word_pieces import WordPieceCounter
from costcore.annotator import AnnotatorModel


class MainWindow(QMainWindow):
    """One video at a time; panels are docks around the frame view."""

    def __init__(self, settings: AppSettings | None = None, workspace: Path | None = None):
        super().__init__()
        self.settings = settings = settings or AppSettings()
        self.model = AnnotatorModel(
            workspace or settings.workspace,
            settings.engine_settings(),
            score_threshold=settings.number("tracking/score_threshold", 0.35),
            repropagate=settings.flag("tracking/repropagate", True),
            stop_at_flag=settings.flag("tracking/stop_at_flag", False),
            calibrated_review=settings.flag("tracking/calibrated_review", True),
        )
        self.session = SessionController(self.model, self)
        self.runner = JobRunner(self.model, self.session, self)
        self.commands = WindowCommands(self)
        self.session.ask_resume = self.commands.ask_resume
        self.navigator = Navigator(self)
        self.counter = WordPieceCounter(settings.tokenizer_path)
        #: errors shown to the annotator, newest last (tests read them)
        self.errors: list[str] = []
        self.show_error = self.commands.show_error
        self._build_layout()
        self.presenter = FramePresenter(
            self.model, self.navigator, self.view, self.nav_bar, self.follow_view,
            self.frame_panel, self.review_panel, self.plots, self.statusBar().showMessage, self,
        )  # fmt: skip
        self.firstFrameShown = self.presenter.firstFrameShown
        self.proposals = AttributeProposals(self.model, self.attributes_panel, self)
        self.actions_by_id = build_actions(self)
        menus = build_menus(self, self.actions_by_id)
        self.commands.add_submenus(menus)
        self._video_actions = [self.actions_by_id[a.id] for a in ACTIONS if a.needs_video]
        for item in self._video_actions:
            item.setEnabled(False)
        self.actions_by_id["ghosts"].setChecked(True)
        # off until asked for: most frames have no map, and turning it on says why (M)
        self.actions_by_id["score_map"].setChecked(settings.flag("tracking/score_map", False))
        self._connect()
        # stepping keys reach the view from any panel widget but a text field being typed in
        # (Space stays with buttons and check boxes, which it activates)
        self._key_router = NavigationKeyRouter(self, navigation_keys(), exempt=(self.view,))
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._key_router)
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self._restore_window_state()
        self._update_title()
        self._update_undo_actions()
        self.view.setFocus()

    # ================================================================ layout
    def _build_layout(self) -> None:
        self.view = FrameView()
        self.nav_bar = NavigationBar(self.navigator)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.view, 1)
        column.addWidget(self.nav_bar)
        self.setCentralWidget(central)
        self.frame_panel = FrameInfoPanel()
        self.language_panel = LanguagePanel(self.counter)
        self.attributes_panel = AttributesPanel()
        self.follow_view = FollowView(self.view.scene())
        self.tracking_panel = TrackingPanel(self.model, self.runner)
        self.review_panel = ReviewPanel()
        self.plots = TimelinePlots()
        self.docks: dict[str, QDockWidget] = {}
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.add_panel("frame", "Frame", self.frame_panel, right)
        self.add_panel("magnifier", "Magnifier", self.follow_view, right)
        self.add_panel("tracking", "Tracking", self.tracking_panel, right)
        self.add_panel("review", "Review queue", self.review_panel, right)
        self.add_panel("language", "Language", self.language_panel, left)
        self.add_panel("attributes", "Attributes", self.attributes_panel, left)
        self.add_panel("plots", "Timeline plots", self.plots, bottom)
        # the right column (frame, tracking, review) runs down to the status bar: its panels
        # need their height, and the plots then get theirs below the frame and the left column
        self.setCorner(Qt.Corner.BottomRightCorner, right)
        self.tabifyDockWidget(self.docks["magnifier"], self.docks["review"])
        self.docks["magnifier"].raise_()
        self.engine_label = QLabel(self.runner.describe_engine())
        self.engine_label.setToolTip("Tracking engine · device · frames per second")
        self.cursor_label, self.zoom_label, self.save_label = QLabel(""), QLabel(""), QLabel("")
        self.save_label.setMinimumWidth(
            self.save_label.fontMetrics().horizontalAdvance("NOT SAVED  ")
        )
        for label in (self.engine_label, self.cursor_label, self.zoom_label, self.save_label):
            self.statusBar().addPermanentWidget(label)

    def add_panel(
        self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea
    ) -> QDockWidget:
        """Add a dock panel (a new engine's panel comes in through here)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    # ================================================================ wiring
    def _connect(self) -> None:
        model, session, runner, commands = self.model, self.session, self.runner, self.commands
        say = self.statusBar().showMessage
        events = model.events
        events.opened.connect(self._on_opened)
        events.changed.connect(self._on_changed)
        events.index_changed.connect(lambda _index: self._update_title())
        events.message.connect(lambda text: say(text, 8000))
        events.warning.connect(self.show_error)
        events.engine_changed.connect(self._save_engine_settings)
        session.openFailed.connect(lambda message: self.show_error(f"Cannot open: {message}"))
        session.openProgress.connect(lambda done, total: say(f"Indexing video… {done}/{total}"))
        session.dirtyChanged.connect(lambda _dirty: self._update_title())
        session.saved.connect(self._on_saved)
        session.saveFailed.connect(self._on_save_failed)

        runner.statusChanged.connect(self.engine_label.setText)
        runner.runEnded.connect(lambda text: say(text, 8000))
        runner.busyChanged.connect(self._on_busy)
        runner.evaluationReady.connect(lambda run: self.plots.set_evaluation(run.iou))
        self.tracking_panel.trackRequested.connect(
            lambda backwards, extent, count: model.track(backwards, extent, count)
        )
        self.tracking_panel.evaluateRequested.connect(commands.evaluate_engine)
        self.review_panel.seekRequested.connect(commands.review)
        self.review_panel.nextRequested.connect(lambda: commands.go_to_flag(True))
        self.review_panel.proposalRequested.connect(commands.go_to_proposal)
        self.review_panel.previousRequested.connect(lambda: commands.go_to_flag(False))
        self.review_panel.acceptAbsentRequested.connect(lambda: model.toggle_absent())
        self.plots.seekRequested.connect(self.navigator.go_to)

        self.view.boxEdited.connect(model.set_box)
        self.view.spaceTapped.connect(self.navigator.toggle_play)
        self.view.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.view.cursorMoved.connect(self._on_cursor)
        self.view.selectionChanged.connect(self._on_selection)
        self.frame_panel.toggleAbsent.connect(lambda: model.toggle_absent())
        self.frame_panel.absentRange.connect(commands.absent_range_dialog)
        self.frame_panel.verify.connect(lambda: model.verify())
        self.frame_panel.clear.connect(lambda: model.clear_frames())
        self.language_panel.committed.connect(model.set_language)
        self.language_panel.word_committed.connect(model.set_language_word)
        self.attributes_panel.jumpToFrame.connect(self.navigator.go_to)

    def _save_engine_settings(self) -> None:
        settings, model = self.settings, self.model
        settings.save_engine_settings(model.engine)
        settings.set_number("tracking/score_threshold", model.flag_rules.score_threshold)
        settings.set_flag("tracking/repropagate", model.repropagate)
        settings.set_flag("tracking/stop_at_flag", model.stop_at_flag)
        settings.set_flag("tracking/calibrated_review", model.calibrated_review)

    # ================================================================ opening
    def open_path(self, path: str | Path) -> None:
        """Open a video, image folder, dataset sequence or session file."""
        self.statusBar().showMessage(f"Opening {path}…")
        self.session.open_path(path)

    def _on_opened(self) -> None:
        video, annotation = self.model.video, self.model.annotation
        assert video is not None and annotation is not None
        for item in self._video_actions:
            item.setEnabled(True)
        for panel in (
            self.frame_panel, self.language_panel, self.attributes_panel, self.tracking_panel,
            self.review_panel,
        ):  # fmt: skip
            panel.setEnabled(True)
        self.language_panel.set_text(annotation.language)
        self.language_panel.set_words(annotation.language_attributes)
        self._update_undo_actions()
        self.settings.add_recent(video.path)
        width, height = video.source.frame_size
        self.statusBar().showMessage(
            f"{annotation.name}: {annotation.frame_count} frames, {width}×{height}, "
            f"{video.source.fps:g} fps — session {video.session_path} of {annotation.source}",
            10000,
        )
        self.save_label.setToolTip(
            f"Session {video.session_path}\nof the video {annotation.source}"
        )
        self.view.setFocus()
        self.presenter.show_opened()  # last: the start frame may show at once (cached)

    def _on_changed(self, change: object) -> None:
        annotation = self.model.annotation
        if annotation is not None and getattr(change, "video", False):
            self.language_panel.set_text(annotation.language)
            self.language_panel.set_words(annotation.language_attributes)
        self._update_undo_actions()
        self._update_title()

    # ================================================================ status
    def _on_busy(self, busy: bool) -> None:
        if busy:
            self.statusBar().showMessage("Tracking… (Esc cancels)")
        # the panel disables its buttons and engine picker while a run goes: a focused one
        # would hand the focus on to the next panel widget (the weights field), not the view
        self.commands.refocus_view(self.tracking_panel)

    def _on_cursor(self, point: QPointF | None) -> None:
        size = self.view.image_size()
        if point is None or size is None:
            self.cursor_label.setText("")
            return
        x, y = int(point.x() // 1), int(point.y() // 1)
        inside = 0 <= x < size[0] and 0 <= y < size[1]
        self.cursor_label.setText(f"x {x}, y {y}" if inside else "")

    def _on_selection(self, selected: bool) -> None:
        if selected:
            self.statusBar().showMessage(
                "Box selected: arrows move it (Shift ×10), Ctrl+arrows resize it; "
                "Esc releases it so arrows step frames again."
            )
        else:
            self.statusBar().clearMessage()

    def _update_undo_actions(self) -> None:
        stack = None if self.model.assist is None else self.model.assist.stack
        undo, redo = self.actions_by_id["undo"], self.actions_by_id["redo"]
        undo.setEnabled(bool(stack and stack.can_undo))
        redo.setEnabled(bool(stack and stack.can_redo))
        undo.setText(f"Undo {stack.undo_text}" if stack and stack.can_undo else "Undo")
        redo.setText(f"Redo {stack.redo_text}" if stack and stack.can_redo else "Redo")

    def _on_saved(self, _path: str) -> None:
        self._save_failing = False
        self.save_label.setText("saved")

    def _on_save_failed(self, message: str) -> None:
        self.save_label.setText("NOT SAVED")
        if not getattr(self, "_save_failing", False):  # say it once, not after every edit
            self._save_failing = True
            self.show_error(f"Autosave failed: {message}")

    def _update_title(self) -> None:
        annotation = self.model.annotation
        if annotation is None:
            self.setWindowTitle(APP_NAME)
            self.save_label.setText("")
            return
        dirty = self.session.is_dirty
        frame = f"frame {self.navigator.index + 1}/{annotation.frame_count}"
        self.setWindowTitle(f"{annotation.name}{' •' if dirty else ''} — {frame} — {APP_NAME}")
        self.save_label.setText("unsaved •" if dirty else "saved")

    # ================================================================ window state
    def _restore_window_state(self) -> None:
        store = self.settings.store
        geometry, state = store.value("ui/geometry"), store.value("ui/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self._docks_laid_out = isinstance(state, QByteArray) and self.restoreState(state)

    def _lay_out_docks(self) -> None:
        """The first-run dock sizes; applied once the window has its real size (sizes asked
        for before it is shown are shared out against a default-sized window)."""
        self._docks_laid_out = True
        d, vertical = self.docks, Qt.Orientation.Vertical
        self.resizeDocks([d["language"], d["attributes"]], [130, 700], vertical)
        self.resizeDocks([d["frame"], d["magnifier"], d["tracking"]], [200, 160, 420], vertical)
        plots_height = self.plots.canvas.minimumHeight() + 30  # all four plots, and the title
        self.resizeDocks([d["plots"]], [plots_height], vertical)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._docks_laid_out:
            self._lay_out_docks()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            self.open_path(urls[0].toLocalFile())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.language_panel.commit()
        self.navigator.stop()
        self.proposals.cancel(wait=True)
        self.runner.shutdown()
        store = self.settings.store
        store.setValue("ui/geometry", self.saveGeometry())
        store.setValue("ui/state", self.saveState())
        self.settings.sync()
        self.session.shutdown()
        self.presenter.wait()
        super().closeEvent(event)
