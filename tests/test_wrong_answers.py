"""Plausible wrong answers must fail each exercise's tests: tests/wrong_answers/NN_slug.yml.

Each exercise runs once, in one in-process IPython shell, with its reference solutions. For every
wrong answer listed for a solution cell (its nbgrader ``grade_id``) the wrong source runs in place of
the reference, then the task's test cells with the hidden tests stripped (what the student sees) and
whole (what the autograder runs); the reference is then restored. ``visible: fail`` means the visible
tests must already catch the mistake (the task text rules it out); ``visible: pass`` means only the
hidden tests do. The full tests must always fail. Format:

    task_grade_id:                 # grade_id of the nbgrader solution cell
      - why: in-place update of the momentum buffer
        visible: fail              # or pass
        replace: [["old", "new"]]  # edits to the reference source (each old must occur), or
        source: |                  # a whole replacement source for the cell
          ...
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ALL_STEMS = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
# Exercises whose wrong answers are still to be written (issue 16); the set may only shrink.
PENDING: set[str] = set()
STEMS = [s for s in ALL_STEMS if s not in PENDING]
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)
KEYS = {"why", "visible", "replace", "source"}


def visible_part(source: str) -> str:
    """A test cell as the student's notebook has it: the hidden tests removed."""
    return HIDDEN.sub("", source)


def wrong_source(reference: str, entry: dict) -> str:
    """The wrong answer's cell source, from ``source`` or the ``replace`` edits of ``reference``."""
    if "source" in entry:
        return entry["source"]
    source = reference
    for old, new in entry["replace"]:
        assert old in source, f"replace: {old!r} does not occur in the reference solution"
        source = source.replace(old, new)
    assert source != reference, "the edits leave the reference solution unchanged"
    return source


def load_entries(stem: str) -> dict:
    path = ROOT / "tests" / "wrong_answers" / f"{stem}.yml"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: every exercise lists its plausible wrong answers"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data, f"{path.name}: expected a mapping grade_id → list of wrong answers"
    for grade_id, entries in data.items():
        assert isinstance(entries, list) and entries, f"{path.name}: {grade_id} needs a non-empty list"
        for entry in entries:
            assert isinstance(entry, dict) and set(entry) <= KEYS, f"{path.name}: {grade_id}: keys are {sorted(KEYS)}"
            assert isinstance(entry.get("why"), str) and entry["why"].strip(), f"{path.name}: {grade_id}: `why` is required"
            assert entry.get("visible") in ("fail", "pass"), f"{path.name}: {grade_id}: visible must be fail or pass"
            assert ("source" in entry) != ("replace" in entry), f"{path.name}: {grade_id}: give one of replace / source"
    return data


def tasks(nb) -> dict:
    """grade_id of each solution cell → (its index, the indices of the test cells that follow it)."""
    out, current = {}, None
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            current = meta["grade_id"]
            out[current] = (i, [])
        elif meta.get("grade") and current is not None:
            out[current][1].append(i)
    return out


class Shell:
    """One in-process IPython shell; ``run`` says whether a cell ran without an error."""

    def __init__(self):
        import matplotlib
        from IPython.core.interactiveshell import InteractiveShell

        matplotlib.use("Agg")  # not MPLBACKEND: the notebook kernels this worker starts later would inherit it
        InteractiveShell.clear_instance()
        self.ip = InteractiveShell.instance()
        self.ip.showtraceback = lambda *a, **k: None  # failures are expected; keep the log short
        self.ip.run_cell("import torch; torch.set_num_threads(1)", silent=True)

    def run(self, source: str) -> bool:
        result = self.ip.run_cell(source, silent=True, store_history=False)
        return result.error_before_exec is None and result.error_in_exec is None

    def close(self):
        from IPython.core.interactiveshell import InteractiveShell

        self.ip.reset(new_session=False)
        InteractiveShell.clear_instance()


def test_every_exercise_but_the_pending_lists_its_wrong_answers():
    missing = {s for s in ALL_STEMS if not (ROOT / "tests" / "wrong_answers" / f"{s}.yml").exists()}
    assert missing == PENDING, f"missing: {sorted(missing - PENDING)}; written, so remove from PENDING: {sorted(PENDING - missing)}"


@pytest.mark.parametrize("stem", STEMS)
def test_wrong_answers_fail_the_tests(stem, tmp_path, monkeypatch):
    data = load_entries(stem)
    nb = nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", as_version=4)
    found = tasks(nb)
    unknown = sorted(set(data) - set(found))
    assert not unknown, f"{stem}.yml names no solution cell: {unknown}; solution cells: {sorted(found)}"
    monkeypatch.chdir(tmp_path)
    shell = Shell()
    problems = []
    try:
        for i, cell in enumerate(nb.cells):  # the reference solution, whole: every test must pass
            if cell.cell_type == "code":
                assert shell.run(cell.source), f"{stem}: reference cell {i} fails:\n{cell.source[:300]}"
        for grade_id, entries in data.items():
            index, test_cells = found[grade_id]
            assert test_cells, f"{stem}: {grade_id} has no test cell after it"
            reference = nb.cells[index].source
            for entry in entries:
                shell.run(wrong_source(reference, entry))  # a wrong answer may crash: its tests then fail
                visible_ok = all(shell.run(visible_part(nb.cells[t].source)) for t in test_cells)
                full_ok = all(shell.run(nb.cells[t].source) for t in test_cells)
                if full_ok:
                    problems.append(f"{grade_id}: {entry['why']}: passes the full tests")
                if entry["visible"] == "fail" and visible_ok:
                    problems.append(f"{grade_id}: {entry['why']}: passes the visible tests (expected: fail)")
                if entry["visible"] == "pass" and not visible_ok:
                    problems.append(f"{grade_id}: {entry['why']}: fails the visible tests (declared visible: pass)")
                assert shell.run(reference), f"{stem}: restoring {grade_id} failed"
                assert all(shell.run(nb.cells[t].source) for t in test_cells), f"{stem}: {grade_id} fails after restoring"
    finally:
        shell.close()
    assert not problems, f"{stem}:\n" + "\n".join(problems)
