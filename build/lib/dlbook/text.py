"""Sequences as tensors: a character vocabulary, sliding windows, a small corpus and a memory task.

Taught in chapter 16 (16_rnn); used in chapter 17.

* :class:`CharVocab` maps characters ↔ ids (sorted by code point, so it is the same every run).
* :func:`sliding_windows` cuts a series into (window → next ``horizon`` values) pairs with
  ``Tensor.unfold`` — the inputs of a many-to-one forecaster (sunspots).
* :func:`next_token_pairs` cuts ids into (sequence, the same sequence shifted by one) pairs — the
  many-to-many training data of a character-level language model.
* :func:`book_corpus` is a few KB of original text written for this book (no download).
* :func:`long_range_memory_task` is a classification task that needs a memory of T steps: a vanilla
  RNN fails on it, an LSTM learns it.
"""
from __future__ import annotations

import torch

from ._checks import check_ndim, check_positive_int

__all__ = ["CharVocab", "sliding_windows", "next_token_pairs", "book_corpus", "long_range_memory_task"]


# ---------------------------------------------------------------- vocabulary
class CharVocab:
    """The characters of a text, numbered 0 … V − 1 in code-point order.

    ``encode(str) → LongTensor (L,)``; ``decode(ids (L,)) → str`` (ids (M, L) → list of M strings).
    A character that the text did not contain is an error, never silently dropped or replaced.
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if not text:
            raise ValueError("text must contain at least one character, got an empty string")
        self.chars: list[str] = sorted(set(text))
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char) -> bool:
        return char in self.stoi

    def __repr__(self) -> str:
        preview = "".join(self.chars[:20]).replace("\n", "\\n")
        return f"CharVocab({len(self)} characters: {preview!r}{'…' if len(self) > 20 else ''})"

    def encode(self, text: str) -> torch.Tensor:
        """text (a str of L characters) → ids: LongTensor (L,)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        try:
            return torch.tensor([self.stoi[c] for c in text], dtype=torch.long)
        except KeyError:
            pos = next(i for i, c in enumerate(text) if c not in self.stoi)
            c = text[pos]
            raise ValueError(
                f"character {c!r} (U+{ord(c):04X}) at position {pos} is not in the vocabulary "
                f"of {len(self)} characters"
            ) from None

    def decode(self, ids) -> str | list[str]:
        """ids: (L,) → a str of L characters; (M, L) → a list of M strings."""
        ids = torch.as_tensor(ids)
        if ids.numel() == 0 and ids.is_floating_point():
            ids = ids.long()                           # [] arrives as an empty float tensor
        if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
            raise TypeError(f"ids must hold integers, got dtype {ids.dtype}")
        check_ndim(ids, "ids", (1, 2))
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= len(self)):
            bad = int(ids.min()) if int(ids.min()) < 0 else int(ids.max())
            raise ValueError(f"ids must lie in [0, {len(self)}) for this vocabulary, got {bad}")
        if ids.ndim == 2:
            return [self.decode(row) for row in ids]
        return "".join(self.chars[i] for i in ids.tolist())


# ---------------------------------------------------------------- windows
def _as_sequence(series, name: str) -> torch.Tensor:
    if isinstance(series, (str, bytes, dict, set)) or series is None or isinstance(series, bool):
        raise TypeError(f"{name} must be a tensor, an array or a list of numbers, got {type(series).__name__}")
    try:
        t = torch.as_tensor(series)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be numeric, got {type(series).__name__}: {err}") from None
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name} must hold real numbers or integer ids, got dtype {t.dtype}")
    return t


def sliding_windows(series_or_ids, window: int, horizon: int = 1, stride: int = 1):
    """Every (window, what follows) pair of a sequence, as two tensors (a view-based ``unfold``).

    series: (T,) or (T, F) → inputs (M, window) or (M, window, F) and targets (M, horizon) or
    (M, horizon, F), with M = ⌊(T − window − horizon) / stride⌋ + 1. Input m is
    series[m·stride : m·stride + window]; its target is the next ``horizon`` values. The dtype is kept
    (ids stay integers). Needs T ≥ window + horizon.
    """
    s = _as_sequence(series_or_ids, "series_or_ids")
    check_ndim(s, "series_or_ids", (1, 2))
    window = check_positive_int(window, "window")
    horizon = check_positive_int(horizon, "horizon")
    stride = check_positive_int(stride, "stride")
    T = s.shape[0]
    if T < window + horizon:
        raise ValueError(
            f"series_or_ids needs at least window + horizon = {window + horizon} steps, got {T} (shape {tuple(s.shape)})"
        )
    span = s.unfold(0, window + horizon, stride)       # (M, window + horizon) or (M, F, window + horizon)
    if s.ndim == 2:
        span = span.transpose(1, 2)                    # (M, window + horizon, F)
    return span[:, :window], span[:, window:]


