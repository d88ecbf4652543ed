"""Metrics: how we judge a model (the loss is what it optimises; the metric is what we report).

Taught in chapter 03 (03_linear_regression); used in chapters 04, 11, 12, 14.

Arguments follow scikit-learn's order — ``(y_true, y_pred)`` — and every
metric returns a Python float (``confusion_matrix`` a tensor), matching
``sklearn.metrics`` (checked in ``tests/test_metrics.py``).

Classification metrics take class labels: integer tensors (or floats holding
whole numbers, e.g. a perceptron's 0./1. output) of shape (N,). ``y_pred`` may
also be scores of shape (N, C); their argmax is taken. :func:`accuracy` takes any
shape of labels (a label per time step too) and is also the accuracy that
:func:`dlbook.train.fit` reports. From the confusion
matrix (rows: true class, columns: predicted class), per class c:

    precision = TP / (TP + FP)   recall = TP / (TP + FN)   F1 = 2PR / (P + R)

``average="binary"`` reports the class ``pos_label`` (labels must be 0/1);
``"macro"`` the unweighted mean over classes; ``"micro"`` pools the counts;
``"none"`` returns one value per class as a tensor. A ratio 0/0 is
``zero_division`` (0.0, as scikit-learn reports it).

Counts are integers and ratios are taken in float64, on the labels' device — or on the CPU
for Apple's MPS, which has no float64 (``dlbook.runtime.float64_device``); the per-class
tensors of ``average="none"`` live there too.
"""
from __future__ import annotations

import math

import torch

from ._checks import check_number, check_positive_int, fraction_true, same_shape_floats
from .runtime import float64_device

__all__ = ["accuracy", "confusion_matrix", "precision", "recall", "f1", "precision_recall_f1",
           "mse", "mae", "rmse"]

_AVERAGES = ("binary", "macro", "micro", "none")


# ---------------------------------------------------------------- label checks
def _tensor(y, name: str) -> torch.Tensor:
    """``y`` as a tensor (bools as 0/1 int64); strings, dicts, sets and None are refused."""
    if not isinstance(y, torch.Tensor):
        if isinstance(y, (str, bytes, dict, set)) or y is None:
            raise TypeError(f"{name} must be a tensor or an array of class labels, got {type(y).__name__}")
        y = torch.as_tensor(y)
    y = y.detach()
    return y.long() if y.dtype == torch.bool else y


def _whole_labels(y: torch.Tensor, name: str) -> torch.Tensor:
    """int64 labels of any shape from ints or floats holding whole numbers, all >= 0."""
    if y.is_complex():
        raise TypeError(f"{name} must hold real class labels, got dtype {y.dtype}")
    if y.is_floating_point() and not torch.equal(y, y.round()):
        raise ValueError(f"{name} must hold class labels (whole numbers), got a value "
                         f"{y[y != y.round()][0].item():g}; threshold probabilities first (p > 0.5)")
    y = y.long()
    if y.numel() and y.min() < 0:
        raise ValueError(f"{name} must hold class labels >= 0, got {y.min().item()}")
    return y


def _labels(y, name: str, *, allow_scores: bool = False) -> torch.Tensor:
    """(N,) int64 class labels; (N, C) scores become their argmax when ``allow_scores``."""
    y = _tensor(y, name)
    if allow_scores and y.ndim == 2:
        if not y.is_floating_point():
            raise TypeError(f"{name} of shape {tuple(y.shape)} must hold float scores, got dtype {y.dtype}")
        return y.argmax(dim=1)
    want = "1 (labels) or 2 (scores (N, C))" if allow_scores else "1"
    if y.ndim != 1:
        raise ValueError(f"{name} must have {want} dimension(s), got shape {tuple(y.shape)}")
    return _whole_labels(y, name)


def _label_pair(y_true, y_pred):
    y_true = _labels(y_true, "y_true")
    y_pred = _labels(y_pred, "y_pred", allow_scores=True).to(y_true.device)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same number of samples, got {y_true.shape[0]} "
                         f"and {y_pred.shape[0]}")
    if y_true.numel() == 0:
        raise ValueError("y_true is empty: a metric needs at least one sample")
    return y_true, y_pred


