import pytest
import torch

from dlbook.gradcheck import count_loss_evaluations, gradient_check, numerical_gradient, relative_error

F64 = torch.float64


def quadratic(device):
    """J(x) = ½ xᵀAx + bᵀx, whose gradient is (A + Aᵀ)/2 · x + b in closed form."""
    A = torch.randn(4, 4, dtype=F64, device=device)
    b = torch.randn(4, dtype=F64, device=device)
    x = torch.randn(4, dtype=F64, device=device)
    return A, b, x, lambda: 0.5 * x @ A @ x + b @ x


def test_numerical_gradient_of_a_quadratic_matches_the_closed_form(device):
    A, b, x, f = quadratic(device)
    grad = numerical_gradient(f, x)
    expected = 0.5 * (A + A.T) @ x + b
    assert grad.shape == x.shape and grad.device == x.device and grad.dtype == F64
    torch.testing.assert_close(grad, expected, rtol=1e-8, atol=1e-9)


def test_numerical_gradient_matches_autograd_for_every_structure():
    W = torch.randn(3, 2, dtype=F64)
    v = torch.randn(2, dtype=F64)
    x = torch.randn(5, 3, dtype=F64)

    def f():
        return torch.tanh(x @ W + v).pow(2).sum()

    Wg, vg = W.clone().requires_grad_(), v.clone().requires_grad_()
    torch.tanh(x @ Wg + vg).pow(2).sum().backward()
    as_dict = numerical_gradient(f, {"W": W, "v": v})
    as_list = numerical_gradient(f, [W, v])
    as_tuple = numerical_gradient(f, (W, v))
    assert set(as_dict) == {"W", "v"} and isinstance(as_list, list) and isinstance(as_tuple, tuple)
    for got in (as_dict["W"], as_list[0], as_tuple[0]):
        torch.testing.assert_close(got, Wg.grad, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(as_dict["v"], vg.grad, rtol=1e-8, atol=1e-10)


def test_numerical_gradient_of_a_module_leaves_its_weights_unchanged():
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2).double()
    x = torch.randn(4, 3, dtype=F64)
    before = [p.detach().clone() for p in net.parameters()]
    grads = numerical_gradient(lambda: net(x).pow(2).mean(), net)
    net(x).pow(2).mean().backward()
    for g, p, b in zip(grads, net.parameters(), before):
        torch.testing.assert_close(g, p.grad, rtol=1e-8, atol=1e-10)
        assert torch.equal(p.detach(), b)


def test_it_costs_two_evaluations_per_parameter():
    W = torch.randn(3, 4, dtype=F64)
    b = torch.randn(4, dtype=F64)
    calls = []

    def f():
        calls.append(1)
        return (W.sum() + b.sum()) ** 2

    numerical_gradient(f, {"W": W, "b": b})
    assert len(calls) == count_loss_evaluations({"W": W, "b": b}) == 2 * 16
    assert count_loss_evaluations(torch.nn.Linear(10, 3)) == 2 * 33
    assert count_loss_evaluations(135) == 270


def test_relative_error():
    a = torch.tensor([1.0, -2.0, 3.0], dtype=F64)
    assert relative_error(a, a) == 0.0
    assert relative_error(torch.zeros(3), torch.zeros(3)) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    b = a + torch.tensor([1e-6, 0.0, 0.0], dtype=F64)
    expected = 1e-6 / (a.norm() + b.norm()).item()
    assert relative_error(a, b) == pytest.approx(expected, rel=1e-6)
    assert relative_error(1e6 * a, 1e6 * b) == pytest.approx(expected, rel=1e-6)  # scale-free


def test_gradient_check_accepts_a_right_gradient_and_rejects_a_wrong_one():
    A, b, x, f = quadratic("cpu")
    right = 0.5 * (A + A.T) @ x + b
    wrong = A @ x + b  # forgets to symmetrise A
    assert gradient_check(f, x, right) < 1e-7
    assert gradient_check(f, x, wrong) > 1e-3
    assert gradient_check(f, {"x": x}, {"x": right}) < 1e-7
    assert gradient_check(f, [x], [right]) < 1e-7


def test_bad_inputs():
    x = torch.randn(3, dtype=F64)
    with pytest.raises(TypeError, match="f must be a callable"):
        numerical_gradient(1.0, x)
    with pytest.raises(TypeError, match="params must be a tensor, a list or dict of tensors, or an nn.Module, got str"):
        numerical_gradient(lambda: x.sum(), "x")
    with pytest.raises(TypeError, match="params must hold tensors, but entry 1 is float"):
        numerical_gradient(lambda: x.sum(), [x, 1.0])
    with pytest.raises(TypeError, match="must be floating point.*int64"):
        numerical_gradient(lambda: 0.0, torch.arange(3))
    with pytest.raises(ValueError, match=r"f must return a scalar loss, got a tensor of shape \(3,\)"):
        numerical_gradient(lambda: x * 2, x)
    with pytest.raises(ValueError, match=r"h must be > 0"):
        numerical_gradient(lambda: x.sum(), x, h=0.0)
    with pytest.raises(ValueError, match=r"a and b must have the same shape, got \(3,\) and \(2,\)"):
        relative_error(x, x[:2])
    with pytest.raises(ValueError, match=r"analytic_grads must be a dict with the keys of params \['x'\], got \['y'\]"):
        gradient_check(lambda: x.sum(), {"x": x}, {"y": x})
    with pytest.raises(ValueError, match=r"analytic_grads\[0\] must have the parameter's shape \(3,\), got \(2,\)"):
        gradient_check(lambda: x.sum(), [x], [x[:2]])


# ---------------------------------------------------------------- devices and float64
def test_relative_error_on_any_device_matches_the_cpu(device):
    a = torch.randn(5, 3, dtype=torch.float32)
    b = a + 1e-3 * torch.randn(5, 3, dtype=torch.float32)
    assert relative_error(a.to(device), b) == pytest.approx(relative_error(a, b), rel=1e-6)


def test_relative_error_works_in_float64_on_float64_device(monkeypatch):
    import dlbook.gradcheck

    seen = []

    def spy(device):  # stands in for the helper; on MPS it would answer "cpu"
        seen.append(torch.device(device))
        return torch.device("cpu")

    monkeypatch.setattr(dlbook.gradcheck, "float64_device", spy)
    a = torch.tensor([1.0, 2.0], dtype=torch.float32)
    b = torch.tensor([1.0, 2.0 + 2**-20], dtype=torch.float32)  # a difference float32 sums would not keep exactly
    assert relative_error(a, b) == pytest.approx(2**-20 / (a.double().norm() + b.double().norm()).item(), rel=1e-12)
    assert seen == [torch.device("cpu")]
