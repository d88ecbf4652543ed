"""Linear models trained by hand-written gradient descent (chapters 03–04).

Taught in chapter 03 (03_linear_regression); used in chapters 01, 04.

Hypothesis H(x) = x·W + b with x: (m, D), W: (D,), b a scalar (a 1-D x of
shape (m,) is one feature, and W may then be a scalar).

Two conventions for the squared-error cost, both in use in the lectures:

* the table of cost(W) uses the plain mean, cost = (1/m) Σ (H(x⁽ⁱ⁾) − y⁽ⁱ⁾)²:
  for x = y = (1, 2, 3), cost(0) = 14/3 ≈ 4.67, cost(1) = 0, cost(2) = 4.67
  (with 1/(2m) these would be 2.33, 0, 2.33) — ``cost_curve`` defaults to it;
* the derivation uses 1/(2m), so that the 2 of the square cancels and the update is
  W := W − α (1/m) Σ (H(x⁽ⁱ⁾) − y⁽ⁱ⁾) x⁽ⁱ⁾ — ``mse_cost``/``mse_gradient`` and
  ``LinearRegression`` default to it (``half=True``); ``half=False`` doubles the
  gradient, as ``torch.nn.functional.mse_loss`` does.

``fit`` runs batch gradient descent (``batch_size=None``: every update sees all
m samples), stochastic gradient descent (``batch_size=1``) or mini-batch
gradient descent (anything between), and returns the cost on the whole
training set after each epoch.
"""
from __future__ import annotations

import torch

from ._checks import as_float_tensor, check_ndim, check_number, check_positive_int, generator_for
from .data import minibatches
from .losses import binary_cross_entropy_with_logits, cross_entropy, one_hot, softmax

__all__ = [
    "mse_cost", "mse_gradient", "cost_curve", "logistic_cost", "logistic_gradient", "softmax_cost",
    "softmax_gradient", "LinearRegression", "LogisticRegression", "SoftmaxRegression",
]


# ---------------------------------------------------------------- shapes
def _design(x, name: str = "x") -> torch.Tensor:
    """x as a design matrix (m, D); a 1-D x is one feature."""
    x = check_ndim(as_float_tensor(x, name), name, (1, 2))
    x = x.reshape(-1, 1) if x.ndim == 1 else x
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}): need at least one sample")
    return x


def _weights(W, x: torch.Tensor, shape_tail=()) -> torch.Tensor:
    """W on x's device and dtype, checked against x's D features (a scalar W is fine when D = 1)."""
    W = as_float_tensor(W, "W").to(device=x.device, dtype=x.dtype)
    want = (x.shape[1], *shape_tail)
    scalar_ok = W.ndim == 0 and want == (1,)
    if tuple(W.shape) != want and not scalar_ok:
        raise ValueError(f"W must have shape {want} to match x with {x.shape[1]} feature(s), got {tuple(W.shape)}")
    return W


def _prod(shape) -> int:
    out = 1
    for s in shape:
        out *= s
    return out


def _targets(y, x: torch.Tensor, name: str = "y") -> torch.Tensor:
    y = check_ndim(as_float_tensor(y, name), name, 1).to(device=x.device, dtype=x.dtype)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"x has {x.shape[0]} samples but {name} has {y.shape[0]}; they must match")
    return y


def _bias(b, x: torch.Tensor, shape=()) -> torch.Tensor:
    b = as_float_tensor(b, "b").to(device=x.device, dtype=x.dtype)
    if b.numel() != _prod(shape):
        raise ValueError(f"b must have shape {shape}, got {tuple(b.shape)}")
    return b


def _linear_parts(W, b, x, y):
    x = _design(x)
    W = _weights(W, x)
    b = _bias(b, x)
    y = _targets(y, x)
    return W, b, x, y


# ---------------------------------------------------------------- linear regression: cost and gradient
def mse_cost(W, b, x, y, *, half: bool = True) -> torch.Tensor:
    """Squared-error cost of H(x) = x·W + b: (1/2m) Σ (H − y)² (``half=False``: (1/m) Σ (H − y)²).

    W: () or (D,), b: (), x: (m,) or (m, D), y: (m,) → a scalar tensor
    (differentiable in W and b when they require grad).
    """
    W, b, x, y = _linear_parts(W, b, x, y)
    error = x @ W.reshape(-1) + b.reshape(()) - y
    return (error**2).mean() / (2 if half else 1)


