"""A scalar automatic-differentiation engine, after Karpathy's *micrograd*.

Taught in chapter 07 (07_backpropagation).

A :class:`Value` wraps one number. Every arithmetic operation returns a new Value that
remembers its inputs and a small closure, ``_backward``, that applies the chain rule
for that one operation: it multiplies the output's gradient by the *local* gradient
and adds the result to each input's ``grad``.  ``backward()`` orders the graph
topologically and runs those closures from the output back to the leaves — which is
all back-propagation is.

    >>> a, b = Value(2.0), Value(-3.0)
    >>> c = a * b + a.exp()
    >>> c.backward()
    >>> round(a.grad, 4), b.grad          # ∂c/∂a = b + eᵃ, ∂c/∂b = a
    (4.3891, 2.0)

As in PyTorch, gradients of leaves *accumulate* over calls to ``backward()`` (hence
``zero_grad``); gradients of intermediate nodes are recomputed on every call.
:class:`Neuron`, :class:`Layer` and :class:`MLP` build a small network from Values.
``tests/test_autograd.py`` checks every gradient against ``torch.autograd`` in float64.
"""
from __future__ import annotations

import math
import numbers
import random
from typing import Iterable

from . import activations as A

__all__ = ["Value", "Module", "Neuron", "Layer", "MLP", "trace", "to_dot"]


def _number(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    return float(x)


class Value:
    """One scalar of a computational graph: its ``data``, its ``grad`` = ∂output/∂self."""

    __slots__ = ("data", "grad", "_backward", "_prev", "_op", "label")

    def __init__(self, data, _children: tuple = (), _op: str = "", label: str = ""):
        self.data = _number(data, "data")
        self.grad = 0.0
        self._backward = _no_backward
        self._prev = tuple(_children)
        self._op = _op
        self.label = label

    # ------------------------------------------------------------ binary operations
    def __add__(self, other) -> Value:
        other = _as_value(other)
        if other is NotImplemented:
            return other
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # ∂(a + b)/∂a = ∂(a + b)/∂b = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other) -> Value:
        other = _as_value(other)
        if other is NotImplemented:
            return other
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # ∂(ab)/∂a = b, ∂(ab)/∂b = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent) -> Value:
        """a ** k for a number k (d/da = k a^{k−1}), or a ** b for a Value b (also d/db = aᵇ ln a)."""
        if isinstance(exponent, Value):
            if self.data <= 0:
                raise ValueError(f"a ** b with a Value exponent needs a > 0 (it is exp(b ln a)), got a = {self.data}")
            return (exponent * self.log()).exp()
        if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            return NotImplemented
        k = float(exponent)
        out = Value(self.data ** k, (self,), f"**{k:g}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def __rpow__(self, base) -> Value:
        """k ** b for a number k > 0: exp(b ln k)."""
        base = _number(base, "base")
        if base <= 0:
            raise ValueError(f"k ** Value needs a base k > 0, got {base}")
        return (self * math.log(base)).exp()

    def __neg__(self) -> Value:
        return self * -1

    def __sub__(self, other) -> Value:
        other = _as_value(other)
        return other if other is NotImplemented else self + (-other)

    def __truediv__(self, other) -> Value:
        other = _as_value(other)
        return other if other is NotImplemented else self * other ** -1

    def __radd__(self, other) -> Value:
        return self + other

    def __rmul__(self, other) -> Value:
        return self * other

    def __rsub__(self, other) -> Value:
        other = _as_value(other)
        return other if other is NotImplemented else other + (-self)

    def __rtruediv__(self, other) -> Value:
        other = _as_value(other)
        return other if other is NotImplemented else other * self ** -1

    # ------------------------------------------------------------ unary functions
    def exp(self) -> Value:
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():  # (eˣ)' = eˣ
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log is defined for positive numbers only, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():  # (ln x)' = 1/x
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():  # tanh' = 1 − tanh²
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():  # 1 for x > 0, else 0: the library's subgradient 0 at the kink x = 0
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        x = self.data
        s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))  # no overflow
        out = Value(s, (self,), "sigmoid")

        def _backward():  # σ' = σ(1 − σ)
            self.grad += out.data * (1 - out.data) * out.grad

        out._backward = _backward
        return out

    # ------------------------------------------------------------ back-propagation
    def backward(self) -> None:
        """Fill ``grad`` of every node this Value depends on with ∂self/∂node.

        Nodes are visited in reverse topological order, so a node's ``_backward`` runs
        only after every use of it has added its share to ``node.grad``.
        """
        order = _topological_order(self)
        for node in order:
            if node._prev:  # intermediate results start from 0 on every call; leaves accumulate
                node.grad = 0.0
        self.grad = 1.0 if self._prev else self.grad + 1.0
        for node in reversed(order):
            node._backward()

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"


