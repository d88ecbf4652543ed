"""Optimisers from scratch, each matched step by step to ``torch.optim``.

Taught in chapter 10 (10_optimization); used in chapter 08.

Every optimiser updates parameters θ from their gradients g = ∇θ L:

=============  ===========================================================
SGD            θ ← θ − α g
Momentum       v ← ρ v + g;            θ ← θ − α v
Nesterov       v ← ρ v + g;            θ ← θ − α (g + ρ v)
AdaGrad        s ← s + g²;             θ ← θ − α g / (√s + ε)
RMSProp        s ← β s + (1 − β) g²;   θ ← θ − α g / (√s + ε)
Adam           m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²
               m̂ = m / (1 − β₁ᵗ);      v̂ = v / (1 − β₂ᵗ);  θ ← θ − α m̂ / (√v̂ + ε)
=============  ===========================================================

``weight_decay=λ`` adds λθ to g first (L2 regularisation, as in ``torch.optim``);
``AdamW`` instead shrinks θ ← θ(1 − αλ) directly (decoupled weight decay).

They share one small interface, the same as ``torch.optim``'s::

    opt = Adam(model.parameters(), lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad()
    opt.state_dict() / opt.load_state_dict(...)

and ``param_groups`` (a list of dicts, each with its own ``lr``), so the learning-rate
schedules below drive both these optimisers and PyTorch's.

Each optimiser's update is written once, as the formulas above read: ``_update(θ, g, state,
group)`` changes one parameter tensor in place, and ``step`` calls it for every parameter that
has a gradient. There is no vectorised twin: in the chapters that use these optimisers the
update is a small part of each step (the networks are tiny, or the gradient costs far more),
and ``bench/bench_optim.py`` prints how the loop compares with ``torch.optim``.

The module also has learning-rate schedules (step, exponential, cosine), a Newton
step with the exact Hessian, and a full-batch L-BFGS wrapper. 2-D test surfaces and
optimiser trajectories live in :mod:`dlbook.surfaces`.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Iterable

import torch

from ._checks import as_float_tensor, check_ndim, check_number, check_positive_int

__all__ = [
    "Optimizer", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam", "AdamW",
    "step_decay", "exponential_decay", "cosine_decay",
    "LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR",
    "newton_step", "newton_path", "lbfgs_minimize",
]


# ---------------------------------------------------------------- base class
class Optimizer:
    """Base class: holds ``param_groups`` and per-parameter ``state``; subclasses supply the update.

    ``params`` is an iterable of tensors, or of dicts ``{"params": [...], "lr": ..., ...}``
    (parameter groups, each overriding the defaults). Subclasses define ``_check(group)`` and
    ``_update(theta, g, state, group)``: one parameter θ and its gradient g (the same shape),
    its ``state`` dict (buffers of θ's shape, created on first use) and its group's settings.
    """

    def __init__(self, params, defaults: dict):
        if isinstance(params, torch.Tensor):
            raise TypeError("params must be an iterable of tensors (e.g. model.parameters()), got a single tensor; "
                            "wrap it in a list: [x]")
        groups = list(params)
        if not groups:
            raise ValueError("params is empty: the optimizer got no parameters to update "
                             "(did a generator such as model.parameters() get used up already?)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.defaults = dict(defaults)
        self.param_groups: list[dict] = []
        self.state: dict[torch.Tensor, dict] = {}
        for group in groups:
            self.add_param_group(group)

    # -- groups and checks
    def add_param_group(self, group: dict) -> None:
        if not isinstance(group, dict):
            raise TypeError(f"a parameter group must be a dict with a 'params' entry, got {type(group).__name__}")
        if "params" not in group:
            raise ValueError(f"a parameter group must have a 'params' entry, got keys {sorted(group)}")
        params = group["params"]
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        if not params:
            raise ValueError("a parameter group has an empty 'params' list")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, torch.Tensor):
                raise TypeError(f"params[{i}] must be a tensor, got {type(p).__name__}")
            if not p.is_floating_point():
                raise TypeError(f"params[{i}] must be a floating-point tensor, got dtype {p.dtype}")
            if not p.is_leaf:
                raise ValueError(f"params[{i}] is not a leaf tensor (it was computed from others); "
                                 "optimise the tensor it was computed from")
            if id(p) in seen:
                raise ValueError(f"params[{i}] appears more than once among the optimizer's parameters")
            seen.add(id(p))
        full = {**self.defaults, **group, "params": params}
        self._check(full)
        self.param_groups.append(full)

    def _check(self, group: dict) -> None:
        group["lr"] = check_number(group["lr"], "lr", low=0.0)
        if "weight_decay" in group:
            group["weight_decay"] = check_number(group["weight_decay"], "weight_decay", low=0.0)
        if "eps" in group:
            group["eps"] = check_number(group["eps"], "eps", low=0.0)

    # -- the training-loop interface
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``None``, or zero-filled with ``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None):
        """Update every parameter that has a gradient. ``closure`` (optional) recomputes
        and returns the loss first, as in ``torch.optim``; its value is returned."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for theta in group["params"]:
                g = theta.grad
                if g is None:
                    continue
                if g.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                self._update(theta, g, self.state.setdefault(theta, {}), group)
        return loss

    # -- saving and restoring
    def state_dict(self) -> dict:
        """A copy of the state: ``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
            for p, s in self.state.items() if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and per-parameter state saved by :meth:`state_dict`."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("state_dict must be a dict with keys 'state' and 'param_groups' "
                             "(as returned by Optimizer.state_dict())")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"state_dict has {len(saved)} parameter group(s), the optimizer has {len(self.param_groups)}")
        by_index = {}
        for i, (mine, theirs) in enumerate(zip(self.param_groups, saved)):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError(f"parameter group {i} has {len(mine['params'])} parameters, "
                                 f"the state_dict's has {len(theirs['params'])}")
            by_index.update(zip(theirs["params"], mine["params"]))
        for mine, theirs in zip(self.param_groups, saved):
            mine.update({k: copy.deepcopy(v) for k, v in theirs.items() if k != "params"})
        self.state = {}
        for i, s in state_dict["state"].items():
            p = by_index[int(i)]
            self.state[p] = {
                k: (v.to(device=p.device, dtype=p.dtype if v.is_floating_point() else v.dtype).clone()
                    if isinstance(v, torch.Tensor) else v)
                for k, v in s.items()
            }

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} tensor(s), {settings}")
        return "\n".join(lines + [")"])

    def _update(self, theta: torch.Tensor, g: torch.Tensor, state: dict, group: dict) -> None:
        """Change ``theta`` in place by one step (never write into ``g``: it is ``theta.grad``)."""
        raise NotImplementedError  # pragma: no cover - abstract


def _check_fraction(value, name: str, *, high_inclusive: bool = False) -> float:
    """A decay rate in [0, 1) (or [0, 1])."""
    return check_number(value, name, low=0.0, high=1.0, high_inclusive=high_inclusive)


def _next_step(state: dict) -> int:
    """Advance and return the parameter's step counter t (1 on its first update)."""
    state["step"] = state.get("step", 0) + 1
    return state["step"]


def _buffer(state: dict, name: str, theta: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """The buffer ``state[name]``, of θ's shape, device and dtype; ``fill``-ed on first use."""
    if name not in state:
        state[name] = torch.full_like(theta, fill, memory_format=torch.preserve_format)
    return state[name]


# ---------------------------------------------------------------- SGD and momentum
class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    Same semantics as ``torch.optim.SGD``: g ← g + λθ; v ← ρv + (1 − dampening)g
    (v = g on the first step); θ ← θ − α·v, or θ − α·(g + ρv) with ``nesterov=True``.
    θ, g and v all have the parameter's shape.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=bool(nesterov))
        super().__init__(params, defaults)

    def _check(self, group):
        super()._check(group)
        group["momentum"] = check_number(group["momentum"], "momentum", low=0.0)
        group["dampening"] = _check_fraction(group["dampening"], "dampening", high_inclusive=True)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0, "
                             f"got momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, theta, g, state, group):
        lr, rho, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd:
            g = g + wd * theta                              # g ← g + λθ
        if rho:
            v = state.get("momentum_buffer")
            if v is None:
                v = state["momentum_buffer"] = g.clone()    # v = g on the first step
            else:
                v.mul_(rho).add_(g, alpha=1 - group["dampening"])  # v ← ρv + (1 − dampening)g
            g = g + rho * v if group["nesterov"] else v     # step along g + ρv, or along v
        theta.add_(g, alpha=-lr)                            # θ ← θ − α·g


class Momentum(SGD):
    """SGD with (heavy-ball) momentum: v ← ρv + g; θ ← θ − αv."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


class Nesterov(SGD):
    """SGD with Nesterov momentum (look ahead along v): v ← ρv + g; θ ← θ − α(g + ρv)."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=True)


# ---------------------------------------------------------------- adaptive methods
class AdaGrad(Optimizer):
    """AdaGrad: s ← s + g²; θ ← θ − α_t g / (√s + ε), α_t = α / (1 + (t − 1)·lr_decay).

    Matches ``torch.optim.Adagrad``. The sum s (the parameter's shape, starting at
    ``initial_accumulator_value``) only grows, so steps shrink for good:
    fine for convex problems, often too early a stop for deep networks.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, defaults)

    def _check(self, group):
        super()._check(group)
        group["lr_decay"] = check_number(group["lr_decay"], "lr_decay", low=0.0)
        group["initial_accumulator_value"] = check_number(
            group["initial_accumulator_value"], "initial_accumulator_value", low=0.0)

    def _update(self, theta, g, state, group):
        t = _next_step(state)
        s = _buffer(state, "sum", theta, fill=group["initial_accumulator_value"])
        if group["weight_decay"]:
            g = g + group["weight_decay"] * theta           # g ← g + λθ
        lr_t = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        s.addcmul_(g, g)                                    # s ← s + g²
        theta.addcdiv_(g, s.sqrt() + group["eps"], value=-lr_t)  # θ ← θ − α_t g / (√s + ε)


class RMSProp(Optimizer):
    """RMSProp: s ← βs + (1 − β)g²; θ ← θ − α g / (√s + ε)  (β is ``alpha``, as in ``torch.optim.RMSprop``).

    ``centered=True`` divides by the estimated standard deviation √(s − ḡ²) instead
    (ḡ ← βḡ + (1 − β)g); ``momentum=ρ`` accumulates the scaled step:
    b ← ρb + g/(√s + ε); θ ← θ − αb. s, ḡ and b have the parameter's shape.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=bool(centered))
        super().__init__(params, defaults)

    def _check(self, group):
        super()._check(group)
        group["alpha"] = _check_fraction(group["alpha"], "alpha", high_inclusive=True)
        group["momentum"] = check_number(group["momentum"], "momentum", low=0.0)

    def _update(self, theta, g, state, group):
        _next_step(state)
        beta, rho, eps = group["alpha"], group["momentum"], group["eps"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * theta           # g ← g + λθ
        s = _buffer(state, "square_avg", theta)
        s.mul_(beta).addcmul_(g, g, value=1 - beta)         # s ← βs + (1 − β)g²
        if group["centered"]:
            g_avg = _buffer(state, "grad_avg", theta)
            g_avg.lerp_(g, 1 - beta)                        # ḡ ← βḡ + (1 − β)g
            denom = (s - g_avg * g_avg).sqrt() + eps        # √(s − ḡ²) + ε
        else:
            denom = s.sqrt() + eps                          # √s + ε
        if rho > 0:
            b = _buffer(state, "momentum_buffer", theta)
            b.mul_(rho).addcdiv_(g, denom)                  # b ← ρb + g / denom
            theta.add_(b, alpha=-group["lr"])               # θ ← θ − αb
        else:
            theta.addcdiv_(g, denom, value=-group["lr"])    # θ ← θ − α g / denom


class Adam(Optimizer):
    """Adam: momentum (m) plus RMSProp (v), both bias-corrected because they start at 0.

    m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; m̂ = m/(1 − β₁ᵗ); v̂ = v/(1 − β₂ᵗ);
    θ ← θ − α m̂ / (√v̂ + ε), with m, v of the parameter's shape. ``weight_decay`` is L2
    (added to g), as in ``torch.optim.Adam``; ``decoupled_weight_decay=True`` is AdamW.
    Defaults α = 1e-3, β = (0.9, 0.999), ε = 1e-8.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, decoupled_weight_decay: bool = False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=bool(decoupled_weight_decay))
        super().__init__(params, defaults)

    def _check(self, group):
        super()._check(group)
        betas = group["betas"]
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Iterable) or len(tuple(betas)) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        b1, b2 = tuple(betas)
        group["betas"] = (_check_fraction(b1, "betas[0]"), _check_fraction(b2, "betas[1]"))

    def _update(self, theta, g, state, group):
        t = _next_step(state)
        m = _buffer(state, "exp_avg", theta)
        v = _buffer(state, "exp_avg_sq", theta)
        lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
        if wd and group["decoupled_weight_decay"]:
            theta.mul_(1 - lr * wd)                         # θ ← θ(1 − αλ)  (AdamW)
        elif wd:
            g = g + wd * theta                              # g ← g + λθ     (L2)
        m.lerp_(g, 1 - b1)                                  # m ← β₁m + (1 − β₁)g
        v.mul_(b2).addcmul_(g, g, value=1 - b2)             # v ← β₂v + (1 − β₂)g²
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        theta.addcdiv_(m_hat, v_hat.sqrt() + group["eps"], value=-lr)  # θ ← θ − α m̂ / (√v̂ + ε)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): θ ← θ(1 − αλ), then the Adam step."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         decoupled_weight_decay=True)


# ---------------------------------------------------------------- learning-rate schedules
def step_decay(lr0: float, epoch: int, step_size: int, gamma: float = 0.1) -> float:
    """α_e = α₀ · γ^⌊e / step_size⌋ (drop by γ every ``step_size`` epochs)."""
    epoch = check_positive_int(epoch, "epoch", minimum=0)
    step_size = check_positive_int(step_size, "step_size")
    return lr0 * gamma ** (epoch // step_size)


def exponential_decay(lr0: float, epoch: int, gamma: float) -> float:
    """α_e = α₀ · γ^e."""
    epoch = check_positive_int(epoch, "epoch", minimum=0)
    return lr0 * gamma**epoch


def cosine_decay(lr0: float, epoch: int, T_max: int, eta_min: float = 0.0) -> float:
    """α_e = η_min + (α₀ − η_min)(1 + cos(π e / T_max)) / 2 (from α₀ at e = 0 to η_min at e = T_max)."""
    epoch = check_positive_int(epoch, "epoch", minimum=0)
    T_max = check_positive_int(T_max, "T_max")
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2


class LRScheduler:
    """Sets every group's ``lr`` to ``lr_at(initial_lr, epoch)``; call :meth:`step` once per epoch.

    Works with these optimisers and with ``torch.optim`` ones (both have ``param_groups``).
    """

    def __init__(self, optimizer):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"optimizer must have param_groups (a dlbook or torch optimizer), "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, base_lr: float, epoch: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _apply(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)

    def step(self) -> None:
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        self.step_size = check_positive_int(step_size, "step_size")
        self.gamma = check_number(gamma, "gamma", low=0.0)
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return step_decay(base_lr, epoch, self.step_size, self.gamma)


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch."""

    def __init__(self, optimizer, gamma: float):
        self.gamma = check_number(gamma, "gamma", low=0.0)
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return exponential_decay(base_lr, epoch, self.gamma)


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the initial rate down to ``eta_min`` over ``T_max`` epochs."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):
        self.T_max = check_positive_int(T_max, "T_max")
        self.eta_min = check_number(eta_min, "eta_min", low=0.0)
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return cosine_decay(base_lr, epoch, self.T_max, self.eta_min)


# ---------------------------------------------------------------- second order
def _scalar_fn_check(f, x: torch.Tensor) -> None:
    if not callable(f):
        raise TypeError(f"f must be a function of a tensor returning a scalar, got {type(f).__name__}")
    value = f(x)
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise ValueError(f"f must return a scalar tensor, got {value!r:.80}")


def newton_step(f: Callable[[torch.Tensor], torch.Tensor], x, damping: float = 0.0) -> torch.Tensor:
    """One Newton step x ← x − (H + damping·I)⁻¹ ∇f(x), with the exact Hessian H.

    x: (n,) → (n,). No learning rate: on a quadratic one step lands on the minimum.
    The Hessian costs O(n²) memory and solving with it O(n³) time, which is why deep
    networks (n in the millions) do not use it. ``damping`` > 0 keeps a step finite
    where H is singular or indefinite.
    """
    x = check_ndim(as_float_tensor(x), "x", 1).detach()
    damping = check_number(damping, "damping", low=0.0)
    _scalar_fn_check(f, x)
    grad = torch.autograd.functional.jacobian(lambda z: f(z).reshape(()), x)
    H = torch.autograd.functional.hessian(lambda z: f(z).reshape(()), x)
    if damping:
        H = H + damping * torch.eye(x.numel(), dtype=x.dtype, device=x.device)
    return x - torch.linalg.solve(H, grad)


def newton_path(f, start, steps: int, damping: float = 0.0) -> torch.Tensor:
    """``steps`` Newton steps from ``start``: (n,) → path of shape (steps + 1, n)."""
    steps = check_positive_int(steps, "steps", minimum=0)
    x = check_ndim(as_float_tensor(start, "start"), "start", 1).detach()
    path = [x]
    for _ in range(steps):
        x = newton_step(f, x, damping)
        path.append(x)
    return torch.stack(path)


def lbfgs_minimize(loss_fn: Callable[[], torch.Tensor], params, *, max_iter: int = 100, lr: float = 1.0,
                   history_size: int = 10, tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                   line_search_fn: str | None = "strong_wolfe") -> list[float]:
    """Minimise ``loss_fn()`` (the **full-batch** loss) over ``params`` with ``torch.optim.LBFGS``.

    L-BFGS builds a curvature estimate from the last ``history_size`` gradient differences,
    so it needs the same (deterministic) loss at every evaluation: good in full batch,
    poor with noisy mini-batches. Returns the loss at every function evaluation.
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function of no arguments returning the loss, got {type(loss_fn).__name__}")
    params = [params] if isinstance(params, torch.Tensor) else list(params)
    if not params:
        raise ValueError("params is empty: nothing to optimise")
    max_iter = check_positive_int(max_iter, "max_iter")
    history_size = check_positive_int(history_size, "history_size")
    lr = check_number(lr, "lr", low=0.0, low_inclusive=False)
    opt = torch.optim.LBFGS(params, lr=lr, max_iter=max_iter, history_size=history_size,
                            tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                            line_search_fn=line_search_fn)
    losses: list[float] = []

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        losses.append(float(loss.detach()))
        return loss

    opt.step(closure)
    return losses
