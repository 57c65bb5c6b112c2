"""Where the annotator is in the video: the current frame, stepping, playback and the bar.

Frame numbers are 0-based inside and shown 1-based, like the exported ``000001.jpg``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.colors import ABSENT_COLOR, provenance_color


class Navigator(QObject):
    """The current frame index and playback at the video's frame rate.

    Playback advances only once the frame on screen is the current one (``is_shown``), so it
    never runs ahead of decoding and every frame is really seen.
    """

    indexChanged = Signal(int)
    playingChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._index = 0
        self._count = 0
        self._fps = 30.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        #: True when the current frame is on screen; set by the window
        self.is_shown: Callable[[], bool] = lambda: True

    def reset(self, count: int, fps: float, index: int = 0) -> None:
        self.stop()
        self._count = count
        self._fps = fps if fps and fps > 0 else 30.0
        self._index = -1
        self.go_to(index)

    @property
    def index(self) -> int:
        return self._index

    @property
    def count(self) -> int:
        return self._count

    @property
    def fps(self) -> float:
        return self._fps

    def go_to(self, index: int) -> None:
        if self._count <= 0:
            return
        index = min(max(int(index), 0), self._count - 1)
        if index != self._index:
            self._index = index
            self.indexChanged.emit(index)

    def step(self, delta: int) -> None:
        self.go_to(self._index + delta)

    def first(self) -> None:
        self.go_to(0)

    def last(self) -> None:
        self.go_to(self._count - 1)

    # ---------------------------------------------------------------- playback
    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def toggle_play(self) -> None:
        if self.playing:
            self.stop()
        else:
            self.play()

    def play(self) -> None:
        if self._count <= 1:
            return
        if self._index >= self._count - 1:
            self.go_to(0)
        self._timer.start(max(1, round(1000.0 / self._fps)))
        self.playingChanged.emit(True)

    def stop(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.playingChanged.emit(False)

    def _tick(self) -> None:
        if not self.is_shown():
            return  # wait for the decoder rather than skipping frames
        if self._index >= self._count - 1:
            self.stop()
            return
        self.step(1)


FLAG_ROW_PX = 5
FLAG_COLOR = QColor("#ff5252")
ABSENT_PROPOSAL_COLOR = QColor("#e040fb")


class ProvenanceStrip(QWidget):
    """A thin timeline: one colour per frame's provenance, red where the target is absent,
    and under it a row of flags (red, stronger = more severe; magenta = "absent?" proposed;
    faint: shown, but not one the review workflow will propose, so a long run's hundreds of
    flags do not hide the few worth a check).

    Clicking or dragging on it jumps to that frame.
    """

    clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kinds: list[str | None] = []
        self._absent: list[bool] = []
        self._current = 0
        self._image: QImage | None = None
        self._flags: list[tuple[int, float, bool, bool]] = []
        self._flag_image: QImage | None = None
        self.setMinimumHeight(10 + FLAG_ROW_PX)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(
            "Provenance of each frame: green keyframe, blue verified, orange tracked, "
            "yellow interpolated, cyan imported, grey not annotated, red absent. "
            "Lower row: flagged frames (brighter = more severe; faint = not worth a check "
            "by the review rules and your answers so far), magenta = absent proposed. "
            "Click to go there."
        )

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(400, 10 + FLAG_ROW_PX)

    def set_flags(self, flags: list[tuple[int, float, bool, bool]]) -> None:
        """``(index, severity 0..1, absent proposed, worth proposing)`` per flagged frame."""
        self._flags = list(flags)
        self._flag_image = None
        self.update()

    def flag_color(self, index: int) -> QColor | None:
        """The colour the flag row shows at frame ``index`` (None: no flag), for tests."""
        for i, severity, absent, proposed in self._flags:
            if i == index:
                return _flag_color(severity, absent, proposed)
        return None

    def set_frames(self, kinds: list[str | None], absent: list[bool]) -> None:
        self._kinds, self._absent = list(kinds), list(absent)
        self._image = None
        self._flag_image = None
        self.update()

    def update_frames(self, changes: dict[int, tuple[str | None, bool]]) -> None:
        """Recolour only the frames an edit touched (``index -> (provenance, absent)``)."""
        for index, (kind, absent) in changes.items():
            if 0 <= index < len(self._kinds):
                self._kinds[index], self._absent[index] = kind, absent
                if self._image is not None:
                    color = ABSENT_COLOR if absent else provenance_color(kind)
                    self._image.setPixelColor(index, 0, color)
        self.update()

    def set_current(self, index: int) -> None:
        self._current = index
        self.update()

    def _build(self) -> QImage:
        count = max(1, len(self._kinds))
        image = QImage(count, 1, QImage.Format.Format_RGB32)
        for i, kind in enumerate(self._kinds):
            color = ABSENT_COLOR if self._absent[i] else provenance_color(kind)
            image.setPixelColor(i, 0, color)
        return image

    def _build_flags(self) -> QImage:
        count = max(1, len(self._kinds))
        image = QImage(count, 1, QImage.Format.Format_ARGB32)
        image.fill(QColor(40, 40, 44))
        for i, severity, absent, proposed in self._flags:
            if 0 <= i < count:
                image.setPixelColor(i, 0, _flag_color(severity, absent, proposed))
        return image

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        if not self._kinds:
            painter.fillRect(self.rect(), QColor(60, 60, 60))
            return
        if self._image is None:
            self._image = self._build()
        if self._flag_image is None:
            self._flag_image = self._build_flags()
        top = self.rect().adjusted(0, 0, 0, -FLAG_ROW_PX)
        painter.drawImage(top, self._image)
        bottom = QRect(0, self.height() - FLAG_ROW_PX, self.width(), FLAG_ROW_PX)
        painter.drawImage(bottom, self._flag_image)
        count = len(self._kinds)
        x = round((self._current + 0.5) * self.width() / count)
        painter.fillRect(QRect(x - 1, 0, 2, self.height()), QColor(255, 255, 255))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self._jump(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._jump(event)

    def _jump(self, event: QMouseEvent) -> None:
        if self._kinds and self.width() > 0:
            index = int(event.position().x() * len(self._kinds) / self.width())
            self.clicked.emit(min(max(index, 0), len(self._kinds) - 1))


def _flag_color(severity: float, absent: bool, proposed: bool = True) -> QColor:
    """Brighter for more severe flags; flags the review workflow will not propose faint."""
    color = QColor(ABSENT_PROPOSAL_COLOR if absent else FLAG_COLOR)
    severity = min(max(severity, 0.0), 1.0)
    strength = 0.35 + 0.65 * severity if proposed else 0.12 + 0.13 * severity
    background = QColor(40, 40, 44)
    return QColor(
        round(background.red() + (color.red() - background.red()) * strength),
        round(background.green() + (color.green() - background.green()) * strength),
        round(background.blue() + (color.blue() - background.blue()) * strength),
    )


class NavigationBar(QWidget):
    """Play button, frame slider, 1-based frame number and the provenance strip."""

    def __init__(self, navigator: Navigator, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.navigator = navigator
        self.play_button = QToolButton()
        self.play_button.setText("▶")
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(navigator.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the window
        self.slider.setTracking(True)
        self.spin = QSpinBox()
        self.spin.setKeyboardTracking(False)
        self.spin.setToolTip("Frame number (1-based, as in 000001.jpg)")
        self.total = QLabel("/ 0")
        self.total.setObjectName("FrameCounter")
        self.fps_label = QLabel("")
        self.strip = ProvenanceStrip()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(QLabel("Frame"))
        row.addWidget(self.spin)
        row.addWidget(self.total)
        row.addWidget(self.fps_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(self.strip)
        layout.addLayout(row)

        self.slider.valueChanged.connect(navigator.go_to)
        self.spin.valueChanged.connect(lambda number: navigator.go_to(number - 1))
        self.strip.clicked.connect(navigator.go_to)
        navigator.indexChanged.connect(self._show_index)
        navigator.playingChanged.connect(
            lambda playing: self.play_button.setText("⏸" if playing else "▶")
        )
        self.setEnabled(False)

    def reset(self, count: int, fps: float) -> None:
        self.setEnabled(count > 0)
        for widget in (self.slider, self.spin):
            widget.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setPageStep(max(1, count // 20))
        self.spin.setRange(1, max(1, count))
        self.total.setText(f"/ {count}")
        self.fps_label.setText(f"  ·  {fps:g} fps")
        for widget in (self.slider, self.spin):
            widget.blockSignals(False)
        self._show_index(self.navigator.index)

    def _show_index(self, index: int) -> None:
        for widget, value in ((self.slider, index), (self.spin, index + 1)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self.strip.set_current(index)
