"""Write both editions of a chapter from one list of cells, so code is identical by construction.

    from dlbook_tools.authoring import md, code, figure, write_chapter
    write_chapter("05_perceptron", [
        md("## 5.1 한국어 제목 …", "## 5.1 English heading …"),
        code("print(1 + 1)  # NBVAL_CHECK_OUTPUT"),
        figure("fig = plot.plot_activations()\\nplt.show()", name="fig-activations",
               ko=("캡션", "대체 텍스트"), en=("caption", "alt text")),
    ])

Cell ids are stable (taken from the position or given), which `dlbook-tools sync`
uses to carry later code edits from one edition to the other.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import nbformat

from . import notebooks
from .config import ROOT

KERNEL = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


@dataclass
class Cell:
    kind: str                      # "md" | "code"
    text: dict                     # {"ko": ..., "en": ...}; code has one text for both
    id: str | None = None
    tags: list = field(default_factory=list)
    figure: dict | None = None     # {"name":, "ko": (caption, alt), "en": (caption, alt)}


def md(ko: str, en: str, *, id: str | None = None) -> Cell:
    return Cell("md", {"ko": ko, "en": en}, id)


def code(source: str, *, id: str | None = None, tags=()) -> Cell:
    return Cell("code", {"ko": source, "en": source}, id, list(tags))


def figure(source: str, *, name: str, ko: tuple[str, str], en: tuple[str, str], id: str | None = None, tags=()) -> Cell:
    """A code cell whose image output becomes a captioned figure with alt text in each language."""
    return Cell("code", {"ko": source, "en": source}, id, list(tags), {"name": name, "ko": ko, "en": en})


def notebook(stem: str, cells: list[Cell], lang: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(metadata=dict(KERNEL))
    for i, c in enumerate(cells):
        text = c.text[lang].strip("\n")
        if c.kind == "md":
            cell = nbformat.v4.new_markdown_cell(text, id=c.id or f"md-{i:02d}")
        else:
            cell = nbformat.v4.new_code_cell(text, id=c.id or f"code-{i:02d}")
            if c.tags:
                cell.metadata["tags"] = list(c.tags)
            if c.figure:
                caption, alt = c.figure[lang]
                cell.metadata["mystnb"] = {"figure": {"caption": caption, "name": c.figure["name"]}, "image": {"alt": alt}}
        nb.cells.append(cell)
    notebooks.stamp(nb, lang, stem)
    return nb


def write_chapter(stem: str, cells: list[Cell], root=ROOT) -> None:
    """Write chapters/ko/<stem>.ipynb and chapters/en/<stem>.ipynb (run `dlbook-tools execute` next)."""
    for lang in ("ko", "en"):
        notebooks.write(notebook(stem, cells, lang), root / "chapters" / lang / f"{stem}.ipynb")