def _no_backward() -> None:
    pass


def _as_value(x):
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(x)
    return NotImplemented


def _topological_order(root: Value) -> list[Value]:
    """Every node reachable from ``root``, each after all of its inputs (iterative DFS)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in node._prev if id(child) not in visited)
    return order


# ---------------------------------------------------------------- looking at the graph
def trace(root: Value) -> tuple[list[Value], list[tuple[Value, Value]]]:
    """The nodes of the graph behind ``root`` (inputs first) and its edges (input, output)."""
    if not isinstance(root, Value):
        raise TypeError(f"root must be a Value, got {type(root).__name__}")
    nodes = _topological_order(root)
    edges = [(child, node) for node in nodes for child in node._prev]
    return nodes, edges


def to_dot(root: Value) -> str:
    """The graph in Graphviz DOT text (render with ``graphviz.Source(to_dot(y))``)."""
    nodes, edges = trace(root)
    ids = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    lines = ["digraph G {", "  rankdir=LR;", '  node [shape=record, fontsize=10];']
    for n in nodes:
        name = f"{n.label} | " if n.label else ""
        lines.append(f'  {ids[id(n)]} [label="{{ {name}data {n.data:.4g} | grad {n.grad:.4g} }}"];')
        if n._op:
            lines.append(f'  {ids[id(n)]}_op [label="{n._op}", shape=circle];')
            lines.append(f"  {ids[id(n)]}_op -> {ids[id(n)]};")
    for child, node in edges:
        lines.append(f"  {ids[id(child)]} -> {ids[id(node)]}_op;")
    lines.append("}")
    return "\n".join(lines)


# ---------------------------------------------------------------- a tiny neural network
# The activation names are those of the book's one registry, dlbook.activations.ACTIVATIONS; a scalar
# Value computes the ones it has a method for (named as in the registry), and "identity" (no activation).
_VALUE_ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")


def _value_activation(name: str):
    """The ``Value`` method for a registry activation name, or None for ``"identity"``."""
    A.get(name, among=_VALUE_ACTIVATIONS, where="dlbook.autograd (scalar Value)")
    return None if name == "identity" else getattr(Value, name)


class Module:
    """Something with parameters: ``parameters()`` and ``zero_grad()``."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """φ(Σᵢ wᵢxᵢ + b) with weights drawn from U(−1, 1) by ``rng`` (a ``random.Random``)."""

    def __init__(self, nin: int, activation: str = "tanh", *, rng: random.Random | None = None):
        if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
            raise ValueError(f"nin must be a positive integer, got {nin!r}")
        self._phi = _value_activation(activation)  # refuses a name the registry or Value lacks
        rng = rng or random.Random(0)
        self.w = [Value(rng.uniform(-1, 1), label=f"w{i}") for i in range(nin)]
        self.b = Value(0.0, label="b")
        self.activation = activation

    def __call__(self, x) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"x must have {len(self.w)} inputs, got {len(x)}")
        z = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return self._phi(z) if self._phi else z

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {self.activation})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh", *, rng: random.Random | None = None):
        rng = rng or random.Random(0)
        if isinstance(nout, bool) or not isinstance(nout, int) or nout < 1:
            raise ValueError(f"nout must be a positive integer, got {nout!r}")
        self.neurons = [Neuron(nin, activation, rng=rng) for _ in range(nout)]

    def __call__(self, x) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer([{', '.join(map(repr, self.neurons))}])"


class MLP(Module):
    """A multilayer perceptron of scalar Values: ``MLP(2, [4, 4, 1])`` has two tanh hidden layers
    of 4 units and a linear (``"identity"``) output. ``seed`` fixes the initial weights.

    This is chapter 07's own model and a different thing from :class:`dlbook.mlp.MLP`: every
    weight is one :class:`Value` and the gradient comes from the recorded graph (micrograd),
    not from hand-written layer ``backward`` passes over tensors. It exists to show that
    back-propagation is the chain rule applied node by node; the book's tensor network is
    :class:`dlbook.mlp.MLP`. ``activation`` is a name of :data:`dlbook.activations.ACTIVATIONS`
    that a Value computes: ``"tanh"``, ``"relu"``, ``"sigmoid"`` or ``"identity"``."""

    def __init__(self, nin: int, nouts: Iterable[int], activation: str = "tanh", *, seed: int = 0):
        nouts = list(nouts)
        if not nouts:
            raise ValueError("nouts must list at least one layer size, got []")
        rng = random.Random(seed)
        sizes = [nin] + nouts
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "identity", rng=rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x):
        """x: a list of nin numbers or Values → a Value (one output) or a list of Values."""
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP([{', '.join(map(repr, self.layers))}])"
