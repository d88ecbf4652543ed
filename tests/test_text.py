import pytest
import torch

from dlbook import text


# ---------------------------------------------------------------- CharVocab
def test_char_vocab_round_trip_and_order():
    v = text.CharVocab("banana bread")
    assert v.chars == sorted(set("banana bread")) and len(v) == 7
    ids = v.encode("bread")
    assert ids.dtype == torch.long and ids.tolist() == [v.stoi[c] for c in "bread"]
    assert v.decode(ids) == "bread"
    assert v.decode([[1, 2], [3, 4]]) == [v.decode([1, 2]), v.decode([3, 4])]
    assert v.encode("").shape == (0,) and v.decode([]) == ""
    assert "a" in v and "z" not in v


def test_char_vocab_korean():
    v = text.CharVocab("안녕하세요 세계")
    assert v.decode(v.encode("세계 안녕")) == "세계 안녕"


def test_char_vocab_errors():
    v = text.CharVocab("abc")
    with pytest.raises(ValueError, match=r"character 'z' \(U\+007A\) at position 2 is not in the vocabulary of 3"):
        v.encode("abz")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\).*got 3"):
        v.decode([0, 3])
    with pytest.raises(TypeError, match="ids must hold integers"):
        v.decode(torch.tensor([0.0]))
    with pytest.raises(ValueError, match="empty string"):
        text.CharVocab("")
    with pytest.raises(TypeError, match="text must be a str, got list"):
        text.CharVocab(["a"])


# ---------------------------------------------------------------- windows
def test_sliding_windows_1d_against_a_loop():
    s = torch.randn(20, dtype=torch.float64)
    for window, horizon, stride in [(3, 1, 1), (5, 2, 1), (4, 3, 2), (17, 3, 1)]:
        x, y = text.sliding_windows(s, window, horizon, stride)
        starts = range(0, 20 - window - horizon + 1, stride)
        assert torch.equal(x, torch.stack([s[i:i + window] for i in starts]))
        assert torch.equal(y, torch.stack([s[i + window:i + window + horizon] for i in starts]))


def test_sliding_windows_multivariate_and_ids_keep_dtype():
    s = torch.arange(24).reshape(12, 2)
    x, y = text.sliding_windows(s, 4, 2)
    assert x.shape == (7, 4, 2) and y.shape == (7, 2, 2) and x.dtype == torch.long
    assert torch.equal(x[3], s[3:7]) and torch.equal(y[3], s[7:9])
    x, y = text.sliding_windows([1.0, 2.0, 3.0], 2)
    assert x.tolist() == [[1.0, 2.0]] and y.tolist() == [[3.0]]


def test_sliding_windows_errors():
    with pytest.raises(ValueError, match=r"at least window \+ horizon = 6 steps, got 5"):
        text.sliding_windows(torch.arange(5.0), 5)
    with pytest.raises(ValueError, match="window must be an integer >= 1, got 0"):
        text.sliding_windows(torch.arange(5.0), 0)
    with pytest.raises(ValueError, match="must have 1 or 2 dimension"):
        text.sliding_windows(torch.zeros(3, 3, 3), 1)
    with pytest.raises(TypeError, match="series_or_ids must be a tensor"):
        text.sliding_windows("abc", 1)


def test_next_token_pairs():
    ids = torch.arange(11)
    x, y = text.next_token_pairs(ids, 4)
    assert x.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert y.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    x, y = text.next_token_pairs(ids, 4, stride=3)
    assert x.shape == (3, 4) and torch.equal(y, x + 1)
    with pytest.raises(ValueError, match=r"seq_len \+ 1 = 12 tokens, got 11"):
        text.next_token_pairs(ids, 11)


# ---------------------------------------------------------------- corpus
def test_book_corpus_is_a_few_kilobytes_and_fixed():
    en = text.book_corpus()
    assert 2000 <= len(en.encode()) <= 8000 and en == text.book_corpus("en")
    assert len(set(en)) < 60
    ko = text.book_corpus("ko")
    assert any("가" <= c <= "힣" for c in ko)
    assert text.book_corpus("both") == en + "\n" + ko
    vocab = text.CharVocab(en)
    assert vocab.decode(vocab.encode(en)) == en
    with pytest.raises(ValueError, match="language must be 'en', 'ko' or 'both', got 'fr'"):
        text.book_corpus("fr")


# ---------------------------------------------------------------- memory task
def test_long_range_memory_task():
    x, y = text.long_range_memory_task(64, 30, seed=3)
    assert x.shape == (64, 30) and y.shape == (64,) and x.dtype == y.dtype == torch.long
    assert torch.equal(y, x[:, 0])                            # the label is the first symbol
    assert bool(((y >= 0) & (y < 4)).all())
    assert bool(((x[:, 1:] >= 4) & (x[:, 1:] < 8)).all())     # distractors never look like a label
    x2, y2 = text.long_range_memory_task(64, 30, seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = text.long_range_memory_task(64, 30, seed=4)
    assert not torch.equal(x, x3)
    assert set(y.tolist()) == {0, 1, 2, 3}
    xs, ys = text.long_range_memory_task(10, 5, seed=0, n_classes=3, n_distractors=2)
    assert int(xs[:, 1:].min()) >= 3 and int(xs.max()) <= 4 and torch.equal(ys, xs[:, 0])
    with pytest.raises(ValueError, match="T must be an integer >= 2, got 1"):
        text.long_range_memory_task(4, 1)


# ---------------------------------------------------------------- sequences of length 0
def test_empty_sequences_give_clear_errors():
    for empty in ([], torch.zeros(0), torch.zeros(0, 3)):
        with pytest.raises(ValueError, match=r"at least window \+ horizon = 3 steps, got 0"):
            text.sliding_windows(empty, 2)
    for empty in ([], torch.zeros(0, dtype=torch.long)):
        with pytest.raises(ValueError, match=r"at least seq_len \+ 1 = 5 tokens, got 0"):
            text.next_token_pairs(empty, 4)
    with pytest.raises(ValueError, match="must have 1 or 2 dimension"):
        text.sliding_windows(torch.tensor(1.0), 1)          # a 0-d tensor is not a sequence
    v = text.CharVocab("ab")
    assert v.encode("").shape == (0,) and v.decode(torch.zeros(0, dtype=torch.long)) == ""   # empty text round-trips
