"""Batch normalisation from scratch, with the backward pass derived by hand.

Taught in chapter 09 (09_initialization).

For a mini-batch of m values of one feature (or one channel, in a CNN):

    μ = (1/m) Σ xᵢ            σ² = (1/m) Σ (xᵢ − μ)²      (biased: divide by m)
    x̂ᵢ = (xᵢ − μ) / √(σ² + ε)
    yᵢ = γ x̂ᵢ + β              (γ, β learned, one per feature)

In training the layer normalises with the batch's μ, σ²; it also keeps running
averages for test time, exactly as PyTorch does:

    running_mean ← (1 − momentum)·running_mean + momentum·μ
    running_var  ← (1 − momentum)·running_var  + momentum·σ²·m/(m − 1)   (unbiased)

(``momentum=None`` gives the plain cumulative average over all batches seen.) In
evaluation mode it uses the running averages, so a single example gives the
same output whatever batch it sits in.

The backward pass (``batchnorm_backward``), with g = ∂L/∂y:

    ∂L/∂β = Σ gᵢ      ∂L/∂γ = Σ gᵢ x̂ᵢ
    ∂L/∂xᵢ = γ / (m √(σ² + ε)) · (m gᵢ − Σⱼ gⱼ − x̂ᵢ Σⱼ gⱼ x̂ⱼ)

The modules' state-dict keys (``weight`` = γ, ``bias`` = β, ``running_mean``,
``running_var``, ``num_batches_tracked``) are PyTorch's, so weights load both ways.
"""
from __future__ import annotations

import torch
from torch import nn

from ._checks import as_float_tensor, check_number, check_positive_int

__all__ = ["batchnorm_forward", "batchnorm_backward", "BatchNorm1d", "BatchNorm2d"]


def _reduce_dims(x: torch.Tensor) -> tuple[int, ...]:
    """Every dimension but the feature/channel dimension 1: (N, C) → (0,), (N, C, H, W) → (0, 2, 3)."""
    return (0, *range(2, x.ndim))


