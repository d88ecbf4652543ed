import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlbook import activations as A

TORCH_REFS = {
    "identity": lambda x: x,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
    "elu": lambda x: F.elu(x, 1.0),
    "prelu": lambda x: F.prelu(x, torch.tensor([0.25], dtype=x.dtype, device=x.device)),
}


def sample(device, shape=(7, 5)):
    x = torch.randn(shape, dtype=torch.float64, device=device) * 4
    x[0, :3] = torch.tensor([0.0, 40.0, -40.0])  # the kink and both saturated tails
    return x


@pytest.mark.parametrize("name", sorted(TORCH_REFS))
def test_values_match_torch(name, device):
    x = sample(device)
    ours = A.get(name)(x)
    assert ours.device == x.device and ours.dtype == x.dtype and ours.shape == x.shape
    torch.testing.assert_close(ours, TORCH_REFS[name](x), rtol=1e-12, atol=1e-12)


# The derivative at the kink x = 0 is the library's convention (the x ≤ 0 branch), stated in
# dlbook.activations; it is checked against this closed form, never against whatever a given
# PyTorch version's autograd picks there. Away from 0 the derivatives are compared with autograd.
def kink_derivative(name, alpha=None):
    alpha = A.get(name).alpha if alpha is None else alpha
    return {"identity": 1.0, "sigmoid": 0.25, "tanh": 1.0, "relu": 0.0,
            "leaky_relu": alpha, "prelu": alpha, "elu": alpha}[name]


def assert_derivative(ours, torch_grad, x, at_kink, **tol):
    smooth = x != 0
    torch.testing.assert_close(ours[smooth], torch_grad[smooth], **tol)
    torch.testing.assert_close(ours[~smooth], torch.full_like(ours[~smooth], at_kink), **tol)


@pytest.mark.parametrize("name", sorted(TORCH_REFS))
def test_derivatives_match_autograd(name, device):
    x = sample(device).requires_grad_()
    (torch_grad,) = torch.autograd.grad(TORCH_REFS[name](x).sum(), x)
    ours = A.get(name).derivative(x.detach())
    assert_derivative(ours, torch_grad, x.detach(), kink_derivative(name), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "prelu", "elu", "identity"])
def test_autograd_through_our_functions_gives_our_derivative_at_the_kink_too(name, device):
    x = sample(device).requires_grad_()
    (g,) = torch.autograd.grad(A.get(name)(x).sum(), x)
    torch.testing.assert_close(g, A.get(name).derivative(x.detach()), rtol=1e-12, atol=1e-12)
    assert g[0, 0].item() == kink_derivative(name)  # x[0, 0] = 0


def test_nan_passes_through_the_piecewise_functions():
    x = torch.tensor([float("nan"), -1.0, 0.0, 2.0])
    for name in ("relu", "leaky_relu", "elu", "prelu"):
        assert torch.isnan(A.get(name)(x)[0]), name


@pytest.mark.parametrize("name, alpha, ref", [
    ("leaky_relu", 0.0, F.leaky_relu), ("leaky_relu", 0.1, F.leaky_relu), ("leaky_relu", 0.3, F.leaky_relu),
    ("elu", 0.5, F.elu), ("elu", 1.0, F.elu), ("elu", 2.0, F.elu),
])
def test_alpha_is_honoured(name, alpha, ref, device):
    x = sample(device).requires_grad_()
    expected = ref(x, alpha)
    (g,) = torch.autograd.grad(expected.sum(), x)
    torch.testing.assert_close(A.get(name)(x.detach(), alpha), expected.detach())
    assert_derivative(A.get(name).derivative(x.detach(), alpha), g, x.detach(), kink_derivative(name, alpha))


def test_prelu_per_channel_and_learned_alpha(device):
    x = torch.randn(4, 3, 5, 5, dtype=torch.float64, device=device)
    alpha = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64, device=device)
    torch.testing.assert_close(A.prelu(x, alpha), F.prelu(x, alpha))
    xr = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(F.prelu(xr, alpha).sum(), xr)
    torch.testing.assert_close(A.prelu_grad(x, alpha), g)

    layer = A.PReLU(3).to(device=device, dtype=torch.float64)
    ref = torch.nn.PReLU(3).to(device=device, dtype=torch.float64)
    layer(x).square().sum().backward()
    ref(x).square().sum().backward()
    torch.testing.assert_close(layer.alpha.grad, ref.weight.grad)


def test_step_and_identity():
    x = torch.tensor([-2.0, 0.0, 0.5])
    assert A.step(x).tolist() == [0.0, 0.0, 1.0]
    assert A.step_grad(x).tolist() == [0.0, 0.0, 0.0]
    assert A.identity_grad(x).tolist() == [1.0, 1.0, 1.0]


