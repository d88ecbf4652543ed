"""Layers with a hand-written backward pass, in the style of *Deep Learning from Scratch*.

Taught in chapter 07 (07_backpropagation).

Each layer is a small class with ``forward(x)`` and ``backward(dout)``:

* ``forward`` computes the output and keeps what the backward pass will need;
* ``backward`` takes ∂L/∂out (``dout``) and returns ∂L/∂x, the chain rule applied to
  one node of the computational graph. A layer with weights also fills ``grads``
  with ∂L/∂W, ∂L/∂b, under the same keys as ``params``.

Nothing here uses ``torch.autograd``: every derivative is written from the math and
checked against autograd in ``tests/test_layers.py``. Tensors stay on the device of
the parameters (or of the input, for layers without parameters).
"""
from __future__ import annotations

import math

import torch

from . import activations as A
from ._checks import as_float_tensor, check_ndim
from .losses import log_softmax, softmax  # defined once, in chapter 04's module; re-exported for chapter 07

__all__ = [
    "Layer", "Affine", "ReLU", "Sigmoid", "Tanh", "SoftmaxWithLoss", "SigmoidWithLoss",
    "Sequential", "softmax", "log_softmax", "activation_layer",
]


# ---------------------------------------------------------------- base class
class Layer:
    """A node of the computational graph: ``forward`` then ``backward``."""

    def __init__(self):
        self.params: dict[str, torch.Tensor] = {}
        self.grads: dict[str, torch.Tensor] = {}
        self._out_shape: tuple | None = None  # set by forward
        self._ref: torch.Tensor | None = None  # a forward tensor: backward follows its device and dtype

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, x):  # pragma: no cover - every layer overrides it
        raise NotImplementedError

    def backward(self, dout):  # pragma: no cover
        raise NotImplementedError

    def _dout(self, dout) -> torch.Tensor:
        """Check backward comes after forward and that dout has the output's shape;
        return it on the device and dtype of the forward output (``self._ref``)."""
        if self._out_shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward: "
                               "run forward first, it stores what backward needs")
        dout = as_float_tensor(dout, "dout")
        if tuple(dout.shape) != self._out_shape:
            raise ValueError(f"dout must have the shape of the forward output {self._out_shape}, "
                             f"got shape {tuple(dout.shape)}")
        return dout.to(device=self._ref.device, dtype=self._ref.dtype)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={tuple(v.shape)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"


# ---------------------------------------------------------------- affine
class Affine(Layer):
    """out = x W + b.  W: (D, H), b: (H,);  x: (N, D) → (N, H).

    An input of shape (N, d₁, d₂, …) with d₁·d₂·… = D (an image batch) is flattened to
    (N, D) and ``backward`` returns dx in the original shape. The input is converted to
    the dtype of W (as NumPy would promote it) and must be on W's device.

    backward:  dx = dout Wᵀ,  dW = xᵀ dout,  db = Σₙ dout.
    """

    def __init__(self, W, b):
        super().__init__()
        W = check_ndim(as_float_tensor(W, "W"), "W", 2)
        b = check_ndim(as_float_tensor(b, "b"), "b", 1)
        if b.shape[0] != W.shape[1]:
            raise ValueError(f"b must have one entry per column of W: W has shape {tuple(W.shape)} "
                             f"so b needs shape ({W.shape[1]},), got {tuple(b.shape)}")
        if b.device != W.device:
            raise ValueError(f"W and b must be on the same device, got {W.device} and {b.device}")
        self.params = {"W": W, "b": b.to(W.dtype)}
        self.x: torch.Tensor | None = None
        self._x_shape: tuple | None = None

    @property
    def W(self) -> torch.Tensor:
        return self.params["W"]

    @property
    def b(self) -> torch.Tensor:
        return self.params["b"]

    def forward(self, x) -> torch.Tensor:
        W, b = self.W, self.b
        x = as_float_tensor(x)
        if x.device != W.device:
            raise ValueError(f"x is on {x.device} but W is on {W.device}; move one of them")
        if x.ndim < 2 or math.prod(x.shape[1:]) != W.shape[0]:
            raise ValueError(f"x must have shape (N, {W.shape[0]}) (or (N, …) with {W.shape[0]} values per sample) "
                             f"to multiply W of shape {tuple(W.shape)}, got shape {tuple(x.shape)}")
        self._x_shape = tuple(x.shape)
        self.x = x.reshape(x.shape[0], W.shape[0]).to(W.dtype)
        out = self.x @ W + b
        self._out_shape, self._ref = tuple(out.shape), out
        return out

    def backward(self, dout) -> torch.Tensor:
        dout = self._dout(dout)
        self.grads = {"W": self.x.T @ dout, "b": dout.sum(dim=0)}
        return (dout @ self.W.T).reshape(self._x_shape)


# ---------------------------------------------------------------- activations
class ReLU(Layer):
    """out = max(0, x), any shape. backward: dx = dout where x > 0, else 0 (the mask)."""

    activation = "relu"  # its name in dlbook.activations.ACTIVATIONS

    def forward(self, x) -> torch.Tensor:
        x = as_float_tensor(x)
        self.mask = x > 0
        out = A.relu(x)
        self._out_shape, self._ref = tuple(out.shape), out
        return out

    def backward(self, dout) -> torch.Tensor:
        return self._dout(dout) * self.mask


class Sigmoid(Layer):
    """out = σ(x), any shape. backward: dx = dout · out · (1 − out) (only the output is kept)."""

    activation = "sigmoid"  # its name in dlbook.activations.ACTIVATIONS

    def forward(self, x) -> torch.Tensor:
        self.out = A.sigmoid(x)
        self._out_shape, self._ref = tuple(self.out.shape), self.out
        return self.out

    def backward(self, dout) -> torch.Tensor:
        return self._dout(dout) * self.out * (1 - self.out)


class Tanh(Layer):
    """out = tanh(x), any shape. backward: dx = dout · (1 − out²)."""

    activation = "tanh"  # its name in dlbook.activations.ACTIVATIONS

    def forward(self, x) -> torch.Tensor:
        self.out = A.tanh(x)
        self._out_shape, self._ref = tuple(self.out.shape), self.out
        return self.out

    def backward(self, dout) -> torch.Tensor:
        return self._dout(dout) * (1 - self.out * self.out)


def activation_layer(name: str) -> type[Layer]:
    """The hand-written layer class of a hidden activation named in :data:`dlbook.activations.ACTIVATIONS`.

    The names come from the book's one registry; this module writes a backward pass for
    ``"relu"``, ``"sigmoid"`` and ``"tanh"`` (:class:`ReLU`, :class:`Sigmoid`, :class:`Tanh`),
    and any other name is refused with that list. :class:`dlbook.mlp.MLP` builds its hidden
    layers with it.
    """
    layers = {cls.activation: cls for cls in (ReLU, Sigmoid, Tanh)}
    A.get(name, among=layers, where="dlbook.layers (hand-written backward)")
    return layers[name]


# ---------------------------------------------------------------- losses
def _loss_dout(layer: Layer, dout) -> torch.Tensor:
    if layer._out_shape is None:
        raise RuntimeError(f"{type(layer).__name__}.backward was called before forward: "
                           "run forward first, it stores what backward needs")
    dout = as_float_tensor(dout, "dout")
    if dout.numel() != 1:
        raise ValueError(f"dout of a loss must be a scalar (∂L/∂L = 1), got shape {tuple(dout.shape)}")
    return dout.reshape(())


class SoftmaxWithLoss(Layer):
    """Softmax followed by cross-entropy, averaged over the batch.

    forward(x, t): x (N, C) scores; t (N,) integer labels in [0, C) or (N, C) target
    probabilities (one-hot). Returns the scalar L = −(1/N) Σₙ Σ_c t_{nc} log y_{nc}.
    backward(dout=1) → dx = dout · (y − t) / N, (N, C): softmax and cross-entropy
    together have this simple gradient, which is why they form one layer.
    """

    def forward(self, x, t) -> torch.Tensor:
        x = check_ndim(as_float_tensor(x), "x", 2)
        self.t = _targets(t, x)
        log_y = log_softmax(x)
        self.y = log_y.exp()
        self._out_shape = ()
        return -(self.t * log_y).sum() / x.shape[0]

    def backward(self, dout=1.0) -> torch.Tensor:
        dout = _loss_dout(self, dout).to(device=self.y.device, dtype=self.y.dtype)
        return dout * (self.y - self.t) / self.y.shape[0]


class SigmoidWithLoss(Layer):
    """Sigmoid followed by binary cross-entropy, averaged over all elements.

    forward(x, t): x (N,) or (N, 1) scores (logits), t the same shape (or (N,)) with
    targets in [0, 1]. L = mean(−t log σ(x) − (1 − t) log(1 − σ(x))), computed as
    mean(softplus(x) − t x) so it never takes log 0. backward → dx = dout · (σ(x) − t) / n.
    """

    def forward(self, x, t) -> torch.Tensor:
        x = as_float_tensor(x)
        t = as_float_tensor(t, "t").to(device=x.device, dtype=x.dtype)
        if t.numel() != x.numel() or t.shape[0] != x.shape[0]:
            raise ValueError(f"t must hold one target per score: x has shape {tuple(x.shape)}, "
                             f"got t of shape {tuple(t.shape)}")
        t = t.reshape(x.shape)
        if torch.any((t < 0) | (t > 1)):
            raise ValueError("t must hold targets in [0, 1]")
        self.t, self.y = t, A.sigmoid(x)
        self._out_shape = ()
        softplus = x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))  # log(1 + e^x), stable
        return (softplus - t * x).mean()

    def backward(self, dout=1.0) -> torch.Tensor:
        dout = _loss_dout(self, dout).to(device=self.y.device, dtype=self.y.dtype)
        return dout * (self.y - self.t) / self.y.numel()


