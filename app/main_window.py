"""The main window: wires the frame view, navigation, panels and menus to the controller.

Data flow (DESIGN.md section 2): frames go ``source -> FrameLoader (worker) -> FrameView``;
edits go ``FrameView/panels -> SessionController (costcore commands) -> changed -> views``.
The window itself holds no annotation state.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QImage,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.export_dialog import ExportDialog
from app.follow_view import FollowView
from app.frame_view import FrameOverlay, FrameView
from app.key_routing import NavigationKeyRouter, is_text_entry
from app.navigation import NavigationBar, Navigator
from app.panels.attributes import AttributesPanel
from app.panels.frame_info import AbsentRangeDialog, FrameInfoPanel
from app.panels.language import LanguagePanel
from app.panels.plots import TimelinePlots
from app.panels.review import ReviewPanel
from app.panels.tracking import TrackingPanel
from app.proposal_job import proposal_task
from app.session_controller import TRAIL_FRAMES, OpenResult, SessionController
from app.settings import AppSettings
from app.shortcuts import BINDINGS, sheet_html
from app.theme import apply_theme
from app.tracking import TrackingController
from app.workers import FrameLoader, Task
from costcore.annotation import Change
from costcore.annotation.word_pieces import WordPieceCounter
from costcore.attributes import Proposal, proposals_to_values

APP_NAME = "COST Annotator"
VIDEO_FILTER = (
    "Videos, images and sessions (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv "
    "*.jpg *.jpeg *.png *.bmp session.json *.json);;All files (*)"
)


class MainWindow(QMainWindow):
    """One video at a time; panels are docks so a later engine panel slots in beside them."""

    #: the first frame of an opened video is on screen (used by --screenshot and tests)
    firstFrameShown = Signal()

    def __init__(self, settings: AppSettings | None = None, workspace: Path | None = None):
        super().__init__()
        self.settings = settings or AppSettings()
        self.controller = SessionController(workspace or self.settings.workspace, self)
        self.controller.ask_resume = self._ask_resume
        self.tracking = TrackingController(self.controller, self.settings, self)
        self.tracking.report = lambda text: self.statusBar().showMessage(text, 8000)
        self.navigator = Navigator(self)
        self.loader = FrameLoader(self)
        self.counter = WordPieceCounter(self.settings.tokenizer_path)
        self.actions_by_id: dict[str, QAction] = {}
        self._waiting_first_frame = False
        self._proposal_task: Task | None = None
        self._save_failing = False
        #: shows an error without blocking (tests may replace it to collect messages)
        self.show_error: Callable[[str], None] = self._show_error_box
        self.errors: list[str] = []
        self.last_export_dialog: ExportDialog | None = None
        self.shortcut_dialog: QDialog | None = None

        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(200)
        self._summary_timer.timeout.connect(self._show_summary)
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
        self.tracking_panel = TrackingPanel(self.tracking)
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
        self.engine_label = QLabel(self.tracking.describe_engine())
        self.engine_label.setToolTip("Tracking engine · device · frames per second")
        self.cursor_label = QLabel("")
        self.zoom_label = QLabel("")
        self.save_label = QLabel("")
        self.save_label.setMinimumWidth(
            self.save_label.fontMetrics().horizontalAdvance("NOT SAVED  ")
        )
        status = self.statusBar()
        status.addPermanentWidget(self.engine_label)
        status.addPermanentWidget(self.cursor_label)
        status.addPermanentWidget(self.zoom_label)
        status.addPermanentWidget(self.save_label)

        self._build_actions()
        self._build_menus()
        self._connect()
        # stepping keys reach the view from any panel widget but a text field being typed in
        # (Space stays with buttons and check boxes, which it activates)
        navigation = [
            k for b in BINDINGS if b.group == "Navigation" and b.id != "play" for k in b.keys
        ]
        self._key_router = NavigationKeyRouter(self, navigation, exempt=(self.view,))
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
    def add_panel(
        self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea
    ) -> QDockWidget:
        """Add a dock panel (the tracking-engine panel will come in through here)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _build_actions(self) -> None:
        handlers: dict[str, Callable[[], None]] = {
            "open": self.open_dialog,
            "export": self.export_dialog,
            "save": self._save_now,
            "quit": self.close,
            "prev_frame": lambda: self.navigator.step(-1),
            "next_frame": lambda: self.navigator.step(1),
            "back_10": lambda: self.navigator.step(-10),
            "forward_10": lambda: self.navigator.step(10),
            "back_100": lambda: self.navigator.step(-100),
            "forward_100": lambda: self.navigator.step(100),
            "first_frame": self.navigator.first,
            "last_frame": self.navigator.last,
            "prev_keyframe": self.previous_keyframe,
            "next_keyframe": self.next_keyframe,
            "play": self.navigator.toggle_play,
            "goto_frame": self._goto_dialog,
            "undo": self.controller.undo,
            "redo": self.controller.redo,
            "select_box": lambda: self.view.select_box(True),
            "toggle_absent": self.toggle_absent,
            "absent_range": self.absent_range_dialog,
            "verify": self.verify_current,
            "clear_frame": self.clear_current,
            "edit_language": self._focus_language,
            "zoom_in": lambda: self.view.zoom_at(1.25),
            "zoom_out": lambda: self.view.zoom_at(0.8),
            "zoom_fit": self.view.fit_to_window,
            "zoom_actual": lambda: self.view.set_zoom(1.0),
            "follow_lock": lambda: None,
            "ghosts": lambda: None,
            "track_forward": lambda: self.track(backwards=False),
            "track_backward": lambda: self.track(backwards=True),
            "fill_segment": self.fill_segment,
            "cancel_run": self.cancel_work,
            "next_flag": self.next_flagged,
            "prev_flag": self.previous_flagged,
            "score_map": lambda: None,
            "evaluate": self.evaluate_engine,
            "help": self.show_shortcuts,
        }
        for item in BINDINGS:
            action = QAction(item.text, self)
            action.setShortcuts([QKeySequence(k) for k in item.keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setToolTip(f"{item.text} ({item.keys[0]})")
            action.triggered.connect(handlers[item.id])
            self.addAction(action)
            self.actions_by_id[item.id] = action
        lock = self.actions_by_id["follow_lock"]
        lock.setCheckable(True)
        lock.toggled.connect(self.view.set_follow_lock)
        ghosts = self.actions_by_id["ghosts"]
        ghosts.setCheckable(True)
        ghosts.setChecked(True)
        ghosts.toggled.connect(self.view.set_ghosts_visible)
        score_map = self.actions_by_id["score_map"]
        score_map.setCheckable(True)
        # off until asked for: most frames have no map, and turning it on says why (M)
        score_map.setChecked(self.settings.flag("tracking/score_map", False))
        score_map.toggled.connect(self._score_map_toggled)
        needs_video = [b.id for b in BINDINGS if b.id not in ("open", "quit", "help")]
        self._video_actions = [self.actions_by_id[i] for i in needs_video]
        for action in self._video_actions:
            action.setEnabled(False)

    def _build_menus(self) -> None:
        a = self.actions_by_id
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(a["open"])
        open_folder = QAction("Open folder (image sequence or dataset)…", self)
        open_folder.triggered.connect(self.open_folder_dialog)
        file_menu.addAction(open_folder)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        file_menu.addAction(a["save"])
        file_menu.addAction(a["export"])
        file_menu.addSeparator()
        workspace = QAction("Workspace folder…", self)
        workspace.triggered.connect(self._choose_workspace)
        file_menu.addAction(workspace)
        tokenizer = QAction("BERT tokenizer for word-piece counts…", self)
        tokenizer.triggered.connect(self._choose_tokenizer)
        file_menu.addAction(tokenizer)
        file_menu.addSeparator()
        file_menu.addAction(a["quit"])

        edit = bar.addMenu("&Edit")
        for key in ("undo", "redo", None, "select_box", "toggle_absent", "absent_range"):
            edit.addSeparator() if key is None else edit.addAction(a[key])
        for key in ("verify", "clear_frame", None, "edit_language"):
            edit.addSeparator() if key is None else edit.addAction(a[key])

        tracking = bar.addMenu("&Tracking")
        for key in (
            "track_forward", "track_backward", "fill_segment", "cancel_run", None, "next_flag",
            "prev_flag", None, "score_map", "evaluate",
        ):  # fmt: skip
            tracking.addSeparator() if key is None else tracking.addAction(a[key])

        nav = bar.addMenu("&Navigate")
        for key in (
            "play", None, "prev_frame", "next_frame", "back_10", "forward_10", "back_100",
            "forward_100", "first_frame", "last_frame", None, "prev_keyframe", "next_keyframe",
            "goto_frame",
        ):  # fmt: skip
            nav.addSeparator() if key is None else nav.addAction(a[key])

        view = bar.addMenu("&View")
        for key in (
            "zoom_in",
            "zoom_out",
            "zoom_fit",
            "zoom_actual",
            None,
            "follow_lock",
            "ghosts",
        ):
            view.addSeparator() if key is None else view.addAction(a[key])
        view.addSeparator()
        theme_menu = view.addMenu("Theme")
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for name in ("dark", "light"):
            action = QAction(name.capitalize(), self, checkable=True)
            action.setChecked(self.settings.theme == name)
            action.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[name] = action
        panels = view.addMenu("Panels")
        for dock in self.docks.values():
            panels.addAction(dock.toggleViewAction())

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(a["help"])
        about = QAction("About", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _connect(self) -> None:
        c = self.controller
        c.opened.connect(self._on_opened)
        c.openFailed.connect(lambda message: self.show_error(f"Cannot open: {message}"))
        c.openProgress.connect(
            lambda done, total: self.statusBar().showMessage(f"Indexing video… {done}/{total}")
        )
        c.changed.connect(self._on_changed)
        c.dirtyChanged.connect(lambda _dirty: self._update_title())
        c.saved.connect(self._on_saved)
        c.saveFailed.connect(self._on_save_failed)
        c.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        c.warning.connect(lambda text: self.show_error(text))

        t = self.tracking
        c.boxSetByUser.connect(t.refill_after_edit)
        t.flagsChanged.connect(self._on_flags)
        t.statusChanged.connect(self.engine_label.setText)
        t.runEnded.connect(lambda text: self.statusBar().showMessage(text, 8000))
        t.busyChanged.connect(self._on_busy)
        t.evaluationReady.connect(lambda run: self.plots.set_evaluation(run.iou))
        self.tracking_panel.forwardRequested.connect(lambda: self.track(backwards=False))
        self.tracking_panel.backwardRequested.connect(lambda: self.track(backwards=True))
        self.tracking_panel.fillRequested.connect(self.fill_segment)
        self.tracking_panel.cancelRequested.connect(t.cancel)
        self.tracking_panel.evaluateRequested.connect(self.evaluate_engine)
        self.tracking_panel.cancelEvaluationRequested.connect(t.cancel_evaluation)
        self.review_panel.seekRequested.connect(self.navigator.go_to)
        self.review_panel.nextRequested.connect(self.next_flagged)
        self.review_panel.previousRequested.connect(self.previous_flagged)
        self.review_panel.acceptAbsentRequested.connect(self.toggle_absent)
        self.plots.seekRequested.connect(self.navigator.go_to)

        self.navigator.indexChanged.connect(self._on_index)
        self.navigator.is_shown = lambda: self.view.displayed_index == self.navigator.index
        self.loader.frameReady.connect(self._on_frame)
        self.loader.frameFailed.connect(
            lambda i, message: self.statusBar().showMessage(f"Frame {i + 1}: {message}", 8000)
        )
        self.view.boxEdited.connect(self.controller.set_box)
        self.view.spaceTapped.connect(self.navigator.toggle_play)
        self.view.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.view.cursorMoved.connect(self._on_cursor)
        self.view.selectionChanged.connect(self._on_selection)

        self.frame_panel.toggleAbsent.connect(self.toggle_absent)
        self.frame_panel.absentRange.connect(self.absent_range_dialog)
        self.frame_panel.verify.connect(self.verify_current)
        self.frame_panel.clear.connect(self.clear_current)
        self.language_panel.committed.connect(self.controller.set_language)
        self.language_panel.word_committed.connect(self.controller.set_language_word)
        self.attributes_panel.attributeChanged.connect(self.controller.set_attribute)
        self.attributes_panel.acceptProposal.connect(self.accept_proposal)
        self.attributes_panel.acceptAll.connect(self.accept_all_proposals)
        self.attributes_panel.proposeRequested.connect(self.propose_attributes)
        self.attributes_panel.cancelRequested.connect(self._cancel_proposals)
        self.attributes_panel.jumpToFrame.connect(self.navigator.go_to)

    # ================================================================ opening
    def open_path(self, path: str | Path) -> None:
        """Open a video, image folder, dataset sequence or session file."""
        self.statusBar().showMessage(f"Opening {path}…")
        self.controller.open_path(path)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open video, image or session", self._last_dir(), VIDEO_FILTER
        )
        if path:
            if Path(path).suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp"):
                path = str(Path(path).parent)  # one image stands for its folder
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Open image folder or dataset sequence", self._last_dir()
        )
        if path:
            self.open_path(path)

    def _last_dir(self) -> str:
        recent = self.settings.recent_files
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if recent:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear list")
            clear.triggered.connect(self.settings.clear_recent)
        else:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def resume_text(self, result: OpenResult) -> str:
        """What the resume question says: how much is done, and which file is whose."""
        existing = result.existing
        assert existing is not None
        annotation = existing.annotation
        done = annotation.frame_count - len(annotation.unannotated())
        if result.salvage is not None:
            text = (
                f"The saved session for “{annotation.name}” was damaged; "
                f"{result.salvage.describe()}.\n\nResume from what could be read?"
            )
        else:
            text = (
                f"There is a saved session for “{annotation.name}”: {done} of "
                f"{annotation.frame_count} frames annotated."
            )
        text += f"\n\nSession: {existing.path}\nMade for: {annotation.source}"
        if Path(annotation.source).resolve() != result.path.resolve():
            text += f"\nOpening: {result.path.resolve()}"
            if result.place is not None and result.place.moved_from:
                text += "\n(the file it was made for is gone; this one has the same content)"
        return text

    def _ask_resume(self, result: OpenResult) -> bool:
        box = QMessageBox(self)
        box.setWindowTitle("Resume annotation?")
        box.setText(self.resume_text(result))
        resume = box.addButton("Resume", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Start over (keep the old file)", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(resume)
        box.exec()
        return box.clickedButton() is resume

    def _on_opened(self) -> None:
        c = self.controller
        annotation, source = c.annotation, c.source
        assert annotation is not None and source is not None
        width, height = source.frame_size
        self._waiting_first_frame = True
        self.view.set_image_size(width, height)
        self.loader.set_source(source)
        self._refresh_strip()
        for action in self._video_actions:
            action.setEnabled(True)
        for panel in (
            self.frame_panel,
            self.language_panel,
            self.attributes_panel,
            self.tracking_panel,
            self.review_panel,
        ):
            panel.setEnabled(True)
        self.plots.set_evaluation(None)
        self.plots.set_series(self.tracking.flagged_series)
        self.language_panel.set_text(annotation.language)
        self.language_panel.set_words(annotation.language_attributes)
        self.attributes_panel.set_values(annotation.attributes)
        self.attributes_panel.clear_proposals()
        self.frame_panel.show_summary(list(annotation.frames))
        self._update_undo_actions()
        if c.opened_path is not None:
            self.settings.add_recent(c.opened_path)
        self.statusBar().showMessage(
            f"{annotation.name}: {annotation.frame_count} frames, {width}×{height}, "
            f"{source.fps:g} fps — session {c.session_path} of {annotation.source}",
            10000,
        )
        self.save_label.setToolTip(f"Session {c.session_path}\nof the video {annotation.source}")
        self.view.setFocus()
        # last: going to the start frame may show it synchronously (cached) and re-enter
        start = c.ui_state.get("frame", 0)
        start = start if isinstance(start, int) else 0
        self.nav_bar.reset(annotation.frame_count, source.fps)
        self.navigator.reset(annotation.frame_count, source.fps, start)

    # ================================================================ frames
    def _on_index(self, index: int) -> None:
        self.nav_bar.strip.set_current(index)
        self.plots.set_current(index)
        flag = self.tracking.queue.get(index)
        self.review_panel.set_current(index, bool(flag and flag.absent_proposed))
        frame = self.controller.frame(index)
        if frame is not None:
            self.frame_panel.show_frame(index, self.controller.frame_count, frame)
        self.controller.ui_state["frame"] = index
        self._update_title()
        # last: a cached frame is shown synchronously, and its handlers may move on already
        self.loader.request(index)

    def _on_frame(self, index: int, image: QImage) -> None:
        self.view.show_frame(index, image)
        overlay = self._overlay(index)
        self.view.set_overlay(overlay)
        self._show_score_map(index)
        self.follow_view.follow(overlay.box)
        if self._waiting_first_frame:
            self._waiting_first_frame = False
            self.firstFrameShown.emit()

    def _on_changed(self, change: Change) -> None:
        annotation = self.controller.annotation
        if annotation is None:
            return
        shown = self.view.displayed_index
        if change.frames:
            # a tracking run changes a few frames 20 times a second: redraw only what shows them
            if shown is not None and _touches(change.frames, shown, TRAIL_FRAMES + 1):
                overlay = self._overlay(shown)
                self.view.set_overlay(overlay)
                if shown in change.frames:
                    self._show_score_map(shown)
                self.follow_view.follow(overlay.box)
            self._refresh_strip(change.frames)
            index = self.navigator.index
            if index in change.frames:
                self.frame_panel.show_frame(index, annotation.frame_count, annotation.frame(index))
            if not self._summary_timer.isActive():
                self._summary_timer.start()
            self.attributes_panel.mark_proposals_stale()
        if change.video:
            self.language_panel.set_text(annotation.language)
            self.language_panel.set_words(annotation.language_attributes)
            self.attributes_panel.set_values(annotation.attributes)
        self._update_undo_actions()
        self._update_title()

    def _show_summary(self) -> None:
        annotation = self.controller.annotation
        if annotation is not None:
            self.frame_panel.show_summary(list(annotation.frames))

    def _overlay(self, index: int) -> FrameOverlay:
        """The controller's overlay, with the frame's flag (if any) for the HUD."""
        overlay = self.controller.overlay(index)
        flag = self.tracking.queue.get(index)
        if flag is not None:
            overlay.flag = flag.describe()
        return overlay

    def _show_score_map(self, index: int) -> None:
        stored = None
        if self.actions_by_id["score_map"].isChecked():
            stored = self.tracking.score_map(index)
        if stored is None:
            self.view.set_score_map(None)
        else:
            self.view.set_score_map(stored.data, stored.region)

    def _score_map_toggled(self, on: bool) -> None:
        self.settings.set_flag("tracking/score_map", on)
        shown = self.view.displayed_index
        if shown is not None:
            self._show_score_map(shown)
        if on and shown is not None and self.tracking.score_map(shown) is None:
            self.statusBar().showMessage(self.tracking.no_score_map_note(), 6000)

    def _on_flags(self) -> None:
        t = self.tracking
        self.nav_bar.strip.set_flags([(f.index, f.severity, f.absent_proposed) for f in t.flags])
        self.review_panel.set_queue(t.queue)
        self.plots.set_series(t.flagged_series)
        shown = self.view.displayed_index
        if shown is not None and self.controller.annotation is not None:
            self.view.set_overlay(self._overlay(shown))
        index = self.navigator.index
        flag = t.queue.get(index)
        self.review_panel.set_current(index, bool(flag and flag.absent_proposed))

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self.statusBar().showMessage("Tracking… (Esc cancels)")
        # the panel disables its buttons and engine picker while a run goes: a focused one
        # would hand the focus on to the next panel widget (the weights field), not the view
        self._refocus_view(self.tracking_panel)

    def _refocus_view(self, panel: QWidget) -> None:
        """Give the focus back to the frame view when it sits in ``panel`` (or nowhere),
        unless the annotator is typing there."""
        focus = QApplication.focusWidget()
        if focus is None or (panel.isAncestorOf(focus) and not is_text_entry(focus)):
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _refresh_strip(self, frames: frozenset[int] | None = None) -> None:
        """Colour the timeline: every frame on opening, only the changed ones after an edit."""
        annotation = self.controller.annotation
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
            changes[index] = (
                None if item.provenance is None else item.provenance.value,
                item.absent,
            )
        strip.update_frames(changes)

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

    # ================================================================ editing
    def previous_keyframe(self) -> None:
        annotation = self.controller.annotation
        if annotation is not None:
            target = annotation.previous_keyframe(self.navigator.index)
            if target is not None:
                self.navigator.go_to(target)

    def next_keyframe(self) -> None:
        annotation = self.controller.annotation
        if annotation is not None:
            target = annotation.next_keyframe(self.navigator.index)
            if target is not None:
                self.navigator.go_to(target)

    # ============================================================== tracking
    def track(self, backwards: bool = False) -> bool:
        """Propagate from the current frame with the panel's extent."""
        extent, count = self.tracking_panel.extent_choice()
        return self.tracking.propagate(
            self.navigator.index, backwards=backwards, extent=extent, count=count
        )

    def fill_segment(self) -> bool:
        return self.tracking.fill_segment(self.navigator.index)

    def next_flagged(self) -> None:
        target = self.tracking.next_flagged(self.navigator.index)
        if target is None:
            self.statusBar().showMessage("No flagged frames.", 4000)
        else:
            self.navigator.go_to(target)

    def previous_flagged(self) -> None:
        target = self.tracking.previous_flagged(self.navigator.index)
        if target is not None:
            self.navigator.go_to(target)

    def evaluate_engine(self) -> bool:
        started = self.tracking.evaluate()
        if started:
            self.tracking_panel.show_note("Evaluating…")
            self._refocus_view(self.tracking_panel)
        return started

    def cancel_work(self) -> None:
        """Esc: stop the tracking run and the engine evaluation, whichever is going."""
        self.tracking.cancel()
        self.tracking.cancel_evaluation()

    def toggle_absent(self) -> None:
        self.controller.toggle_absent(self.navigator.index)

    def absent_range_dialog(self) -> None:
        if not self.controller.is_open:
            return
        dialog = AbsentRangeDialog(self.controller.frame_count, self.navigator.index, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            first, last, absent = dialog.result_range()
            self.controller.set_absent_range(first, last, absent)

    def verify_current(self) -> None:
        self.controller.verify([self.navigator.index])

    def clear_current(self) -> None:
        self.controller.clear_frames([self.navigator.index])

    def _focus_language(self) -> None:
        self.docks["language"].show()
        self.docks["language"].raise_()
        self.language_panel.editor.setFocus()

    def _goto_dialog(self) -> None:
        count = self.navigator.count
        number, ok = QInputDialog.getInt(
            self, "Go to frame", f"Frame (1–{count})", self.navigator.index + 1, 1, count
        )
        if ok:
            self.navigator.go_to(number - 1)

    def _update_undo_actions(self) -> None:
        stack = self.controller.undo_stack
        undo, redo = self.actions_by_id["undo"], self.actions_by_id["redo"]
        undo.setEnabled(bool(stack and stack.can_undo))
        redo.setEnabled(bool(stack and stack.can_redo))
        undo.setText(f"Undo {stack.undo_text}" if stack and stack.can_undo else "Undo")
        redo.setText(f"Redo {stack.redo_text}" if stack and stack.can_redo else "Redo")

    # ============================================================= attributes
    def propose_attributes(self) -> None:
        """Compute costcore's proposals in a worker (reads every frame for BRI, IV, MB)."""
        annotation, frames = self.controller.annotation, self.controller.frames_spec
        if annotation is None or self._proposal_task is not None:
            return
        task = proposal_task(annotation, frames, self)
        task.progress.connect(self.attributes_panel.set_progress)
        task.finished.connect(self._proposals_ready)
        task.failed.connect(self._proposals_failed)
        task.cancelled.connect(lambda: self._proposals_failed("cancelled"))
        self._proposal_task = task
        self.attributes_panel.set_busy(True)
        task.start()

    def _proposals_ready(self, proposals: list[Proposal]) -> None:
        self._proposal_task = None
        self.attributes_panel.set_busy(False)
        self.attributes_panel.set_proposals(
            proposals, f"{len(proposals)} proposals; check each before accepting."
        )

    def _proposals_failed(self, message: str) -> None:
        self._proposal_task = None
        self.attributes_panel.set_busy(False)
        self.attributes_panel.note.setText(f"Proposals not computed: {message}")

    def _cancel_proposals(self) -> None:
        if self._proposal_task is not None:
            self._proposal_task.cancel()

    def accept_proposal(self, proposal: Proposal) -> None:
        self.controller.set_attribute(
            proposal.index, proposal.value, text=f"Accept {proposal.code} = {proposal.label}"
        )

    def accept_all_proposals(self) -> None:
        annotation = self.controller.annotation
        proposals = list(self.attributes_panel.proposals.values())
        if annotation is not None and proposals:
            values = proposals_to_values(proposals, base=annotation.attributes)
            self.controller.set_attributes(values, text="Accept all attribute proposals")

    # ================================================================= export
    def export_dialog(self) -> ExportDialog | None:
        """Open the export dialog (modeless, so tests and the annotator can keep it up)."""
        annotation = self.controller.annotation
        if annotation is None:
            return None
        self.language_panel.commit()
        dialog = ExportDialog(
            annotation,
            self.controller.frames_spec,
            self.controller.workspace / "exports",
            self,
            counter=self.counter,
        )
        dialog.setModal(True)
        dialog.show()
        self.last_export_dialog = dialog
        return dialog

    # ================================================================ misc UI
    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, name)
        self.settings.theme = name
        self.theme_actions[name].setChecked(True)

    def show_shortcuts(self) -> QDialog:
        dialog = QDialog(self)
        dialog.setWindowTitle("Keyboard and mouse shortcuts")
        text = QTextBrowser()
        text.setHtml(sheet_html())
        layout = QVBoxLayout(dialog)
        layout.addWidget(text)
        dialog.resize(620, 720)
        dialog.show()
        self.shortcut_dialog = dialog
        return dialog

    def _about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME}</b><br>Single-object tracking annotation in the VL-SOT500 format."
            f"<br>Sessions autosave to {self.controller.workspace}.",
        )

    def _choose_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Workspace (sessions and exports)", str(self.controller.workspace)
        )
        if folder:
            self.settings.workspace = folder
            self.controller.workspace = Path(folder)
            self.statusBar().showMessage(f"Workspace: {folder} (used for the next video opened)")

    def _choose_tokenizer(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Local BERT tokenizer folder (vocab.txt, tokenizer.json)"
        )
        if folder:
            self.settings.tokenizer_path = folder
            self.statusBar().showMessage("Tokenizer set; it is used after a restart.")

    def _on_saved(self, path: str) -> None:
        self._save_failing = False
        self.save_label.setText("saved")

    def _on_save_failed(self, message: str) -> None:
        self.save_label.setText("NOT SAVED")
        if not self._save_failing:  # say it once, not after every edit
            self._save_failing = True
            self.show_error(f"Autosave failed: {message}")

    def _save_now(self) -> None:
        self.controller.save_now()
        self.statusBar().showMessage(f"Saved {self.controller.session_path}", 4000)

    def _show_error_box(self, text: str) -> None:
        self.errors.append(text)
        self.statusBar().showMessage(text, 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, text, parent=self)
        box.open()  # non-blocking: the event loop (and autosave) keep running

    def _update_title(self) -> None:
        c = self.controller
        if c.annotation is None:
            self.setWindowTitle(APP_NAME)
            self.save_label.setText("")
            return
        dirty = c.is_dirty
        mark = " •" if dirty else ""
        frame = f"frame {self.navigator.index + 1}/{c.annotation.frame_count}"
        self.setWindowTitle(f"{c.annotation.name}{mark} — {frame} — {APP_NAME}")
        self.save_label.setText("unsaved •" if dirty else "saved")

    def _restore_window_state(self) -> None:
        store = self.settings.store
        geometry = store.value("ui/geometry")
        state = store.value("ui/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self._docks_laid_out = isinstance(state, QByteArray) and self.restoreState(state)

    def _lay_out_docks(self) -> None:
        """The first-run dock sizes; applied once the window has its real size (sizes asked
        for before it is shown are shared out against a default-sized window)."""
        self._docks_laid_out = True
        self.resizeDocks(
            [self.docks["language"], self.docks["attributes"]], [130, 700], Qt.Orientation.Vertical
        )
        self.resizeDocks(
            [self.docks["frame"], self.docks["magnifier"], self.docks["tracking"]],
            [200, 160, 420],
            Qt.Orientation.Vertical,
        )
        plots_height = self.plots.canvas.minimumHeight() + 30  # all four plots, and the title
        self.resizeDocks([self.docks["plots"]], [plots_height], Qt.Orientation.Vertical)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._docks_laid_out:
            self._lay_out_docks()

    # ================================================================= events
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
        if self._proposal_task is not None:
            self._proposal_task.cancel()
            self._proposal_task.wait(10.0)
        self.tracking.shutdown()
        store = self.settings.store
        store.setValue("ui/geometry", self.saveGeometry())
        store.setValue("ui/state", self.saveState())
        self.settings.sync()
        self.controller.shutdown()
        self.loader.wait()
        super().closeEvent(event)


def _touches(frames: frozenset[int], index: int, reach: int) -> bool:
    """Whether any of ``frames`` lies within ``reach`` frames of ``index``."""
    if len(frames) > 4 * reach:
        return any(i in frames for i in range(index - reach, index + reach + 1))
    return any(abs(i - index) <= reach for i in frames)
