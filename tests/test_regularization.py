import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlbook import regularization as R

f64 = torch.float64


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- dropout
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_inverted_dropout_is_f_dropout(p):
    x = torch.randn(40, 30, dtype=f64)
    torch.manual_seed(5)
    ref = F.dropout(x, p, training=True)
    ours = R.dropout(x, p, training=True, generator=gen(5))  # a generator seeded like the global one
    torch.testing.assert_close(ours, ref)
    kept = ours != 0
    torch.testing.assert_close(ours[kept], x[kept] / (1 - p))  # survivors scaled by 1/q
    assert torch.equal(R.dropout(x, p, training=False), F.dropout(x, p, training=False))


@pytest.mark.parametrize("inverted", [True, False])
def test_expected_training_output_equals_test_output(inverted):
    """Average R masks of a fixed input: each element's mean must be within 5 standard errors
    of the test-time output; the standard error of one element is |test|·√((1 − q)/q / R)."""
    p, draws = 0.5, 4000
    q = 1 - p
    x = torch.linspace(-2, 2, 50, dtype=f64)
    test = R.dropout(x, p, training=False, inverted=inverted)
    torch.testing.assert_close(test, x if inverted else q * x)
    train = R.dropout(x.expand(draws, -1), p, training=True, inverted=inverted, generator=gen(1))
    mean = train.mean(0)
    se = test.abs() * math.sqrt((1 - q) / q / draws)
    assert ((mean - test).abs() <= 5 * se + 1e-12).all()
    # the whole layer's average: standard error shrinks by √50 more
    assert abs(mean.sum() - test.sum()) <= 5 * math.sqrt((se**2).sum())


def test_two_input_example_from_the_lecture():
    # a = w1·x·m1 + w2·y·m2 with p = ½ (standard dropout): averaging the 4 equally likely masks
    w, inputs = torch.tensor([0.7, -1.3], dtype=f64), torch.tensor([2.0, 3.0], dtype=f64)
    masks = torch.tensor([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=f64)
    expected = (masks * w * inputs).sum(1).mean()
    test = (w * R.dropout(inputs, 0.5, training=False, inverted=False)).sum()
    torch.testing.assert_close(expected, test)  # E[a] = ½(w1 x + w2 y)


def test_drop_fraction_and_gradient():
    x = torch.randn(200, 100, dtype=f64, requires_grad=True)
    y = R.dropout(x, 0.3, generator=gen(2))
    dropped = (y == 0).double().mean().item()
    assert abs(dropped - 0.3) < 5 * math.sqrt(0.3 * 0.7 / x.numel())
    y.sum().backward()
    torch.testing.assert_close(x.grad, (y != 0).double() / 0.7)  # ∂y/∂x = m/q


def test_edge_probabilities():
    x = torch.randn(5, 4)
    assert torch.equal(R.dropout(x, 0.0), x)
    assert torch.equal(R.dropout(x, 1.0), torch.zeros_like(x))
    assert torch.equal(R.dropout(x, 1.0), F.dropout(x, 1.0))


def test_dropout_module_follows_train_and_eval(device):
    layer = R.Dropout(0.5, generator=gen(3))
    x = torch.ones(1000, device=device)
    y = layer(x)
    assert y.device.type == device.type and set(y.unique().tolist()) <= {0.0, 2.0}
    layer.eval()
    assert torch.equal(layer(x), x)
    standard = R.Dropout(0.25, inverted=False).eval()
    torch.testing.assert_close(standard(x), 0.75 * x)


def test_dropout_errors():
    with pytest.raises(ValueError, match="p \\(the drop probability\\) must be <= 1.0, got 1.5"):
        R.dropout(torch.ones(3), 1.5)
    with pytest.raises(ValueError, match="p \\(the drop probability\\) must be >= 0.0"):
        R.Dropout(-0.1)
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int"):
        R.dropout(torch.ones(3), 0.5, generator=1)


def test_dropconnect():
    W = torch.randn(20, 10, dtype=f64)
    assert torch.equal(R.dropconnect(W, 0.5, training=False), W)
    masked = R.dropconnect(W, 0.5, generator=gen(4))
    kept = masked != 0
    torch.testing.assert_close(masked[kept], 2 * W[kept])
    layer = R.DropConnectLinear(10, 20, p=0.5, generator=gen(4)).double()
    with torch.no_grad():
        layer.weight.copy_(W)
    x = torch.randn(3, 10, dtype=f64)
    torch.testing.assert_close(layer(x), F.linear(x, masked, layer.bias))
    layer.eval()
    torch.testing.assert_close(layer(x), F.linear(x, W, layer.bias))


# ---------------------------------------------------------------- penalties
def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).double()