# ---------------------------------------------------------------- counting
def accuracy(y_true, y_pred) -> float:
    """Fraction of predictions that are the true class — the book's one accuracy.

    y_true: class labels (N,), or (N, …) with one label per position (a sequence), or class
    probabilities (N, C) as ``nn.CrossEntropyLoss`` accepts them (their argmax is the class).
    y_pred: labels of y_true's shape, or scores with one more dimension, the class dimension:
    (N, C, …) in PyTorch's layout or (N, …, C); the argmax is taken. One logit or probability
    per sample is not a class: threshold it first (``logits > 0``, ``p > 0.5``).
    """
    y_true, y_pred = _classes(y_true, y_pred)
    return fraction_true(y_true == y_pred)  # counted in integers: exact, and no float64 (MPS has none)


def _classes(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor]:
    """(true, predicted) class labels of one shape, for :func:`accuracy`."""
    y_true, y_pred = _tensor(y_true, "y_true"), _tensor(y_pred, "y_pred")
    y_pred = y_pred.to(y_true.device)
    if _probability_rows(y_true) and y_pred.shape == y_true.shape and y_pred.is_floating_point():
        y_true, y_pred = y_true.argmax(dim=1), y_pred.argmax(dim=1)  # scores against class probabilities
    elif y_pred.ndim == y_true.ndim + 1:
        if not y_pred.is_floating_point():
            raise TypeError(f"y_pred of shape {tuple(y_pred.shape)} (one more dimension than y_true) must hold "
                            f"float scores, got dtype {y_pred.dtype}")
        if y_pred.shape[:1] + y_pred.shape[2:] == y_true.shape:
            y_pred = y_pred.argmax(dim=1)
        elif y_pred.shape[:-1] == y_true.shape:
            y_pred = y_pred.argmax(dim=-1)
    if y_pred.shape != y_true.shape:
        raise ValueError(f"accuracy needs y_pred of y_true's shape {tuple(y_true.shape)} (labels) or with a class "
                         f"dimension added (scores, e.g. (N, C) for (N,)), got shape {tuple(y_pred.shape)}")
    if y_true.numel() == 0:
        raise ValueError("y_true is empty: a metric needs at least one sample")
    return _whole_labels(y_true, "y_true"), _whole_labels(y_pred, "y_pred")


def _probability_rows(y: torch.Tensor) -> bool:
    """Is ``y`` (N, C), C > 1, a probability (or one-hot) row per sample?"""
    return (y.ndim == 2 and y.shape[1] > 1 and y.is_floating_point() and bool((y >= 0).all())
            and torch.allclose(y.sum(dim=1), torch.ones((), dtype=y.dtype, device=y.device), atol=1e-5))


def confusion_matrix(y_true, y_pred, *, num_classes: int | None = None) -> torch.Tensor:
    """Counts M[i, j] of samples of true class i predicted as j: (C, C) int64.

    C is ``num_classes`` or 1 + the largest label seen. Computed with one
    ``bincount`` over the pairs i·C + j.
    """
    y_true, y_pred = _label_pair(y_true, y_pred)
    seen = int(max(y_true.max().item(), y_pred.max().item())) + 1
    if num_classes is None:
        c = seen
    else:
        c = check_positive_int(num_classes, "num_classes")
        if seen > c:
            raise ValueError(f"labels must be in [0, {c - 1}] for num_classes={c}, got label {seen - 1}")
    return torch.bincount(y_true * c + y_pred, minlength=c * c).reshape(c, c)


def _safe_ratio(num: torch.Tensor, den: torch.Tensor, zero_division: float) -> torch.Tensor:
    return torch.where(den > 0, num / den.clamp(min=1), torch.full_like(num, zero_division))


def _counts(y_true, y_pred, num_classes):
    """Per-class TP, FP, FN (float64, on ``float64_device``) and a mask of the classes in y_true or y_pred."""
    m = confusion_matrix(y_true, y_pred, num_classes=num_classes)
    m = m.to(device=float64_device(m.device), dtype=torch.float64)
    tp = m.diagonal()
    fp = m.sum(dim=0) - tp
    fn = m.sum(dim=1) - tp
    present = (m.sum(dim=0) + m.sum(dim=1)) > 0
    if num_classes is not None:
        present = torch.ones_like(present)
    return tp, fp, fn, present


