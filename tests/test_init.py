import math

import pytest
import torch
from torch import nn

from dlbook import init


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- same draws as torch.nn.init
@pytest.mark.parametrize("shape", [(30, 20), (16, 3, 5, 5)])
def test_xavier_avg_draws_what_torch_draws(shape):
    ours = init.xavier_(shape, distribution="uniform", generator=gen(1), dtype=torch.float64)
    ref = nn.init.xavier_uniform_(torch.empty(shape, dtype=torch.float64), generator=gen(1))
    assert torch.equal(ours, ref)
    ours = init.xavier_(shape, distribution="normal", gain=5 / 3, generator=gen(2))
    ref = nn.init.xavier_normal_(torch.empty(shape), gain=5 / 3, generator=gen(2))
    assert torch.equal(ours, ref)


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_he_draws_what_kaiming_draws(distribution):
    ref_fn = nn.init.kaiming_normal_ if distribution == "normal" else nn.init.kaiming_uniform_
    ours = init.he_((40, 25), distribution=distribution, generator=gen(3))
    ref = ref_fn(torch.empty(40, 25), mode="fan_in", nonlinearity="relu", generator=gen(3))
    assert torch.equal(ours, ref)


def test_fans_follow_pytorch_layout():
    assert init.fans((64, 32)) == (32, 64)             # nn.Linear(32, 64).weight
    assert init.fans((16, 3, 5, 5)) == (75, 400)       # Conv2d(3, 16, 5)
    lin = nn.Linear(7, 11)
    assert init.fans(lin.weight.shape) == (7, 11)


# ---------------------------------------------------------------- variances (closed forms)
def _assert_variance(w, var):
    """Sample variance of N draws is within 5 standard errors (var·√(2/N) for a normal,
    var·√(4/5 / N) for a uniform — we use the larger) of the target."""
    se = var * math.sqrt(2 / w.numel())
    assert abs(w.var().item() - var) < 5 * se, (w.var().item(), var)


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_variances(distribution):
    n_in, n_out = 400, 300
    _assert_variance(init.xavier_((n_out, n_in), fan="in", distribution=distribution, generator=gen()), 1 / n_in)
    _assert_variance(init.xavier_((n_out, n_in), fan="avg", distribution=distribution, generator=gen()),
                     2 / (n_in + n_out))
    _assert_variance(init.he_((n_out, n_in), distribution=distribution, generator=gen()), 2 / n_in)


def test_uniform_bound_is_sqrt_3_var():
    w = init.xavier_((200, 100), distribution="uniform", generator=gen())
    bound = math.sqrt(3 * 2 / 300)
    assert w.abs().max() <= bound
    assert w.abs().max() > 0.99 * bound


def test_normal_std_and_zeros():
    w = init.normal_((500, 400), 0.01, generator=gen())
    _assert_variance(w, 0.01**2)
    z = init.zeros_((3, 4))
    assert z.shape == (3, 4) and not z.any()


def test_in_place_on_a_parameter_returns_the_same_tensor():
    lin = nn.Linear(5, 4)
    out = init.he_(lin.weight, generator=gen())
    assert out is lin.weight and lin.weight.requires_grad
    assert init.zeros_(lin.bias) is lin.bias and not lin.bias.any()


def test_same_numbers_on_every_device(device):
    w = torch.empty(6, 5, device=device, dtype=torch.float64)
    init.xavier_(w, generator=gen(7))
    ref = init.xavier_((6, 5), generator=gen(7), dtype=torch.float64)
    assert w.device.type == device.type
    torch.testing.assert_close(w.cpu(), ref)


def test_shape_gives_new_tensor_of_requested_dtype():
    w = init.normal_((2, 3), 1.0, generator=gen(), dtype=torch.float64)
    assert w.dtype == torch.float64 and w.shape == (2, 3)
    assert init.zeros_(5).shape == (5,)


def test_errors():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_((5,))
    with pytest.raises(ValueError, match="distribution must be 'normal' or 'uniform', got 'gauss'"):
        init.he_((3, 3), distribution="gauss")
    with pytest.raises(ValueError, match="fan must be 'in'"):
        init.xavier_((3, 3), fan="out")
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        init.normal_((3, 3), generator=0)
    with pytest.raises(TypeError, match="tensor_or_shape must be a tensor or a shape"):
        init.normal_("3x3")
    with pytest.raises(ValueError, match="std must be >= 0.0"):
        init.normal_((3, 3), -1.0)
    with pytest.raises(TypeError, match="must be floating point"):
        init.normal_(torch.zeros(3, 3, dtype=torch.long))


# ---------------------------------------------------------------- the lab
SMALL = dict(depth=6, width=200, n=300, seed=0)


def test_activation_stats_shapes_and_determinism():
    a = init.activation_stats(init="xavier", activation="tanh", **SMALL)
    b = init.activation_stats(init="xavier", activation="tanh", **SMALL)
    assert len(a.activations) == 6 and a.activations[0].shape == (300, 200)
    assert a.std.shape == (6,) and a.mean.shape == (6,)
    assert all(torch.equal(x, y) for x, y in zip(a.activations, b.activations))
    assert a.table()[0][0] == 1 and len(a.table()) == 6


def test_the_lecture_story():
    zeros = init.activation_stats(init="zeros", activation="tanh", **SMALL)
    assert zeros.std.max() == 0  # every unit the same: 0
    small = init.activation_stats(init="small", activation="tanh", **SMALL)
    assert (small.std[1:] < small.std[:-1]).all() and small.std[-1] < 1e-4  # shrinks to 0
    large = init.activation_stats(init="large", activation="tanh", **SMALL)
    saturated = (large.activations[-1].abs() > 0.99).float().mean()
    assert saturated > 0.8  # tanh saturates: gradients ≈ 0
    xavier = init.activation_stats(init="xavier", activation="tanh", **SMALL)
    assert 0.2 < xavier.std[-1] < 0.8
    # He for ReLU keeps the second moment E[a²] about constant layer to layer
    he = init.activation_stats(init="he", activation="relu", **SMALL)
    second = torch.stack([a.pow(2).mean() for a in he.activations])
    assert ((second[1:] / second[:-1] - 1).abs() < 0.2).all()
    # ... while Xavier (1/n_in) for ReLU halves it every layer
    xr = init.activation_stats(init="xavier", activation="relu", **SMALL)
    second = torch.stack([a.pow(2).mean() for a in xr.activations])
    per_layer = (second[-1] / second[0]) ** (1 / 5)  # geometric mean of the layer-to-layer ratio
    assert abs(per_layer - 0.5) < 0.05


def test_activation_stats_callables_and_errors():
    s = init.activation_stats(init=lambda shape, generator: init.normal_(shape, 0.05, generator=generator),
                              activation=torch.relu, **SMALL)
    assert s.activation == "relu" and (s.activations[0] >= 0).all()
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        init.activation_stats(init="glorot")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        init.activation_stats(activation="swish", **SMALL)
    with pytest.raises(ValueError, match="depth must be an integer >= 1, got 0"):
        init.activation_stats(depth=0)


def test_histogram_figure():
    from matplotlib.figure import Figure

    s = init.activation_stats(init="xavier", activation="tanh", depth=3, width=20, n=30)
    fig = init.plot_activation_histograms(s, bins=10)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
