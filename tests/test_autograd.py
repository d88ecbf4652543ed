import math
import random

import pytest
import torch

from dlbook.autograd import MLP, Layer, Neuron, Value, to_dot, trace

F64 = torch.float64


def torch_leaves(values):
    return [torch.tensor(v, dtype=F64, requires_grad=True) for v in values]


def relu_reference(t: torch.Tensor) -> torch.Tensor:
    """max(0, t) with Value.relu's convention at the kink (gradient 0 at t = 0), written with
    torch.where so the reference does not depend on what a PyTorch version's relu does there
    (a − a gives exactly 0, so random expressions do reach the kink)."""
    return torch.where(t > 0, t, torch.zeros_like(t))


def random_expression(xs, rng: random.Random, n_ops: int = 25):
    """Combine the leaves ``xs`` with random operations; works on Values and on torch tensors alike."""
    pool = list(xs)
    for _ in range(n_ops):
        a, b = rng.choice(pool), rng.choice(pool)
        op = rng.choice(["add", "sub", "mul", "div", "pow", "neg", "exp", "log", "tanh", "relu", "sigmoid", "rsub"])
        if op == "add":
            y = a + b
        elif op == "sub":
            y = a - b
        elif op == "rsub":
            y = 1.5 - a
        elif op == "mul":
            y = a * b
        elif op == "div":
            y = a / (b * b + 1.0)  # the denominator stays ≥ 1
        elif op == "pow":
            y = (a * a + 0.5) ** rng.choice([2, 3, -1, 0.5, -1.5])
        elif op == "neg":
            y = -a
        elif op == "exp":
            y = (a.tanh() * 2).exp()  # bounded input: no overflow
        elif op == "log":
            y = (a * a + 0.1).log()
        elif op == "relu" and isinstance(a, torch.Tensor):
            y = relu_reference(a)
        else:
            y = getattr(a, op)()
        pool.append(y)
    return sum(pool[len(xs):], pool[0] * 0.0)


@pytest.mark.parametrize("seed", range(20))
def test_random_expressions_match_torch_autograd(seed):
    rng = random.Random(seed)
    values = [rng.uniform(-2, 2) for _ in range(4)]
    ours = [Value(v) for v in values]
    ref = torch_leaves(values)
    out = random_expression(ours, random.Random(seed + 100))
    ref_out = random_expression(ref, random.Random(seed + 100))
    out.backward()
    ref_out.backward()
    assert math.isclose(out.data, ref_out.item(), rel_tol=1e-12, abs_tol=1e-12)
    for v, t in zip(ours, ref):
        expected = 0.0 if t.grad is None else t.grad.item()  # None: the leaf was not used
        assert abs(v.grad - expected) <= 1e-6 * max(1.0, abs(expected))


def test_relu_subgradient_at_zero_is_zero():
    v = Value(0.0)
    v.relu().backward()
    assert v.grad == 0.0


@pytest.mark.parametrize("op", ["exp", "log", "tanh", "relu", "sigmoid"])
def test_each_unary_function_and_its_derivative(op):
    for x in [-3.0, -0.4, 0.7, 2.5, 40.0]:
        if op == "log" and x <= 0:
            continue
        v, t = Value(x), torch.tensor(x, dtype=F64, requires_grad=True)
        y, ref = getattr(v, op)(), getattr(t, op)()
        y.backward()
        ref.backward()
        assert math.isclose(y.data, ref.item(), rel_tol=1e-12)
        assert math.isclose(v.grad, t.grad.item(), rel_tol=1e-12, abs_tol=1e-15)


def test_reflected_operators_and_value_exponents():
    a, b = Value(1.5), Value(-0.5)
    ta, tb = torch_leaves([1.5, -0.5])
    y = 2 + a * 3 - 1 / a + 4 / (b - 2) + 2**b + a**b
    ref = 2 + ta * 3 - 1 / ta + 4 / (tb - 2) + 2**tb + ta**tb
    y.backward()
    ref.backward()
    assert math.isclose(y.data, ref.item(), rel_tol=1e-12)
    assert math.isclose(a.grad, ta.grad.item(), rel_tol=1e-12)
    assert math.isclose(b.grad, tb.grad.item(), rel_tol=1e-12)


