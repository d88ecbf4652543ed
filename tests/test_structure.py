"""The two editions share one structure, and every cross-reference in the prose points somewhere.

Reads the notebooks as JSON only (no kernel, no nbformat validation), so it runs in well under a second.

- Numbered headings (``# 9.``, ``## 9.3 …``, ``### 9.3.1 …``) and the levels of all headings
  (``### …`` included) sit in the same cells of both editions.
- Every reference in the prose resolves: ``Section 9.3`` / ``section 9.3`` / ``Sections 9.2 and 9.3`` /
  ``§9.3`` / ``9.3절`` to a numbered heading of that chapter, ``chapter 5`` / ``Chapter 5`` /
  ``chapters 5 and 9`` / ``§5`` / ``5장`` to an existing chapter. ``N장`` counts as a reference only
  when a particle that follows chapter references comes next (``5장에서``, ``5장의``, ``(5장)``, ``5장,``):
  ``500장``, ``32장을``, ``10장씩`` are image counts.
- Every chapter ends with the same number (3–6) of open "Explore" prompts in both editions.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
KO = sorted((CHAPTERS / "ko").glob("[0-9][0-9]_*.ipynb"))

HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
NUMBER = re.compile(r"^(\d+(?:\.\d+)*)\.?(?:\s|$)")
FENCE = re.compile(r"^\s*(```|~~~)")

SECTION = r"\d+\.\d+(?:\.\d+)*"
LIST_SEP = r"(?:,\s*|\s+and\s+|\s+or\s+|\s*[–-]\s*)"
EN_SECTIONS = re.compile(rf"\b[Ss]ections?\s+({SECTION}(?:{LIST_SEP}{SECTION})*)")
EN_CHAPTERS = re.compile(rf"\b[Cc]hapters?\s+(\d+(?:{LIST_SEP}\d+)*)\b(?!\.\d)")
PARAGRAPH_SIGN = re.compile(r"§\s?(\d+(?:\.\d+)*)")
KO_SECTION = re.compile(rf"(?<![\d.])({SECTION})절")
KO_CHAPTER = re.compile(r"(?<![\d,.])(\d{1,2})장(?=에서|의|부터|까지|에|과|와|\)|,)")


def _source(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _cells(path: Path) -> list:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _lines_outside_fences(text: str):
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield line


def headings(cells) -> list[tuple[int, int, str | None]]:
    """(cell index, level, number or None) for every markdown heading."""
    found = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for line in _lines_outside_fences(_source(cell)):
            m = HEADING.match(line)
            if m:
                num = NUMBER.match(m.group(2))
                found.append((i, len(m.group(1)), num.group(1) if num else None))
    return found


def references(text: str) -> list[tuple[str, str]]:
    """(kind, target) for each cross-reference in ``text``: kind is 'section' or 'chapter'."""
    refs = []
    for m in EN_SECTIONS.finditer(text):
        refs += [("section", s) for s in re.findall(SECTION, m.group(1))]
    for m in EN_CHAPTERS.finditer(text):
        refs += [("chapter", c) for c in re.findall(r"\d+", m.group(1))]
    for m in PARAGRAPH_SIGN.finditer(text):
        refs.append(("section" if "." in m.group(1) else "chapter", m.group(1)))
    refs += [("section", s) for s in KO_SECTION.findall(text)]
    refs += [("chapter", c) for c in KO_CHAPTER.findall(text)]
    return refs


def _prose(text: str) -> str:
    """The text without fenced code, inline code and link targets, where numbers are not references."""
    text = "\n".join(_lines_outside_fences(text))
    text = re.sub(r"`[^`\n]*`", " ", text)
    return re.sub(r"\]\([^)]*\)", "]", text)


def _book(lang: str) -> tuple[set[str], dict[str, set[str]]]:
    """Chapter numbers, and the numbered headings of each chapter, of one edition."""
    chapters, sections = set(), {}
    for path in sorted((CHAPTERS / lang).glob("[0-9][0-9]_*.ipynb")):
        n = str(int(path.name[:2]))
        chapters.add(n)
        sections[n] = {num for _, _, num in headings(_cells(path)) if num}
    return chapters, sections


def broken_references(path: Path, chapters: set[str], sections: dict[str, set[str]]) -> list[str]:
    problems = []
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "markdown":
            continue
        for kind, target in references(_prose(_source(cell))):
            if kind == "chapter":
                ok = target in chapters
            else:
                ok = target in sections.get(target.split(".")[0], set())
            if not ok:
                where = f"{path.relative_to(ROOT)} cell {i}"
                problems.append(f"{where}: {kind} {target} does not exist")
    return problems


@pytest.mark.parametrize("ko", KO, ids=lambda p: p.stem)
def test_editions_have_the_same_headings_in_the_same_cells(ko):
    en = CHAPTERS / "en" / ko.name
    ko_cells, en_cells = _cells(ko), _cells(en)
    assert len(ko_cells) == len(en_cells), f"{ko.stem}: {len(ko_cells)} cells in ko, {len(en_cells)} in en"
    ko_h, en_h = headings(ko_cells), headings(en_cells)
    missing = sorted(set(ko_h) - set(en_h))
    extra = sorted(set(en_h) - set(ko_h))

    def show(rows):
        return ", ".join(f"cell {i}: {'#' * level} {num or '(unnumbered)'}" for i, level, num in rows)

    assert not missing and not extra, (
        f"{ko.stem}: headings differ between editions — only in ko: [{show(missing)}]; only in en: [{show(extra)}]")


EXPLORE = {"ko": "## 더 탐구하기", "en": "## Explore"}
PROMPT = re.compile(r"^\d+\.\s+\S")


@pytest.mark.parametrize("ko", KO, ids=lambda p: p.stem)
def test_every_chapter_ends_with_explore_prompts_in_both_editions(ko):
    """d2l's habit: open experiments after the summary, apart from the graded exercise (3–6 per chapter)."""
    counts = {}
    for lang in ("ko", "en"):
        last = _cells(CHAPTERS / lang / ko.name)[-1]
        text = _source(last)
        assert last["cell_type"] == "markdown" and last.get("id") == "md-explore" and text.startswith(EXPLORE[lang]), (
            f"{lang}/{ko.name}: the last cell must be the Explore cell (id md-explore) starting {EXPLORE[lang]!r}")
        counts[lang] = sum(bool(PROMPT.match(line)) for line in text.splitlines())
        assert 3 <= counts[lang] <= 6, f"{lang}/{ko.name}: {counts[lang]} numbered prompts, expected 3–6"
    assert counts["ko"] == counts["en"], f"{ko.stem}: {counts['ko']} prompts in ko, {counts['en']} in en"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_cross_reference_resolves(lang):
    chapters, sections = _book(lang)
    problems = []
    for path in sorted((CHAPTERS / lang).glob("[0-9][0-9]_*.ipynb")):
        problems += broken_references(path, chapters, sections)
    assert problems == [], "\n".join(problems)


def test_the_reference_patterns():
    text = ("See Section 9.3, sections 4.2 and 4.3, §13.4, chapter 5, chapters 5 and 9, Chapter 12. "
            "9.2절과 11장에서, (5장, 9장) 그리고 이미지 500장, 32장을, 10장씩, 50장으로")
    assert references(text) == [
        ("section", "9.3"), ("section", "4.2"), ("section", "4.3"),
        ("chapter", "5"), ("chapter", "5"), ("chapter", "9"), ("chapter", "12"),
        ("section", "13.4"), ("section", "9.2"), ("chapter", "11"), ("chapter", "5"), ("chapter", "9")]
    assert references(_prose("`model.layer 3장의` [x](https://a/section 9.9)")) == []
    cells = [{"cell_type": "markdown", "source": "# 9. T\n```\n# not a heading\n```\n## 9.1 A\n### Why"},
             {"cell_type": "code", "source": "# 9.2 comment"}]
    assert headings(cells) == [(0, 1, "9"), (0, 2, "9.1"), (0, 3, None)]
