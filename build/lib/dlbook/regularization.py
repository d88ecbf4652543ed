"""Regularisation: dropout, DropConnect, L1/L2 penalties, early stopping, Polyak averaging.

Taught in chapter 11 (11_regularization); used in chapter 12.

**Which p?** Throughout this module (as in PyTorch) ``p`` is the **drop** probability:
each unit is zeroed with probability p and kept with probability q = 1 − p. Some
lectures (and the original dropout paper) write p for the **keep** probability; their
"scale by p at test time" is our "scale by q = 1 − p".

Two ways to keep the expected activation the same in training and at test time:

* standard dropout: train with a ← m ⊙ a (m ~ Bernoulli(q)), test with a ← q·a;
* inverted dropout (what everyone uses): train with a ← m ⊙ a / q, test with a unchanged.

Either way E[train output] = test output: for one unit fed by two inputs with q = ½,
E[a] = ¼(w₁x + w₂y) + ¼(w₁x) + ¼(w₂y) + ¼·0 = ½(w₁x + w₂y).
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from ._checks import as_float_tensor, check_number, check_positive_int

__all__ = [
    "dropout", "Dropout", "dropconnect", "DropConnectLinear",
    "l1_penalty", "l2_penalty", "EarlyStopping", "PolyakAverage",
]


# ---------------------------------------------------------------- dropout
def _check_p(p) -> float:
    return check_number(p, "p (the drop probability)", low=0.0, high=1.0)


def _keep_mask(shape, q: float, like: torch.Tensor, generator) -> torch.Tensor:
    """Bernoulli(q) mask of ``shape`` in ``like``'s dtype/device, drawn from ``generator`` if given."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    device = like.device if generator is None else generator.device
    mask = torch.empty(shape, dtype=like.dtype, device=device).bernoulli_(q, generator=generator)
    return mask.to(like.device)


def dropout(x, p: float = 0.5, training: bool = True, *, inverted: bool = True, generator=None) -> torch.Tensor:
    """Zero each element of x with probability ``p`` (the **drop** probability) in training.

    x: any shape → same shape. With keep probability q = 1 − p:

    * ``inverted=True`` (default, = ``F.dropout``): training x·m/q, evaluation x;
    * ``inverted=False`` (standard): training x·m, evaluation q·x.

    ``p = 1`` drops everything (the output is 0 in training).
    """
    x = as_float_tensor(x)
    p = _check_p(p)
    q = 1.0 - p
    if not training:
        return x if inverted else x * q
    if p == 0.0:
        return x
    if q == 0.0:
        return torch.zeros_like(x)
    mask = _keep_mask(x.shape, q, x, generator)
    return x * mask / q if inverted else x * mask


class Dropout(nn.Module):
    """Dropout as a layer: uses ``self.training`` (``model.train()`` / ``model.eval()``).

    ``p`` is the drop probability; ``inverted`` as in :func:`dropout`.
    """

    def __init__(self, p: float = 0.5, *, inverted: bool = True, generator: torch.Generator | None = None):
        super().__init__()
        self.p = _check_p(p)
        self.inverted = bool(inverted)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training, inverted=self.inverted, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inverted={self.inverted}"


def dropconnect(W, p: float = 0.5, training: bool = True, *, generator=None) -> torch.Tensor:
    """DropConnect: zero each **weight** (not activation) with probability ``p``, inverted scaling.

    W: any shape → same shape; use as ``F.linear(x, dropconnect(W, p))``. One mask is shared by
    the whole mini-batch (the original method draws one per example; that costs a weight
    matrix per example). In evaluation W is returned unchanged.
    """
    return dropout(W, p, training, inverted=True, generator=generator)


