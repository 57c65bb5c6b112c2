"""Errors raised while choosing, building or running a tracking engine.

They derive from :class:`costcore.errors.CostcoreError`, so the CLI and the app report them as
one clear line instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path

from costcore.errors import CostcoreError


class EngineError(CostcoreError):
    """An engine cannot be created or used as asked (unknown name, bad box, bad option)."""


class WeightsError(EngineError):
    """A weights file or checkpoint folder is missing or unreadable; ``path`` names it."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")
