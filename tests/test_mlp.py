import pytest
import torch
import torch.nn.functional as F

from dlbook import data
from dlbook.gradcheck import count_loss_evaluations, gradient_check, relative_error
from dlbook.mlp import MLP, fit_mlp

F64 = torch.float64
ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def batch(n=10, d=3, c=2, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=F64).to(device), torch.randint(0, c, (n,), generator=g).to(device)


def reference_scores(net, x, params):
    a = x
    n = len(net.sizes) - 1
    for l in range(1, n + 1):
        a = a @ params[f"W{l}"] + params[f"b{l}"]
        if l < n:
            a = ACT[net.activation](a)
    return a


def test_activations_have_one_shape_per_layer_and_parameters_are_counted():
    net = MLP([3, 4, 5, 2])
    x, _ = batch(n=7)
    assert [tuple(a.shape) for a in net.activations(x)] == [(7, 3), (7, 4), (7, 5), (7, 2)]
    assert net.num_parameters() == (3 + 1) * 4 + (4 + 1) * 5 + (5 + 1) * 2
    assert list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert tuple(net.params["W1"].shape) == (3, 4)
    assert torch.equal(net.hidden(x), net.activations(x)[2]) and torch.equal(net.hidden(x, 0), net.activations(x)[1])
    assert repr(net) == "MLP(3-4-5-2, relu)"


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_forward_and_backprop_match_torch(activation, device):
    net = MLP([3, 6, 4, 3], activation, weight_init_std=1.0, seed=1, device=device)
    x, t = batch(c=3, device=device)
    p = {k: v.clone().requires_grad_() for k, v in net.params.items()}
    scores = reference_scores(net, x, p)
    torch.testing.assert_close(net.forward(x), scores.detach(), rtol=1e-12, atol=1e-12)
    F.cross_entropy(scores, t).backward()
    grads = net.gradient(x, t)
    for k in p:
        assert grads[k].device == x.device
        assert relative_error(grads[k], p[k].grad) < 1e-12


def test_backprop_passes_the_gradient_check():
    net = MLP([2, 5, 5, 3], "tanh", weight_init_std=1.0, seed=2)
    x, t = batch(d=2, c=3)
    assert gradient_check(lambda: net.loss(x, t), net.params, net.gradient(x, t)) < 1e-7


def test_construction_is_seeded_and_scaled_per_layer():
    a, b = MLP([4, 8, 2], seed=5), MLP([4, 8, 2], seed=5)
    assert all(torch.equal(a.params[k], b.params[k]) for k in a.params)
    assert not torch.equal(a.params["W1"], MLP([4, 8, 2], seed=6).params["W1"])
    he = MLP([400, 400, 2], "relu").params["W1"].std().item()
    xavier = MLP([400, 400, 2], "tanh").params["W1"].std().item()
    assert he == pytest.approx((2 / 400) ** 0.5, rel=0.05) and xavier == pytest.approx((1 / 400) ** 0.5, rel=0.05)
    assert MLP([400, 400, 2], weight_init_std=0.5).params["W1"].std().item() == pytest.approx(0.5, rel=0.05)