def _targets(t, x: torch.Tensor) -> torch.Tensor:
    """Targets as (N, C) probabilities: integer labels become one-hot rows."""
    n, c = x.shape
    if not isinstance(t, torch.Tensor):
        t = torch.as_tensor(t)
    t = t.to(x.device)
    if t.ndim == 1 and not t.is_floating_point() and t.dtype != torch.bool:
        if t.shape[0] != n:
            raise ValueError(f"t must have one label per row of x: x has shape {tuple(x.shape)}, "
                             f"got t of shape {tuple(t.shape)}")
        if n and (t.min() < 0 or t.max() >= c):
            raise ValueError(f"labels in t must lie in [0, {c}) for {c} classes, "
                             f"got values from {t.min().item()} to {t.max().item()}")
        return torch.nn.functional.one_hot(t.long(), c).to(x.dtype)
    if t.is_floating_point() and tuple(t.shape) == (n, c):
        return t.to(x.dtype)
    raise ValueError(f"t must be integer labels of shape ({n},) or target probabilities of shape ({n}, {c}) "
                     f"for x of shape {tuple(x.shape)}, got {t.dtype} of shape {tuple(t.shape)}")


# ---------------------------------------------------------------- a chain of layers
class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse (the chain rule, layer by layer).

    ``params`` and ``grads`` collect the layers' entries under ``"<index>.<name>"``
    (``"0.W"``, ``"0.b"``, ``"2.W"``, …); the tensors are shared, not copied.
    """

    def __init__(self, *layers: Layer):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a dlbook.layers.Layer, got {type(layer).__name__}")
        self.layers = list(layers)
        self.params = {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    def forward(self, x) -> torch.Tensor:
        for layer in self.layers:
            x = layer.forward(x)
        self._out_shape = tuple(x.shape)
        return x

    def backward(self, dout) -> torch.Tensor:
        if self._out_shape is None:
            raise RuntimeError("Sequential.backward was called before forward: run forward first")
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        self.grads = {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}
        return dout

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential({inner})"
