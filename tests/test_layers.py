import pytest
import torch
import torch.nn.functional as F

from dlbook import layers as L

F64 = torch.float64


def rel_err(a, b):
    return ((a - b).norm() / (a.norm() + b.norm()).clamp_min(1e-300)).item()


def test_affine_forward_backward_match_autograd(device):
    x = torch.randn(6, 4, dtype=F64, device=device, requires_grad=True)
    W = torch.randn(4, 3, dtype=F64, device=device, requires_grad=True)
    b = torch.randn(3, dtype=F64, device=device, requires_grad=True)
    dout = torch.randn(6, 3, dtype=F64, device=device)
    ref = x @ W + b
    ref.backward(dout)

    layer = L.Affine(W.detach(), b.detach())
    out = layer.forward(x.detach())
    assert out.shape == (6, 3) and out.device == x.device and out.dtype == F64
    torch.testing.assert_close(out, ref.detach(), rtol=1e-12, atol=1e-12)
    dx = layer.backward(dout)
    assert rel_err(dx, x.grad) < 1e-12
    assert rel_err(layer.grads["W"], W.grad) < 1e-12
    assert rel_err(layer.grads["b"], b.grad) < 1e-12
    assert set(layer.params) == set(layer.grads) == {"W", "b"}


def test_affine_flattens_image_batches_and_restores_dx_shape():
    x = torch.randn(5, 2, 3, 4, dtype=F64, requires_grad=True)
    W = torch.randn(24, 7, dtype=F64)
    b = torch.zeros(7, dtype=F64)
    dout = torch.randn(5, 7, dtype=F64)
    (x.reshape(5, -1) @ W + b).backward(dout)
    layer = L.Affine(W, b)
    layer.forward(x.detach())
    dx = layer.backward(dout)
    assert dx.shape == x.shape
    assert rel_err(dx, x.grad) < 1e-12


def test_affine_converts_the_input_to_the_weights_dtype():
    layer = L.Affine(torch.ones(2, 1, dtype=F64), torch.zeros(1, dtype=F64))
    out = layer.forward([[1, 2], [3, 4]])  # a list of ints, as a reader might type it
    assert out.dtype == F64
    torch.testing.assert_close(out, torch.tensor([[3.0], [7.0]], dtype=F64))


@pytest.mark.parametrize("cls, fn", [(L.ReLU, torch.relu), (L.Sigmoid, torch.sigmoid), (L.Tanh, torch.tanh)])
def test_activation_layers_match_autograd(cls, fn, device):
    x = torch.randn(8, 5, dtype=F64, device=device) * 3
    x[0, 0] = 0.0  # ReLU's kink
    x.requires_grad_()
    dout = torch.randn(8, 5, dtype=F64, device=device)
    ref = fn(x)
    ref.backward(dout)
    layer = cls()
    out = layer.forward(x.detach())
    torch.testing.assert_close(out, ref.detach(), rtol=1e-12, atol=1e-12)
    dx = layer.backward(dout)
    assert dx.device == x.device and dx.dtype == F64
    smooth = x.detach() != 0
    assert rel_err(dx[smooth], x.grad[smooth]) < 1e-12  # autograd only away from the kink
    # at the kink the library's convention (dlbook.activations): ReLU passes nothing at 0
    want = 0.0 if cls is L.ReLU else (0.25 if cls is L.Sigmoid else 1.0) * dout[0, 0].item()
    assert dx[0, 0].item() == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_softmax_with_loss_matches_cross_entropy(device):
    x = torch.randn(7, 4, dtype=F64, device=device, requires_grad=True)
    t = torch.tensor([0, 3, 1, 1, 2, 0, 3], device=device)
    ref = F.cross_entropy(x, t)
    ref.backward()
    layer = L.SoftmaxWithLoss()
    loss = layer.forward(x.detach(), t)
    assert loss.shape == ()
    torch.testing.assert_close(loss, ref.detach(), rtol=1e-12, atol=1e-12)
    dx = layer.backward()
    assert rel_err(dx, x.grad) < 1e-12
    torch.testing.assert_close(layer.backward(2.0), 2 * dx)  # dout scales the gradient


def test_softmax_with_loss_accepts_one_hot_targets_and_large_scores():
    x = torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 1.0, 2.0]], dtype=F64)
    labels = torch.tensor([0, 2])
    layer = L.SoftmaxWithLoss()
    by_label = layer.forward(x, labels)
    by_one_hot = layer.forward(x, F.one_hot(labels, 3).to(F64))
    torch.testing.assert_close(by_label, by_one_hot)
    torch.testing.assert_close(by_label, F.cross_entropy(x, labels))
    assert torch.isfinite(by_label)


