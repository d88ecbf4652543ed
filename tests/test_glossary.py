"""One glossary, used everywhere: the Korean edition never uses a rejected variant."""
from collections import Counter

import pytest

pytest.importorskip("yaml", reason="the book's tooling (pip install -e '.[book]')")

from dlbook_tools import config, edition_language, glossary, notebooks

ROOT = config.ROOT
KO = sorted((ROOT / "chapters" / "ko").glob("*.ipynb"))


def prose(path):
    nb = notebooks.read(path)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_glossary_is_well_formed():
    terms = glossary.terms()
    assert len(terms) >= 50
    for field in ("ko", "en"):
        dupes = [k for k, n in Counter(getattr(t, field) for t in terms).items() if n > 1]
        assert dupes == [], f"duplicate {field} terms: {dupes}"
    accepted = {t.ko for t in terms}
    for t in terms:
        assert t.def_ko and t.def_en, f"{t.ko}: add def_ko and def_en"
        assert not set(t.reject) & accepted, f"{t.ko}: a rejected variant is also an accepted term"


@pytest.mark.parametrize("path", KO, ids=lambda p: p.stem)
def test_korean_chapters_use_no_rejected_variant(path):
    found = glossary.rejected_variants(prose(path))
    assert found == [], "\n".join(f"{path.relative_to(ROOT)}:{line}: '{v}' → use '{ok}'" for line, v, ok in found)


def korean_code(path):
    """The lines of the code cells that hold Korean: labels in `tr(...)`, comments, messages."""
    nb = notebooks.read(path)
    lines = [ln for c in notebooks.shared_code(nb) for ln in c.source.splitlines()]
    return "\n".join(ln for ln in lines if edition_language.HANGUL.search(ln))


@pytest.mark.parametrize("path", KO, ids=lambda p: p.stem)
def test_korean_strings_in_code_use_no_rejected_variant(path):
    found = glossary.rejected_variants(korean_code(path))
    assert found == [], "\n".join(f"{path.relative_to(ROOT)} (code): '{v}' → use '{ok}'" for _, v, ok in found)


def test_lint_reports_file_line_and_preferred_term():
    text = "첫 줄\n두 번째 레이어에서 그래디언트를 구한다.\n하이퍼파라미터는 괜찮다."
    assert sorted(glossary.rejected_variants(text)) == [(2, "그래디언트", "기울기"), (2, "레이어", "계층")]


def test_first_use_check_wants_english_in_parentheses():
    assert glossary.first_use_without_english("활성화 함수(activation function)는 … 활성화 함수") == []
    assert ("활성화 함수", "activation function") in glossary.first_use_without_english("활성화 함수는 …")
    assert glossary.first_use_without_english("**활성화 함수**(activation function)") == []
    compound = glossary.Term(ko="계층", en="layer")
    assert glossary.first_use_without_english("완전 연결 계층(fully connected layer)", [compound]) == []
    assert glossary.first_use_without_english("완전 연결 계층(dense)", [compound]) == [("계층", "layer")]


def test_gloss_must_give_the_whole_term():
    assert glossary.partial_glosses("완전 연결 계층(layer)") == [("완전 연결 계층", "layer", "fully connected layer")]
    assert glossary.partial_glosses("완전 연결 계층(fully connected layer) … 완전 연결 계층(connected layer)") == [
        ("완전 연결 계층", "connected layer", "fully connected layer")]
    assert glossary.partial_glosses("**출력층**(layer)") == [("출력층", "layer", "output layer")]
    assert glossary.partial_glosses("완전 연결 계층(fully connected layer), 장단기 메모리(LSTM), 계층(layer)") == []


@pytest.mark.parametrize("path", KO, ids=lambda p: p.stem)
def test_glosses_give_the_whole_term(path):
    found = glossary.partial_glosses(prose(path))
    assert found == [], f"{path.relative_to(ROOT)}: the English goes on the whole term: " + ", ".join(
        f"{ko}({gloss}) → {ko}({en})" for ko, gloss, en in found)


@pytest.mark.parametrize("path", KO, ids=lambda p: p.stem)
def test_first_use_of_each_term_carries_the_english(path):
    missing = glossary.first_use_without_english(prose(path))
    assert missing == [], f"{path.relative_to(ROOT)}: write the English in parentheses at first use: " + ", ".join(
        f"{ko}({en})" for ko, en in missing)
