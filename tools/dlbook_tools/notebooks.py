"""Notebook chores, each defined once: the standard header and footer cells, the
code-cell sync between editions, and execution that keeps only checked outputs."""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from .config import ROOT, colab_url, editions, repository

HEADER_TAG = "dlbook-header"
FOOTER_TAG = "dlbook-footer"
CHECK = "NBVAL_CHECK_OUTPUT"

HEADER = '''\
# 준비 · Setup — in Colab this installs dlbook; elsewhere it is installed already.
import sys

if "google.colab" in sys.modules:
    %pip install -q "dlbook @ git+{url}@{branch}"

import dlbook
from dlbook import plot{imports}
{language}
dlbook.seed_everything(0)
plot.setup()
device = dlbook.device()
print("dlbook", dlbook.__version__, "· device:", device)'''
# A chapter's header sets its edition's language (the one line in which the editions' code differs);
# an exercise, read in both languages, leaves it unset, and `tr` shows both.
LANGUAGE_LINE = '\ndlbook.set_language("{lang}")  # 그림과 출력의 언어 · the language of figures and printed labels'

FOOTER = {
    "ko": (
        "---\n\n"
        "**연습 문제** · 이 장의 연습 문제를 [Colab에서 열거나]({colab}) [GitHub에서 내려받아]({github}) "
        "JupyterLab에서 풀어 보세요. 노트북 안의 테스트 셀을 실행하면 스스로 채점할 수 있습니다."
    ),
    "en": (
        "---\n\n"
        "**Exercise** · [Open this chapter's exercise in Colab]({colab}) or "
        "[download it from GitHub]({github}) and solve it in JupyterLab. "
        "Run the test cells inside the notebook to check your own answers."
    ),
}


def header_source(lang: str | None = None, root: Path = ROOT) -> str:
    """The setup cell of a chapter in edition ``lang``, or of an exercise (``None``)."""
    if lang is not None and lang not in FOOTER:
        raise ValueError(f"lang must be one of {sorted(FOOTER)} or None (an exercise), got {lang!r}")
    url, branch = repository(root)
    if lang is None:
        return HEADER.format(url=url, branch=branch, imports="", language="")
    return HEADER.format(url=url, branch=branch, imports=", tr", language=LANGUAGE_LINE.format(lang=lang))


def footer_source(lang: str, stem: str, root: Path = ROOT) -> str:
    url, branch = repository(root)
    path = f"exercises/{stem}.ipynb"
    return FOOTER[lang].format(colab=colab_url(path, root), github=f"{url}/blob/{branch}/{path}")


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def write(nb, path) -> None:
    nbformat.validate(nb)
    text = nbformat.writes(nb) + "\n"
    Path(path).write_text(text, encoding="utf-8")


