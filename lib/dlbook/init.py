"""Weight initialisation: zeros, small/large Gaussians, Xavier (Glorot) and He (Kaiming).

Taught in chapter 09 (09_initialization); used in chapter 12.

Every initialiser takes either a tensor, which it fills **in place** and returns
(like ``torch.nn.init``), or a shape, for which it returns a new tensor. Random
ones take a ``generator`` so the numbers a chapter prints are reproducible.

Shapes follow PyTorch's layout: a weight is ``(fan_out, fan_in, *kernel)``, so an
``nn.Linear(n_in, n_out).weight`` has shape ``(n_out, n_in)`` and a convolution's
``(C_out, C_in, kH, kW)`` has fan_in = C_in·kH·kW.

The variances, for a layer with n_in inputs and n_out outputs:

============  ==========================  ===========================
scheme        Var(W)                      for
============  ==========================  ===========================
Xavier (in)   1 / n_in                    tanh (keeps Var(a) ≈ constant)
Xavier (avg)  2 / (n_in + n_out)          tanh, forward *and* backward
He            2 / n_in                    ReLU (half the units are 0)
============  ==========================  ===========================

A uniform distribution U(−a, a) has variance a²/3, so the uniform versions use
a = √(3·Var). (Note: Var, not its square root — one of the lecture decks writes
"Var = √(…)", a slip; the standard deviation is the square root.)
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from ._checks import check_number, check_positive_int
from .language import tr

__all__ = [
    "fans", "zeros_", "normal_", "uniform_", "xavier_", "he_",
    "INITS", "ActivationStats", "activation_stats", "plot_activation_histograms",
]


# ---------------------------------------------------------------- helpers
def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape ``(fan_out, fan_in, *kernel)``."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"a weight needs at least 2 dimensions to have a fan-in and fan-out, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _target(tensor_or_shape, dtype, device) -> torch.Tensor:
    """The tensor to fill: the given one, or a new empty one of the given shape."""
    if isinstance(tensor_or_shape, torch.Tensor):
        return tensor_or_shape
    shape = (tensor_or_shape,) if isinstance(tensor_or_shape, numbers.Integral) else tensor_or_shape
    if not isinstance(shape, Sequence) or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0 for s in shape
    ):
        raise TypeError(f"tensor_or_shape must be a tensor or a shape (a tuple of non-negative ints), got {shape!r}")
    return torch.empty(tuple(int(s) for s in shape), dtype=dtype, device=device)


def _check_generator(generator) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")


@torch.no_grad()
def _fill(w: torch.Tensor, sample: Callable[[torch.Tensor], torch.Tensor], generator) -> torch.Tensor:
    """Fill ``w`` with ``sample(buffer)``, drawing on the generator's device when it differs."""
    _check_generator(generator)
    if not w.is_floating_point():
        raise TypeError(f"the tensor to initialise must be floating point, got dtype {w.dtype}")
    if generator is None or generator.device == w.device:
        sample(w)
    else:  # e.g. a CPU generator for a CUDA weight: same numbers on every device
        w.copy_(sample(torch.empty(w.shape, dtype=w.dtype, device=generator.device)))
    return w


# ---------------------------------------------------------------- initialisers
def zeros_(tensor_or_shape, *, dtype=None, device=None) -> torch.Tensor:
    """All zeros. Every unit of a layer then computes the same thing and gets the
    same gradient, so the units never become different: the network does not learn."""
    w = _target(tensor_or_shape, dtype, device)
    with torch.no_grad():
        return w.zero_()


def normal_(tensor_or_shape, std: float = 0.01, *, generator=None, dtype=None, device=None) -> torch.Tensor:
    """W ~ N(0, std²): ``std=0.01`` is the lecture's "small random", ``std=1.0`` its "large"."""
    std = check_number(std, "std", low=0.0)
    w = _target(tensor_or_shape, dtype, device)
    return _fill(w, lambda t: t.normal_(0.0, std, generator=generator), generator)


def uniform_(tensor_or_shape, bound: float, *, generator=None, dtype=None, device=None) -> torch.Tensor:
    """W ~ U(−bound, bound), variance bound²/3."""
    bound = check_number(bound, "bound", low=0.0)
    w = _target(tensor_or_shape, dtype, device)
    return _fill(w, lambda t: t.uniform_(-bound, bound, generator=generator), generator)


def _variance_fill(w, var: float, distribution: str, generator) -> torch.Tensor:
    if distribution == "normal":
        return _fill(w, lambda t: t.normal_(0.0, math.sqrt(var), generator=generator), generator)
    if distribution == "uniform":
        bound = math.sqrt(3.0 * var)
        return _fill(w, lambda t: t.uniform_(-bound, bound, generator=generator), generator)
    raise ValueError(f"distribution must be 'normal' or 'uniform', got {distribution!r}")


def xavier_(tensor_or_shape, *, distribution: str = "normal", fan: str = "avg", gain: float = 1.0,
            generator=None, dtype=None, device=None) -> torch.Tensor:
    """Xavier/Glorot: Var(W) = gain² / n_in (``fan="in"``) or gain² · 2 / (n_in + n_out) (``fan="avg"``).

    ``distribution`` is ``"normal"`` (N(0, Var)) or ``"uniform"`` (U(−a, a), a = √(3·Var)).
    With ``fan="avg"`` and the same generator this draws exactly what
    ``nn.init.xavier_normal_`` / ``xavier_uniform_`` draw.
    """
    gain = check_number(gain, "gain", low=0.0)
    w = _target(tensor_or_shape, dtype, device)
    fan_in, fan_out = fans(w.shape)
    if fan == "in":
        var = gain**2 / fan_in
    elif fan == "avg":
        var = gain**2 * 2.0 / (fan_in + fan_out)
    else:
        raise ValueError(f"fan must be 'in' (Var = 1/n_in) or 'avg' (Var = 2/(n_in + n_out)), got {fan!r}")
    return _variance_fill(w, var, distribution, generator)