def precision_recall_f1(y_true, y_pred, *, average: str = "binary", pos_label: int = 1,
                        num_classes: int | None = None, zero_division: float = 0.0):
    """Precision, recall and F1 in one pass: three floats (``average="none"``: three (C,) tensors).

    For ``macro``/``micro``/``none`` the classes are 0 … C − 1 with C =
    ``num_classes``; without it, the labels that occur in y_true or y_pred (as
    scikit-learn does).
    """
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    zero_division = check_number(zero_division, "zero_division", low=0.0, high=1.0)
    if average == "binary":
        y_true, y_pred = _label_pair(y_true, y_pred)
        if torch.any(y_true > 1) or torch.any(y_pred > 1):
            raise ValueError("average='binary' needs labels 0 and 1, got a label "
                             f"{max(y_true.max().item(), y_pred.max().item())}; use average='macro' for more classes")
        if pos_label not in (0, 1) or isinstance(pos_label, bool):
            raise ValueError(f"pos_label must be 0 or 1, got {pos_label!r}")
        num_classes = 2
    tp, fp, fn, present = _counts(y_true, y_pred, num_classes)
    if average == "micro":
        tp, fp, fn = tp[present].sum(), fp[present].sum(), fn[present].sum()
    p = _safe_ratio(tp, tp + fp, zero_division)
    r = _safe_ratio(tp, tp + fn, zero_division)
    f = _safe_ratio(2 * tp, 2 * tp + fp + fn, zero_division)  # = 2PR/(P+R), defined when P+R = 0 too
    if average == "binary":
        return p[pos_label].item(), r[pos_label].item(), f[pos_label].item()
    if average == "macro":
        return p[present].mean().item(), r[present].mean().item(), f[present].mean().item()
    if average == "micro":
        return p.item(), r.item(), f.item()
    return p, r, f


def precision(y_true, y_pred, *, average: str = "binary", pos_label: int = 1, num_classes: int | None = None,
              zero_division: float = 0.0):
    """TP / (TP + FP): of the samples predicted positive, the fraction that are. See ``precision_recall_f1``."""
    return precision_recall_f1(y_true, y_pred, average=average, pos_label=pos_label, num_classes=num_classes,
                               zero_division=zero_division)[0]


def recall(y_true, y_pred, *, average: str = "binary", pos_label: int = 1, num_classes: int | None = None,
           zero_division: float = 0.0):
    """TP / (TP + FN): of the positive samples, the fraction found. See ``precision_recall_f1``."""
    return precision_recall_f1(y_true, y_pred, average=average, pos_label=pos_label, num_classes=num_classes,
                               zero_division=zero_division)[1]


def f1(y_true, y_pred, *, average: str = "binary", pos_label: int = 1, num_classes: int | None = None,
       zero_division: float = 0.0):
    """2·P·R / (P + R), the harmonic mean of precision and recall. See ``precision_recall_f1``."""
    return precision_recall_f1(y_true, y_pred, average=average, pos_label=pos_label, num_classes=num_classes,
                               zero_division=zero_division)[2]


# ---------------------------------------------------------------- regression
def _errors(y_true, y_pred) -> torch.Tensor:
    """ŷ − y for targets and predictions of the same shape (at least one value)."""
    y_pred, y_true = same_shape_floats(y_pred, y_true, "y_pred", "y_true")
    return y_pred - y_true


def mse(y_true, y_pred) -> float:
    """Mean squared error (1/m) Σ (y − ŷ)². y_true, y_pred: same shape."""
    return _errors(y_true, y_pred).square().mean().item()


def mae(y_true, y_pred) -> float:
    """Mean absolute error (1/m) Σ |y − ŷ| (in the target's own unit)."""
    return _errors(y_true, y_pred).abs().mean().item()


def rmse(y_true, y_pred) -> float:
    """Root mean squared error √MSE (in the target's own unit)."""
    return math.sqrt(mse(y_true, y_pred))

