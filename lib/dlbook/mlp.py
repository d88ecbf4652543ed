"""Multilayer perceptrons of any width and depth, built from :mod:`dlbook.layers`.

Taught in chapter 06 (06_mlp); used in chapter 07.

``MLP([D, H₁, …, H_L, C])`` is the network of chapter 6: an input layer of D units, L hidden
layers, an output layer of C units. For a batch ``x`` of shape (N, D), forward propagation is

    a⁽¹⁾ = x
    z⁽ˡ⁺¹⁾ = a⁽ˡ⁾ W⁽ˡ⁾ + b⁽ˡ⁾,   a⁽ˡ⁺¹⁾ = φ(z⁽ˡ⁺¹⁾)      for the hidden layers
    scores = a⁽ᴸ⁺¹⁾ W⁽ᴸ⁺¹⁾ + b⁽ᴸ⁺¹⁾                      (no activation: softmax is in the loss)

``W⁽ˡ⁾`` has shape (n_l, n_{l+1}). It is the transpose of the lecture's Θ⁽ˡ⁾ (whose entry Θᵢⱼ
goes *to* unit i *from* unit j) without Θ's bias column Θᵢ₀, which is ``b⁽ˡ⁾``: a batch stacks
samples as rows, so ``x @ W`` replaces ``Θ @ x`` — [N, 3]·[3, 2] → [N, 2].

The backward pass is the layers' hand-written one (chapter 7); :func:`fit_mlp` trains by
full-batch gradient descent with :class:`dlbook.optim.Adam`. Parameters are float64 by default,
so gradient checks are meaningful and small runs are reproducible to the last digit on the CPU.
Apple's MPS has no float64: there pass ``dtype=torch.float32`` (``fit_mlp`` trains on the CPU).
"""
from __future__ import annotations

import contextlib
import math
from typing import Sequence

import torch

from . import layers as L
from . import metrics as _metrics
from ._checks import (
    as_float_tensor,
    check_dtype_on_device,
    check_ndim,
    check_number,
    check_positive_int,
    generator_for,
)
from .gradcheck import numerical_gradient as _numerical_gradient
from .runtime import float64_device

__all__ = ["MLP", "fit_mlp"]

_OUTPUT = {"softmax": L.SoftmaxWithLoss, "sigmoid": L.SigmoidWithLoss}


