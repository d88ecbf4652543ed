"""Korean search: the index and the browser strip particles the same way."""
import json
import shutil
import subprocess

import pytest

pytest.importorskip("sphinx", reason="the book's tooling (pip install -e '.[book]')")

from dlbook_tools.search_ko import _JS, SearchKorean, stem

WORDS = ["텐서를", "텐서", "신경망에서는", "퍼셉트론은", "경계를", "결정", "길이를", "길이", "ReLU를", "relu", "가", "합성곱으로"]


def test_particles_are_stripped_and_stems_are_stable():
    assert stem("텐서를") == stem("텐서는") == stem("텐서") == "텐서"
    assert stem("신경망에서는") == "신경망"
    assert stem("합성곱으로") == "합성곱"
    assert stem("ReLU를") == "ReLU"
    assert stem("가") == "가"  # a lone syllable is never emptied
    assert all(stem(stem(w)) == stem(w) for w in WORDS)
    assert SearchKorean(None).stem("ReLU를") == "relu"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to run the browser's stemmer")
def test_browser_stemmer_agrees_with_the_index_stemmer():
    script = _JS + f"\nconst s = new Stemmer();\nconsole.log(JSON.stringify({json.dumps(WORDS, ensure_ascii=False)}.map(w => s.stemWord(w))));"
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [stem(w) for w in WORDS]
