"""Undo/redo history over one :class:`VideoAnnotation`.

The app pushes every edit here; listeners hear about each apply/undo/redo (which frames
changed, whether video-level fields changed) and redraw or autosave. The clean marker records
the state last saved, so the app can show "unsaved changes" and clear it when undo returns
to the saved point.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from costcore.annotation.commands import Change, Command, Macro
from costcore.annotation.model import VideoAnnotation

Listener = Callable[[Change], None]


class UndoStack:
    """Linear history of applied commands with a cursor (``index``) and a bounded length.

    Commands ``[0, index)`` are applied; ``[index, count)`` form the redo branch, which a new
    push drops. Pushing past ``limit`` forgets the oldest step.
    """

    def __init__(self, video: VideoAnnotation, *, limit: int = 1000) -> None:
        if limit < 1:
            raise ValueError(f"history limit must be at least 1, got {limit}")
        self._video = video
        self._limit = limit
        self._commands: list[Command] = []
        self._index = 0
        self._clean: int | None = 0  # history position of the saved state; None: unreachable
        self._listeners: list[Listener] = []
        self._macro: list[Command] | None = None  # commands of the open macro, if any
        self._macro_depth = 0

    # ------------------------------------------------------------------------ state
    @property
    def video(self) -> VideoAnnotation:
        return self._video

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def count(self) -> int:
        """Number of steps in the history (applied plus redoable)."""
        return len(self._commands)

    @property
    def index(self) -> int:
        """Number of applied steps."""
        return self._index

    @property
    def can_undo(self) -> bool:
        return self._index > 0 and self._macro is None

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._commands) and self._macro is None

    @property
    def undo_text(self) -> str:
        """Label of the step undo would revert ("" when there is none), for the Edit menu."""
        return self._commands[self._index - 1].text if self._index > 0 else ""

    @property
    def redo_text(self) -> str:
        return self._commands[self._index].text if self._index < len(self._commands) else ""

    @property
    def is_clean(self) -> bool:
        """True when the state is the one last marked clean (saved)."""
        return self._clean == self._index and self._macro is None

    def mark_clean(self) -> None:
        """Call after saving: the current state is the saved one."""
        self._clean = self._index

    def clear(self) -> None:
        """Forget the history (e.g. after loading a session); the state itself is kept."""
        if self._macro is not None:
            raise RuntimeError("cannot clear the history while a macro is open")
        self._clean = 0 if self._clean == self._index else None
        self._commands.clear()
        self._index = 0

    # -------------------------------------------------------------------- listeners
    def add_listener(self, listener: Listener) -> Listener:
        """Call ``listener(change)`` after every apply, undo and redo. Returns it."""
        self._listeners.append(listener)
        return listener

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def _notify(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    # ---------------------------------------------------------------------- editing
    def push(self, command: Command) -> Change:
        """Apply ``command`` and record it as the newest step (or merge it into the newest).

        If applying raises, nothing is recorded and the state is unchanged.
        """
        change = command.apply(self._video)
        if self._macro is not None:
            self._macro.append(command)
        elif not self._merges(command):
            self._record(command)
        self._notify(change)
        return change

    def _merges(self, command: Command) -> bool:
        """Merge into the newest step, unless that would change the saved state's step."""
        self._drop_redo_branch()
        if self._index == 0 or self._clean == self._index:
            return False
        return self._commands[self._index - 1].merge_with(command)

    def _drop_redo_branch(self) -> None:
        del self._commands[self._index :]
        if self._clean is not None and self._clean > self._index:
            self._clean = None

    def _record(self, command: Command) -> None:
        self._drop_redo_branch()
        self._commands.append(command)
        self._index += 1
        overflow = len(self._commands) - self._limit
        if overflow > 0:
            del self._commands[:overflow]
            self._index -= overflow
            if self._clean is not None:
                self._clean = self._clean - overflow if self._clean >= overflow else None

    def undo(self) -> Change | None:
        """Revert the newest applied step; None when there is nothing to undo."""
        self._refuse_in_macro("undo")
        if self._index == 0:
            return None
        self._index -= 1
        change = self._commands[self._index].revert(self._video)
        self._notify(change)
        return change

    def redo(self) -> Change | None:
        """Re-apply the step undo last reverted; None when there is nothing to redo."""
        self._refuse_in_macro("redo")
        if self._index == len(self._commands):
            return None
        change = self._commands[self._index].apply(self._video)
        self._index += 1
        self._notify(change)
        return change

    def _refuse_in_macro(self, what: str) -> None:
        if self._macro is not None:
            raise RuntimeError(f"cannot {what} while a macro is open")

    @contextmanager
    def macro(self, text: str) -> Iterator[None]:
        """Group the pushes inside the ``with`` block into one undo step labelled ``text``.

        Each push is applied and announced at once (the app redraws while a tracker streams
        results); the group is recorded when the block ends, also when it ends with an error
        (for example a cancelled tracking run keeps what it produced). Nested blocks join the
        outermost one.
        """
        if self._macro is None:
            self._macro = []
        self._macro_depth += 1
        try:
            yield
        finally:
            self._macro_depth -= 1
            if self._macro_depth == 0:
                commands, self._macro = self._macro, None
                if commands:
                    self._record(Macro(text, commands))