def next_token_pairs(ids, seq_len: int, stride: int | None = None):
    """Language-model training pairs: x = ids[s : s + L], y = ids[s + 1 : s + L + 1].

    ids: (T,) → x, y: (M, seq_len) each, with starts s = 0, stride, 2·stride, … (``stride`` defaults
    to ``seq_len``: non-overlapping chunks). Needs T ≥ seq_len + 1.
    """
    ids = _as_sequence(ids, "ids")
    check_ndim(ids, "ids", 1)
    seq_len = check_positive_int(seq_len, "seq_len")
    stride = seq_len if stride is None else check_positive_int(stride, "stride")
    if ids.shape[0] < seq_len + 1:
        raise ValueError(f"ids needs at least seq_len + 1 = {seq_len + 1} tokens, got {ids.shape[0]}")
    span = ids.unfold(0, seq_len + 1, stride)          # (M, L + 1)
    return span[:, :-1], span[:, 1:]


# ---------------------------------------------------------------- a corpus of our own
_CORPUS_EN = """\
The river does not remember the rain. It only carries it. Every morning the old ferryman pushed
his boat from the bank, and every morning the water looked the same, although not one drop of it
was the water of the day before. He liked to say that a river is a pattern, not a thing.

A sentence is a river too. The words arrive one after another, and the meaning of each word leans
on the words that came before it. If you hear only "bank", you do not know whether to think of
money or of mud. If you heard "the ferryman pushed his boat from the", you already know.

To read is to carry a little memory from one word to the next. The memory must be small, or it
would drown in detail, and it must be selective, or it would forget the one word that mattered.
A good reader keeps the subject of the sentence in mind until the verb arrives, keeps the question
in mind until the answer arrives, and lets the rest flow past like water under the boat.

The ferryman kept a notebook. In it he wrote the height of the river, the colour of the sky and
the number of passengers, one line a day. After many years the lines began to rhyme. High water
came after the long rains of summer; low water came in the dry weeks of late winter; the number
of passengers rose on market days and fell when the wind was cold. He could not have told you the
rule, but he could tell you, most mornings, what the river would do tomorrow.

His granddaughter read the notebook from the first page to the last. She did not read it the
way one reads a story. She read it the way one listens to music, waiting for the theme to come
back. When it came back she smiled, and when it did not she made a small mark in the margin.
The marks were the interesting part. They were the days when the pattern broke.

One day she asked him how he knew what the river would do. He thought for a long time. Then he
said: I remember a little of yesterday, and a little of the day before, and a very little of the
year before that. I forget most things. Forgetting is how I keep room for the things that matter.

She wrote that down too. Later, when she built machines that read, she gave each of them a small
notebook and three rules. Decide what to forget. Decide what to write down. Decide what to say.
The machines were slow to learn the first rule and quick to learn the last, as people are.

People who study the river with instruments say the same thing in longer words. A measurement
today is a weighted sum of many yesterdays; the weights shrink as the days recede, and the art is
in choosing how fast they shrink. Shrink them too fast and the river seems to have no past at all.
Shrink them too slowly and last year's flood still frightens you in a dry summer.

Now the boat is gone and the ferryman is gone, but the river still runs past the bank, carrying
rain it does not remember, and on market days the bridge is full of people who never think about
the water at all.
"""

