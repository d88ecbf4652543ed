"""The edition's language for what the code shows: figure labels, legends and printed labels.

Not taught in a chapter: every chapter's setup cell calls ``set_language`` with its edition's
language, so one code cell draws Korean labels in the Korean edition and English ones in the
English edition; used in chapters 01–18.

    from dlbook import tr
    ax.set_xlabel(tr("에포크", "epoch"))
    print(tr("검증 정확도 ≥ 0.90:", "validation accuracy ≥ 0.90:"), acc >= 0.90)

Until a language is set (an exercise, a script, the library's own tests) ``tr`` returns both,
"에포크 · epoch", so nothing is lost for a reader of either language.
"""
from __future__ import annotations

LANGUAGES = ("ko", "en")
_language: str | None = None


def set_language(language: str | None) -> None:
    """Choose ``"ko"`` or ``"en"`` for every later ``tr``; ``None`` shows both."""
    global _language
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES} or None, got {language!r}")
    _language = language


def current() -> str | None:
    """The language ``tr`` picks: ``"ko"``, ``"en"`` or ``None`` (both)."""
    return _language


def tr(ko: str, en: str) -> str:
    """The Korean or the English string, by the edition's language ("ko · en" when none is set)."""
    for name, text in (("ko", ko), ("en", en)):
        if not isinstance(text, str):
            raise TypeError(f"tr's {name} text must be a str, got {type(text).__name__}")
    if _language == "ko":
        return ko
    if _language == "en":
        return en
    return ko if ko == en else f"{ko} · {en}"