def test_maxout_matches_grouped_max_and_gradient(device):
    z = torch.randn(6, 12, dtype=torch.float64, device=device, requires_grad=True)
    ref = z.view(6, 4, 3).max(dim=-1).values
    torch.testing.assert_close(A.maxout(z.detach(), 3), ref.detach())
    (g,) = torch.autograd.grad(ref.sum(), z)
    torch.testing.assert_close(A.maxout_grad(z.detach(), 3), g)


def test_maxout_generalises_relu():
    x = torch.linspace(-3, 3, 13)
    pieces = torch.stack([torch.zeros_like(x), x], dim=-1)  # max(0, x)
    torch.testing.assert_close(A.maxout(pieces, 2).squeeze(-1), A.relu(x))


def test_closed_form_facts():
    assert round(A.sigmoid(1.0).item(), 3) == 0.731
    # 0.8808: the lecture's 0.880 truncates rather than rounds (0.881 to three places)
    assert round(A.sigmoid(2.0).item(), 4) == 0.8808
    assert A.sigmoid_grad(0.0).item() == pytest.approx(0.25)
    assert A.tanh_grad(0.0).item() == pytest.approx(1.0)
    assert A.tanh(1.0).item() == pytest.approx(math.tanh(1.0))


def test_sigmoid_is_stable_far_from_zero():
    x = torch.tensor([-1000.0, 1000.0], dtype=torch.float64)
    assert torch.isfinite(A.sigmoid(x)).all()
    assert A.sigmoid(x).tolist() == [0.0, 1.0]


def test_accepts_numbers_lists_arrays_and_ints():
    assert A.relu([-1, 2]).tolist() == [0.0, 2.0]
    assert A.relu(np.array([-1.0, 3.0])).tolist() == [0.0, 3.0]
    assert A.relu(torch.tensor([-1, 2])).dtype == torch.get_default_dtype()


@pytest.mark.parametrize("bad", ["1.0", None, {"x": 1}, True])
def test_rejects_non_numeric_input(bad):
    with pytest.raises(TypeError, match="x must be"):
        A.sigmoid(bad)


@pytest.mark.parametrize("alpha, exc, msg", [
    (-0.1, ValueError, r"alpha must be >= 0"),
    (1.5, ValueError, r"alpha must be < 1"),
    (float("nan"), TypeError, "finite real number"),
    ("0.1", TypeError, "finite real number"),
])
def test_leaky_relu_rejects_bad_alpha(alpha, exc, msg):
    with pytest.raises(exc, match=msg):
        A.leaky_relu(torch.zeros(3), alpha)


def test_elu_rejects_non_positive_alpha():
    with pytest.raises(ValueError, match=r"alpha must be > 0"):
        A.elu(torch.zeros(3), 0.0)


def test_prelu_rejects_channel_mismatch():
    with pytest.raises(ValueError, match=r"alpha has 3 values.*shape \(2, 4\)"):
        A.prelu(torch.zeros(2, 4), torch.ones(3))


def test_maxout_rejects_indivisible_width():
    with pytest.raises(ValueError, match=r"multiple of pieces=3.*\(2, 4\)"):
        A.maxout(torch.zeros(2, 4), 3)
    with pytest.raises(ValueError, match="pieces must be an integer >= 1"):
        A.maxout(torch.zeros(2, 4), 0)


def test_one_registry_names_every_backend():
    """Every model's activation comes from A.ACTIVATIONS: the torch.nn module, the hand-written layer, the Value."""
    from dlbook import autograd, layers

    x = torch.linspace(-3, 3, 13, dtype=torch.float64)
    for name, act in A.ACTIVATIONS.items():
        if act.module is not None:
            module = act.module() if name != "prelu" else act.module(init=act.alpha)
            torch.testing.assert_close(module(x).detach(), act(x))
    for name in ("relu", "sigmoid", "tanh"):
        layer = layers.activation_layer(name)
        assert layer.activation == name
        torch.testing.assert_close(layer().forward(x), A.get(name)(x))
        n = autograd.Neuron(1, name)
        n.w[0].data, n.b.data = 1.0, 0.0  # φ(1·x + 0) = φ(x)
        torch.testing.assert_close(torch.tensor([n([v]).data for v in x.tolist()], dtype=torch.float64), A.get(name)(x))
    assert A.get("relu", among=("relu",)) is A.ACTIVATIONS["relu"]
    with pytest.raises(ValueError, match=r"'elu' is not available in my model; expected one of \['relu'\]"):
        A.get("elu", among=("relu",), where="my model")


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match=r"unknown activation 'gelu'.*'relu'"):
        A.get("gelu")
    with pytest.raises(ValueError, match="takes no alpha"):
        A.get("relu")(torch.zeros(2), alpha=0.1)
