"""Every command of the annotator, declared once: id, text, keys, menu and handler.

The window's actions, its menus and the shortcut sheet (F1) are all built from
:data:`ACTIONS`, so a key, a menu entry and the help cannot drift apart. A handler is a dotted
path from the window (``"model.undo"``, ``"navigator.step"``) with optional arguments; a
checkable action's handler gets the new state.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

#: the menu bar, in order
MENUS = ("File", "Edit", "Tracking", "Navigate", "View", "Help")


@dataclass(frozen=True)
class ActionSpec:
    """One command. ``keys`` are QKeySequence strings (the first is shown in menus);
    ``section`` starts a new group in its menu; ``menu=""`` keeps it out of the menus (a key
    only); ``needs_video`` disables it while no video is open."""

    id: str
    text: str
    keys: tuple[str, ...]
    menu: str
    handler: str
    args: tuple[Any, ...] = ()
    checkable: bool = False
    section: bool = False
    needs_video: bool = True


def _a(id: str, text: str, keys: tuple[str, ...], menu: str, handler: str, *args: Any, **kw: Any):
    return ActionSpec(id, text, keys, menu, handler, args, **kw)


ACTIONS: tuple[ActionSpec, ...] = (
    # File
    _a("open", "Open video, folder or session…", ("Ctrl+O",), "File", "commands.open_dialog",
       needs_video=False),
    _a("open_folder", "Open folder (image sequence or dataset)…", (), "File",
       "commands.open_folder_dialog", needs_video=False),
    _a("save", "Save session now (autosave is always on)", ("Ctrl+S",), "File",
       "commands.save_now", section=True),
    _a("export", "Export VL-SOT500…", ("Ctrl+E",), "File", "commands.export_dialog"),
    _a("workspace", "Workspace folder…", (), "File", "commands.choose_workspace", section=True,
       needs_video=False),
    _a("tokenizer", "BERT tokenizer for word-piece counts…", (), "File",
       "commands.choose_tokenizer", needs_video=False),
    _a("quit", "Quit", ("Ctrl+Q",), "File", "close", section=True, needs_video=False),
    # Edit
    _a("undo", "Undo", ("Ctrl+Z",), "Edit", "model.undo"),
    _a("redo", "Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Edit", "model.redo"),
    _a("select_box", "Select the box for keyboard editing", ("E",), "Edit", "view.select_box",
       True, section=True),
    _a("toggle_absent", "Toggle target absent in this frame", ("X",), "Edit",
       "model.toggle_absent"),
    _a("absent_range", "Mark a range of frames absent / present…", ("Shift+X",), "Edit",
       "commands.absent_range_dialog"),
    _a("verify", "Verify this frame (accept its box)", ("V",), "Edit", "model.verify"),
    _a("clear_frame", "Clear this frame's annotation", ("Delete",), "Edit", "model.clear_frames"),
    _a("edit_language", "Edit the language description", ("Ctrl+L",), "Edit",
       "commands.focus_language", section=True),
    # Tracking
    _a("track_forward", "Track forward from this frame", ("T",), "Tracking", "commands.track",
       False),
    _a("track_backward", "Track backward from this frame", ("Shift+T",), "Tracking",
       "commands.track", True),
    _a("fill_segment", "Fill the segment between the keyframes around here", ("B",), "Tracking",
       "model.fill_segment"),
    _a("fill_all", "Fill every gap between keyframes", ("Shift+B",), "Tracking",
       "model.fill_all"),
    _a("cancel_run", "Cancel the running tracking job or evaluation", ("Esc",), "Tracking",
       "commands.cancel_work"),
    _a("find_target", "Find the target from the description (engines that can)",
       ("Ctrl+Shift+F",), "Tracking", "model.find_target", section=True),
    _a("accept_proposal", "Accept the proposed box as this frame's keyframe", ("Ctrl+Return",),
       "Tracking", "model.accept_proposal"),
    _a("check_proposal", "Check the frame the tool proposes", ("P",), "Tracking",
       "commands.go_to_proposal", section=True),
    _a("next_flag", "Next flagged frame", ("N",), "Tracking", "commands.go_to_flag", True),
    _a("prev_flag", "Previous flagged frame", ("Shift+N",), "Tracking", "commands.go_to_flag",
       False),
    _a("score_map", "Show the tracker's confidence map over the frame", ("M",), "Tracking",
       "commands.set_score_maps", checkable=True, section=True),
    _a("evaluate", "Evaluate the engine against the annotation", ("Ctrl+Shift+V",), "Tracking",
       "commands.evaluate_engine"),
    # Navigate
    _a("play", "Play / pause at the video's frame rate", ("Space",), "Navigate",
       "navigator.toggle_play"),
    _a("prev_frame", "Previous frame", ("Left", "A"), "Navigate", "navigator.step", -1,
       section=True),
    _a("next_frame", "Next frame", ("Right", "D"), "Navigate", "navigator.step", 1),
    _a("back_10", "Back 10 frames", ("Shift+Left", "Shift+A"), "Navigate", "navigator.step", -10),
    _a("forward_10", "Forward 10 frames", ("Shift+Right", "Shift+D"), "Navigate",
       "navigator.step", 10),
    _a("back_100", "Back 100 frames", ("PgUp",), "Navigate", "navigator.step", -100),
    _a("forward_100", "Forward 100 frames", ("PgDown",), "Navigate", "navigator.step", 100),
    _a("first_frame", "First frame", ("Home",), "Navigate", "navigator.first"),
    _a("last_frame", "Last frame", ("End",), "Navigate", "navigator.last"),
    _a("prev_keyframe", "Previous keyframe", ("[", "Ctrl+Left"), "Navigate",
       "commands.go_to_keyframe", False, section=True),
    _a("next_keyframe", "Next keyframe", ("]", "Ctrl+Right"), "Navigate",
       "commands.go_to_keyframe", True),
    _a("goto_frame", "Go to frame…", ("Ctrl+G",), "Navigate", "commands.goto_dialog"),
    # View
    _a("zoom_in", "Zoom in", ("+", "="), "View", "view.zoom_at", 1.25),
    _a("zoom_out", "Zoom out", ("-",), "View", "view.zoom_at", 0.8),
    _a("zoom_fit", "Fit frame to window", ("F",), "View", "view.fit_to_window"),
    _a("zoom_actual", "Actual pixels (100 %)", ("1",), "View", "view.set_zoom", 1.0),
    _a("follow_lock", "Lock on target: keep the box centred while stepping", ("L",), "View",
       "view.set_follow_lock", checkable=True, section=True),
    _a("ghosts", "Show previous/next boxes and the centre trail", ("G",), "View",
       "view.set_ghosts_visible", checkable=True),
    # Help
    _a("help", "Keyboard and mouse shortcuts", ("F1",), "Help", "commands.show_shortcuts",
       needs_video=False),
    _a("about", "About", (), "Help", "commands.about", needs_video=False),
)  # fmt: skip

#: keys handled by the frame view itself, only while the box is selected
BOX_KEYS: tuple[tuple[str, str], ...] = (
    ("Arrows", "Move the selected box by 1 px"),
    ("Shift+Arrows", "Move the selected box by 10 px"),
    ("Ctrl+Arrows", "Resize the selected box by 1 px (right / bottom edge)"),
    ("Ctrl+Shift+Arrows", "Resize the selected box by 10 px"),
    ("Esc / Enter", "Release the box: arrows step frames again"),
)

MOUSE: tuple[tuple[str, str], ...] = (
    ("Left-drag on the image", "Draw a new box (replaces this frame's box)"),
    ("Shift+left-drag", "Draw a new box even when starting inside the current one"),
    ("Left-drag inside the box", "Move the box"),
    ("Left-drag a handle", "Resize the box"),
    ("Click the box", "Select it for keyboard editing"),
    ("Wheel", "Zoom around the cursor (up to 32×)"),
    ("Middle-drag, or Space+drag", "Pan"),
)


def navigation_keys() -> list[str]:
    """The keys that step through frames (they must reach the frame view from any panel)."""
    return [
        k for spec in ACTIONS if spec.menu == "Navigate" and spec.id != "play" for k in spec.keys
    ]


def build_actions(window: QMainWindow) -> dict[str, QAction]:
    """A QAction per :data:`ACTIONS` entry, its handler resolved on ``window``."""
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        item = QAction(spec.text, window)
        item.setShortcuts([QKeySequence(k) for k in spec.keys])
        item.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        item.setToolTip(f"{spec.text} ({spec.keys[0]})" if spec.keys else spec.text)
        handler = _resolve(window, spec.handler)
        if spec.checkable:
            item.setCheckable(True)
            item.toggled.connect(handler)
        else:
            item.triggered.connect(_calling(handler, spec.args))
        window.addAction(item)
        actions[spec.id] = item
    return actions


def build_menus(window: QMainWindow, actions: dict[str, QAction]) -> dict[str, QMenu]:
    """The menu bar from :data:`ACTIONS`, in table order (sections become separators)."""
    menus = {name: window.menuBar().addMenu(f"&{name}") for name in MENUS}
    for spec in ACTIONS:
        if not spec.menu:
            continue
        menu = menus[spec.menu]
        if spec.section and not menu.isEmpty():
            menu.addSeparator()
        menu.addAction(actions[spec.id])
    return menus


def sheet_html() -> str:
    """The shortcut sheet as HTML (shown by F1; also handy for the README)."""
    rows: list[str] = []
    for menu in MENUS:
        entries = [spec for spec in ACTIONS if spec.menu == menu and spec.keys]
        if not entries:
            continue
        rows.append(f"<tr><td colspan=2><h3>{menu}</h3></td></tr>")
        for spec in entries:
            keys = " or ".join(f"<b>{_escape(k)}</b>" for k in spec.keys)
            rows.append(f"<tr><td>{keys}</td><td>{_escape(spec.text)}</td></tr>")
    for title, pairs in (("Selected box", BOX_KEYS), ("Mouse", MOUSE)):
        rows.append(f"<tr><td colspan=2><h3>{title}</h3></td></tr>")
        rows += [f"<tr><td><b>{_escape(k)}</b></td><td>{_escape(t)}</td></tr>" for k, t in pairs]
    return "<table cellspacing=4>" + "".join(rows) + "</table>"


def _resolve(window: object, path: str) -> Callable[..., Any]:
    try:
        return operator.attrgetter(path)(window)
    except AttributeError as error:
        raise AttributeError(f"action handler {path!r}: {error}") from None


def _calling(handler: Callable[..., Any], args: tuple[Any, ...]) -> Callable[[], None]:
    return lambda _checked=False: handler(*args)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
