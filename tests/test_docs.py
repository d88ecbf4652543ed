"""Documentation is executable: every command in a ```bash block of CONTRIBUTING.md runs, as printed."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^ *```bash\n(.*?)^ *```", re.M | re.S)


def bash_commands(doc: Path) -> list[str]:
    """The commands of a document's ```bash blocks: one per non-comment line, comments stripped."""
    commands = []
    for block in BLOCK.findall(doc.read_text(encoding="utf-8")):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def test_contributing_has_commands():
    assert bash_commands(ROOT / "CONTRIBUTING.md"), "CONTRIBUTING.md prints no ```bash command"


@pytest.mark.parametrize("command", bash_commands(ROOT / "CONTRIBUTING.md"))
def test_contributing_command_runs_as_printed(command):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               DLBOOK_PROGRESS="0")
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"{command!r} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
