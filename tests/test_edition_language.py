"""Each edition speaks its language in what the code shows (figures, printed labels, comments).

The editions share their code; ``dlbook.tr("학습 손실", "training loss")`` picks the string of the
language the chapter's header set. The printed outputs are read from the notebooks, the figures
from the built book (each PNG records the labels it was drawn with: ``dlbook.plot._png``).
"""
import html.parser
import os

import pytest

from dlbook_tools import config, edition_language, notebooks

ROOT = config.ROOT
HTML = ROOT / "_build" / "html"
STEMS = [p.stem for p in sorted((ROOT / "chapters" / "ko").glob("*.ipynb")) if p.stem[:2].isdigit()]

def output_texts(cell) -> list[str]:
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        elif "text/plain" in out.get("data", {}):
            texts.append(out["data"]["text/plain"])
    return [line for text in texts for line in text.splitlines() if line.strip()]


def printed_problems(stem: str) -> list[str]:
    found = []
    for lang in ("ko", "en"):
        nb = notebooks.read(ROOT / "chapters" / lang / f"{stem}.ipynb")
        for cell in notebooks.shared_code(nb):
            for line in output_texts(cell) if notebooks.is_checked(cell) else []:
                if not edition_language.speaks(line, lang):
                    found.append(f"{lang} output of cell {cell.id}: {line!r}")
            if lang == "ko":  # comments: Korean, or bilingual (the English edition shares them)
                for comment in edition_language.comments(cell.source):
                    if not edition_language.speaks(comment, "ko"):
                        found.append(f"comment in cell {cell.id}: # {comment}")
    return found


@pytest.mark.parametrize("stem", STEMS)
def test_printed_labels_and_comments_speak_the_edition_language(stem):
    found = printed_problems(stem)
    assert found == [], "\n".join(found)


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs = []

    def handle_starttag(self, tag, attrs):
        src = dict(attrs).get("src") or ""
        if tag == "img" and src.startswith("_images/") and src.endswith(".png"):
            self.srcs.append(src)


def figure_problems(stem: str) -> list[str]:
    found = []
    for lang in ("ko", "en"):
        page = HTML / lang / f"{stem}.html"
        parser = _Images()
        parser.feed(page.read_text(encoding="utf-8"))
        for src in parser.srcs:
            record = edition_language.png_record((page.parent / src).read_bytes())
            found += [f"{lang} {src}: {p}" for p in edition_language.record_problems(record, lang)]
    return found


@pytest.mark.parametrize("stem", STEMS)
def test_figures_speak_the_edition_language(stem):
    if not (HTML / "ko" / f"{stem}.html").exists():
        if os.environ.get("DLBOOK_REQUIRE_BROWSER") == "1":
            raise RuntimeError(f"no built book at {HTML}")
        pytest.skip("no built book (run `dlbook-tools book`)")
    found = figure_problems(stem)
    assert found == [], "\n".join(found)


def test_the_language_rules():
    speaks = edition_language.speaks
    assert speaks("학습 손실", "ko") and speaks("에포크 · epoch", "ko") and not speaks("training loss", "ko")
    assert speaks("ReLU, $\\sigma(x)$, x_train, `fit`, 0.95", "ko")  # names, math and code stay
    assert speaks("training loss", "en") and not speaks("에포크 · epoch", "en")
    assert speaks("  (hidden): Linear(in_features=64, out_features=64, bias=True)", "ko")  # print(model)
    assert not speaks("  (hidden layer): the first one", "ko")
    assert edition_language.record_problems({"language": "ko", "labels": ["비용($W$)", "비용 W", "$W$"]}, "ko") == [
        "label '비용($W$)' mixes Hangul and $…$ math (mathtext draws the Hangul as boxes)"]
    assert speaks("XOR", "ko") and speaks("prelu (α = 0.25)", "ko") and not speaks("step", "ko")  # acronyms are names
    assert edition_language.comments("x = 1  # 기울기 · gradient\n%timeit f()\ny = '#'  # (N, D)") == ["기울기 · gradient", "(N, D)"]
    block = "# 기울기를 0으로 되돌린다\n# zero the gradients\nx = 1  # a note\n# another"
    assert edition_language.comments(block) == ["기울기를 0으로 되돌린다\nzero the gradients", "a note", "another"]