def test_softmax_and_log_softmax_match_torch():
    x = torch.randn(4, 6, dtype=F64) * 50
    torch.testing.assert_close(L.log_softmax(x), F.log_softmax(x, dim=-1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(L.softmax(x), F.softmax(x, dim=-1), rtol=1e-12, atol=1e-12)



def test_softmax_has_one_home_and_networks_run_through_sequential():
    from dlbook import losses, mlp

    assert L.softmax is losses.softmax and L.log_softmax is losses.log_softmax  # chapter 04's functions
    net, two = mlp.MLP([3, 4, 2], seed=0), mlp.MLP([3, 4, 2], weight_init_std=1.0, seed=0)
    assert isinstance(net.network, L.Sequential) and net.network.layers is net.layers
    x, t = torch.randn(5, 3, dtype=F64), torch.tensor([0, 1, 1, 0, 1])
    for model in (net, two):  # the gradient through Sequential.backward agrees with autograd
        params = {k: v.clone().requires_grad_(True) for k, v in model.params.items()}
        h = x @ params["W1"] + params["b1"]
        h = torch.relu(h)
        loss = F.cross_entropy(h @ params["W2"] + params["b2"], t)
        loss.backward()
        for k, g in model.gradient(x, t).items():
            torch.testing.assert_close(g, params[k].grad, rtol=1e-10, atol=1e-12)


def test_sigmoid_with_loss_matches_bce_with_logits(device):
    x = (torch.randn(9, 1, dtype=F64, device=device) * 30).requires_grad_()
    t = torch.randint(0, 2, (9,), device=device).to(F64)
    ref = F.binary_cross_entropy_with_logits(x, t.reshape(9, 1))
    ref.backward()
    layer = L.SigmoidWithLoss()
    torch.testing.assert_close(layer.forward(x.detach(), t), ref.detach(), rtol=1e-12, atol=1e-12)
    assert rel_err(layer.backward(), x.grad) < 1e-12


def test_sequential_chains_backward_like_autograd():
    x = torch.randn(10, 3, dtype=F64, requires_grad=True)
    W1, b1 = torch.randn(3, 5, dtype=F64, requires_grad=True), torch.randn(5, dtype=F64, requires_grad=True)
    W2, b2 = torch.randn(5, 2, dtype=F64, requires_grad=True), torch.randn(2, dtype=F64, requires_grad=True)
    dout = torch.randn(10, 2, dtype=F64)
    (torch.tanh(x @ W1 + b1) @ W2 + b2).backward(dout)
    net = L.Sequential(L.Affine(W1.detach(), b1.detach()), L.Tanh(), L.Affine(W2.detach(), b2.detach()))
    assert list(net.params) == ["0.W", "0.b", "2.W", "2.b"]
    net.forward(x.detach())
    dx = net.backward(dout)
    assert rel_err(dx, x.grad) < 1e-12
    for key, ref in zip(["0.W", "0.b", "2.W", "2.b"], [W1, b1, W2, b2]):
        assert rel_err(net.grads[key], ref.grad) < 1e-12


# ---------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("layer", [L.Affine(torch.ones(2, 2), torch.zeros(2)), L.ReLU(), L.Sigmoid(), L.Tanh(),
                                   L.SoftmaxWithLoss(), L.SigmoidWithLoss(), L.Sequential(L.ReLU())])
def test_backward_before_forward_is_a_clear_error(layer):
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        layer.backward(torch.ones(1))


def test_shape_mismatches_name_both_shapes():
    layer = L.Affine(torch.ones(3, 2), torch.zeros(2))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\).*W of shape \(3, 2\).*got shape \(4, 5\)"):
        layer.forward(torch.ones(4, 5))
    layer.forward(torch.ones(4, 3))
    with pytest.raises(ValueError, match=r"dout must have the shape of the forward output \(4, 2\), "
                                         r"got shape \(4, 3\)"):
        layer.backward(torch.ones(4, 3))
    with pytest.raises(ValueError, match=r"b must have one entry per column of W.*\(3, 2\).*got \(3,\)"):
        L.Affine(torch.ones(3, 2), torch.zeros(3))
    with pytest.raises(ValueError, match=r"W must have 2 dimension\(s\), got shape \(3,\)"):
        L.Affine(torch.ones(3), torch.zeros(3))


def test_loss_layers_reject_bad_targets():
    x = torch.zeros(3, 4)
    with pytest.raises(ValueError, match=r"labels in t must lie in \[0, 4\).*from 0 to 4"):
        L.SoftmaxWithLoss().forward(x, torch.tensor([0, 1, 4]))
    with pytest.raises(ValueError, match=r"one label per row of x.*\(3, 4\).*\(2,\)"):
        L.SoftmaxWithLoss().forward(x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"target probabilities of shape \(3, 4\)"):
        L.SoftmaxWithLoss().forward(x, torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r"t must hold targets in \[0, 1\]"):
        L.SigmoidWithLoss().forward(torch.zeros(3), torch.tensor([0.0, 2.0, 1.0]))
    loss = L.SoftmaxWithLoss()
    loss.forward(x, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"dout of a loss must be a scalar"):
        loss.backward(torch.ones(3))


def test_sequential_rejects_non_layers():
    with pytest.raises(TypeError, match="layer 1 must be a dlbook.layers.Layer, got Linear"):
        L.Sequential(L.ReLU(), torch.nn.Linear(2, 2))
