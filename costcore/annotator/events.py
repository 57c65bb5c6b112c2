"""A minimal, Qt-free event emitter: how costcore's models tell views that something changed.

napari's ``EventedModel`` idea in a few lines: a model owns :class:`Event` attributes; a view
connects callbacks and the model emits. The Qt layer turns these into signals (or just calls
its widgets); tests connect plain functions. Callbacks run synchronously, in connection order,
on the thread that emits: models are changed on the UI thread only, workers report through
their own channels.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

Callback = Callable[..., Any]


class Event:
    """One kind of notification; ``connect`` a callback, ``emit`` calls them all."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callback] = []

    def connect(self, callback: Callback) -> Callback:
        """Call ``callback(*args)`` on every emit; returns it, so it can be disconnected."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback) -> None:
        """Stop calling ``callback`` (a callback that is not connected is ignored)."""
        with contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        # a copy: a callback may disconnect itself (or connect another) while we iterate
        for callback in list(self._callbacks):
            callback(*args)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._callbacks)} callbacks)"
