"""Weights a user gets in one step: a catalogue of published files, a per-user cache, checked
downloads (resumable, atomic) and offline installs. Qt-free and standard-library only, so the
app can ask at start-up which engines are ready without importing torch.

Typical use::

    from costcore.weights import installed_path, download_entry, entry_status
    path = installed_path("nanotrack-v3")          # Path, or None when not (correctly) there
    if path is None:
        path = download_entry("nanotrack-v3", progress=report, cancel=should_stop)

The cache folder is :func:`weights_cache_dir` (``COST_ANNOTATOR_WEIGHTS`` overrides it); every
function takes ``root=`` to use another folder.
"""

from costcore.weights.cache_folder import CACHE_ENV_VAR, entry_folder, weights_cache_dir
from costcore.weights.catalogue import (
    CATALOGUE,
    WeightsEntry,
    WeightsFile,
    catalogue_entries,
    entries_for_engine,
    find_entry,
)
from costcore.weights.download import (
    DEFAULT_TIMEOUT_S,
    CancelCallback,
    ProgressCallback,
    download_entry,
)
from costcore.weights.errors import (
    WeightsCatalogueError,
    WeightsChecksumError,
    WeightsDownloadError,
    WeightsHTTPError,
    WeightsOfflineError,
    WeightsSourceError,
    WeightsTransferCutError,
)
from costcore.weights.install import install_from
from costcore.weights.status import (
    FileCheck,
    WeightsNotInstalledError,
    WeightsStatus,
    check_entry,
    entry_status,
    first_installed,
    install_hint,
    installed_path,
    require_installed,
    verify_entry,
)

__all__ = [
    "CACHE_ENV_VAR",
    "CATALOGUE",
    "DEFAULT_TIMEOUT_S",
    "CancelCallback",
    "FileCheck",
    "ProgressCallback",
    "WeightsCatalogueError",
    "WeightsChecksumError",
    "WeightsDownloadError",
    "WeightsEntry",
    "WeightsFile",
    "WeightsHTTPError",
    "WeightsNotInstalledError",
    "WeightsOfflineError",
    "WeightsSourceError",
    "WeightsStatus",
    "WeightsTransferCutError",
    "catalogue_entries",
    "check_entry",
    "download_entry",
    "entries_for_engine",
    "entry_folder",
    "entry_status",
    "find_entry",
    "first_installed",
    "install_from",
    "install_hint",
    "installed_path",
    "require_installed",
    "verify_entry",
    "weights_cache_dir",
]