def he_(tensor_or_shape, *, distribution: str = "normal", generator=None, dtype=None, device=None) -> torch.Tensor:
    """He/Kaiming for ReLU: Var(W) = 2 / n_in (ReLU zeroes half its inputs, halving the variance;
    the 2 puts it back). Same draws as ``nn.init.kaiming_normal_(w, nonlinearity="relu")``."""
    w = _target(tensor_or_shape, dtype, device)
    fan_in, _ = fans(w.shape)
    return _variance_fill(w, 2.0 / fan_in, distribution, generator)


#: The schemes of the chapter's lab, by name: each maps (shape, generator) → a new weight.
INITS: dict[str, Callable[..., torch.Tensor]] = {
    "zeros": lambda shape, generator=None, **kw: zeros_(shape, **kw),
    "small": lambda shape, generator=None, **kw: normal_(shape, 0.01, generator=generator, **kw),
    "large": lambda shape, generator=None, **kw: normal_(shape, 1.0, generator=generator, **kw),
    "xavier": lambda shape, generator=None, **kw: xavier_(shape, fan="in", generator=generator, **kw),
    "xavier_avg": lambda shape, generator=None, **kw: xavier_(shape, fan="avg", generator=generator, **kw),
    "he": lambda shape, generator=None, **kw: he_(shape, generator=generator, **kw),
}


# ---------------------------------------------------------------- the lab
@dataclass
class ActivationStats:
    """Activations of every hidden layer of a deep MLP, for histograms and tables."""

    init: str
    activation: str
    activations: list[torch.Tensor]  # depth tensors of shape (n, width)

    @property
    def mean(self) -> torch.Tensor:
        """(depth,) mean activation per layer."""
        return torch.stack([a.mean() for a in self.activations])

    @property
    def std(self) -> torch.Tensor:
        """(depth,) standard deviation of the activations per layer."""
        return torch.stack([a.std() for a in self.activations])

    def table(self, digits: int = 3) -> list[tuple[int, float, float]]:
        """[(layer, mean, std)], rounded, layers numbered from 1."""
        return [(i + 1, round(m, digits), round(s, digits))
                for i, (m, s) in enumerate(zip(self.mean.tolist(), self.std.tolist()))]


def _activation_fn(activation) -> tuple[str, Callable[[torch.Tensor], torch.Tensor]]:
    if callable(activation):
        return getattr(activation, "__name__", "custom"), activation
    from .activations import get

    return activation, get(activation).fn


def activation_stats(depth: int = 10, width: int = 500, init="xavier", activation="tanh",
                     n: int = 1000, seed: int = 0, *, dtype=torch.float32, device=None) -> ActivationStats:
    """Push n random inputs through ``depth`` fully connected layers and keep every layer's output.

    x ~ N(0, 1) of shape (n, width); each layer computes a ← φ(a Wᵀ) with W: (width, width)
    drawn by ``init`` (a name from :data:`INITS` or a callable ``(shape, generator) → W``)
    and no bias. Returns :class:`ActivationStats` with ``depth`` tensors of shape (n, width).
    """
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    n = check_positive_int(n, "n")
    seed = check_positive_int(seed, "seed", minimum=0)
    if isinstance(init, str):
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; expected one of {sorted(INITS)} or a callable")
        init_name, make = init, INITS[init]
    elif callable(init):
        init_name, make = getattr(init, "__name__", "custom"), init
    else:
        raise TypeError(f"init must be a name or a callable (shape, generator) → tensor, got {type(init).__name__}")
    act_name, phi = _activation_fn(activation)

    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, width, generator=g, dtype=dtype, device="cpu").to(device)
    outputs = []
    for _ in range(depth):
        W = make((width, width), generator=g).to(device=device, dtype=dtype)
        a = phi(a @ W.T)
        outputs.append(a)
    return ActivationStats(init_name, act_name, outputs)


def plot_activation_histograms(stats: ActivationStats, *, bins: int = 50, layers=None, figsize=None):
    """One histogram per layer (a row of small plots); returns a matplotlib Figure."""
    from matplotlib.figure import Figure

    layers = list(range(len(stats.activations))) if layers is None else list(layers)
    fig = Figure(figsize=figsize or (1.6 * len(layers), 2.0), layout="constrained")
    axes = fig.subplots(1, len(layers), sharey=True, squeeze=False)[0]
    for ax, i in zip(axes, layers):
        values = stats.activations[i].detach().flatten().float().cpu().numpy()
        ax.hist(values, bins=bins)
        ax.set_title(tr(f"{i + 1}번째 층", f"layer {i + 1}"), fontsize=8)
        ax.tick_params(labelsize=6)
    words = {"zeros": tr("0", "zeros"), "small": tr("작은 값", "small"), "large": tr("큰 값", "large")}
    fig.suptitle(f"{words.get(stats.init, stats.init)} · {stats.activation}", fontsize=9)
    return fig
