"""The README's promises: its example runs, and CI runs its test command."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_setup_commands():
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)[:2]
    assert "advokit demo" in commands[0]
    assert "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def test_compose_your_first_program_example_runs(tmp_path, monkeypatch, capsys):
    code = re.search(r"## Compose your first program\n\n```python\n(.*?)\n```", README, re.S)
    script = tmp_path / "first_program.py"
    script.write_text(code.group(1))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADVOKIT_LOAD_PLUGINS", "")  # no third-party plugins from this venv
    runpy.run_path(str(script))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "42"
    assert "advocate='c-1'" in out[1]