def _sizes(sizes) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a list of layer sizes such as [2, 8, 2], got {type(sizes).__name__}")
    sizes = [check_positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least the input and the output size, got {sizes}")
    return sizes


class MLP:
    """x (N, sizes[0]) → [Affine → φ] × (len(sizes) − 2) → Affine → scores (N, sizes[-1]).

    ``activation``: ``"relu"`` (default), ``"tanh"`` or ``"sigmoid"`` for every hidden layer.
    ``weight_init_std``: the standard deviation of the Gaussian weights; ``None`` picks
    √(2/n_in) for ReLU (He) and √(1/n_in) otherwise (Xavier), per layer — chapter 9 says why.
    Biases start at 0. Weights are drawn from a generator seeded with ``seed``.
    Parameters live in ``params`` as ``W1, b1, W2, b2, …`` (layer by layer).
    ``output="softmax"`` (default): softmax cross-entropy on integer labels
    (:class:`dlbook.layers.SoftmaxWithLoss`); ``output="sigmoid"`` with one output unit: binary
    cross-entropy on 0/1 targets (:class:`dlbook.layers.SigmoidWithLoss`), as for XOR.
    """

    def __init__(self, sizes, activation: str = "relu", *, output: str = "softmax",
                 weight_init_std: float | None = None, seed: int = 0, dtype: torch.dtype = torch.float64, device=None):
        self.sizes = _sizes(sizes)
        if output not in _OUTPUT:
            raise ValueError(f"output must be one of {sorted(_OUTPUT)}, got {output!r}")
        if output == "softmax" and self.sizes[-1] < 2:
            raise ValueError(f"the output layer needs at least 2 units (one score per class), got sizes {self.sizes}; "
                             "for one probability per sample use output='sigmoid'")
        if output == "sigmoid" and self.sizes[-1] != 1:
            raise ValueError(f"output='sigmoid' gives one probability per sample, so the last size must be 1, "
                             f"got sizes {self.sizes}")
        self.output = output
        hidden = L.activation_layer(activation)  # the one registry's name → the hand-written layer
        if weight_init_std is not None:
            weight_init_std = check_number(weight_init_std, "weight_init_std", low=0.0)
        seed = check_positive_int(seed, "seed", minimum=0)
        check_dtype_on_device(dtype, device)
        self.activation = activation
        g = generator_for(seed)
        self.params: dict[str, torch.Tensor] = {}
        self.layers: list[L.Layer] = []
        self._affines: list[L.Affine] = []
        n_layers = len(self.sizes) - 1
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            std = weight_init_std if weight_init_std is not None else math.sqrt(
                (2.0 if activation == "relu" else 1.0) / n_in)
            # drawn on the CPU: the same weights on every device
            W = (std * torch.randn(n_in, n_out, generator=g, dtype=dtype, device="cpu")).to(device)
            b = torch.zeros(n_out, dtype=dtype, device=device)
            self.params[f"W{l}"], self.params[f"b{l}"] = W, b
            affine = L.Affine(W, b)
            self._affines.append(affine)
            self.layers.append(affine)
            if l < n_layers:
                self.layers.append(hidden())
        # forward in order, backward in reverse: written once, in dlbook.layers.Sequential (chapter 07);
        # ``layers`` is its list, so the layers can still be read one by one
        self.network = L.Sequential(*self.layers)
        self.layers = self.network.layers
        self.last_layer = _OUTPUT[output]()

    # ------------------------------------------------------------ forward
    def _input(self, x) -> torch.Tensor:
        x = check_ndim(as_float_tensor(x), "x", 2)
        if x.shape[1] != self.sizes[0]:
            raise ValueError(f"x must have shape (N, {self.sizes[0]}) for an MLP with sizes {self.sizes}, "
                             f"got shape {tuple(x.shape)}")
        W = self.params["W1"]
        return x.to(device=W.device, dtype=W.dtype)

    def forward(self, x) -> torch.Tensor:
        """x: (N, sizes[0]) → scores (N, sizes[-1]) (before softmax)."""
        return self.network.forward(self._input(x))

    __call__ = forward
    predict = forward

    def activations(self, x) -> list[torch.Tensor]:
        """[a⁽¹⁾ = x, a⁽²⁾, …, scores]: the input, every hidden layer's output after φ, and the scores.

        Entry l has shape (N, sizes[l]) — forward propagation one layer at a time.
        """
        a = self._input(x)
        out = [a]
        for i, layer in enumerate(self.layers):
            a = layer.forward(a)
            if not isinstance(layer, L.Affine) or i == len(self.layers) - 1:
                out.append(a)
        return out

    def hidden(self, x, layer: int = -1) -> torch.Tensor:
        """The output of one hidden layer (default: the last), (N, sizes[layer])."""
        n_hidden = len(self.sizes) - 2
        if n_hidden == 0:
            raise ValueError(f"this MLP (sizes {self.sizes}) has no hidden layer")
        if isinstance(layer, bool) or not isinstance(layer, int) or not -n_hidden <= layer < n_hidden:
            raise ValueError(f"layer must index one of the {n_hidden} hidden layer(s) "
                             f"(0 … {n_hidden - 1}, or negative from the end), got {layer!r}")
        return self.activations(x)[1:-1][layer]

    # ------------------------------------------------------------ loss and gradient
    def loss(self, x, t) -> torch.Tensor:
        """The mean loss over the batch (a scalar tensor); ``t``: (N,) integer labels (0/1 for sigmoid)."""
        return self.last_layer.forward(self.forward(x), t)

    def numerical_gradient(self, x, t, h: float = 1e-5) -> dict[str, torch.Tensor]:
        """∂loss/∂θ for every parameter by central differences: 2 × (number of parameters) forward passes."""
        return _numerical_gradient(lambda: self.loss(x, t), self.params, h)

    def gradient(self, x, t) -> dict[str, torch.Tensor]:
        """∂loss/∂θ for every parameter by back-propagation through the layers (keys of ``params``)."""
        self.loss(x, t)
        self.network.backward(self.last_layer.backward(1.0))
        grads = {}
        for l, affine in enumerate(self._affines, start=1):
            grads[f"W{l}"], grads[f"b{l}"] = affine.grads["W"], affine.grads["b"]
        return grads

    # ------------------------------------------------------------ predictions
    def classify(self, x) -> torch.Tensor:
        """x: (N, sizes[0]) → predicted labels (N,) int64 (the arg-max of the scores; logit > 0 for sigmoid)."""
        with torch.no_grad():
            scores = self.forward(x)
        return (scores[:, 0] > 0).long() if self.output == "sigmoid" else scores.argmax(dim=1)

    def accuracy(self, x, t) -> float:
        """The fraction of samples whose predicted label equals ``t`` (N,)."""
        labels = self.classify(x)
        t = torch.as_tensor(t, device=labels.device).reshape(-1)
        if t.shape[0] != labels.shape[0]:
            raise ValueError(f"t must have one label per sample ({labels.shape[0]}), got shape {tuple(t.shape)}")
        return _metrics.accuracy(t, labels)

    def num_parameters(self) -> int:
        """Σ_l (n_l + 1)·n_{l+1}: every weight and bias."""
        return sum(p.numel() for p in self.params.values())

    def __repr__(self) -> str:
        head = ", sigmoid" if self.output == "sigmoid" else ""
        return f"MLP({'-'.join(map(str, self.sizes))}, {self.activation}{head})"


def fit_mlp(x, y, hidden_sizes=(16,), *, activation: str = "relu", epochs: int = 500, lr: float = 0.01,
            seed: int = 0, weight_init_std: float | None = None) -> tuple[MLP, list[float]]:
    """Train ``MLP([D, *hidden_sizes, C])`` on (x, y) by full-batch Adam; return it and its losses.

    x: (N, D) inputs, y: (N,) integer labels in [0, C) with C = max(y) + 1 (at least 2).
    Every step computes the gradient by back-propagation (:meth:`MLP.gradient`) and takes one
    Adam step of size ``lr``. Deterministic for a given ``seed``. ``hidden_sizes=()`` gives a
    network with no hidden layer: softmax regression, a linear classifier.

    Training is in float64 on ``x``'s device — on the CPU when that is Apple's MPS, which has
    no float64 (``dlbook.runtime.float64_device``); the returned net lives there.
    On the CPU the loop runs on one thread (restored afterwards): for a few hundred points
    the hand-offs between threads cost more than they save — many times more on a busy machine.
    """
    from .optim import Adam

    x = check_ndim(as_float_tensor(x), "x", 2)
    y = torch.as_tensor(y).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have one label per row of x ({x.shape[0]}), got shape {tuple(y.shape)}")
    if y.is_floating_point() and not torch.equal(y, y.round()):
        raise ValueError("y must hold integer class labels")
    y = y.long()
    if y.numel() and y.min() < 0:
        raise ValueError(f"y must hold labels >= 0, got {y.min().item()}")
    hidden_sizes = list(hidden_sizes)
    epochs = check_positive_int(epochs, "epochs")
    lr = check_number(lr, "lr", low=0.0, low_inclusive=False)
    n_classes = max(int(y.max().item()) + 1, 2)
    device = float64_device(x.device)
    net = MLP([x.shape[1], *hidden_sizes, n_classes], activation, weight_init_std=weight_init_std, seed=seed,
              device=device)
    x = x.to(device=device, dtype=torch.float64)
    y = y.to(x.device)
    params = list(net.params.values())
    optimizer = Adam(params, lr=lr)
    losses = []
    with _one_cpu_thread(x.device):
        for _ in range(epochs):
            losses.append(net.loss(x, y).item())
            grads = net.gradient(x, y)
            for key, p in net.params.items():
                p.grad = grads[key]
            optimizer.step()  # updates the tensors in place: the layers hold the same ones
    for p in params:
        p.grad = None
    return net, losses


@contextlib.contextmanager
def _one_cpu_thread(device: torch.device):
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