def test_fit_learns_circles_and_a_linear_model_cannot():
    x, y = data.make_circles(100, noise=0.05, factor=0.5, seed=0)
    net, losses = fit_mlp(x, y, (8,), activation="tanh", epochs=200, lr=0.05, seed=0)
    assert net.accuracy(x, y) == 1.0 and losses[-1] < losses[0]
    again, losses2 = fit_mlp(x, y, (8,), activation="tanh", epochs=200, lr=0.05, seed=0)
    assert losses == losses2  # deterministic
    linear, _ = fit_mlp(x, y, (), epochs=200, lr=0.05)
    assert linear.sizes == [2, 2] and linear.accuracy(x, y) < 0.7
    with pytest.raises(ValueError, match="has no hidden layer"):
        linear.hidden(x)
    assert all(p.grad is None for p in net.params.values())


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="at least the input and the output"):
        MLP([3])
    with pytest.raises(ValueError, match="at least 2 units"):
        MLP([3, 1])
    with pytest.raises(TypeError, match="sizes must be a list"):
        MLP("3-2")
    with pytest.raises(ValueError, match=r"'elu' is not available in dlbook.layers.*\['relu', 'sigmoid', 'tanh'\]"):
        MLP([2, 2], "elu")
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLP([2, 2], "gelu")
    net = MLP([3, 4, 2])
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\)"):
        net.forward(torch.zeros(5, 2))
    with pytest.raises(ValueError, match="layer must index one of the 1 hidden"):
        net.hidden(torch.zeros(5, 3), 1)
    with pytest.raises(ValueError, match="one label per row"):
        fit_mlp(torch.zeros(5, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="integer class labels"):
        fit_mlp(torch.zeros(2, 2), torch.tensor([0.5, 1.0]))


# ---------------------------------------------------------------- devices and float64
def test_fit_mlp_on_any_device_matches_the_cpu(device):
    x, t = batch(n=40, d=2, c=3, seed=3)
    net, losses = fit_mlp(x.to(device), t.to(device), (8,), epochs=30, lr=0.05, seed=2)
    cpu_net, cpu_losses = fit_mlp(x, t, (8,), epochs=30, lr=0.05, seed=2)
    assert net.params["W1"].device.type == device.type and net.params["W1"].dtype == F64
    torch.testing.assert_close(torch.tensor(losses), torch.tensor(cpu_losses), rtol=1e-9, atol=1e-12)
    assert net.accuracy(x.to(device), t.to(device)) == cpu_net.accuracy(x, t)


def test_fit_mlp_trains_on_float64_device_and_mps_float64_is_refused(monkeypatch):
    import dlbook.mlp

    seen = []

    def spy(device):  # stands in for the helper; on MPS it would answer "cpu"
        seen.append(torch.device(device))
        return torch.device("cpu")

    monkeypatch.setattr(dlbook.mlp, "float64_device", spy)
    x, t = batch(n=12, d=2, c=2)
    net, _ = fit_mlp(x, t, (4,), epochs=2)
    assert seen == [torch.device("cpu")] and net.params["W1"].device.type == "cpu"
    with pytest.raises(ValueError, match=r"float64 is not supported on mps.*dtype=torch\.float32"):
        MLP([2, 4, 2], device="mps")


# ---------------------------------------------------------------- the two-layer networks of chapter 07
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_backprop_agrees_with_the_numerical_gradient(activation):
    net = MLP([6, 5, 3], weight_init_std=1.0, seed=1, activation=activation)
    x, t = batch(12, 6, 3)
    error = gradient_check(lambda: net.loss(x, t), net.params, net.gradient(x, t))
    assert error < 1e-7
    numeric = net.numerical_gradient(x, t)
    assert set(numeric) == {"W1", "b1", "W2", "b2"}


def test_backprop_matches_torch_autograd(device):
    net = MLP([6, 5, 3], weight_init_std=1.0, seed=2, device=device)
    x, t = batch(12, 6, 3, device=device)
    grads = net.gradient(x, t)
    p = {k: v.clone().requires_grad_() for k, v in net.params.items()}
    ref = F.cross_entropy(F.relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"], t)
    ref.backward()
    torch.testing.assert_close(net.loss(x, t), ref.detach(), rtol=1e-12, atol=1e-12)
    for k in p:
        assert grads[k].device == x.device
        assert relative_error(grads[k], p[k].grad) < 1e-12


def test_sigmoid_output_matches_binary_cross_entropy():
    net = MLP([2, 3, 1], weight_init_std=1.0, seed=3, activation="tanh", output="sigmoid")
    x, _ = batch(12, 2, 3)
    t = (x[:, 0] > 0).to(F64)
    p = {k: v.clone().requires_grad_() for k, v in net.params.items()}
    ref = F.binary_cross_entropy_with_logits((torch.tanh(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"])[:, 0], t)
    ref.backward()
    grads = net.gradient(x, t)
    for k in p:
        assert relative_error(grads[k], p[k].grad) < 1e-12
    assert gradient_check(lambda: net.loss(x, t), net.params, grads) < 1e-7


def test_construction_is_seeded_and_scaled():
    a, b = MLP([4, 8, 2], seed=5), MLP([4, 8, 2], seed=5)
    assert all(torch.equal(a.params[k], b.params[k]) for k in a.params)
    assert not torch.equal(a.params["W1"], MLP([4, 8, 2], seed=6).params["W1"])
    big = MLP([100, 100, 2], weight_init_std=0.5, seed=0)
    assert big.params["W1"].std().item() == pytest.approx(0.5, rel=0.05)
    assert torch.equal(big.params["b1"], torch.zeros(100, dtype=F64))
    assert a.num_parameters() == 4 * 8 + 8 + 8 * 2 + 2
    assert count_loss_evaluations(a.params) == 2 * a.num_parameters()


def test_accuracy_is_the_metrics_accuracy_of_the_classified_labels():
    from dlbook import metrics

    net = MLP([6, 5, 3], weight_init_std=1.0, seed=1)
    x, t = batch(40, 6, 3)
    expected = (net.predict(x).argmax(1) == t).double().mean().item()
    assert net.accuracy(x, t) == expected == metrics.accuracy(t, net.predict(x))


def test_sgd_with_backprop_learns_a_separable_problem():
    x, _ = batch(60, 4, 3)
    t = (x[:, 0] + x[:, 1] > 0).long()
    net = MLP([4, 10, 2], weight_init_std=0.5, seed=0)
    before = net.loss(x, t).item()
    for _ in range(100):
        for k, g in net.gradient(x, t).items():
            net.params[k] -= 1.0 * g
    assert net.loss(x, t).item() < 0.2 * before
    assert net.accuracy(x, t) > 0.95


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLP([2, 2, 2], activation="gelu")
    with pytest.raises(ValueError, match="'step' is not available in dlbook.layers"):
        MLP([2, 2, 2], activation="step")
    with pytest.raises(ValueError, match=r"output='sigmoid' gives one probability .* got sizes \[2, 2, 3\]"):
        MLP([2, 2, 3], output="sigmoid")
    with pytest.raises(ValueError, match=r"output layer needs at least 2 units .* use output='sigmoid'"):
        MLP([2, 2, 1])
    with pytest.raises(ValueError, match="output must be one of"):
        MLP([2, 2, 2], output="tanh")
    with pytest.raises(ValueError, match=r"sizes\[1\] must be an integer >= 1, got 0"):
        MLP([2, 0, 2])
    with pytest.raises(TypeError, match=r"sizes\[0\] must be an integer"):
        MLP([2.5, 2, 2])
    net = MLP([6, 5, 3])
    with pytest.raises(ValueError, match=r"x must have shape \(N, 6\).*got shape \(4, 5\)"):
        net.loss(torch.zeros(4, 5), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"t must have one label per sample \(4\), got shape \(3,\)"):
        net.accuracy(torch.zeros(4, 6), torch.zeros(3))


def test_two_layer_net_on_any_device_matches_the_cpu(device):
    x, t = batch(40, 6, 3)
    cpu = MLP([6, 5, 3], weight_init_std=1.0, seed=1)
    net = MLP([6, 5, 3], weight_init_std=1.0, seed=1, device=device)
    assert all(p.device.type == device.type for p in net.params.values())
    torch.testing.assert_close(net.params["W1"].cpu(), cpu.params["W1"], rtol=0, atol=0)  # drawn on the CPU
    torch.testing.assert_close(net.predict(x.to(device)).cpu(), cpu.predict(x), rtol=1e-10, atol=1e-12)
    assert net.accuracy(x.to(device), t.to(device)) == cpu.accuracy(x, t)


def test_float64_on_mps_is_refused_before_anything_is_allocated(monkeypatch):
    with pytest.raises(ValueError, match=r"float64 is not supported on mps.*dtype=torch.float32"):
        MLP([2, 2, 2], device="mps")
    import dlbook.runtime

    monkeypatch.setattr(dlbook.runtime, "float64_device", lambda device: torch.device("meta"))  # "no float64 here"
    with pytest.raises(ValueError, match=r"float64 is not supported on cpu"):
        MLP([2, 2, 2], device="cpu")
    MLP([2, 2, 2], dtype=torch.float32, device="cpu")  # float32 is never refused
