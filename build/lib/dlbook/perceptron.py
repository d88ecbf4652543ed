"""Rosenblatt's perceptron (1957) and the logic gates it can and cannot compute.

Taught in chapter 05 (05_perceptron).

y = 1 if w·x − θ > 0 else 0, with θ the threshold (equivalently a bias b = −θ).
"""
from __future__ import annotations

import itertools

import torch

from ._checks import as_float_tensor, check_ndim, check_number, check_positive_int
from .activations import step

__all__ = ["Perceptron", "AND", "NAND", "OR", "NOR", "gate_inputs", "truth_table", "train_perceptron"]


class Perceptron:
    """A single threshold unit. ``weights``: (d,), ``theta``: the threshold."""

    def __init__(self, weights, theta: float, name: str = "perceptron"):
        self.weights = check_ndim(as_float_tensor(weights, "weights"), "weights", 1)
        self.theta = check_number(theta, "theta")
        self.name = name

    def __call__(self, x) -> torch.Tensor:
        """x: (d,) or (n, d) → 0/1 outputs of shape () or (n,)."""
        x = as_float_tensor(x)
        check_ndim(x, "x", (1, 2))
        d = self.weights.numel()
        if x.shape[-1] != d:
            raise ValueError(f"x must have {d} features in its last dimension, got shape {tuple(x.shape)}")
        w = self.weights.to(device=x.device, dtype=x.dtype)
        return step(x @ w - self.theta)

    def __repr__(self) -> str:
        w = ", ".join(f"{v:g}" for v in self.weights.tolist())
        return f"{self.name}(w=[{w}], θ={self.theta:g})"


# Weights as in the classic textbook examples; many other choices work.
AND = Perceptron([0.5, 0.5], 0.7, name="AND")
NAND = Perceptron([-0.5, -0.5], -0.7, name="NAND")
OR = Perceptron([0.5, 0.5], 0.2, name="OR")
NOR = Perceptron([-0.5, -0.5], -0.2, name="NOR")


def gate_inputs(n_inputs: int = 2, dtype=None) -> torch.Tensor:
    """All 2ⁿ binary input rows in counting order: (2ⁿ, n)."""
    n_inputs = check_positive_int(n_inputs, "n_inputs")
    rows = list(itertools.product([0.0, 1.0], repeat=n_inputs))
    return torch.tensor(rows, dtype=dtype or torch.get_default_dtype())


def truth_table(gate, n_inputs: int = 2) -> list[tuple[int, ...]]:
    """Rows (x₁, …, xₙ, y) of a gate given as a callable on an (m, n) tensor."""
    if not callable(gate):
        raise TypeError(f"gate must be callable (a Perceptron or a function), got {type(gate).__name__}")
    x = gate_inputs(n_inputs)
    y = torch.as_tensor(gate(x)).reshape(-1)
    if y.numel() != x.shape[0]:
        raise ValueError(f"gate must return one output per input row ({x.shape[0]}), got {y.numel()}")
    return [tuple(int(v) for v in row) + (int(out),) for row, out in zip(x.tolist(), y.tolist())]


def train_perceptron(x, y, *, lr: float = 0.1, epochs: int = 20):
    """Rosenblatt's learning rule: w ← w + η(y − ŷ)x, θ ← θ − η(y − ŷ).

    x: (n, d) inputs, y: (n,) 0/1 targets. Each epoch updates once per sample, in
    order, and stops early once every sample is classified correctly. Returns the
    trained ``Perceptron`` and the number of mistakes in each epoch; the list
    reaches 0 only for linearly separable data (never for XOR). The weights are learned on
    ``x``'s device and in its dtype.
    """
    x = check_ndim(as_float_tensor(x), "x", 2)
    y = check_ndim(as_float_tensor(y, "y"), "y", 1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but y has {y.shape[0]} targets")
    if not torch.all((y == 0) | (y == 1)):
        raise ValueError("y must contain only 0 and 1")
    lr = check_number(lr, "lr", low=0.0, low_inclusive=False)
    epochs = check_positive_int(epochs, "epochs")
    y = y.to(device=x.device, dtype=x.dtype)
    w = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device)
    theta = 0.0
    mistakes = []
    for _ in range(epochs):
        wrong = 0
        for xi, yi in zip(x, y):  # the rule is sequential by definition: one sample at a time
            error = (yi - step(xi @ w - theta)).item()
            if error:
                wrong += 1
                w += lr * error * xi
                theta -= lr * error
        mistakes.append(wrong)
        if wrong == 0:
            break
    return Perceptron(w, theta, name="learned"), mistakes