def _per_channel(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Reshape a (C,) vector to broadcast against x: (1, C, 1, …)."""
    return v.reshape(1, -1, *([1] * (x.ndim - 2)))


def _check_batch(x: torch.Tensor, name: str = "x") -> int:
    """Number of values per channel, m; training needs m > 1 to have a variance."""
    m = x.numel() // x.shape[1]
    if m <= 1:
        raise ValueError(
            f"batch norm in training mode needs more than one value per channel to compute a variance, "
            f"got {name} of shape {tuple(x.shape)} (a batch of one); use a larger batch or call .eval()"
        )
    return m


# ---------------------------------------------------------------- explicit forward/backward
def batchnorm_forward(x, gamma, beta, eps: float = 1e-5):
    """Training-mode batch norm with batch statistics.

    x: (N, C) or (N, C, *spatial); gamma, beta: (C,) → (y of x's shape, cache).
    The cache holds what the backward pass needs, plus the batch ``mean`` and
    biased ``var`` (C,) for updating running averages.
    """
    x = as_float_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, C) or (N, C, *spatial), got shape {tuple(x.shape)}")
    C = x.shape[1]
    gamma = as_float_tensor(gamma, "gamma").to(device=x.device, dtype=x.dtype)
    beta = as_float_tensor(beta, "beta").to(device=x.device, dtype=x.dtype)
    for name, v in (("gamma", gamma), ("beta", beta)):
        if v.shape != (C,):
            raise ValueError(f"{name} must have shape ({C},) (one value per channel of x), got shape {tuple(v.shape)}")
    eps = check_number(eps, "eps", low=0.0, low_inclusive=False)
    m = _check_batch(x)

    dims = _reduce_dims(x)
    mean = x.mean(dim=dims)
    xc = x - _per_channel(mean, x)
    var = (xc * xc).mean(dim=dims)
    inv_std = torch.rsqrt(var + eps)
    x_hat = xc * _per_channel(inv_std, x)
    y = _per_channel(gamma, x) * x_hat + _per_channel(beta, x)
    cache = dict(x_hat=x_hat, gamma=gamma, inv_std=inv_std, m=m, mean=mean, var=var)
    return y, cache


def batchnorm_backward(dout, cache) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hand-derived backward pass: dout = ∂L/∂y (x's shape) → (∂L/∂x, ∂L/∂γ (C,), ∂L/∂β (C,))."""
    x_hat, gamma, inv_std, m = cache["x_hat"], cache["gamma"], cache["inv_std"], cache["m"]
    dout = as_float_tensor(dout, "dout").to(device=x_hat.device, dtype=x_hat.dtype)
    if dout.shape != x_hat.shape:
        raise ValueError(f"dout must have the shape of the forward input {tuple(x_hat.shape)}, got {tuple(dout.shape)}")
    dims = _reduce_dims(x_hat)
    dbeta = dout.sum(dim=dims)
    dgamma = (dout * x_hat).sum(dim=dims)
    scale = _per_channel(gamma * inv_std / m, x_hat)
    dx = scale * (m * dout - _per_channel(dbeta, x_hat) - x_hat * _per_channel(dgamma, x_hat))
    return dx, dgamma, dbeta


# ---------------------------------------------------------------- modules
class _BatchNorm(nn.Module):
    """Shared code of BatchNorm1d/2d; subclasses say which input ranks they accept."""

    _ndims: tuple[int, ...] = ()
    _shape_text = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *, device=None, dtype=None):
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = check_number(eps, "eps", low=0.0, low_inclusive=False)
        self.momentum = None if momentum is None else check_number(momentum, "momentum", low=0.0, high=1.0)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        factory = dict(device=device, dtype=dtype)
        if self.affine:
            self.weight = nn.Parameter(torch.ones(num_features, **factory))   # γ
            self.bias = nn.Parameter(torch.zeros(num_features, **factory))    # β
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    @property
    def gamma(self):
        """The learned scale γ (stored as ``weight``, PyTorch's name)."""
        return self.weight

    @property
    def beta(self):
        """The learned shift β (stored as ``bias``)."""
        return self.bias

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def _check_input(self, x) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a tensor, got {type(x).__name__}")
        if x.ndim not in self._ndims:
            raise ValueError(f"x must have shape {self._shape_text}, got shape {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"x must have {self.num_features} channels in dimension 1, got shape {tuple(x.shape)}")
        return x

    @torch.no_grad()
    def _update_running(self, mean: torch.Tensor, var: torch.Tensor, m: int) -> None:
        self.num_batches_tracked += 1
        momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        unbiased = var * (m / (m - 1))
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, …) → same shape. Batch statistics in training (or when not tracking), running ones in eval."""
        x = self._check_input(x)
        if self.training or not self.track_running_stats:
            m = _check_batch(x) if self.training else x.numel() // x.shape[1]
            var, mean = torch.var_mean(x, dim=_reduce_dims(x), correction=0)  # one pass over x
            if self.training and self.track_running_stats:
                self._update_running(mean.detach(), var.detach(), m)
        else:
            mean, var = self.running_mean, self.running_var
        # γ(x − μ)/√(σ² + ε) + β  =  x·a + c  with  a = γ/√(σ² + ε),  c = β − μa:
        # the same function in one elementwise pass (PyTorch's CPU kernel does the same).
        a = torch.rsqrt(var + self.eps)
        if self.affine:
            a = a * self.weight
        c = -mean * a if not self.affine else self.bias - mean * a
        return torch.addcmul(_per_channel(c, x), x, _per_channel(a, x))

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over features: x (N, C) or (N, C, L); statistics over N (and L) per feature."""

    _ndims = (2, 3)
    _shape_text = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm for CNNs, per channel: x (N, C, H, W); statistics over N·H·W values per channel."""

    _ndims = (4,)
    _shape_text = "(N, C, H, W)"
