"""Small networks built from scratch out of :mod:`dlbook.layers`: the two-layer net and XOR.

Taught in chapter 06 (06_mlp); used in chapters 01, 07.

``TwoLayerNet`` follows *Deep Learning from Scratch*: Affine → activation → Affine →
softmax-with-loss, parameters in a dict ``params`` (W1, b1, W2, b2), and two ways to
get the gradient of the loss — ``numerical_gradient`` (central differences, two
forward passes per parameter) and ``gradient`` (back-propagation: one forward and one
backward pass). ``tests/test_nets.py`` checks they agree to < 1e-7 in float64.

XOR is the function a single perceptron cannot compute; :func:`xor_gate` builds it
from NAND, OR and AND perceptrons, :func:`xor_network` as a 2-2-1 sigmoid network with
hand-set weights, and :func:`train_xor` learns it by gradient descent.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable

import torch

from . import layers as L
from ._checks import (
    as_float_tensor,
    check_dtype_on_device,
    check_ndim,
    check_number,
    check_positive_int,
    fraction_true,
    generator_for,
)
from .gradcheck import numerical_gradient as _numerical_gradient

__all__ = ["TwoLayerNet", "xor_data", "xor_gate", "xor_network", "train_xor", "plot_decision_regions"]

_OUTPUT = {"softmax": L.SoftmaxWithLoss, "sigmoid": L.SigmoidWithLoss}


class TwoLayerNet:
    """x (N, input_size) → Affine → φ → Affine → scores (N, output_size).

    Weights are ``weight_init_std · N(0, 1)`` drawn from a generator seeded with
    ``seed``; biases start at 0. ``activation`` is ``"relu"`` (default), ``"sigmoid"``
    or ``"tanh"``. ``output="softmax"`` trains with softmax cross-entropy on integer
    labels (or one-hot rows); ``output="sigmoid"`` (with ``output_size=1``) with binary
    cross-entropy on 0/1 targets. Parameters are float64 by default, so gradient checks
    are meaningful; inputs are converted to that dtype. Apple's MPS has no float64: build
    the net there with ``dtype=torch.float32`` (float64 on MPS is refused with a clear error).
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, weight_init_std: float = 0.01,
                 seed: int = 0, *, activation: str = "relu", output: str = "softmax",
                 dtype: torch.dtype = torch.float64, device=None):
        input_size = check_positive_int(input_size, "input_size")
        hidden_size = check_positive_int(hidden_size, "hidden_size")
        output_size = check_positive_int(output_size, "output_size")
        weight_init_std = check_number(weight_init_std, "weight_init_std", low=0.0)
        seed = check_positive_int(seed, "seed", minimum=0)
        hidden = L.activation_layer(activation)  # the one registry's name → the hand-written layer
        if output not in _OUTPUT:
            raise ValueError(f"output must be one of {sorted(_OUTPUT)}, got {output!r}")
        if output == "sigmoid" and output_size != 1:
            raise ValueError(f"output='sigmoid' gives one probability per sample, so output_size must be 1, "
                             f"got {output_size}")
        check_dtype_on_device(dtype, device)
        g = generator_for(seed)

        def weight(n_in, n_out):  # drawn on the CPU: the same numbers on every device
            return (weight_init_std * torch.randn(n_in, n_out, generator=g, dtype=dtype, device="cpu")).to(device)

        self.params = {
            "W1": weight(input_size, hidden_size),
            "b1": torch.zeros(hidden_size, dtype=dtype, device=device),
            "W2": weight(hidden_size, output_size),
            "b2": torch.zeros(output_size, dtype=dtype, device=device),
        }
        self.activation, self.output = activation, output
        self.layers = OrderedDict(
            Affine1=L.Affine(self.params["W1"], self.params["b1"]),
            Activation1=hidden(),
            Affine2=L.Affine(self.params["W2"], self.params["b2"]),
        )
        self.network = L.Sequential(*self.layers.values())  # forward in order, backward in reverse (chapter 07)
        self.last_layer = _OUTPUT[output]()

    def predict(self, x) -> torch.Tensor:
        """x: (N, input_size) → scores (N, output_size), before softmax / sigmoid."""
        return self.network.forward(x)

    def loss(self, x, t) -> torch.Tensor:
        """The mean loss over the batch (a scalar tensor)."""
        return self.last_layer.forward(self.predict(x), t)

    def classify(self, x) -> torch.Tensor:
        """x: (N, input_size) → predicted class labels (N,) as int64."""
        scores = self.predict(x)
        if self.output == "sigmoid":
            return (scores[:, 0] > 0).long()
        return scores.argmax(dim=1)

    def accuracy(self, x, t) -> float:
        """The fraction of samples classified correctly (``t``: labels, or one-hot rows)."""
        labels = self.classify(x)
        t = torch.as_tensor(t, device=labels.device)
        if t.ndim == 2 and t.shape[1] > 1:
            t = t.argmax(dim=1)
        t = t.reshape(-1)
        if t.shape[0] != labels.shape[0]:
            raise ValueError(f"t must have one target per sample ({labels.shape[0]}), got shape {tuple(t.shape)}")
        return fraction_true(labels == t.round().long())

    def numerical_gradient(self, x, t, h: float = 1e-5) -> dict[str, torch.Tensor]:
        """∂loss/∂θ for every parameter by central differences: 2 × (number of parameters) forward passes."""
        return _numerical_gradient(lambda: self.loss(x, t), self.params, h)

    def gradient(self, x, t) -> dict[str, torch.Tensor]:
        """∂loss/∂θ by back-propagation: one forward pass, then each layer's backward in reverse."""
        self.loss(x, t)
        self.network.backward(self.last_layer.backward(1.0))
        a1, a2 = self.layers["Affine1"], self.layers["Affine2"]
        return {"W1": a1.grads["W"], "b1": a1.grads["b"], "W2": a2.grads["W"], "b2": a2.grads["b"]}

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.params.values())

    def __repr__(self) -> str:
        d, h = self.params["W1"].shape
        return f"TwoLayerNet({d}-{h}-{self.params['W2'].shape[1]}, {self.activation}, {self.output})"


