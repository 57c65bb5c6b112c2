"""Every key and mouse binding of the annotator, in one table.

The main window builds its actions from :data:`BINDINGS` and the help sheet (F1) lists the same
table, so the sheet cannot drift from what the keys really do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Binding:
    """One command: ``keys`` are QKeySequence strings (first = shown in menus)."""

    id: str
    keys: tuple[str, ...]
    text: str
    group: str


BINDINGS: tuple[Binding, ...] = (
    # File
    Binding("open", ("Ctrl+O",), "Open video, folder or session…", "File"),
    Binding("export", ("Ctrl+E",), "Export VL-SOT500…", "File"),
    Binding("save", ("Ctrl+S",), "Save session now (autosave is always on)", "File"),
    Binding("quit", ("Ctrl+Q",), "Quit", "File"),
    # Navigation
    Binding("prev_frame", ("Left", "A"), "Previous frame", "Navigation"),
    Binding("next_frame", ("Right", "D"), "Next frame", "Navigation"),
    Binding("back_10", ("Shift+Left", "Shift+A"), "Back 10 frames", "Navigation"),
    Binding("forward_10", ("Shift+Right", "Shift+D"), "Forward 10 frames", "Navigation"),
    Binding("back_100", ("PgUp",), "Back 100 frames", "Navigation"),
    Binding("forward_100", ("PgDown",), "Forward 100 frames", "Navigation"),
    Binding("first_frame", ("Home",), "First frame", "Navigation"),
    Binding("last_frame", ("End",), "Last frame", "Navigation"),
    Binding("prev_keyframe", ("[", "Ctrl+Left"), "Previous keyframe", "Navigation"),
    Binding("next_keyframe", ("]", "Ctrl+Right"), "Next keyframe", "Navigation"),
    Binding("play", ("Space",), "Play / pause at the video's frame rate", "Navigation"),
    Binding("goto_frame", ("Ctrl+G",), "Go to frame…", "Navigation"),
    # Edit
    Binding("undo", ("Ctrl+Z",), "Undo", "Edit"),
    Binding("redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo", "Edit"),
    Binding("select_box", ("E",), "Select the box for keyboard editing", "Edit"),
    Binding("toggle_absent", ("X",), "Toggle target absent in this frame", "Edit"),
    Binding("absent_range", ("Shift+X",), "Mark a range of frames absent / present…", "Edit"),
    Binding("verify", ("V",), "Verify this frame (accept its box)", "Edit"),
    Binding("clear_frame", ("Delete",), "Clear this frame's annotation", "Edit"),
    Binding("edit_language", ("Ctrl+L",), "Edit the language description", "Edit"),
    # Tracking
    Binding("track_forward", ("T",), "Track forward from this frame", "Tracking"),
    Binding("track_backward", ("Shift+T",), "Track backward from this frame", "Tracking"),
    Binding(
        "fill_segment", ("B",), "Fill the segment between the keyframes around here", "Tracking"
    ),
    Binding("cancel_run", ("Esc",), "Cancel the running tracking job", "Tracking"),
    Binding("next_flag", ("N",), "Next flagged frame", "Tracking"),
    Binding("prev_flag", ("Shift+N",), "Previous flagged frame", "Tracking"),
    Binding("score_map", ("M",), "Show the tracker's confidence map over the frame", "Tracking"),
    Binding(
        "evaluate", ("Ctrl+Shift+V",), "Evaluate the engine against the annotation", "Tracking"
    ),
    # View
    Binding("zoom_in", ("+", "="), "Zoom in", "View"),
    Binding("zoom_out", ("-",), "Zoom out", "View"),
    Binding("zoom_fit", ("F",), "Fit frame to window", "View"),
    Binding("zoom_actual", ("1",), "Actual pixels (100 %)", "View"),
    Binding("follow_lock", ("L",), "Lock on target: keep the box centred while stepping", "View"),
    Binding("ghosts", ("G",), "Show previous/next boxes and the centre trail", "View"),
    # Help
    Binding("help", ("F1",), "Keyboard and mouse shortcuts", "Help"),
)

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


def binding(binding_id: str) -> Binding:
    for item in BINDINGS:
        if item.id == binding_id:
            return item
    raise KeyError(binding_id)


def sheet_html() -> str:
    """The shortcut sheet as HTML (shown by F1; also handy for the README)."""
    rows: list[str] = []
    group = None
    for item in BINDINGS:
        if item.group != group:
            group = item.group
            rows.append(f"<tr><td colspan=2><h3>{group}</h3></td></tr>")
        keys = " or ".join(f"<b>{_escape(k)}</b>" for k in item.keys)
        rows.append(f"<tr><td>{keys}</td><td>{_escape(item.text)}</td></tr>")
    for title, entries in (("Selected box", BOX_KEYS), ("Mouse", MOUSE)):
        rows.append(f"<tr><td colspan=2><h3>{title}</h3></td></tr>")
        rows += [f"<tr><td><b>{_escape(k)}</b></td><td>{_escape(t)}</td></tr>" for k, t in entries]
    return "<table cellspacing=4>" + "".join(rows) + "</table>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
