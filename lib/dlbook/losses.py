"""Loss functions written from their formulas, with their gradients.

Taught in chapter 04 (04_logistic_regression).

The loss table of chapter 04, for a score z = f(x) and a target:

=========================  ====================================  ==========================
model                      loss                                  here
=========================  ====================================  ==========================
linear regression          (ŷ − y)² (least squares)              ``mse``
logistic regression        log(1 + e^{−yz}),  y ∈ {−1, +1}        ``logistic_loss``
SVM                        max(0, 1 − yz),    y ∈ {−1, +1}        ``hinge_loss``
neural network             −Σ_k y_k log softmax(z)_k             ``cross_entropy``
=========================  ====================================  ==========================

``binary_cross_entropy(p, y)`` is the logistic loss written for probabilities
p = σ(z) and labels y ∈ {0, 1}; ``binary_cross_entropy_with_logits`` takes z.

Arguments follow PyTorch's order (prediction first, then target). Every loss
takes ``reduction`` = ``"mean"`` (default), ``"sum"`` or ``"none"`` and returns
a tensor that autograd can differentiate; each ``*_grad`` returns the gradient
of the reduced loss with respect to the prediction, the same shape as it.
The values and gradients are checked against ``torch.nn.functional`` and
``torch.autograd`` in ``tests/test_losses.py``.
"""
from __future__ import annotations

import math

import torch

from ._checks import (
    as_float_tensor,
    check_ndim,
    check_non_empty,
    check_number,
    check_positive_int,
    same_shape_floats,
)

__all__ = [
    "mse", "mae", "binary_cross_entropy", "binary_cross_entropy_with_logits", "log_softmax", "softmax",
    "cross_entropy", "logistic_loss", "hinge_loss", "one_hot",
    "mse_grad", "binary_cross_entropy_grad", "binary_cross_entropy_with_logits_grad", "cross_entropy_grad",
    "logistic_loss_grad", "hinge_loss_grad",
]

_REDUCTIONS = ("mean", "sum", "none")
LOG_CLAMP = -100.0  # PyTorch's binary_cross_entropy clamps log(p) at −100, so p = 0 gives a finite loss


