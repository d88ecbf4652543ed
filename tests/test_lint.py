"""The project's hygiene: `dlbook-tools check` runs ruff, and every test file has its one marker."""
from pathlib import Path

import pytest

from conftest import MARKED_FILES, MARKER_OF, marker_of
from dlbook_tools import cli

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("ruff", reason="the linter (pip install -e '.[test]')")


def test_ruff_step_fails_on_a_lint_error_and_passes_on_clean_code(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.ruff.lint]\nselect = ["F", "B"]\n', encoding="utf-8")
    (tmp_path / "clean.py").write_text("import os\n\nprint(os.sep)\n", encoding="utf-8")
    assert cli.lint_problems(tmp_path) == []
    (tmp_path / "messy.py").write_text("import os\n\n\ndef f(x=[]):\n    return x\n", encoding="utf-8")
    found = cli.lint_problems(tmp_path)
    assert len(found) == 2 and all(p.startswith("ruff: messy.py:") for p in found), found
    assert "F401" in found[0] and "B006" in found[1]
    assert cli.lint_problems(tmp_path, ["clean.py"]) == []


def test_ruff_step_names_the_fix_when_ruff_is_missing(monkeypatch, tmp_path):
    real = cli.importlib.util.find_spec
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name, *a: None if name == "ruff" else real(name, *a))
    assert cli.lint_problems(tmp_path) == ['ruff is not installed: pip install -e ".[test]"']


def test_every_test_file_has_exactly_one_marker():
    files = sorted(p.name for p in (ROOT / "tests").glob("test_*.py"))
    missing = [f for f in files if f not in MARKER_OF]
    assert missing == [], f"add these to MARKED_FILES in tests/conftest.py: {missing}"
    listed = [name for names in MARKED_FILES.values() for name in names]
    assert sorted(set(listed)) == sorted(listed), "a file is listed under two markers"
    assert sorted(set(listed) - set(files)) == [], "MARKED_FILES lists a file that does not exist"
    assert marker_of(ROOT / "chapters" / "en" / "05_perceptron.ipynb") == "book"


def test_markers_are_registered_and_applied(request):
    registered = {line.split(":")[0] for line in request.config.getini("markers")}
    assert set(MARKED_FILES) <= registered
    assert [m.name for m in request.node.iter_markers() if m.name in MARKED_FILES] == ["book"]
