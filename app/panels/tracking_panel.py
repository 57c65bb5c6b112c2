"""The tracking panel: engine, weights and device; propagation, segment fill, options, progress.

A view over the model's engine settings (:class:`~costcore.annotator.AnnotatorModel`): it
shows them, changes them, and asks the model to track; the job runner reports progress and
evaluations. It computes nothing itself and names no engine (the registry does).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.job_runner import JobRunner
from app.panels.engine_status import EngineStatus
from costcore.annotator import AnnotatorModel
from costcore.annotator.engine_settings import engine_choices
from costcore.assist.engine_evaluation import EvaluationRun
from costcore.assist.plan import Extent

_EXTENTS = (
    (Extent.NEXT_KEYFRAME, "to the next keyframe"),
    (Extent.END, "to the end of the video"),
    (Extent.COUNT, "a number of frames"),
)
_DEVICES = ("auto", "cpu", "cuda")
_EVALUATE_TEXT = "Evaluate engine against the annotation"


class TrackingPanel(QWidget):
    #: track from the current frame: (backwards, extent, count)
    trackRequested = Signal(bool, str, int)
    evaluateRequested = Signal()

    def __init__(
        self, model: AnnotatorModel, runner: JobRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.runner = runner
        self.engine = QComboBox()
        for name, (label, description) in engine_choices().items():
            self.engine.addItem(label, name)
            self.engine.setItemData(
                self.engine.count() - 1, description, Qt.ItemDataRole.ToolTipRole
            )
        self.status = EngineStatus()
        self.weights = QLineEdit()
        self.weights.setReadOnly(True)
        # a display: a click may select the path, but the focus never tabs (or falls) into it
        self.weights.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.weights_button = QToolButton()
        self.weights_button.setText("…")
        menu = QMenu(self.weights_button)
        self.choose_folder = menu.addAction("Weights folder…", self._choose_folder)
        self.choose_file = menu.addAction("Weights file…", self._choose_file)
        menu.addAction("Forget the weights", lambda: self._set_weights(""))
        self.weights_button.setMenu(menu)
        self.weights_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.language_form = QComboBox()
        self.language_form.addItem("the sentence", "sentence")
        self.language_form.addItem("the attribute words", "attributes")
        self.language_form.setToolTip(
            "What vision-language engines are given: the one-sentence description or VLT's "
            "four attribute words (major class, root class, colour, initial position)"
        )
        self.device = QComboBox()
        for device in _DEVICES:
            self.device.addItem(device.upper() if device != "auto" else "auto", device)
        weights_row = QHBoxLayout()
        weights_row.addWidget(self.weights, 1)
        weights_row.addWidget(self.weights_button)

        self.extent = QComboBox()
        for extent, label in _EXTENTS:
            self.extent.addItem(label, extent.value)
        self.count = QSpinBox()
        self.count.setRange(1, 100_000)
        self.count.setValue(50)
        self.count.setToolTip("How many frames to propagate (with 'a number of frames')")
        self.count.setEnabled(False)
        self.backward = QPushButton("◀ Backward")
        self.backward.setToolTip("Track backward from this frame (Shift+T)")
        self.forward = QPushButton("Forward ▶")
        self.forward.setToolTip("Track forward from this frame (T)")
        self.fill = QPushButton("Fill segment between keyframes")
        self.fill.setToolTip(
            "Track forward from the keyframe before and backward from the keyframe after, "
            "and combine the two runs per frame (B)"
        )
        self.find = QPushButton("Find the target from the description")
        self.find.setToolTip(
            "Engines that can find a target from a sentence (UVLTrack) propose its box on this "
            "frame; accept it (Ctrl+Enter) or draw your own (Ctrl+Shift+F)"
        )
        self.accept = QPushButton("Accept the proposed box")
        self.accept.setToolTip("The proposed box becomes this frame's keyframe (Ctrl+Enter)")
        policy = self.accept.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # appearing must not move the docks below
        self.accept.setSizePolicy(policy)
        self.accept.setVisible(False)
        self.repropagate = QCheckBox("Re-propagate after a correction")
        self.repropagate.setToolTip(
            "Correcting a box makes it a keyframe and re-tracks the frames up to the next keyframe"
        )
        self.stop_at_flag = QCheckBox("Stop at the first flag")
        self.stop_at_flag.setToolTip("Propagation stops after the first frame a flag rule fires on")
        self.calibrated = QCheckBox("Propose checks only where they pay off")
        self.calibrated.setToolTip(
            "The frame the tool proposes (P) comes from the review queue; with this on, a kind "
            "of flag (low score, jump, size change…) stops being proposed once checking it "
            "finds a wrong box less often than not in this video (your answers so far: a "
            "correction or a verification of the proposed frame)"
        )
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setToolTip("Tracked frames scoring below this are flagged for review")

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m")
        self.cancel = QPushButton("Cancel (Esc)")
        for widget in (self.progress, self.cancel):
            # hidden between runs, but their row keeps its height: showing them must not
            # push the docks below (or above) around
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
            widget.setVisible(False)

        self.evaluate = QPushButton(_EVALUATE_TEXT)
        self.evaluate.setToolTip(
            "Run the engine over the video without changing the annotation and score it "
            "(AUC, P, P_norm, cAUC, mACC); the per-frame IoU goes to the plots"
        )
        self.metrics = QLabel("")
        self.metrics.setWordWrap(True)
        # room for an evaluation's note or result from the start (a line appearing later
        # would move every dock below it)
        self.metrics.setMinimumHeight(3 * self.metrics.fontMetrics().lineSpacing())
        self.metrics.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.metrics.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        engine_row = QHBoxLayout()
        engine_row.addWidget(self.engine, 1)
        engine_row.addWidget(self.device)
        extent_row = QHBoxLayout()
        extent_row.addWidget(self.extent, 1)
        extent_row.addWidget(self.count)
        form = QFormLayout()
        form.addRow("Engine", engine_row)
        form.addRow("", self.status)
        form.addRow("Weights", weights_row)
        form.addRow("Language", self.language_form)
        form.addRow("Propagate", extent_row)
        buttons = QGridLayout()
        buttons.addWidget(self.backward, 0, 0)
        buttons.addWidget(self.forward, 0, 1)
        buttons.addWidget(self.fill, 1, 0, 1, 2)
        buttons.addWidget(self.find, 2, 0)
        buttons.addWidget(self.accept, 2, 1)
        options = QGridLayout()
        options.addWidget(self.repropagate, 0, 0, 1, 2)
        options.addWidget(self.stop_at_flag, 1, 0)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(QLabel("flag scores <"))
        threshold_row.addWidget(self.threshold)
        options.addLayout(threshold_row, 1, 1)
        options.addWidget(self.calibrated, 2, 0, 1, 2)
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.cancel)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addLayout(options)
        layout.addLayout(running)
        layout.addWidget(self.evaluate)
        layout.addWidget(self.metrics)
        layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        self._progress_shown = 0.0
        self._load()
        self.engine.currentIndexChanged.connect(self._engine_changed)
        self.status.installed.connect(self._weights_installed)
        self.device.currentIndexChanged.connect(
            lambda _i: model.set_device(self.device.currentData())
        )
        self.language_form.currentIndexChanged.connect(
            lambda _i: model.set_language_form(self.language_form.currentData())
        )
        self.extent.currentIndexChanged.connect(
            lambda _i: self.count.setEnabled(self.extent.currentData() == Extent.COUNT.value)
        )
        self.repropagate.toggled.connect(model.set_repropagate)
        self.stop_at_flag.toggled.connect(model.set_stop_at_flag)
        self.calibrated.toggled.connect(model.set_calibrated_review)
        self.threshold.valueChanged.connect(model.set_score_threshold)
        self.forward.clicked.connect(lambda: self._track(False))
        self.backward.clicked.connect(lambda: self._track(True))
        self.fill.clicked.connect(lambda: model.fill_segment())
        self.find.clicked.connect(lambda: model.find_target())
        self.accept.clicked.connect(lambda: model.accept_proposal())
        model.events.proposal_changed.connect(
            lambda: self.accept.setVisible(model.proposal is not None)
        )
        self.cancel.clicked.connect(lambda: runner.cancel())
        self.evaluate.clicked.connect(self._evaluate_clicked)
        runner.busyChanged.connect(self.set_busy)
        runner.progress.connect(self.set_progress)
        runner.evaluationReady.connect(self.show_evaluation)
        runner.evaluationProgress.connect(
            lambda done, total: self.show_note(f"Evaluating… {done}/{total}")
        )
        runner.evaluationFailed.connect(
            lambda message: self._evaluation_done(f"Evaluation {message}")
        )
        runner.evaluatingChanged.connect(self.set_evaluating)
        self.setEnabled(False)

    def _load(self) -> None:
        model, settings = self.model, self.model.engine
        self.engine.setCurrentIndex(max(0, self.engine.findData(settings.name)))
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.language_form.setCurrentIndex(
            max(0, self.language_form.findData(settings.language_form))
        )
        self.weights.setText(settings.current_weights())
        self.repropagate.setChecked(model.repropagate)
        self.stop_at_flag.setChecked(model.stop_at_flag)
        self.calibrated.setChecked(model.calibrated_review)
        self.threshold.setValue(model.flag_rules.score_threshold)
        self._describe_weights()
        self._describe_finding()
        self.refresh_readiness()

    def _track(self, backwards: bool) -> None:
        extent, count = self.extent_choice()
        self.trackRequested.emit(backwards, extent.value, count)

    # ----------------------------------------------------------- choices
    def _engine_changed(self) -> None:
        self.model.set_engine(self.engine.currentData())
        self.weights.setText(self.model.engine.current_weights())
        self._describe_weights()
        self._describe_finding()
        self.refresh_readiness()

    def refresh_readiness(self) -> None:
        """Mark each engine in the picker ready or not (the registry and the weights cache
        say; cheap), and show the chosen one's state with a way to get missing weights."""
        settings = self.model.engine
        for row in range(self.engine.count()):
            name = self.engine.itemData(row)
            label, description = engine_choices()[name]
            readiness = settings.readiness(name)
            self.engine.setItemText(row, label if readiness.ready else f"{label} — not ready")
            tip = f"{description}\n{readiness.reason}"
            self.engine.setItemData(row, tip, Qt.ItemDataRole.ToolTipRole)
        self.status.show_readiness(settings.readiness(), settings.label)

    def _weights_installed(self, entry: str) -> None:
        """Weights arrived: an engine never picked by hand becomes the default that uses them."""
        settings = self.model.engine
        index = self.engine.findData(settings.name)
        if index >= 0 and index != self.engine.currentIndex():
            self.engine.setCurrentIndex(index)  # _engine_changed refreshes
        else:
            self.refresh_readiness()
        self.model.events.engine_changed.emit()
        self.model.events.message.emit(f"{entry} installed: {settings.readiness().reason}")

    def _describe_finding(self) -> None:
        """Find the target only with an engine that can (the registry says which)."""
        info = self.model.engine.info()
        can = info is not None and info.can_ground
        self.find.setEnabled(can)
        self.find.setToolTip(
            "Propose the box the description points to on this frame (Ctrl+Shift+F)"
            if can
            else self.model.find_target_problem()
        )

    def _describe_weights(self) -> None:
        """Placeholder, tooltip and menu of the weights chooser, from the engine registry."""
        current = self.model.engine.info()
        target = self.model.engine.weights_target()
        name = target.display_name
        if current is None or not current.takes_weights:
            label = current.display_name if current is not None else self.engine.currentText()
            text = f"{label} takes no weights (weights chosen now are for {name})"
        elif current.needs_weights:
            text = f"{name} needs weights: {current.weights_hint}"
        else:
            text = f"{name} can use weights: {current.weights_hint}"
        self.weights.setPlaceholderText(text)
        self.weights.setToolTip(self.weights.text() or text)
        self.weights_button.setToolTip(f"Choose {name} weights ({target.weights_hint})")
        self.choose_folder.setText(f"{name} weights folder…")
        self.choose_folder.setEnabled(target.weights_folder)
        self.choose_file.setText(f"{name} weights file…")
        self.choose_file.setEnabled(bool(target.weights_files))

    def _choose_folder(self) -> None:
        target = self.model.engine.weights_target()
        folder = QFileDialog.getExistingDirectory(
            self, f"{target.display_name} weights folder", self.weights.text()
        )
        if folder:
            self._set_weights(folder)

    def _choose_file(self) -> None:
        target = self.model.engine.weights_target()
        path, _ = QFileDialog.getOpenFileName(
            self, f"{target.display_name} weights", self.weights.text(), target.weights_files
        )
        if path:
            self._set_weights(path)

    def _set_weights(self, path: str) -> None:
        """Use ``path`` as weights; with an engine that takes none picked, also switch to the
        engine they are for (the registry's choice)."""
        target = self.model.set_weights(path)
        self.weights.setText(path)
        if path and self.engine.currentData() != target:
            self.engine.setCurrentIndex(self.engine.findData(target))
        self._describe_weights()
        self.refresh_readiness()

    def extent_choice(self) -> tuple[Extent, int]:
        return Extent(self.extent.currentData()), self.count.value()

    # ----------------------------------------------------------- running
    def set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)
        for widget in (self.forward, self.backward, self.fill, self.engine, self.device):
            widget.setEnabled(not busy)
        if not busy:
            self._describe_finding()
        else:
            self.find.setEnabled(False)
        self.weights_button.setEnabled(not busy)

    def set_progress(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and done > 0 and now - self._progress_shown < 0.1:
            return  # ten updates a second are plenty (a progress bar repaint is not free)
        self._progress_shown = now
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def show_evaluation(self, run: EvaluationRun) -> None:
        metrics = "  ".join(f"{name} {100 * value:.1f}" for name, value in run.metrics.items())
        self._evaluation_done(
            f"<b>{run.engine}</b> vs annotation ({run.scored_frames} frames, "
            f"{run.fps:.0f} fps):<br>{metrics}"
        )

    def show_note(self, text: str) -> None:
        self.metrics.setText(text)

    def _evaluation_done(self, text: str) -> None:
        self.metrics.setText(text)

    def set_evaluating(self, evaluating: bool) -> None:
        """While an evaluation runs, its button stops it (the layout stays as it is)."""
        self.evaluate.setText("Cancel the evaluation (Esc)" if evaluating else _EVALUATE_TEXT)

    def _evaluate_clicked(self) -> None:
        if self.runner.evaluating:
            self.runner.cancel_evaluation()
        else:
            self.evaluateRequested.emit()
