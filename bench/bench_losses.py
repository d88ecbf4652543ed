"""dlbook.losses and dlbook.metrics against PyTorch's built-ins and scikit-learn (CPU, float32).

Ours validate their arguments (shapes, ranges) on every call, which the
references mostly do not; the ratio includes that cost.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from common import Row, seconds_per_call
from dlbook import losses, metrics

N = 1_000_000
BATCH, CLASSES = 4096, 100
LABELS = 100_000


def _loss_rows() -> list[Row]:
    g = torch.Generator().manual_seed(0)
    pred, target = torch.randn(N, generator=g), torch.randn(N, generator=g)
    p = torch.rand(N, generator=g) * 0.98 + 0.01
    y01 = torch.randint(0, 2, (N,), generator=g).float()
    y_pm = 2 * y01 - 1
    z = torch.randn(N, generator=g) * 3
    logits = torch.randn(BATCH, CLASSES, generator=g)
    labels = torch.randint(0, CLASSES, (BATCH,), generator=g)
    cases = [
        ("mse 1M", lambda: losses.mse(pred, target), lambda: F.mse_loss(pred, target), "torch"),
        ("binary_cross_entropy 1M", lambda: losses.binary_cross_entropy(p, y01),
         lambda: F.binary_cross_entropy(p, y01), "torch"),
        ("bce_with_logits 1M", lambda: losses.binary_cross_entropy_with_logits(z, y01),
         lambda: F.binary_cross_entropy_with_logits(z, y01), "torch"),
        ("logistic_loss 1M", lambda: losses.logistic_loss(z, y_pm), lambda: F.soft_margin_loss(z, y_pm),
         "torch soft_margin_loss"),
        ("hinge_loss 1M", lambda: losses.hinge_loss(z, y_pm), lambda: (1 - y_pm * z).clamp(min=0).mean(),
         "torch expression"),
        ("log_softmax 4096×100", lambda: losses.log_softmax(logits), lambda: F.log_softmax(logits, -1), "torch"),
        ("cross_entropy 4096×100", lambda: losses.cross_entropy(logits, labels),
         lambda: F.cross_entropy(logits, labels), "torch"),
    ]
    return [Row("losses", name, seconds_per_call(ours), seconds_per_call(ref), ref_name)
            for name, ours, ref, ref_name in cases]


def _metric_rows() -> list[Row]:
    from sklearn import metrics as sk

    g = torch.Generator().manual_seed(1)
    y_true = torch.randint(0, 10, (LABELS,), generator=g)
    y_pred = torch.where(torch.rand(LABELS, generator=g) < 0.7, y_true, torch.randint(0, 10, (LABELS,), generator=g))
    t, p = y_true.numpy(), y_pred.numpy()
    values = torch.randn(LABELS, generator=g, dtype=torch.float64)
    guesses = values + 0.1 * torch.randn(LABELS, generator=g, dtype=torch.float64)
    v, w = values.numpy(), guesses.numpy()
    cases = [
        ("accuracy 100k", lambda: metrics.accuracy(y_true, y_pred), lambda: sk.accuracy_score(t, p)),
        ("confusion_matrix 100k×10", lambda: metrics.confusion_matrix(y_true, y_pred),
         lambda: sk.confusion_matrix(t, p)),
        ("f1 macro 100k×10", lambda: metrics.f1(y_true, y_pred, average="macro"),
         lambda: sk.f1_score(t, p, average="macro")),
        ("rmse 100k", lambda: metrics.rmse(values, guesses), lambda: sk.root_mean_squared_error(v, w)),
    ]
    return [Row("metrics", name, seconds_per_call(ours, min_time=0.1), seconds_per_call(ref, min_time=0.1),
                "scikit-learn") for name, ours, ref in cases]


def rows() -> list[Row]:
    return _loss_rows() + _metric_rows()
