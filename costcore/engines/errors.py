"""Errors raised while choosing, building or running a tracking engine.

They derive from :class:`costcore.errors.CostcoreError`, so the CLI and the app report them as
one clear line instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path

from costcore.errors import CostcoreError, FormatError


class EngineError(CostcoreError):
    """An engine cannot be created or used as asked (unknown name, bad box, bad option)."""


class WeightsError(EngineError):
    """A weights file or checkpoint folder is missing or unreadable; ``path`` names it."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


class CheckpointError(WeightsError, FormatError):
    """A checkpoint file that is missing, unreadable or does not fit the network.

    Both a :class:`WeightsError` (what engines raise for weights) and a
    :class:`~costcore.errors.FormatError` (what a malformed file raises); ``path`` names it.
    """

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        self.message = message
        self.line = None
        Exception.__init__(self, f"{self.path}: {message}")
