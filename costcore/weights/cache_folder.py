"""Where downloaded weights live: one per-user cache folder, one sub-folder per entry.

The folder follows each platform's convention for re-creatable per-user data (weights can
always be fetched again): ``$XDG_CACHE_HOME/cost-annotator/weights`` (default
``~/.cache/cost-annotator/weights``) on Linux and other Unixes,
``~/Library/Caches/cost-annotator/weights`` on macOS and
``%LOCALAPPDATA%\\cost-annotator\\weights`` on Windows. ``COST_ANNOTATOR_WEIGHTS`` names another
folder (a shared drive, a lab-wide read-only copy, a test's temporary folder).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from costcore.weights.catalogue import WeightsEntry

#: environment variable that overrides the cache folder
CACHE_ENV_VAR = "COST_ANNOTATOR_WEIGHTS"
_APP_FOLDER = "cost-annotator"
#: suffix of a download in progress, beside its final name
PARTIAL_SUFFIX = ".partial"


def weights_cache_dir(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> Path:
    """The cache folder for this user (not created here; downloads create it)."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    override = env.get(CACHE_ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    if platform.startswith("win"):
        local = env.get("LOCALAPPDATA", "").strip()
        home = env.get("USERPROFILE", "").strip()
        base = Path(local) if local else (Path(home) if home else Path.home()) / "AppData/Local"
        return base / _APP_FOLDER / "weights"
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    if platform == "darwin":
        return home / "Library" / "Caches" / _APP_FOLDER / "weights"
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    # the XDG spec says a relative value is invalid and must be ignored
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache"
    return base / _APP_FOLDER / "weights"


def entry_folder(entry: WeightsEntry, root: Path | None = None) -> Path:
    """The folder that holds ``entry``'s files."""
    return (weights_cache_dir() if root is None else Path(root)) / entry.name


def partial_path(target: Path) -> Path:
    """Where the download of ``target`` is written until it is complete and checked."""
    return target.with_name(target.name + PARTIAL_SUFFIX)