def mse_gradient(W, b, x, y, *, half: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(∂cost/∂W, ∂cost/∂b) of ``mse_cost``: ((1/m) Σ (H − y) x, (1/m) Σ (H − y)) for ``half=True``.

    The gradients have the shapes of W and b; ``half=False`` doubles them.
    """
    W, b, x, y = _linear_parts(W, b, x, y)
    error = x @ W.reshape(-1) + b.reshape(()) - y  # (m,)
    scale = (1 if half else 2) / x.shape[0]
    return (scale * (x.T @ error)).reshape(W.shape), (scale * error.sum()).reshape(b.shape)


def cost_curve(x, y, Ws, b: float = 0.0, *, half: bool = False) -> torch.Tensor:
    """cost(W) for each W in ``Ws`` (one feature, b fixed), vectorised: (K,) → (K,).

    By default the lecture's plain mean (1/m) Σ (Wx + b − y)²: for x = y = (1, 2, 3)
    and Ws = (0, 1, 2) this is (4.67, 0, 4.67); ``half=True`` halves it.
    """
    x = check_ndim(as_float_tensor(x), "x", 1)
    if x.numel() == 0:
        raise ValueError("x is empty: need at least one sample")
    y = _targets(y, x.reshape(-1, 1))
    Ws = check_ndim(as_float_tensor(Ws, "Ws").to(device=x.device, dtype=x.dtype).reshape(-1), "Ws", 1)
    b = check_number(b, "b")
    errors = Ws[:, None] * x[None, :] + b - y[None, :]  # (K, m)
    return (errors**2).mean(dim=1) / (2 if half else 1)


# ---------------------------------------------------------------- logistic regression
def _labels01(y, x: torch.Tensor) -> torch.Tensor:
    y = _targets(y, x)
    if not torch.all((y == 0) | (y == 1)):
        raise ValueError("y must hold labels 0 and 1 for logistic regression")
    return y


def logistic_cost(W, b, x, y) -> torch.Tensor:
    """Mean binary cross-entropy (natural log) of p = σ(x·W + b) against y ∈ {0, 1}: a scalar."""
    x = _design(x)
    W, b, y = _weights(W, x), _bias(b, x), _labels01(y, x)
    return binary_cross_entropy_with_logits(x @ W.reshape(-1) + b.reshape(()), y)


def logistic_gradient(W, b, x, y) -> tuple[torch.Tensor, torch.Tensor]:
    """((1/m) Σ (σ(z) − y) x, (1/m) Σ (σ(z) − y)) — the same form as linear regression's."""
    x = _design(x)
    W, b, y = _weights(W, x), _bias(b, x), _labels01(y, x)
    error = torch.sigmoid(x @ W.reshape(-1) + b.reshape(())) - y
    return (x.T @ error / x.shape[0]).reshape(W.shape), error.mean().reshape(b.shape)


# ---------------------------------------------------------------- softmax regression
def _class_labels(y, x: torch.Tensor, k: int) -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(y)
    y = check_ndim(y, "y", 1)
    if y.is_floating_point() or y.dtype == torch.bool:
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"x has {x.shape[0]} samples but y has {y.shape[0]}; they must match")
    return y.to(x.device).long()


def softmax_cost(W, b, x, y) -> torch.Tensor:
    """Mean cross-entropy of softmax(x·W + b) against class labels. W: (D, K), b: (K,), y: (m,) ints."""
    x = _design(x)
    W = as_float_tensor(W, "W").to(device=x.device, dtype=x.dtype)
    check_ndim(W, "W", 2)
    k = W.shape[1]
    W, b = _weights(W, x, (k,)), _bias(b, x, (k,))
    return cross_entropy(x @ W + b.reshape(k), _class_labels(y, x, k))


def softmax_gradient(W, b, x, y) -> tuple[torch.Tensor, torch.Tensor]:
    """(xᵀ(P − Y)/m, mean of P − Y) with P = softmax(x·W + b) and Y the one-hot labels."""
    x = _design(x)
    W = check_ndim(as_float_tensor(W, "W").to(device=x.device, dtype=x.dtype), "W", 2)
    k = W.shape[1]
    W, b = _weights(W, x, (k,)), _bias(b, x, (k,))
    labels = _class_labels(y, x, k)
    error = softmax(x @ W + b.reshape(k), dim=1) - one_hot(labels, k, dtype=x.dtype)  # (m, K)
    return x.T @ error / x.shape[0], error.mean(dim=0).reshape(b.shape)


