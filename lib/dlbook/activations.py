"""Activation functions and their derivatives, written from the formulas.

Taught in chapter 05 (05_perceptron).

Every function takes a tensor of any shape (or something ``torch.as_tensor``
accepts) and returns a tensor of the same shape on the same device; ``*_grad``
returns the elementwise derivative dφ/dx. They are checked against
``torch.nn.functional`` and ``torch.autograd`` in ``tests/test_activations.py``.

At a kink (x = 0) the derivative is the library's own convention: the branch for
``x > 0`` is taken only when x is strictly positive, so relu'(0) = 0 and
leaky_relu'(0) = prelu'(0) = elu'(0) = α. The functions are written with
``torch.where`` on that same condition, so autograd through them gives these values
too, whatever ``clamp`` or ``maximum`` do at a tie in a given PyTorch version.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from ._checks import as_float_tensor, check_number, check_positive_int

__all__ = [
    "step", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "maxout",
    "step_grad", "identity_grad", "sigmoid_grad", "tanh_grad", "relu_grad", "leaky_relu_grad",
    "prelu_grad", "elu_grad", "maxout_grad", "PReLU", "Activation", "ACTIVATIONS", "get",
]


# ---------------------------------------------------------------- functions
def step(x) -> torch.Tensor:
    """Heaviside step: 1 where x > 0, else 0 (the perceptron's activation)."""
    x = as_float_tensor(x)
    return (x > 0).to(x.dtype)


def identity(x) -> torch.Tensor:
    """φ(x) = x (the output of a regression network)."""
    return as_float_tensor(x)


def sigmoid(x) -> torch.Tensor:
    """σ(x) = 1 / (1 + e^{-x}).

    For x ≪ 0, e^{-x} overflows to inf and 1 / (1 + inf) is exactly 0 in IEEE
    arithmetic, so the textbook formula needs no special case. In-place steps on
    one buffer keep it to a single allocation.
    """
    x = as_float_tensor(x)
    return torch.neg(x).exp_().add_(1).reciprocal_()


def tanh(x) -> torch.Tensor:
    """tanh(x) = (e^x − e^{−x}) / (e^x + e^{−x}) = 2σ(2x) − 1 (zero-centred)."""
    x = as_float_tensor(x)
    return sigmoid(2 * x).mul_(2).sub_(1)


def relu(x) -> torch.Tensor:
    """ReLU(x) = max(0, x) (NaN stays NaN; autograd gives 0 at x = 0, as :func:`relu_grad`)."""
    x = as_float_tensor(x)
    return torch.where(x <= 0, torch.zeros_like(x), x)


def _alpha(alpha, name="alpha", *, low=0.0, low_inclusive=True, high=None, high_inclusive=False) -> float:
    return check_number(alpha, name, low=low, low_inclusive=low_inclusive, high=high, high_inclusive=high_inclusive)


def leaky_relu(x, alpha: float = 0.01) -> torch.Tensor:
    """Leaky ReLU: x for x > 0, αx otherwise (α in [0, 1); 0.01 by default)."""
    x = as_float_tensor(x)
    alpha = _alpha(alpha, high=1.0)
    return torch.where(x > 0, x, alpha * x)


def _prelu_weight(alpha, x: torch.Tensor) -> torch.Tensor:
    """Shape α for broadcasting: a scalar, or one value per channel (dimension 1)."""
    a = as_float_tensor(alpha, "alpha").to(device=x.device, dtype=x.dtype)
    if a.numel() == 1:
        return a.reshape(())
    if a.ndim != 1:
        raise ValueError(f"alpha must be a scalar or a 1-D tensor with one value per channel, got shape {tuple(a.shape)}")
    if x.ndim < 2 or x.shape[1] != a.numel():
        raise ValueError(
            f"alpha has {a.numel()} values, so x needs that many channels in dimension 1; "
            f"got x of shape {tuple(x.shape)}"
        )
    return a.reshape(1, -1, *([1] * (x.ndim - 2)))


def prelu(x, alpha) -> torch.Tensor:
    """Parametric ReLU: x for x > 0, αx otherwise, with α learned (scalar or per channel)."""
    x = as_float_tensor(x)
    a = _prelu_weight(alpha, x)
    return torch.where(x > 0, x, a * x)


def elu(x, alpha: float = 1.0) -> torch.Tensor:
    """ELU: x for x > 0, α(e^x − 1) otherwise (α > 0)."""
    x = as_float_tensor(x)
    alpha = _alpha(alpha, low=0.0, low_inclusive=False)
    # the unused branch sees 0 where x > 0: no overflow, and no clamp (whose gradient at 0 varies)
    negative = alpha * torch.expm1(torch.where(x > 0, torch.zeros_like(x), x))
    return torch.where(x > 0, x, negative)


def maxout(z, pieces: int) -> torch.Tensor:
    """Maxout: the maximum over groups of ``pieces`` consecutive linear responses.

    z: (..., units * pieces) → (..., units). With ``pieces`` affine maps per unit,
    maxout learns a convex piecewise-linear activation (ReLU is max(0, x)).
    """
    z = as_float_tensor(z, "z")
    pieces = check_positive_int(pieces, "pieces")
    if z.ndim == 0 or z.shape[-1] % pieces:
        raise ValueError(
            f"the last dimension of z must be a multiple of pieces={pieces}, got shape {tuple(z.shape)}"
        )
    return z.unflatten(-1, (-1, pieces)).amax(dim=-1)


# ---------------------------------------------------------------- derivatives
def step_grad(x) -> torch.Tensor:
    """dstep/dx = 0 wherever it is defined: no gradient flows, so it cannot be trained by descent."""
    return torch.zeros_like(as_float_tensor(x))


def identity_grad(x) -> torch.Tensor:
    return torch.ones_like(as_float_tensor(x))


def sigmoid_grad(x) -> torch.Tensor:
    """σ'(x) = σ(x)(1 − σ(x)); at most 1/4, at x = 0."""
    s = sigmoid(x)
    return torch.sub(1, s).mul_(s)


def tanh_grad(x) -> torch.Tensor:
    """tanh'(x) = 1 − tanh²(x); at most 1, at x = 0."""
    t = tanh(x)
    return t.mul_(t).neg_().add_(1)


def relu_grad(x) -> torch.Tensor:
    x = as_float_tensor(x)
    return (x > 0).to(x.dtype)


def leaky_relu_grad(x, alpha: float = 0.01) -> torch.Tensor:
    x = as_float_tensor(x)
    alpha = _alpha(alpha, high=1.0)
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, alpha))


