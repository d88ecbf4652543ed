"""The glossary: one data file (``glossary.yml``), a page in each edition, and a lint for Korean prose."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .config import ROOT


@dataclass(frozen=True)
class Term:
    ko: str
    en: str
    def_ko: str = ""
    def_en: str = ""
    reject: tuple = field(default_factory=tuple)
    first_use: bool = True  # False: an everyday word too, so its first appearance is not checked


@functools.lru_cache
def terms(root: Path = ROOT) -> tuple[Term, ...]:
    raw = yaml.safe_load((root / "glossary.yml").read_text(encoding="utf-8"))
    return tuple(Term(t["ko"], t["en"], t.get("def_ko", ""), t.get("def_en", ""), tuple(t.get("reject", ())),
                      t.get("first_use", True)) for t in raw)


def rejected_variants(text: str, glossary=None) -> list[tuple[int, str, str]]:
    """(line, variant, preferred term) for each rejected variant in ``text``.

    Accepted terms are blanked out first, so a variant inside a longer accepted term
    (파라미터 inside 하이퍼파라미터) is not reported.
    """
    glossary = glossary or terms()
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        masked = line
        for t in sorted(glossary, key=lambda t: -len(t.ko)):
            masked = masked.replace(t.ko, " " * len(t.ko))
        for t in glossary:
            for variant in t.reject:
                if variant in masked:
                    found.append((lineno, variant, t.ko))
    return found


def _first_use(text: str, term: Term) -> int:
    """Offset of the first use of ``term.ko`` outside headings, or -1."""
    offset = 0
    for line in text.splitlines(keepends=True):
        if not line.lstrip().startswith("#"):
            at = line.find(term.ko)
            if at >= 0:
                return offset + at
        offset += len(line)
    return -1


def _has_english(text: str, at: int, term: Term) -> bool:
    """The term is followed by ``(english …)``, or ends a compound whose English contains it:
    완전 연결 계층(fully connected layer) gives 계층 its English too."""
    m = re.match(r"^\**\s*\(([^)]*)\)", text[at + len(term.ko): at + len(term.ko) + 200])
    return m is not None and re.search(r"\b" + re.escape(term.en), m.group(1), flags=re.IGNORECASE) is not None


_GLOSS = re.compile(r"\**\s*\(([^)]*)\)")


def partial_glosses(text: str, glossary=None) -> list[tuple[str, str, str]]:
    """(term, gloss, English) for each gloss that gives only part of a term's English.

    The English goes on the whole term: 완전 연결 계층(fully connected layer), never 완전 연결
    계층(layer). A gloss made only of words of ``term.en`` without the whole of it is reported,
    at every use of the term; an abbreviation or a longer compound's English is not.
    """
    found = []
    for t in glossary or terms():
        words = set(re.findall(r"[a-z]+", t.en.lower()))
        start = 0
        while (at := text.find(t.ko, start)) >= 0:
            start = at + len(t.ko)
            m = _GLOSS.match(text, start)
            if m is None:
                continue
            gloss = m.group(1).strip()
            used = re.findall(r"[a-z]+", gloss.lower())
            if (used and re.fullmatch(r"[A-Za-z \-]+", gloss) and set(used) <= words
                    and not re.search(r"\b" + re.escape(t.en), gloss, flags=re.IGNORECASE)):
                found.append((t.ko, gloss, t.en))
    return found


def first_use_without_english(text: str, glossary=None) -> list[tuple[str, str]]:
    """Glossary terms whose first use in ``text`` (headings aside) is not followed by ``(english …)``."""
    missing = []
    for t in glossary or terms():
        if not t.first_use:
            continue
        at = _first_use(text, t)
        if at >= 0 and not _has_english(text, at, t):
            missing.append((t.ko, t.en))
    return missing
