"""Numerical gradients by central differences, and the gradient check.

Taught in chapter 07 (07_backpropagation).

∂J/∂θᵢ ≈ (J(θ + h eᵢ) − J(θ − h eᵢ)) / 2h

The error of this estimate is O(h²), so with h = 1e-5 in float64 it agrees with the
exact gradient to about 1e-10. The price: **two evaluations of the loss per
parameter** (:func:`count_loss_evaluations`). A loop over the parameters is the
definition of the method, not an implementation shortcut — and it is why nobody trains
with it: back-propagation gets all the derivatives for about the cost of one more
forward pass. Its use is to *check* a hand-written backward pass
(:func:`gradient_check`).

Work in float64: in float32 the rounding error of J (≈1e-7·|J|) divided by 2h swamps
the estimate. (Apple's MPS has no float64: check gradients on the CPU.)
"""
from __future__ import annotations

import itertools
import math
from typing import Callable

import torch

from ._checks import as_float_tensor, check_number
from .runtime import float64_device

__all__ = ["numerical_gradient", "count_loss_evaluations", "relative_error", "gradient_check"]


def _tensors(params, name: str = "params") -> list[torch.Tensor]:
    """The tensors of a tensor, a list/tuple or a dict of tensors, or an ``nn.Module``."""
    if isinstance(params, torch.nn.Module):
        return list(params.parameters())
    if isinstance(params, torch.Tensor):
        return [params]
    if isinstance(params, dict):
        values = list(params.values())
    elif isinstance(params, (list, tuple)):
        values = list(params)
    else:
        raise TypeError(f"{name} must be a tensor, a list or dict of tensors, or an nn.Module, "
                        f"got {type(params).__name__}")
    for i, v in enumerate(values):
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"{name} must hold tensors, but entry {i} is {type(v).__name__}")
    return values


def _like(params, grads: list[torch.Tensor]):
    """Arrange ``grads`` in the structure of ``params`` (tensor, list, tuple or dict)."""
    if isinstance(params, torch.Tensor):
        return grads[0]
    if isinstance(params, dict):
        return dict(zip(params.keys(), grads))
    return type(params)(grads) if isinstance(params, tuple) else list(grads)


def _evaluate(f: Callable[[], object]) -> float:
    value = f()
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"f must return a scalar loss, got a tensor of shape {tuple(value.shape)}")
        return value.item()
    return check_number(value, "f()")


@torch.no_grad()
def numerical_gradient(f: Callable[[], object], params, h: float = 1e-5):
    """Central-difference gradient of the scalar ``f()`` with respect to ``params``.

    ``f`` takes no arguments and computes the loss from the *current* values of the
    parameters; ``params`` is a tensor, a list/tuple or dict of tensors, or an
    ``nn.Module``. Each entry is nudged in place by ±h and restored, so ``f`` sees
    the change. Costs 2 evaluations of ``f`` per parameter entry (see
    :func:`count_loss_evaluations`). Returns gradients in the structure of ``params``
    (a list for a Module), each with its tensor's shape, dtype and device.
    """
    if not callable(f):
        raise TypeError(f"f must be a callable returning the loss, got {type(f).__name__}")
    h = check_number(h, "h", low=0.0, low_inclusive=False)
    tensors = _tensors(params)
    for i, p in enumerate(tensors):
        if not p.is_floating_point():
            raise TypeError(f"params must be floating point to be nudged by h, entry {i} has dtype {p.dtype}")
    grads = []
    for p in tensors:
        grad = torch.zeros_like(p)
        data = p.detach()  # shares memory with p: nudging it changes what f sees
        for idx in itertools.product(*(range(n) for n in p.shape)):  # one entry at a time, by definition
            original = data[idx].item()
            data[idx] = original + h
            plus = _evaluate(f)
            data[idx] = original - h
            minus = _evaluate(f)
            data[idx] = original
            grad[idx] = (plus - minus) / (2 * h)
        grads.append(grad)
    return grads if isinstance(params, torch.nn.Module) else _like(params, grads)


def count_loss_evaluations(params) -> int:
    """How many times :func:`numerical_gradient` evaluates the loss: 2 × (number of parameters).

    ``params``: a tensor, a list/dict of tensors, an ``nn.Module``, or the number of
    parameters as an int.
    """
    if isinstance(params, int) and not isinstance(params, bool):
        if params < 0:
            raise ValueError(f"params as a count must be >= 0, got {params}")
        return 2 * params
    return 2 * sum(p.numel() for p in _tensors(params))


def relative_error(a, b, eps: float = 1e-300) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖) (Euclidean norms over all entries; 0 when both are 0).

    Scale-free, so one threshold serves every layer: in float64 a correct backward
    pass gives ~1e-10 against central differences, a wrong one ~1e-1. Computed in float64 on
    ``a``'s device (on the CPU when that is MPS, which has no float64).
    """
    a, b = as_float_tensor(a, "a"), as_float_tensor(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    work = float64_device(a.device)
    a, b = a.to(device=work, dtype=torch.float64), b.to(device=work, dtype=torch.float64)
    scale = (a.norm() + b.norm()).item()
    if scale == 0:
        return 0.0
    return (a - b).norm().item() / max(scale, eps)


def gradient_check(f: Callable[[], object], params, analytic_grads, h: float = 1e-5) -> float:
    """The largest :func:`relative_error` between ``analytic_grads`` and the numerical gradient.

    ``params`` and ``analytic_grads`` have the same structure (tensor, list or dict
    with the same keys). For float64 parameters, < 1e-7 means the backward pass is right.
    """
    numeric = numerical_gradient(f, params, h)
    if isinstance(params, dict):
        if not isinstance(analytic_grads, dict) or set(analytic_grads) != set(params):
            got = sorted(analytic_grads) if isinstance(analytic_grads, dict) else type(analytic_grads).__name__
            raise ValueError(f"analytic_grads must be a dict with the keys of params {sorted(params)}, got {got}")
        pairs = [(k, analytic_grads[k], numeric[k]) for k in params]
    else:
        analytic = _tensors(analytic_grads, "analytic_grads")
        numeric = _tensors(numeric)
        if len(analytic) != len(numeric):
            raise ValueError(f"analytic_grads must hold one gradient per parameter tensor ({len(numeric)}), "
                             f"got {len(analytic)}")
        pairs = [(i, g, n) for i, (g, n) in enumerate(zip(analytic, numeric))]
    worst = 0.0
    for key, g, n in pairs:
        if tuple(g.shape) != tuple(n.shape):
            raise ValueError(f"analytic_grads[{key!r}] must have the parameter's shape {tuple(n.shape)}, "
                             f"got {tuple(g.shape)}")
        worst = max(worst, relative_error(g, n))
    return worst if math.isfinite(worst) else float("inf")