# ---------------------------------------------------------------- checks
def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _reduce(per_sample: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    return per_sample


def _scale(reduction: str, count: int) -> float:
    """d(reduced)/d(per-sample term): 1/count for the mean, 1 otherwise."""
    return 1.0 / count if _check_reduction(reduction) == "mean" else 1.0


def _check_in_unit_interval(t: torch.Tensor, name: str, what: str):
    low, high = torch.aminmax(t)  # one pass; NaN propagates and fails both comparisons
    if not (low >= 0 and high <= 1):
        bad = ~((t >= 0) & (t <= 1))
        value = t[bad].flatten()[0].item()
        raise ValueError(f"{name} must hold {what} in [0, 1], got {value:g}")


def _check_signs(y: torch.Tensor, name: str = "y"):
    if torch.any(y.abs() != 1):
        bad = y[(y != 1) & (y != -1)].flatten()[0].item()
        raise ValueError(f"{name} must hold labels -1 or +1, got {bad:g} (map 0/1 labels with 2*y - 1)")


def _base(base) -> float:
    base = check_number(base, "base", low=0.0, low_inclusive=False)
    if base == 1.0:
        raise ValueError("base must be positive and different from 1, got 1.0")
    return base


def _softplus(t: torch.Tensor) -> torch.Tensor:
    """log(1 + e^t) without overflow: ``logaddexp(0, t)`` = max(t, 0) + log(1 + e^{−|t|}).

    (Written with ``logaddexp`` so that autograd gives the exact derivative σ(t)
    at t = 0 too; the max/abs form has a kink there that autograd splits wrongly.)
    """
    return torch.logaddexp(torch.zeros_like(t), t)


# ---------------------------------------------------------------- regression
def mse(pred, target, *, reduction: str = "mean") -> torch.Tensor:
    """Mean squared error (1/m) Σ (ŷ − y)². pred, target: same shape (any)."""
    pred, target = same_shape_floats(pred, target, "pred", "target")
    return _reduce((pred - target) ** 2, _check_reduction(reduction))


def mse_grad(pred, target, *, reduction: str = "mean") -> torch.Tensor:
    """∂mse/∂ŷ = 2(ŷ − y)/m (without the 1/m for ``sum``/``none``)."""
    pred, target = same_shape_floats(pred, target, "pred", "target")
    return 2 * (pred - target) * _scale(reduction, pred.numel())


def mae(pred, target, *, reduction: str = "mean") -> torch.Tensor:
    """Mean absolute error (1/m) Σ |ŷ − y|. pred, target: same shape (any)."""
    pred, target = same_shape_floats(pred, target, "pred", "target")
    return _reduce((pred - target).abs(), _check_reduction(reduction))


# ---------------------------------------------------------------- binary classification
def binary_cross_entropy(p, y, *, base: float = math.e, reduction: str = "mean") -> torch.Tensor:
    """−[y log p + (1 − y) log(1 − p)], logarithm in ``base`` (e by default).

    p: predicted probabilities in [0, 1]; y: targets in [0, 1] (usually 0/1),
    the same shape. With the natural log this is ``F.binary_cross_entropy``
    (log clamped at −100 like PyTorch, so p = 0 or 1 stays finite); the
    lecture's table uses ``base=10``. The loss in base b is the natural one
    divided by ln b.
    """
    p, y = same_shape_floats(p, y, "p", "y")
    _check_in_unit_interval(p, "p", "probabilities")
    _check_in_unit_interval(y, "y", "targets")
    base = _base(base)
    log_p = torch.log(p).clamp(min=LOG_CLAMP)
    log_q = torch.log1p(-p).clamp(min=LOG_CLAMP)
    per_sample = -(y * log_p + (1 - y) * log_q)
    if base != math.e:
        per_sample = per_sample / math.log(base)
    return _reduce(per_sample, _check_reduction(reduction))


def binary_cross_entropy_grad(p, y, *, base: float = math.e, reduction: str = "mean") -> torch.Tensor:
    """∂BCE/∂p = (p − y) / (p(1 − p) ln b), divided by m for the mean (p strictly inside (0, 1))."""
    p, y = same_shape_floats(p, y, "p", "y")
    _check_in_unit_interval(p, "p", "probabilities")
    _check_in_unit_interval(y, "y", "targets")
    if torch.any((p == 0) | (p == 1)):
        raise ValueError("p must be strictly between 0 and 1 for the gradient (it is infinite at 0 and 1)")
    return (p - y) / (p * (1 - p) * math.log(_base(base))) * _scale(reduction, p.numel())


def binary_cross_entropy_with_logits(z, y, *, reduction: str = "mean") -> torch.Tensor:
    """BCE of p = σ(z) computed from the score z without overflow.

    −log σ(z) = log(1 + e^{−z}) and −log(1 − σ(z)) = log(1 + e^{z}), so the loss is
    y·log(1 + e^{−z}) + (1 − y)·log(1 + e^{z}) = log(1 + e^{z}) − y·z, with
    log(1 + e^{z}) evaluated as max(z, 0) + log(1 + e^{−|z|}) (``_softplus``).
    z: scores (any shape); y: targets in [0, 1], the same shape.
    """
    z, y = same_shape_floats(z, y, "z", "y")
    _check_in_unit_interval(y, "y", "targets")
    per_sample = _softplus(z) - y * z
    return _reduce(per_sample, _check_reduction(reduction))


def binary_cross_entropy_with_logits_grad(z, y, *, reduction: str = "mean") -> torch.Tensor:
    """∂BCE/∂z = σ(z) − y (divided by m for the mean): the error signal of logistic regression."""
    z, y = same_shape_floats(z, y, "z", "y")
    _check_in_unit_interval(y, "y", "targets")
    return (torch.sigmoid(z) - y) * _scale(reduction, z.numel())


def logistic_loss(z, y, *, reduction: str = "mean") -> torch.Tensor:
    """log(1 + e^{−yz}) for labels y ∈ {−1, +1} (``F.soft_margin_loss``), computed stably.

    With m = yz: log(1 + e^{−m}) = max(−m, 0) + log(1 + e^{−|m|}). z, y: same shape.
    """
    z, y = same_shape_floats(z, y, "z", "y")
    _check_signs(y)
    per_sample = _softplus(-y * z)
    return _reduce(per_sample, _check_reduction(reduction))


def logistic_loss_grad(z, y, *, reduction: str = "mean") -> torch.Tensor:
    """∂/∂z log(1 + e^{−yz}) = −y σ(−yz) (divided by m for the mean)."""
    z, y = same_shape_floats(z, y, "z", "y")
    _check_signs(y)
    return -y * torch.sigmoid(-y * z) * _scale(reduction, z.numel())


def hinge_loss(z, y, *, margin: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """The SVM's hinge loss max(0, margin − yz) for labels y ∈ {−1, +1}. z, y: same shape.

    Written with an explicit mask, so autograd gives :func:`hinge_loss_grad` everywhere,
    including the kink yz = margin (subgradient 0 there), whatever ``clamp`` does in a
    given PyTorch version.
    """
    z, y = same_shape_floats(z, y, "z", "y")
    _check_signs(y)
    margin = check_number(margin, "margin", low=0.0)
    slack = margin - y * z
    return _reduce(torch.where(y * z >= margin, torch.zeros_like(slack), slack), _check_reduction(reduction))


def hinge_loss_grad(z, y, *, margin: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """∂hinge/∂z = −y where yz < margin, else 0 (divided by m for the mean).

    At the kink yz = margin the loss has no derivative; the library's convention is the
    subgradient 0 there (the sample already meets the margin, so it exerts no pull), the
    same convention ReLU's gradient uses at 0.
    """
    z, y = same_shape_floats(z, y, "z", "y")
    _check_signs(y)
    margin = check_number(margin, "margin", low=0.0)
    active = (y * z < margin).to(z.dtype)
    return -y * active * _scale(reduction, z.numel())


# ---------------------------------------------------------------- multi-class
def log_softmax(z, dim: int = -1) -> torch.Tensor:
    """log softmax(z) = z − max(z) − log Σ e^{z − max(z)}: never overflows. Same shape as z."""
    z = as_float_tensor(z, "z")
    check_non_empty(z, "z")
    if z.ndim == 0:
        raise ValueError("z must have at least 1 dimension (the classes), got a scalar")
    shifted = z - z.amax(dim=dim, keepdim=True).detach()  # the shift cancels; no gradient needed through it
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))


def softmax(z, dim: int = -1) -> torch.Tensor:
    """S(z)_i = e^{z_i} / Σ_j e^{z_j}, computed as exp(log_softmax(z)). Same shape as z."""
    return torch.exp(log_softmax(z, dim))


def one_hot(labels, num_classes: int, *, dtype=None) -> torch.Tensor:
    """Class indices (N,) → one-hot rows (N, num_classes) (float)."""
    num_classes = check_positive_int(num_classes, "num_classes")
    labels = _class_indices(labels, "labels", num_classes)
    eye = torch.eye(num_classes, dtype=dtype or torch.get_default_dtype(), device=labels.device)
    return eye[labels]


def _class_indices(labels, name: str, num_classes: int) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor):
        labels = torch.as_tensor(labels)
    if labels.is_floating_point() or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"{name} as class indices must be an integer tensor, got dtype {labels.dtype} "
                        "(use labels.long(), or pass one-hot rows of shape (N, C))")
    labels = check_ndim(labels, name, 1)
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0].item()
        raise ValueError(f"{name} must be class indices in [0, {num_classes - 1}], got {bad}")
    return labels.long()


