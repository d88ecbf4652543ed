"""Korean search for the Sphinx HTML: strip the particles (조사) attached to a word.

Sphinx splits text on spaces, so 텐서를, 텐서는 and 텐서 become three unrelated
index terms, and its partial matching starts only at three characters, which
leaves most two-syllable Korean words findable only by their exact token. This
search language stems every indexed word and every query word the same way —
once in Python while indexing, once in JavaScript in the reader's browser — by
removing trailing particles, so a search for 텐서 finds 텐서를.
"""
from __future__ import annotations

import json

from sphinx.search import SearchLanguage

# Longest first; each is removed only when at least one syllable remains.
PARTICLES = sorted({
    "에서는", "에서도", "에게서", "으로는", "으로도", "으로써", "이라는", "이라고", "까지는", "부터는", "에서의",
    "에서", "에게", "한테", "으로", "까지", "부터", "처럼", "보다", "이나", "이란", "이며", "에는", "에도", "와는",
    "과는", "로는", "로도", "라는", "라고", "하고", "이고", "이다", "이면", "마다", "조차", "밖에", "의",
    "을", "를", "이", "가", "은", "는", "에", "로", "와", "과", "도", "만", "며", "란", "나",
}, key=lambda p: (-len(p), p))

_JS = """
var Stemmer = function() {
  const particles = %s;
  this.stemWord = function(word) {
    // strip Korean particles, longest first, keeping at least one syllable (same as search_ko.py)
    let stripped = true;
    while (stripped) {
      stripped = false;
      for (const p of particles) {
        if (word.length > p.length && word.endsWith(p) && /[\\uac00-\\ud7a3]$/.test(word)) {
          word = word.slice(0, -p.length);
          stripped = true;
          break;
        }
      }
    }
    return word;
  };
};
""" % json.dumps(PARTICLES, ensure_ascii=False)


def stem(word: str) -> str:
    """Remove trailing particles: 텐서를 → 텐서, 신경망에서는 → 신경망, 텐서 → 텐서."""
    stripped = True
    while stripped:
        stripped = False
        for p in PARTICLES:
            if len(word) > len(p) and word.endswith(p) and "\uac00" <= word[-1] <= "\ud7a3":
                word = word[: -len(p)]
                stripped = True
                break
    return word


class SearchKorean(SearchLanguage):
    lang = "ko"
    language_name = "Korean"
    js_stemmer_code = _JS
    stopwords = set()

    def stem(self, word: str) -> str:
        return stem(word.lower())


def register() -> None:
    from sphinx.search import languages

    languages["ko"] = SearchKorean
