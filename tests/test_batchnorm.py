import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlbook.batchnorm import BatchNorm1d, BatchNorm2d, batchnorm_backward, batchnorm_forward

f64 = torch.float64


# ---------------------------------------------------------------- explicit forward / backward
@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 6), (4, 3, 5, 2)])
def test_forward_and_hand_derived_backward_match_autograd(shape, device):
    x = torch.randn(shape, dtype=f64, device=device, requires_grad=True)
    C = shape[1]
    gamma = torch.randn(C, dtype=f64, device=device, requires_grad=True)
    beta = torch.randn(C, dtype=f64, device=device, requires_grad=True)
    dout = torch.randn(shape, dtype=f64, device=device)

    ref = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
    ref.backward(dout)

    y, cache = batchnorm_forward(x.detach(), gamma.detach(), beta.detach(), eps=1e-5)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    torch.testing.assert_close(y, ref.detach())
    torch.testing.assert_close(dx, x.grad)
    torch.testing.assert_close(dgamma, gamma.grad)
    torch.testing.assert_close(dbeta, beta.grad)
    # the cache's batch statistics are the biased ones
    dims = (0, *range(2, len(shape)))
    torch.testing.assert_close(cache["var"], x.detach().var(dim=dims, correction=0))


def test_normalised_output_has_zero_mean_unit_variance():
    x = 3 + 5 * torch.randn(64, 4, dtype=f64)
    y, _ = batchnorm_forward(x, torch.ones(4, dtype=f64), torch.zeros(4, dtype=f64), eps=1e-12)
    torch.testing.assert_close(y.mean(0), torch.zeros(4, dtype=f64))
    torch.testing.assert_close(y.var(0, correction=0), torch.ones(4, dtype=f64))


def test_function_errors():
    with pytest.raises(ValueError, match="gamma must have shape \\(3,\\)"):
        batchnorm_forward(torch.randn(4, 3), torch.ones(2), torch.zeros(3))
    with pytest.raises(ValueError, match="more than one value per channel.*\\(1, 3\\)"):
        batchnorm_forward(torch.randn(1, 3), torch.ones(3), torch.zeros(3))
    with pytest.raises(ValueError, match="x must have shape \\(N, C\\)"):
        batchnorm_forward(torch.randn(3), torch.ones(3), torch.zeros(3))
    _, cache = batchnorm_forward(torch.randn(4, 3), torch.ones(3), torch.zeros(3))
    with pytest.raises(ValueError, match="dout must have the shape of the forward input"):
        batchnorm_backward(torch.randn(4, 2), cache)


# ---------------------------------------------------------------- modules vs nn.BatchNorm
def _compare_modules(ours, ref, shape, device, steps=4):
    """Train both for a few steps (outputs, input and parameter gradients, running stats), then eval."""
    ours.to(device=device, dtype=f64)
    ref.to(device=device, dtype=f64)
    for mode in ["train"] * steps + ["eval"] * 2:
        ours.train(mode == "train")
        ref.train(mode == "train")
        x = (2 + 3 * torch.randn(shape, dtype=f64, device=device)).requires_grad_(True)
        x_ref = x.detach().clone().requires_grad_(True)
        dout = torch.randn(shape, dtype=f64, device=device)
        y, y_ref = ours(x), ref(x_ref)
        torch.testing.assert_close(y, y_ref)
        y.backward(dout)
        y_ref.backward(dout)
        torch.testing.assert_close(x.grad, x_ref.grad)
        if ref.affine:
            torch.testing.assert_close(ours.weight.grad, ref.weight.grad)
            torch.testing.assert_close(ours.bias.grad, ref.bias.grad)
            ours.zero_grad()
            ref.zero_grad()
        if ref.track_running_stats:
            torch.testing.assert_close(ours.running_mean, ref.running_mean)
            torch.testing.assert_close(ours.running_var, ref.running_var)
            assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked)


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("shape", [(16, 5), (6, 5, 7)])
def test_batchnorm1d_matches_torch(shape, momentum, device):
    ours = BatchNorm1d(5, momentum=momentum)
    ref = nn.BatchNorm1d(5, momentum=momentum)
    with torch.no_grad():  # non-trivial γ, β
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.normal_()
    ours.load_state_dict(ref.state_dict())
    _compare_modules(ours, ref, shape, device)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_matches_torch(momentum, device):
    ref = nn.BatchNorm2d(3, eps=1e-3, momentum=momentum)
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.normal_()
    ours = BatchNorm2d(3, eps=1e-3, momentum=momentum)
    ours.load_state_dict(ref.state_dict())
    _compare_modules(ours, ref, (4, 3, 5, 6), device)


@pytest.mark.parametrize("affine,track", [(False, True), (True, False), (False, False)])
def test_options_match_torch(affine, track):
    ours = BatchNorm2d(3, affine=affine, track_running_stats=track)
    ref = nn.BatchNorm2d(3, affine=affine, track_running_stats=track)
    _compare_modules(ours, ref, (4, 3, 2, 2), torch.device("cpu"), steps=2)


def test_state_dict_loads_into_torch():
    ours = BatchNorm2d(4)
    ours(torch.randn(8, 4, 3, 3))
    ref = nn.BatchNorm2d(4)
    ref.load_state_dict(ours.state_dict())
    assert int(ref.num_batches_tracked) == 1
    assert ours.gamma is ours.weight and ours.beta is ours.bias
    assert set(ours.state_dict()) == set(ref.state_dict())


def test_eval_makes_each_example_independent_of_its_batch():
    bn = BatchNorm1d(3).double()
    for _ in range(5):
        bn(torch.randn(32, 3, dtype=f64))
    bn.eval()
    x = torch.randn(10, 3, dtype=f64)
    torch.testing.assert_close(bn(x)[:1], bn(x[:1]))  # a batch of one is fine in eval mode


def test_batch_of_one_in_training_is_a_clear_error():
    with pytest.raises(ValueError, match="more than one value per channel.*\\(1, 3\\).*eval"):
        BatchNorm1d(3)(torch.randn(1, 3))
    with pytest.raises(ValueError, match="more than one value per channel"):
        BatchNorm2d(3)(torch.randn(1, 3, 1, 1))
    BatchNorm2d(3)(torch.randn(1, 3, 2, 2))  # one image but 4 values per channel: fine (as in PyTorch)


def test_module_errors():
    with pytest.raises(ValueError, match="x must have 4 channels in dimension 1, got shape \\(2, 3\\)"):
        BatchNorm1d(4)(torch.randn(2, 3))
    with pytest.raises(ValueError, match="x must have shape \\(N, C, H, W\\), got shape \\(2, 3\\)"):
        BatchNorm2d(3)(torch.randn(2, 3))
    with pytest.raises(ValueError, match="eps must be > 0.0"):
        BatchNorm1d(3, eps=0)
    with pytest.raises(ValueError, match="momentum must be <= 1.0"):
        BatchNorm1d(3, momentum=1.5)
    with pytest.raises(TypeError, match="x must be a tensor"):
        BatchNorm1d(3)([[1.0, 2.0, 3.0]])