def test_a_node_used_twice_gets_both_contributions():
    # The classic bug: with "=" instead of "+=", b = a + a would give ∂b/∂a = 1.
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    x = Value(-2.0)
    y = x * x * x  # 3x² = 12
    y.backward()
    assert y.data == -8.0 and x.grad == 12.0


def test_leaf_gradients_accumulate_like_pytorch_and_intermediates_do_not():
    a, t = Value(0.8), torch.tensor(0.8, dtype=F64, requires_grad=True)
    y, ref = (a * a).tanh() * a, (t * t).tanh() * t
    y.backward()
    y.backward()
    ref.backward(retain_graph=True)
    ref.backward()
    assert math.isclose(a.grad, t.grad.item(), rel_tol=1e-12)


def test_mlp_gradients_match_torch():
    net = MLP(3, [4, 4, 1], seed=1)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    loss = sum((net(x) - y) ** 2 for x, y in zip(xs, ys))
    net.zero_grad()
    loss.backward()

    # the same network in torch, from the same weights
    weights = []
    for layer in net.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=F64, requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=F64, requires_grad=True)
        weights.append((W, b))
    h = torch.tensor(xs, dtype=F64)
    for i, (W, b) in enumerate(weights):
        h = h @ W.T + b
        if i < len(weights) - 1:
            h = torch.tanh(h)
    ref = ((h[:, 0] - torch.tensor(ys, dtype=F64)) ** 2).sum()
    ref.backward()
    assert math.isclose(loss.data, ref.item(), rel_tol=1e-12)
    for layer, (W, b) in zip(net.layers, weights):
        ours_W = torch.tensor([[w.grad for w in n.w] for n in layer.neurons], dtype=F64)
        ours_b = torch.tensor([n.b.grad for n in layer.neurons], dtype=F64)
        torch.testing.assert_close(ours_W, W.grad, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(ours_b, b.grad, rtol=1e-10, atol=1e-12)


def test_mlp_learns_with_gradient_descent_and_is_seeded():
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]

    def run():
        net = MLP(3, [4, 4, 1], seed=0)
        losses = []
        for _ in range(30):
            loss = sum((net(x) - y) ** 2 for x, y in zip(xs, ys))
            net.zero_grad()
            loss.backward()
            for p in net.parameters():
                p.data -= 0.05 * p.grad
            losses.append(loss.data)
        return losses

    losses = run()
    assert losses[-1] < 0.1 * losses[0]
    assert losses == run()
    assert len(MLP(3, [4, 4, 1]).parameters()) == 4 * 4 + 5 * 4 + 5 * 1


def test_a_deep_graph_needs_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_trace_and_dot():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    c.label = "c"
    nodes, edges = trace(c)
    assert nodes[-1] is c and set(map(id, nodes)) == {id(a), id(b), id(c)}
    assert len(edges) == 2 and all(out is c for _, out in edges)
    c.backward()
    dot = to_dot(c)
    assert dot.startswith("digraph") and 'label="*"' in dot and "grad 3" in dot


def test_bad_inputs():
    with pytest.raises(TypeError, match="data must be a real number, got str"):
        Value("1")
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(ValueError, match="log is defined for positive numbers only, got -1.0"):
        Value(-1.0).log()
    with pytest.raises(ValueError, match="a > 0"):
        Value(-1.0) ** Value(2.0)
    with pytest.raises(ValueError, match="x must have 3 inputs, got 2"):
        Neuron(3)([1.0, 2.0])
    with pytest.raises(ValueError, match=r"unknown activation 'gelu'; expected one of \[.*'tanh'\]"):
        Layer(2, 2, activation="gelu")
    with pytest.raises(ValueError, match=r"'elu' is not available in dlbook.autograd.*\['identity', 'relu'"):
        Neuron(2, activation="elu")
    with pytest.raises(ValueError, match="nouts must list at least one layer"):
        MLP(2, [])
    with pytest.raises(TypeError, match="root must be a Value"):
        trace(1.0)