def test_penalties_closed_forms():
    model = _model()
    W1, b1, W2, b2 = model[0].weight, model[0].bias, model[2].weight, model[2].bias
    torch.testing.assert_close(R.l1_penalty(model, 0.1), 0.1 * (W1.abs().sum() + W2.abs().sum()))
    torch.testing.assert_close(R.l2_penalty(model, 0.1), 0.05 * (W1.pow(2).sum() + W2.pow(2).sum()))
    torch.testing.assert_close(R.l2_penalty(model, 0.1, include_bias=True),
                               0.05 * sum(p.pow(2).sum() for p in (W1, b1, W2, b2)))
    torch.testing.assert_close(R.l1_penalty([W1], 2.0), 2 * W1.abs().sum())
    assert R.l1_penalty([b1], 1.0).item() == 0.0  # only biases: nothing penalised
    with pytest.raises(ValueError, match="lam must be >= 0.0"):
        R.l2_penalty(model, -1.0)
    with pytest.raises(TypeError, match="params\\[0\\] must be a tensor"):
        R.l1_penalty(["w"], 1.0)


def test_l2_penalty_is_sgd_weight_decay_on_the_weights():
    x, y = torch.randn(16, 4, dtype=f64), torch.randn(16, 2, dtype=f64)
    lam, lr = 0.3, 0.1
    ours, ref = _model(), _model()
    loss = F.mse_loss(ours(x), y) + R.l2_penalty(ours, lam)
    loss.backward()
    torch.optim.SGD(ours.parameters(), lr=lr).step()
    weights = [p for p in ref.parameters() if p.ndim > 1]
    biases = [p for p in ref.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": weights, "weight_decay": lam}, {"params": biases}], lr=lr)
    F.mse_loss(ref(x), y).backward()
    opt.step()
    for a, b in zip(ours.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b)


def test_l1_gradient_is_lambda_sign():
    W = torch.randn(5, 5, dtype=f64, requires_grad=True)
    R.l1_penalty([W], 0.2).backward()
    torch.testing.assert_close(W.grad, 0.2 * W.detach().sign())


# ---------------------------------------------------------------- early stopping
def test_early_stopping_min_mode():
    stopper = R.EarlyStopping(patience=3)
    decisions = [stopper.step(v) for v in [1.0, 0.8, 0.85, 0.81, 0.9]]
    assert decisions == [False, False, False, False, True]
    assert stopper.best == 0.8 and stopper.best_epoch == 1 and stopper.should_stop


def test_early_stopping_min_delta_max_mode_and_nan():
    stopper = R.EarlyStopping(patience=2, min_delta=0.05, mode="max")
    assert [stopper.step(v) for v in [0.5, 0.54, 0.56, 0.6]] == [False, False, False, False]
    assert stopper.best == 0.56 and stopper.best_epoch == 2  # 0.54 was not better by > 0.05; 0.6 not by > 0.05 over 0.56
    stopper = R.EarlyStopping(patience=2)
    assert [stopper.step(v) for v in [1.0, float("nan"), float("nan")]] == [False, False, True]
    assert stopper.best == 1.0


def test_early_stopping_keeps_best_weights():
    model = _model()
    stopper = R.EarlyStopping(patience=2)
    stopper.step(1.0, model)
    best = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        model[0].weight.add_(1.0)
    stopper.step(2.0, model)
    model.load_state_dict(stopper.best_state)
    for k in best:
        torch.testing.assert_close(model.state_dict()[k], best[k])
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        R.EarlyStopping(mode="lowest")
    with pytest.raises(ValueError, match="patience must be an integer >= 1"):
        R.EarlyStopping(patience=0)


# ---------------------------------------------------------------- Polyak averaging
def test_polyak_average_recursion_and_torch_ema():
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).double()
    decay = 0.9
    ours = R.PolyakAverage(model, decay)
    ref = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=False)
    ours.update()
    ref.update_parameters(model)  # torch copies on its first update; ours averages with an identical copy
    manual = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(5):
        model(torch.randn(8, 3, dtype=f64)).pow(2).sum().backward()
        opt.step()
        opt.zero_grad()
        ours.update()
        ref.update_parameters(model)
        manual = [decay * a + (1 - decay) * p.detach() for a, p in zip(manual, model.parameters())]
    for a, b, m in zip(ours.module.parameters(), ref.module.parameters(), manual):
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(a, m)
    torch.testing.assert_close(ours.module[1].running_mean, model[1].running_mean)  # buffers copied
    assert not any(p.requires_grad for p in ours.module.parameters())
    assert ours(torch.zeros(2, 3, dtype=f64)).shape == (2, 2)
    with pytest.raises(ValueError, match="decay must be <= 1.0"):
        R.PolyakAverage(model, 1.5)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        R.PolyakAverage([torch.zeros(1)])


def test_polyak_average_follows_the_models_device_and_dtype(device):
    model = nn.Linear(3, 2)                                    # float32 on the CPU
    average = R.PolyakAverage(model, decay=0.9)
    model.to(device=device, dtype=f64)                         # e.g. fit(device=...) moving it later
    with torch.no_grad():
        model.weight.add_(1.0)
    start = [p.detach().clone() for p in average.module.parameters()]
    average.update()
    for a, s, p in zip(average.module.parameters(), start, model.parameters()):
        assert a.device == p.device and a.dtype == f64
        torch.testing.assert_close(a, 0.9 * s.to(p) + 0.1 * p.detach())
    assert average(torch.zeros(4, 3, dtype=f64, device=device)).dtype == f64