# ---------------------------------------------------------------- models
def _scalar_bias(b) -> torch.Tensor:
    b = as_float_tensor(b, "b")
    if b.numel() != 1:
        raise ValueError(f"b must be a single number, got shape {tuple(b.shape)}")
    return b.reshape(())


class _GradientDescentModel:
    """Parameters W, b updated by W := W − α ∂cost/∂W on (mini-)batches; subclasses give the maths."""

    W: torch.Tensor | None
    b: torch.Tensor | None

    def _initial(self, x: torch.Tensor, y) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def cost(self, x, y) -> torch.Tensor:
        raise NotImplementedError

    def gradient(self, x, y) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def _prepare(self, x, y):
        return _design(x), y

    def step(self, x, y, lr: float) -> float:
        """One update on the batch (x, y): W −= α ∂cost/∂W, b −= α ∂cost/∂b. Returns the cost before it."""
        lr = check_number(lr, "lr", low=0.0, low_inclusive=False)
        x, y = self._prepare(x, y)
        self._ensure_parameters(x, y)
        before = self.cost(x, y).item()
        dW, db = self.gradient(x, y)
        self.W = self.W - lr * dW
        self.b = self.b - lr * db
        return before

    def _ensure_parameters(self, x: torch.Tensor, y):
        if self.W is None:
            self.W, self.b = self._initial(x, y)
        else:
            self.W = self.W.to(device=x.device, dtype=x.dtype)
            self.b = self.b.to(device=x.device, dtype=x.dtype)

    def fit(self, x, y, *, lr: float = 0.1, epochs: int = 100, batch_size: int | None = None,
            shuffle: bool = True, seed=None, generator=None) -> list[float]:
        """Gradient descent for ``epochs`` passes over (x, y); returns the training cost after each epoch.

        ``batch_size=None``: batch gradient descent (one update per epoch on all m
        samples); ``1``: stochastic; otherwise mini-batch (⌈m/B⌉ updates per epoch,
        rows reshuffled each epoch from ``seed``/``generator`` when ``shuffle``).
        Training continues from the current W, b (zeros the first time).
        """
        lr = check_number(lr, "lr", low=0.0, low_inclusive=False)
        epochs = check_positive_int(epochs, "epochs")
        x, y = self._prepare(x, y)
        self._ensure_parameters(x, y)
        if batch_size is not None:
            batch_size = check_positive_int(batch_size, "batch_size")
        g = generator_for(seed, generator)
        history = []
        for _ in range(epochs):
            if batch_size is None:
                batches = [(x, y)]
            else:
                batches = minibatches(x, y, batch_size, shuffle=shuffle, generator=g)
            for xb, yb in batches:
                dW, db = self.gradient(xb, yb)
                self.W = self.W - lr * dW
                self.b = self.b - lr * db
            history.append(self.cost(x, y).item())
        return history

    def _check_fitted(self):
        if self.W is None:
            raise RuntimeError(f"{type(self).__name__} has no parameters yet: call fit() first (or pass W)")


class LinearRegression(_GradientDescentModel):
    """H(x) = x·W + b fitted to minimise the squared error by gradient descent.

    ``W`` (D,) and ``b`` may be given to start from (e.g. W = −3 to watch the
    descent); otherwise they start at zero. ``half`` picks the 1/(2m) cost (see
    the module docstring).
    """

    def __init__(self, W=None, b=0.0, *, half: bool = True):
        self.W = None if W is None else as_float_tensor(W, "W").reshape(-1)
        self.b = _scalar_bias(b)
        self.half = bool(half)

    def _initial(self, x, y):
        return torch.zeros(x.shape[1], dtype=x.dtype, device=x.device), self.b.to(x.device, x.dtype)

    def _prepare(self, x, y):
        x = _design(x)
        return x, _targets(y, x)

    def predict(self, x) -> torch.Tensor:
        """x: (m,) or (m, D) → H(x): (m,)."""
        self._check_fitted()
        x = _design(x)
        return x @ _weights(self.W, x) + self.b.to(x.device, x.dtype)

    def cost(self, x, y) -> torch.Tensor:
        self._check_fitted()
        return mse_cost(self.W, self.b, x, y, half=self.half)

    def gradient(self, x, y):
        return mse_gradient(self.W, self.b, x, y, half=self.half)

    def __repr__(self) -> str:
        if self.W is None:
            return "LinearRegression(unfitted)"
        w = ", ".join(f"{v:.4g}" for v in self.W.tolist())
        return f"LinearRegression(W=[{w}], b={self.b.item():.4g})"