# ---------------------------------------------------------------- XOR
def xor_data(dtype: torch.dtype = torch.float64, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The four XOR inputs (4, 2) in counting order and their targets (4,): 0, 1, 1, 0."""
    check_dtype_on_device(dtype, device)
    x = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype, device=device)
    return x, (x[:, 0] != x[:, 1]).to(dtype)


def xor_gate(x) -> torch.Tensor:
    """XOR from perceptrons: AND(NAND(x), OR(x)).  x: (n, 2) 0/1 → (n,) 0/1.

    Neither NAND nor OR alone separates XOR's classes, but together they map the four
    points to a plane where AND — a single line — does: a second layer makes it possible.
    """
    from .perceptron import AND, NAND, OR

    x = check_ndim(as_float_tensor(x), "x", 2)
    hidden = torch.stack([NAND(x), OR(x)], dim=1)
    return AND(hidden)


def xor_network() -> TwoLayerNet:
    """A 2-2-1 sigmoid network with hand-set weights that computes XOR.

    Hidden unit 1 is a soft OR (σ(20x₁ + 20x₂ − 10)), hidden unit 2 a soft NAND
    (σ(−20x₁ − 20x₂ + 30)), the output a soft AND of the two (σ(20h₁ + 20h₂ − 30)).
    ``net.classify(x)`` gives the 0/1 answer; ``torch.sigmoid(net.predict(x))`` the probability.
    """
    net = TwoLayerNet(2, 2, 1, activation="sigmoid", output="sigmoid")
    net.params["W1"].copy_(torch.tensor([[20.0, -20.0], [20.0, -20.0]]))
    net.params["b1"].copy_(torch.tensor([-10.0, 30.0]))
    net.params["W2"].copy_(torch.tensor([[20.0], [20.0]]))
    net.params["b2"].copy_(torch.tensor([-30.0]))
    return net


def train_xor(hidden_size: int = 4, *, activation: str = "sigmoid", lr: float = 2.0, epochs: int = 1000,
              weight_init_std: float = 1.0, seed: int = 0) -> tuple[TwoLayerNet, list[float]]:
    """Learn XOR with a 2-``hidden_size``-1 network by full-batch gradient descent and backprop.

    Every step: θ ← θ − lr · ∂J/∂θ with J the binary cross-entropy over the four points.
    Deterministic for a given ``seed``. Returns the network and the loss at every step.
    The defaults (2-4-1, sigmoid) reach accuracy 1.0 from every seed we tried (0–19);
    narrower nets or tanh units sometimes stall in a local minimum at accuracy 0.5
    (e.g. 2-4-1 tanh, lr 0.5, seed 0) — try it.
    """
    lr = check_number(lr, "lr", low=0.0, low_inclusive=False)
    epochs = check_positive_int(epochs, "epochs")
    net = TwoLayerNet(2, hidden_size, 1, weight_init_std, seed, activation=activation, output="sigmoid")
    x, t = xor_data()
    losses = []
    for _ in range(epochs):
        losses.append(net.loss(x, t).item())
        grads = net.gradient(x, t)
        for key, grad in grads.items():
            net.params[key] -= lr * grad  # in place: the layers hold the same tensors
    return net, losses


# ---------------------------------------------------------------- decision regions
def _weight_of(fn) -> torch.Tensor | None:
    """A parameter of the model behind ``fn``, or None: fn may be an ``nn.Module``, a bound method
    of one (``model.predict``), or a bound method of a from-scratch net with a ``params`` dict
    (``TwoLayerNet``, ``dlbook.mlp.MLP``)."""
    owner = fn if isinstance(fn, torch.nn.Module) else getattr(fn, "__self__", None)
    if isinstance(owner, torch.nn.Module):
        return next(owner.parameters(), None)
    params = getattr(owner, "params", None)
    if isinstance(params, dict):
        return next((p for p in params.values() if isinstance(p, torch.Tensor)), None)
    return None


def _grid_placement(predict_fn, x: torch.Tensor, device) -> tuple[torch.device, torch.dtype]:
    """Device and dtype for the grid: ``device`` if given, else the model's (see :func:`_weight_of`),
    else those of the points ``x``."""
    p = _weight_of(predict_fn)
    dtype = p.dtype if p is not None and p.is_floating_point() else x.dtype
    if device is not None:
        return torch.device(device), dtype
    return (p.device if p is not None else x.device), dtype


def plot_decision_regions(predict_fn: Callable, x, y, *, ax=None, resolution: int = 200, padding: float = 0.5,
                          title: str | None = None, device=None):
    """Colour the plane by the class ``predict_fn`` assigns, with the points (x, y) on top.

    predict_fn: (M, 2) → labels (M,) or scores (M, C) (the arg-max is taken), evaluated
    without gradients. The grid is put on the model's device and dtype when predict_fn is
    an ``nn.Module``, a bound method of one (``model.predict``) or of a net with a
    ``params`` dict (``net.classify``); for any other callable on ``device``, by default
    the device of ``x`` — pass ``device=`` when they differ.
    x: (N, 2) points, y: (N,) their labels. Returns the matplotlib Figure.
    """
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable (M, 2) → labels or scores, got {type(predict_fn).__name__}")
    x = check_ndim(as_float_tensor(x), "x", 2).detach()
    if x.shape[1] != 2:
        raise ValueError(f"x must hold 2-D points, shape (N, 2), got shape {tuple(x.shape)}")
    y = torch.as_tensor(y).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have one label per point ({x.shape[0]}), got shape {tuple(y.shape)}")
    resolution = check_positive_int(resolution, "resolution", minimum=2)
    padding = check_number(padding, "padding", low=0.0)

    lo, hi = x.min(dim=0).values - padding, x.max(dim=0).values + padding
    g0 = torch.linspace(lo[0].item(), hi[0].item(), resolution, dtype=x.dtype, device="cpu")
    g1 = torch.linspace(lo[1].item(), hi[1].item(), resolution, dtype=x.dtype, device="cpu")
    xx, yy = torch.meshgrid(g0, g1, indexing="xy")                       # (R, R) each, on the CPU for plotting
    grid_device, grid_dtype = _grid_placement(predict_fn, x, device)
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1).to(device=grid_device, dtype=grid_dtype)
    with torch.no_grad():
        out = torch.as_tensor(predict_fn(grid)).detach()
    if out.ndim == 2 and out.shape[1] > 1:
        out = out.argmax(dim=1)
    elif out.ndim != 1 or out.shape[0] != grid.shape[0]:
        raise ValueError(f"predict_fn must return labels of shape ({grid.shape[0]},) or scores of shape "
                         f"({grid.shape[0]}, C) with C > 1, got shape {tuple(out.shape)}; "
                         "for one output (a logit), pass e.g. lambda g: (model(g)[:, 0] > 0).long()")
    zz = out.reshape(resolution, resolution).cpu().float().numpy()

    from matplotlib.figure import Figure

    fig = ax.figure if ax is not None else Figure(figsize=(4.5, 4), layout="constrained")
    ax = ax if ax is not None else fig.subplots()
    classes = torch.unique(torch.cat([y.cpu().long(), out.cpu().long().unique()])).tolist()
    levels = [c - 0.5 for c in classes] + [classes[-1] + 0.5]
    ax.contourf(xx.numpy(), yy.numpy(), zz, levels=levels, cmap="coolwarm", alpha=0.35)
    ax.scatter(x[:, 0].cpu().numpy(), x[:, 1].cpu().numpy(), c=y.cpu().numpy(), cmap="coolwarm",
               edgecolors="k", linewidths=0.5, s=25, vmin=classes[0], vmax=classes[-1])
    ax.set_xlim(lo[0].item(), hi[0].item())
    ax.set_ylim(lo[1].item(), hi[1].item())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return fig
