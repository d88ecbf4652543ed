import pytest

import dlbook
from dlbook import language


@pytest.fixture(autouse=True)
def restore():
    before = language.current()
    yield
    language.set_language(before)


def test_tr_picks_the_edition_language_and_shows_both_until_one_is_set():
    language.set_language(None)
    assert dlbook.tr("에포크", "epoch") == "에포크 · epoch"
    assert dlbook.tr("x", "x") == "x"
    dlbook.set_language("ko")
    assert dlbook.tr("에포크", "epoch") == "에포크" and language.current() == "ko"
    dlbook.set_language("en")
    assert dlbook.tr("에포크", "epoch") == "epoch" and language.current() == "en"


def test_bad_language_and_texts_are_named():
    with pytest.raises(ValueError, match=r"language must be one of \('ko', 'en'\) or None, got 'kr'"):
        dlbook.set_language("kr")
    with pytest.raises(TypeError, match="tr's en text must be a str, got int"):
        dlbook.tr("하나", 1)
