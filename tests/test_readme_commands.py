"""The README's set-up commands are the ones CI runs, so a green CI proves the README works."""

from __future__ import annotations

import re

from tests.conftest import PROJECT_ROOT


def _bash_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    ci_script = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_commands = [b for b in _bash_blocks(readme) if "pytest" in b]
    assert len(test_commands) == 1, "the README must show exactly one test command"
    command = test_commands[0]
    ci_lines = [line.strip() for line in ci_script.splitlines()]
    assert command in ci_lines, f".ci/run does not run the README's test command: {command!r}"


def test_readme_app_command_installs_cpu_torch_first_and_starts_main() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    app_commands = [b for b in _bash_blocks(readme) if b.endswith("python main.py")]
    assert len(app_commands) == 1
    assert app_commands[0].startswith("pip install torch==2.13.0 && ")


def test_ci_makes_a_fresh_venv_and_runs_offscreen() -> None:
    ci_script = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m venv" in ci_script
    assert "QT_QPA_PLATFORM=offscreen" in ci_script
    assert "set -euo pipefail" in ci_script