def _targets(logits, labels):
    """logits: (N, C); labels: (N,) indices or (N, C) distributions → (N, C) target distributions."""
    logits = check_ndim(as_float_tensor(logits, "logits"), "logits", 2)
    n, c = logits.shape
    if n == 0 or c == 0:
        raise ValueError(f"logits is empty (shape {(n, c)}): cross-entropy needs at least one sample and class")
    if not isinstance(labels, torch.Tensor):
        labels = torch.as_tensor(labels)
    if labels.is_floating_point() and labels.ndim == 2:
        target = labels.to(device=logits.device, dtype=logits.dtype)
        if target.shape != logits.shape:
            raise ValueError(f"labels as one-hot/probability rows must have the shape of logits {(n, c)}, "
                             f"got {tuple(target.shape)}")
        _check_in_unit_interval(target, "labels", "probabilities")
        sums = target.sum(dim=1)
        if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
            raise ValueError(f"labels rows must sum to 1 (one-hot or probabilities), got a row summing to "
                             f"{sums[(sums - 1).abs() > 1e-4][0].item():.4g}")
        return logits, target
    indices = _class_indices(labels, "labels", c).to(logits.device)
    if indices.shape[0] != n:
        raise ValueError(f"logits has {n} rows but labels has {indices.shape[0]}; they must match")
    return logits, indices


def cross_entropy(logits, labels, *, reduction: str = "mean") -> torch.Tensor:
    """Categorical cross-entropy −Σ_k y_k log softmax(z)_k, from raw scores (stable).

    logits: (N, C) scores; labels: (N,) int class indices in [0, C) or (N, C)
    one-hot / probability rows. Returns a scalar (``none``: (N,)). Equals
    ``F.cross_entropy``.
    """
    logits, target = _targets(logits, labels)
    log_p = log_softmax(logits, dim=1)
    if target.dtype == torch.long:
        per_sample = -log_p.gather(1, target[:, None]).squeeze(1)
    else:
        per_sample = -(target * log_p).sum(dim=1)
    return _reduce(per_sample, _check_reduction(reduction))


def cross_entropy_grad(logits, labels, *, reduction: str = "mean") -> torch.Tensor:
    """∂CE/∂z = softmax(z) − y, divided by N for the mean. (N, C) → (N, C)."""
    logits, target = _targets(logits, labels)
    if target.dtype == torch.long:
        target = torch.eye(logits.shape[1], dtype=logits.dtype, device=logits.device)[target]
    return (softmax(logits, dim=1) - target) * _scale(reduction, logits.shape[0])