_CORPUS_KO = """\
강은 비를 기억하지 않는다. 강은 비를 실어 나를 뿐이다. 늙은 뱃사공은 아침마다 배를 밀어
강으로 나갔고, 강물은 아침마다 똑같아 보였다. 어제의 물은 한 방울도 남아 있지 않은데도.
그는 강이란 물건이 아니라 무늬라고 말하곤 했다.

문장도 강과 같다. 낱말은 하나씩 차례로 도착하고, 각 낱말의 뜻은 앞에 온 낱말들에 기대어 있다.
읽는다는 것은 작은 기억을 한 낱말에서 다음 낱말로 실어 나르는 일이다. 기억은 작아야 한다.
그렇지 않으면 세부에 빠져 버린다. 기억은 골라야 한다. 그렇지 않으면 정말 중요한 낱말을 잊는다.

뱃사공은 공책에 날마다 한 줄씩 강의 높이와 하늘의 빛깔과 손님의 수를 적었다. 여러 해가
지나자 줄들이 운을 맞추기 시작했다. 여름 장마 뒤에는 물이 불었고, 늦겨울 마른 주에는 물이
줄었으며, 장날에는 손님이 늘고 바람이 찬 날에는 줄었다. 그는 규칙을 말할 수는 없었지만,
내일 강이 어떨지는 대개 맞힐 수 있었다.

손녀가 물었다. 할아버지는 강이 어떻게 될지 어떻게 아세요? 그는 한참 생각하다 답했다.
어제 일은 조금, 그제 일은 조금 더 적게, 작년 일은 아주 조금만 기억한다. 나머지는 잊는다.
잊어야 중요한 것을 담을 자리가 남는다. 손녀는 그 말을 적어 두었다. 훗날 글을 읽는 기계를
만들 때, 손녀는 기계마다 작은 공책과 세 가지 규칙을 주었다. 무엇을 잊을지 정하라.
무엇을 적을지 정하라. 무엇을 말할지 정하라.
"""

_CORPORA = {"en": _CORPUS_EN, "ko": _CORPUS_KO}


def book_corpus(language: str = "en") -> str:
    """A short original passage written for this book (English ≈ 3 KB, Korean ≈ 1.7 KB as UTF-8).

    ``language``: "en", "ko" or "both" (English, a blank line, Korean). Deterministic, offline, free
    to use; the English text has under 50 distinct characters, a good size for a char-level model.
    """
    if language == "both":
        return _CORPUS_EN + "\n" + _CORPUS_KO
    if language not in _CORPORA:
        raise ValueError(f"language must be 'en', 'ko' or 'both', got {language!r}")
    return _CORPORA[language]


# ---------------------------------------------------------------- a task that needs memory
def long_range_memory_task(n: int, T: int, seed: int = 0, *, n_classes: int = 4, n_distractors: int = 4):
    """Remember the first symbol through T − 1 distractors: (x (n, T) long, y (n,) long).

    x[:, 0] is the signal, uniform in {0, …, n_classes − 1}; x[:, 1:] are distractors, uniform in
    {n_classes, …, n_classes + n_distractors − 1} (a disjoint set, so they carry no information);
    the label is y = x[:, 0]. A many-to-one model reads all T symbols and must output y at the end,
    so it has to carry the signal across T − 1 steps: the vocabulary size is n_classes + n_distractors
    and chance accuracy is 1 / n_classes. Same (n, T, seed, …) → the same tensors.

    A recipe checked with this library (T = 100, 4096 training / 1024 test sequences,
    ``dlbook.rnn.SequenceClassifier(8, 32, 4, cell, generator=…)``, Adam lr 3e-3, batch 64, gradient
    norm clipped at 1, seeds 0–5): after 300 steps the vanilla RNN was at chance (≤ 0.27) in 6 of 6
    runs, while the LSTM with ``chrono=100`` was at 100 % in 5 of 6 (74 % in the sixth, 100 % by step
    400). Caveats for the text: with PyTorch's default initialisation the LSTM also stalls at chance
    on T = 100 (its forget gates start at σ(0) = ½); with T ≈ 30–50 the vanilla RNN often does learn
    the task (Adam rescales even tiny gradients); and given more steps it sometimes escapes (1 run of
    6 reached 99 % at step 500) — vanishing gradients make learning slow and erratic, not impossible.
    """
    n = check_positive_int(n, "n")
    T = check_positive_int(T, "T", minimum=2)
    seed = check_positive_int(seed, "seed", minimum=0)
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    n_distractors = check_positive_int(n_distractors, "n_distractors")
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(n_classes, (n,), generator=g, device="cpu")
    distractors = torch.randint(n_classes, n_classes + n_distractors, (n, T - 1), generator=g, device="cpu")
    x = torch.cat([y.unsqueeze(1), distractors], dim=1)
    return x, y
