"""The architecture of docs/ARCHITECTURE.md holds: import-linter's contracts in pyproject.toml
(costcore never imports Qt or the app; each layer imports only the layers below it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

LINT = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))


def lint(*args: str) -> subprocess.CompletedProcess[str]:
    if not Path(LINT).exists():
        pytest.fail("lint-imports is missing: install the test extras (pip install -e '.[test]')")
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.run(
        [LINT, "--no-cache", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )


def test_the_layer_contracts_are_kept() -> None:
    done = lint()
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout


def test_the_linter_sees_real_imports(tmp_path: Path) -> None:
    """A contract the code does break is reported: the check above is not vacuous."""
    config = tmp_path / "contracts.ini"
    config.write_text(
        "[importlinter]\nroot_packages =\n    costcore\n    app\n\n"
        "[importlinter:contract:made-up]\nname = the window may not use the model\n"
        "type = forbidden\nsource_modules =\n    app.main_window\n"
        "forbidden_modules =\n    costcore.annotator\n"
    )
    done = lint("--config", str(config))
    assert done.returncode != 0
    assert "app.main_window -> costcore.annotator" in done.stdout