class LogisticRegression(_GradientDescentModel):
    """p(y = 1 | x) = σ(x·W + b), fitted to minimise binary cross-entropy by gradient descent.

    Labels are 0/1. The decision boundary is x·W + b = 0, where p = 0.5.
    """

    def __init__(self, W=None, b=0.0):
        self.W = None if W is None else as_float_tensor(W, "W").reshape(-1)
        self.b = _scalar_bias(b)

    def _initial(self, x, y):
        return torch.zeros(x.shape[1], dtype=x.dtype, device=x.device), self.b.to(x.device, x.dtype)

    def _prepare(self, x, y):
        x = _design(x)
        return x, _labels01(y, x)

    def decision_function(self, x) -> torch.Tensor:
        """The score z = x·W + b: (m,)."""
        self._check_fitted()
        x = _design(x)
        return x @ _weights(self.W, x) + self.b.to(x.device, x.dtype)

    def predict_proba(self, x) -> torch.Tensor:
        """p = σ(z): (m,)."""
        return torch.sigmoid(self.decision_function(x))

    def predict(self, x, threshold: float = 0.5) -> torch.Tensor:
        """Class labels 1 where p > threshold, else 0: (m,) int64."""
        threshold = check_number(threshold, "threshold", low=0.0, high=1.0)
        return (self.predict_proba(x) > threshold).long()

    def cost(self, x, y) -> torch.Tensor:
        self._check_fitted()
        return logistic_cost(self.W, self.b, x, y)

    def gradient(self, x, y):
        return logistic_gradient(self.W, self.b, x, y)


class SoftmaxRegression(_GradientDescentModel):
    """P(y = k | x) = softmax(x·W + b)_k for K classes (multinomial logistic regression).

    W: (D, K), b: (K,); labels are integers in [0, K). K is ``num_classes`` or
    1 + the largest label of the first ``fit``.
    """

    def __init__(self, num_classes: int | None = None):
        self.num_classes = None if num_classes is None else check_positive_int(num_classes, "num_classes", minimum=2)
        self.W = self.b = None

    def _initial(self, x, y):
        k = self.num_classes or int(y.max().item()) + 1
        self.num_classes = max(k, 2)
        return (torch.zeros(x.shape[1], self.num_classes, dtype=x.dtype, device=x.device),
                torch.zeros(self.num_classes, dtype=x.dtype, device=x.device))

    def _prepare(self, x, y):
        x = _design(x)
        y = _class_labels(y, x, 0)
        if y.numel() and y.min() < 0:
            raise ValueError(f"y must hold class labels >= 0, got {y.min().item()}")
        if self.num_classes is not None and y.numel() and y.max() >= self.num_classes:
            raise ValueError(f"y must hold class labels in [0, {self.num_classes - 1}], got {y.max().item()}")
        return x, y

    def decision_function(self, x) -> torch.Tensor:
        """Scores (logits) x·W + b: (m, K)."""
        self._check_fitted()
        x = _design(x)
        return x @ _weights(self.W, x, (self.num_classes,)) + self.b.to(x.device, x.dtype)

    def predict_proba(self, x) -> torch.Tensor:
        """softmax of the scores: (m, K), rows summing to 1."""
        return softmax(self.decision_function(x), dim=1)

    def predict(self, x) -> torch.Tensor:
        """The most probable class: (m,) int64."""
        return self.decision_function(x).argmax(dim=1)

    def cost(self, x, y) -> torch.Tensor:
        self._check_fitted()
        return softmax_cost(self.W, self.b, x, y)

    def gradient(self, x, y):
        return softmax_gradient(self.W, self.b, x, y)
