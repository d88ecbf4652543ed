import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from dlbook.gradcheck import count_loss_evaluations, gradient_check, relative_error
from dlbook.nets import TwoLayerNet, plot_decision_regions, train_xor, xor_data, xor_gate, xor_network

F64 = torch.float64


def batch(n=12, d=6, c=3, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=F64).to(device)
    t = torch.randint(0, c, (n,), generator=g).to(device)
    return x, t


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_backprop_agrees_with_the_numerical_gradient(activation):
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, seed=1, activation=activation)
    x, t = batch()
    error = gradient_check(lambda: net.loss(x, t), net.params, net.gradient(x, t))
    assert error < 1e-7
    numeric = net.numerical_gradient(x, t)
    assert set(numeric) == {"W1", "b1", "W2", "b2"}


def test_backprop_matches_torch_autograd(device):
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, seed=2, device=device)
    x, t = batch(device=device)
    grads = net.gradient(x, t)
    p = {k: v.clone().requires_grad_() for k, v in net.params.items()}
    ref = F.cross_entropy(F.relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"], t)
    ref.backward()
    torch.testing.assert_close(net.loss(x, t), ref.detach(), rtol=1e-12, atol=1e-12)
    for k in p:
        assert grads[k].device == x.device
        assert relative_error(grads[k], p[k].grad) < 1e-12


def test_sigmoid_output_matches_binary_cross_entropy():
    net = TwoLayerNet(2, 3, 1, weight_init_std=1.0, seed=3, activation="tanh", output="sigmoid")
    x, _ = batch(d=2)
    t = (x[:, 0] > 0).to(F64)
    p = {k: v.clone().requires_grad_() for k, v in net.params.items()}
    ref = F.binary_cross_entropy_with_logits((torch.tanh(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"])[:, 0], t)
    ref.backward()
    grads = net.gradient(x, t)
    for k in p:
        assert relative_error(grads[k], p[k].grad) < 1e-12
    assert gradient_check(lambda: net.loss(x, t), net.params, grads) < 1e-7


def test_construction_is_seeded_and_scaled():
    a, b = TwoLayerNet(4, 8, 2, seed=5), TwoLayerNet(4, 8, 2, seed=5)
    assert all(torch.equal(a.params[k], b.params[k]) for k in a.params)
    assert not torch.equal(a.params["W1"], TwoLayerNet(4, 8, 2, seed=6).params["W1"])
    big = TwoLayerNet(100, 100, 2, weight_init_std=0.5, seed=0)
    assert big.params["W1"].std().item() == pytest.approx(0.5, rel=0.05)
    assert torch.equal(big.params["b1"], torch.zeros(100, dtype=F64))
    assert a.num_parameters() == 4 * 8 + 8 + 8 * 2 + 2
    assert count_loss_evaluations(a.params) == 2 * a.num_parameters()


def test_accuracy_with_labels_and_one_hot():
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, seed=1)
    x, t = batch(n=40)
    expected = (net.predict(x).argmax(1) == t).double().mean().item()
    assert net.accuracy(x, t) == expected
    assert net.accuracy(x, F.one_hot(t, 3)) == expected


def test_sgd_with_backprop_learns_a_separable_problem():
    x, _ = batch(n=60, d=4)
    t = (x[:, 0] + x[:, 1] > 0).long()
    net = TwoLayerNet(4, 10, 2, weight_init_std=0.5, seed=0)
    before = net.loss(x, t).item()
    for _ in range(100):
        for k, g in net.gradient(x, t).items():
            net.params[k] -= 1.0 * g
    assert net.loss(x, t).item() < 0.2 * before
    assert net.accuracy(x, t) > 0.95


def test_xor_by_gates_and_by_hand_weights():
    x, t = xor_data()
    assert xor_gate(x).tolist() == [0.0, 1.0, 1.0, 0.0]
    net = xor_network()
    assert net.classify(x).tolist() == [0, 1, 1, 0]
    assert net.accuracy(x, t) == 1.0
    p = torch.sigmoid(net.predict(x))[:, 0]
    assert (p[[0, 3]] < 1e-3).all() and (p[[1, 2]] > 1 - 1e-3).all()


def test_xor_is_learned_deterministically():
    net, losses = train_xor(seed=0, epochs=400)
    x, t = xor_data()
    assert net.accuracy(x, t) == 1.0
    assert losses[-1] < 0.1 < losses[0]
    _, again = train_xor(seed=0, epochs=400)
    assert again == losses


def test_plot_decision_regions_returns_a_figure():
    x, t = xor_data()
    fig = plot_decision_regions(xor_network().classify, x, t, resolution=20)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    model = torch.nn.Linear(2, 2).double()
    assert isinstance(plot_decision_regions(model, x, t, resolution=20), Figure)
    with pytest.raises(ValueError, match=r"predict_fn must return labels.*got shape \(400, 1\)"):
        plot_decision_regions(xor_network().predict, x, t, resolution=20)
    with pytest.raises(ValueError, match=r"x must hold 2-D points, shape \(N, 2\), got shape \(4, 3\)"):
        plot_decision_regions(xor_network().classify, torch.zeros(4, 3), t)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        TwoLayerNet(2, 2, 2, activation="gelu")
    with pytest.raises(ValueError, match="'step' is not available in dlbook.layers"):
        TwoLayerNet(2, 2, 2, activation="step")
    with pytest.raises(ValueError, match="output_size must be 1, got 3"):
        TwoLayerNet(2, 2, 3, output="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be an integer >= 1, got 0"):
        TwoLayerNet(2, 0, 2)
    with pytest.raises(TypeError, match="input_size must be an integer"):
        TwoLayerNet(2.5, 2, 2)
    net = TwoLayerNet(6, 5, 3)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 6\).*got shape \(4, 5\)"):
        net.loss(torch.zeros(4, 5), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"t must have one target per sample \(4\), got shape \(3,\)"):
        net.accuracy(torch.zeros(4, 6), torch.zeros(3))


# ---------------------------------------------------------------- devices
class _RecordingNet(torch.nn.Module):
    """A 2-2 linear classifier whose ``predict`` records the device of what it is given."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 2, dtype=F64)
        self.seen = []

    def forward(self, g):
        self.seen.append(g.device)
        return self.linear(g)

    def predict(self, g):
        return self.forward(g).argmax(dim=1)


def test_plot_decision_regions_puts_the_grid_on_the_models_device(device):
    x, t = xor_data()                             # the points stay on the CPU
    model = _RecordingNet().to(device)
    for fn in (model, model.predict):             # the module, and a bound method of it
        assert isinstance(plot_decision_regions(fn, x, t, resolution=10), Figure)
    assert [d.type for d in model.seen] == [device.type] * 2
    net = TwoLayerNet(2, 4, 2, weight_init_std=1.0, device=device)  # a from-scratch net: its params dict
    assert isinstance(plot_decision_regions(net.classify, x, t, resolution=10), Figure)


def test_plot_decision_regions_for_other_callables_uses_xs_device_or_the_one_given(device):
    x, t = xor_data()
    model = _RecordingNet().to(device)
    plot_decision_regions(lambda g: model(g), x.to(device), t, resolution=10)  # default: x's device
    plot_decision_regions(lambda g: model(g), x, t, resolution=10, device=device)
    assert [d.type for d in model.seen] == [device.type] * 2


def test_two_layer_net_on_any_device_matches_the_cpu(device):
    x, t = batch(n=40)
    cpu = TwoLayerNet(6, 5, 3, weight_init_std=1.0, seed=1)
    net = TwoLayerNet(6, 5, 3, weight_init_std=1.0, seed=1, device=device)
    assert all(p.device.type == device.type for p in net.params.values())
    torch.testing.assert_close(net.params["W1"].cpu(), cpu.params["W1"], rtol=0, atol=0)  # drawn on the CPU
    torch.testing.assert_close(net.predict(x.to(device)).cpu(), cpu.predict(x), rtol=1e-10, atol=1e-12)
    assert net.accuracy(x.to(device), t.to(device)) == cpu.accuracy(x, t)


def test_float64_on_mps_is_refused_before_anything_is_allocated(monkeypatch):
    with pytest.raises(ValueError, match=r"float64 is not supported on mps.*dtype=torch.float32"):
        TwoLayerNet(2, 2, 2, device="mps")
    with pytest.raises(ValueError, match=r"float64 is not supported on mps"):
        xor_data(device=torch.device("mps"))
    import dlbook.runtime

    monkeypatch.setattr(dlbook.runtime, "float64_device", lambda device: torch.device("meta"))  # "no float64 here"
    with pytest.raises(ValueError, match=r"float64 is not supported on cpu"):
        TwoLayerNet(2, 2, 2, device="cpu")
    TwoLayerNet(2, 2, 2, dtype=torch.float32, device="cpu")  # float32 is never refused