class DropConnectLinear(nn.Linear):
    """``nn.Linear`` whose weight passes through :func:`dropconnect` in training. x: (N, in) → (N, out)."""

    def __init__(self, in_features: int, out_features: int, p: float = 0.5, bias: bool = True, *,
                 generator: torch.Generator | None = None, device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.p = _check_p(p)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        W = dropconnect(self.weight, self.p, self.training, generator=self.generator)
        return nn.functional.linear(x, W, self.bias)


# ---------------------------------------------------------------- penalties
def _penalised(params, include_bias: bool) -> list[torch.Tensor]:
    if isinstance(params, nn.Module):
        params = params.parameters()
    elif isinstance(params, torch.Tensor):
        params = [params]
    params = list(params)
    for i, w in enumerate(params):
        if not isinstance(w, torch.Tensor):
            raise TypeError(f"params[{i}] must be a tensor, got {type(w).__name__}")
    return [w for w in params if include_bias or w.ndim > 1]


def _zero_like(params) -> torch.Tensor:
    return torch.zeros(()) if not params else params[0].new_zeros(())


def l1_penalty(params, lam: float, *, include_bias: bool = False) -> torch.Tensor:
    """λ Σ |w| over the weights of ``params`` (a module, a tensor or an iterable of tensors).

    Biases — every parameter with fewer than 2 dimensions, which also covers batch-norm
    γ and β — are left out unless ``include_bias=True``: they do not multiply inputs, so
    shrinking them does not make the function smoother. Returns a scalar (differentiable).
    """
    lam = check_number(lam, "lam", low=0.0)
    ws = _penalised(params, include_bias)
    return lam * sum((w.abs().sum() for w in ws), _zero_like(ws))


def l2_penalty(params, lam: float, *, include_bias: bool = False) -> torch.Tensor:
    """(λ/2) Σ w² over the weights (biases left out as in :func:`l1_penalty`).

    With the ½ its gradient is λw, so adding it to the loss is exactly SGD's
    ``weight_decay=λ``: w ← w − α(∇L + λw) = (1 − αλ)w − α∇L.
    """
    lam = check_number(lam, "lam", low=0.0)
    ws = _penalised(params, include_bias)
    return lam / 2 * sum((w.pow(2).sum() for w in ws), _zero_like(ws))


# ---------------------------------------------------------------- early stopping
class EarlyStopping:
    """Stop when the monitored value has not improved for ``patience`` checks in a row.

    ``mode="min"`` (validation loss) or ``"max"`` (validation accuracy); an improvement must beat
    the best value by more than ``min_delta``. Pass the model to :meth:`step` to keep a copy of
    its best weights in ``best_state`` (restore with ``model.load_state_dict(stopper.best_state)``).
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, mode: str = "min"):
        self.patience = check_positive_int(patience, "patience")
        self.min_delta = check_number(min_delta, "min_delta", low=0.0)
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.mode = mode
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict | None = None
        self.epoch = -1
        self.bad_epochs = 0
        self.should_stop = False

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value, model: nn.Module | None = None) -> bool:
        """Record this epoch's value; returns True when training should stop.

        A NaN value counts as no improvement (and never becomes the best).
        """
        value = float(value.item() if isinstance(value, torch.Tensor) else value)
        self.epoch += 1
        if value == value and self._improved(value):  # value == value: not NaN
            self.best, self.best_epoch, self.bad_epochs = value, self.epoch, 0
            if model is not None:
                self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self.bad_epochs += 1
        self.should_stop = self.bad_epochs >= self.patience
        return self.should_stop


# ---------------------------------------------------------------- Polyak averaging
class PolyakAverage:
    """An exponential moving average of a model's parameters (Polyak averaging):

        θ_avg ← decay·θ_avg + (1 − decay)·θ     (decay = 0.995 by default)

    ``self.module`` is a copy of the model holding the averages; evaluate with it. Buffers
    (e.g. batch-norm running statistics) are copied, not averaged. Call :meth:`update`
    after every optimiser step.

    The average follows the model's device: create it before ``fit`` (or ``model.to``) moves
    the model, and the copy moves too at the next :meth:`update` or call.
    """

    def __init__(self, model: nn.Module, decay: float = 0.995):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.decay = check_number(decay, "decay", low=0.0, high=1.0)
        self.model = model
        self.module = copy.deepcopy(model)
        self.module.requires_grad_(False)
        self.updates = 0

    def _follow_model(self) -> None:
        """Give the averaged copy the device (and floating dtype) of the model's parameters if they changed."""
        live = next(self.model.parameters(), None)
        mine = next(self.module.parameters(), None)
        if live is None or mine is None or (mine.device, mine.dtype) == (live.device, live.dtype):
            return
        self.module.to(device=live.device, dtype=live.dtype if live.is_floating_point() else None)

    @torch.no_grad()
    def update(self) -> None:
        self._follow_model()
        live = [p.detach() for p in self.model.parameters()]
        avg = list(self.module.parameters())
        if len(live) != len(avg):
            raise ValueError("the model's parameters changed since the average was created")
        if hasattr(torch, "_foreach_lerp_"):
            torch._foreach_lerp_(avg, live, 1.0 - self.decay)
        else:  # pragma: no cover - old PyTorch
            for a, p in zip(avg, live):
                a.lerp_(p, 1.0 - self.decay)
        for b_avg, b in zip(self.module.buffers(), self.model.buffers()):
            b_avg.copy_(b)
        self.updates += 1

    def __call__(self, *args, **kwargs):
        self._follow_model()
        return self.module(*args, **kwargs)

    def state_dict(self) -> dict:
        return self.module.state_dict()