def tagged(nb, tag: str) -> list:
    return [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and CHECK in cell.source


# ---------------------------------------------------------------- header and footer
def stamp(nb, lang: str | None, stem: str, root: Path = ROOT, *, exercise: bool | None = None) -> bool:
    """Make the header (and, for chapters, the exercise footer) current. Returns True if changed."""
    before = nbformat.writes(nb)
    headers = tagged(nb, HEADER_TAG)
    if headers:
        headers[0].source = header_source(lang, root)
    else:
        cell = nbformat.v4.new_code_cell(header_source(lang, root), id="dlbook-header")
        cell.metadata["tags"] = [HEADER_TAG, "hide-input"]
        nb.cells.insert(_header_index(nb), cell)
    if lang is not None:
        if exercise is None:
            exercise = (root / "solutions" / f"{stem}.ipynb").exists()
        footers = tagged(nb, FOOTER_TAG)
        if exercise:
            if footers:
                footers[0].source = footer_source(lang, stem, root)
            else:
                cell = nbformat.v4.new_markdown_cell(footer_source(lang, stem, root), id="dlbook-footer")
                cell.metadata["tags"] = [FOOTER_TAG]
                nb.cells.append(cell)
        else:
            nb.cells = [c for c in nb.cells if c not in footers]
    return nbformat.writes(nb) != before


def _header_index(nb) -> int:
    """Right after the title cell (the first cell, when it is markdown)."""
    return 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0


# ---------------------------------------------------------------- editions
def counterpart(path: Path, lang: str) -> Path:
    path = Path(path).resolve()
    return path.parent.parent / lang / path.name


def is_header(cell) -> bool:
    return HEADER_TAG in cell.get("metadata", {}).get("tags", [])


def shared_code(nb) -> list:
    """The code cells both editions share: all but the header, which `stamp` writes per edition."""
    return [c for c in code_cells(nb) if not is_header(c)]


def sync_code(source_nb, target_nb) -> list[str]:
    """Give ``target_nb`` the code cells of ``source_nb`` (sources and tags, not outputs).

    Code cells are matched by cell id: changed ones are updated in place, new ones are
    inserted after the cell that precedes them in the source, and code cells the source
    no longer has are removed. Markdown cells and the header of the target are never
    touched. Each edition executes on its own (its outputs speak its language), so a cell
    whose code changed loses its outputs until the target is executed.
    Returns a list of what changed.
    """
    changes = []
    src_ids = [c.id for c in source_nb.cells]
    src_code = {c.id: c for c in shared_code(source_nb)}
    keep = []
    for c in target_nb.cells:
        if c.cell_type == "code" and not is_header(c) and c.id not in src_code:
            changes.append(f"removed code cell {c.id}")
        else:
            keep.append(c)
    target_nb.cells = keep
    for cid, cell in src_code.items():
        existing = next((c for c in target_nb.cells if c.id == cid), None)
        if existing is not None:
            if existing.cell_type != "code":
                raise ValueError(f"cell {cid} is code in one edition and {existing.cell_type} in the other")
            if existing.source != cell.source:
                changes.append(f"updated code cell {cid}")
                existing.source = cell.source
                existing.outputs = []
                existing.execution_count = None
            if cell.metadata.get("tags"):
                existing.metadata["tags"] = list(cell.metadata["tags"])
            else:
                existing.metadata.pop("tags", None)
            continue
        # insert after the nearest preceding cell that the target also has
        at = 0
        for prev in reversed(src_ids[: src_ids.index(cid)]):
            idx = next((i for i, c in enumerate(target_nb.cells) if c.id == prev), None)
            if idx is not None:
                at = idx + 1
                break
        new = copy.deepcopy(cell)
        new.outputs, new.execution_count = [], None
        target_nb.cells.insert(at, new)
        changes.append(f"added code cell {cid}")
    return changes


def code_differences(a, b) -> list[str]:
    """Where two editions' shared code cells differ (empty when they are identical)."""
    ca, cb = shared_code(a), shared_code(b)
    problems = []
    if len(ca) != len(cb):
        problems.append(f"{len(ca)} code cells vs {len(cb)}")
    for i, (x, y) in enumerate(zip(ca, cb), 1):
        if x.source != y.source:
            problems.append(f"code cell {i} (id {x.id} / {y.id}) differs:\n--- {x.source[:200]}\n+++ {y.source[:200]}")
    return problems


# ---------------------------------------------------------------- execution
def execute(nb, cwd: Path, timeout: int = 600, lang: str | None = None) -> list[str]:
    """Run every cell in ``cwd`` and keep only the outputs nbval checks.

    Returns, for a chapter of edition ``lang``, the figures whose labels are not in its language
    (``edition_language``), read before their outputs are dropped.
    """
    from nbclient import NotebookClient

    from .edition_language import executed_figure_problems

    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    problems = executed_figure_problems(nb, lang) if lang else []
    strip_unchecked_outputs(nb)
    return problems


def strip_unchecked_outputs(nb) -> None:
    for cell in code_cells(nb):
        if not is_checked(cell):  # nbval needs the count of a cell whose outputs it compares
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)


def other_editions(lang: str) -> list[str]:
    return [e.code for e in editions() if e.code != lang]