def prelu_grad(x, alpha) -> torch.Tensor:
    """dPReLU/dx (the gradient for α is x where x ≤ 0, else 0)."""
    x = as_float_tensor(x)
    a = _prelu_weight(alpha, x)
    return torch.where(x > 0, torch.ones_like(x), a.expand_as(x))


def elu_grad(x, alpha: float = 1.0) -> torch.Tensor:
    x = as_float_tensor(x)
    alpha = _alpha(alpha, low=0.0, low_inclusive=False)
    return torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(torch.clamp(x, max=0)))


def maxout_grad(z, pieces: int) -> torch.Tensor:
    """d maxout / dz: 1 at the winning piece of each group, 0 elsewhere (first winner on ties)."""
    z = as_float_tensor(z, "z")
    out_shape = maxout(z, pieces).shape  # validates
    groups = z.unflatten(-1, (-1, pieces))
    winner = groups.argmax(dim=-1, keepdim=True)
    mask = torch.zeros_like(groups).scatter_(-1, winner, 1.0)
    assert mask.shape[:-1] == out_shape
    return mask.flatten(-2)


# ---------------------------------------------------------------- PReLU as a layer
class PReLU(torch.nn.Module):
    """A PReLU layer whose α is a learned parameter (one value, or one per channel)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25):
        super().__init__()
        num_parameters = check_positive_int(num_parameters, "num_parameters")
        init = check_number(init, "init")
        self.alpha = torch.nn.Parameter(torch.full((num_parameters,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return prelu(x, self.alpha)


# ---------------------------------------------------------------- registry
@dataclass(frozen=True)
class Activation:
    """An elementwise activation with its derivative, for tables, plots and widgets."""

    name: str
    fn: Callable[..., torch.Tensor]
    grad: Callable[..., torch.Tensor]
    formula: str  # LaTeX
    alpha: float | None = None  # default α for the functions that take one
    properties: dict = field(default_factory=dict)
    module: type[torch.nn.Module] | None = None  # the torch.nn layer computing it (models build with it)

    def __call__(self, x, alpha: float | None = None) -> torch.Tensor:
        return self.fn(x, *self._args(alpha))

    def derivative(self, x, alpha: float | None = None) -> torch.Tensor:
        return self.grad(x, *self._args(alpha))

    def _args(self, alpha):
        if self.alpha is None:
            if alpha is not None:
                raise ValueError(f"{self.name} takes no alpha, got alpha={alpha}")
            return ()
        return (self.alpha if alpha is None else alpha,)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("step", step, step_grad, r"\begin{cases}1 & x>0\\0 & x\le 0\end{cases}",
                   properties=dict(zero_centred=False, monotonic=True, smooth=False, saturates=True)),
        Activation("identity", identity, identity_grad, r"x",
                   properties=dict(zero_centred=True, monotonic=True, smooth=True, saturates=False),
                   module=torch.nn.Identity),
        Activation("sigmoid", sigmoid, sigmoid_grad, r"\frac{1}{1+e^{-x}}",
                   properties=dict(zero_centred=False, monotonic=True, smooth=True, saturates=True),
                   module=torch.nn.Sigmoid),
        Activation("tanh", tanh, tanh_grad, r"\frac{e^{x}-e^{-x}}{e^{x}+e^{-x}}",
                   properties=dict(zero_centred=True, monotonic=True, smooth=True, saturates=True),
                   module=torch.nn.Tanh),
        Activation("relu", relu, relu_grad, r"\max(0, x)",
                   properties=dict(zero_centred=False, monotonic=True, smooth=False, saturates=False),
                   module=torch.nn.ReLU),
        Activation("leaky_relu", leaky_relu, leaky_relu_grad, r"\max(\alpha x, x)", alpha=0.01,
                   properties=dict(zero_centred=False, monotonic=True, smooth=False, saturates=False),
                   module=torch.nn.LeakyReLU),
        Activation("prelu", prelu, prelu_grad, r"\max(\alpha x, x),\ \alpha\ \text{learned}", alpha=0.25,
                   properties=dict(zero_centred=False, monotonic=True, smooth=False, saturates=False),
                   module=PReLU),
        Activation("elu", elu, elu_grad, r"\begin{cases}x & x>0\\ \alpha(e^{x}-1) & x\le 0\end{cases}", alpha=1.0,
                   properties=dict(zero_centred=True, monotonic=True, smooth=True, saturates=True),
                   module=torch.nn.ELU),
    ]
}


def get(name: str, among=None, *, where: str | None = None) -> Activation:
    """Look an activation up by name (``"relu"``, ``"sigmoid"``, …) in the book's one registry.

    :data:`ACTIVATIONS` is the only list of activation names in the library: the hand-written
    layers (:func:`dlbook.layers.activation_layer`), the PyTorch models (``Activation.module``)
    and the scalar autograd engine (:mod:`dlbook.autograd`) all look their activation up here.
    A model that implements only some of them passes those names as ``among`` and its own name
    as ``where``; any other name is refused with the list it accepts.
    """
    try:
        act = ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}") from None
    if among is not None and name not in among:
        raise ValueError(f"activation {name!r} is not available in {where or 'this model'}; "
                         f"expected one of {sorted(among)}")
    return act
