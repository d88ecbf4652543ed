import math

import pytest
import torch
import torch.nn.functional as F

from dlbook import losses

# The lecture's table: (actual, predicted probability of class 1)
ACTUAL = [1, 1, 1, 0, 0, 1, 1, 0]
PREDICTED = [0.94, 0.90, 0.78, 0.56, 0.51, 0.47, 0.32, 0.10]


def _rand(*shape, device="cpu"):
    return torch.randn(*shape, dtype=torch.float64, device=device)


def _autograd(fn, x, *args, **kw):
    x = x.clone().requires_grad_(True)
    fn(x, *args, **kw).backward()
    return x.grad


# ---------------------------------------------------------------- the lecture's facts
def test_bce_on_the_lecture_table_base_10_is_0_214():
    p, y = torch.tensor(PREDICTED, dtype=torch.float64), torch.tensor(ACTUAL, dtype=torch.float64)
    corrected = torch.where(y == 1, p, 1 - p)  # probability given to the true class
    lecture = torch.tensor([0.94, 0.90, 0.78, 0.44, 0.49, 0.47, 0.32, 0.90], dtype=torch.float64)
    assert torch.allclose(corrected, lecture)
    loss10 = losses.binary_cross_entropy(p, y, base=10)
    assert round(loss10.item(), 3) == 0.214
    assert loss10.item() == pytest.approx(-torch.log10(corrected).mean().item(), rel=1e-12)


def test_bce_on_the_lecture_table_natural_log_is_pytorchs_0_494():
    p, y = torch.tensor(PREDICTED, dtype=torch.float64), torch.tensor(ACTUAL, dtype=torch.float64)
    loss = losses.binary_cross_entropy(p, y)
    assert round(loss.item(), 3) == 0.494
    assert loss.item() == pytest.approx(F.binary_cross_entropy(p, y).item(), rel=1e-12)
    # changing the base only rescales: ln-loss = log10-loss · ln 10
    assert loss.item() == pytest.approx(losses.binary_cross_entropy(p, y, base=10).item() * math.log(10), rel=1e-12)
    assert losses.binary_cross_entropy(PREDICTED, ACTUAL, base=2).item() == pytest.approx(loss.item() / math.log(2))


# ---------------------------------------------------------------- regression losses
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_and_mae_match_torch(reduction, device):
    pred, target = _rand(5, 3, device=device), _rand(5, 3, device=device)
    assert torch.allclose(losses.mse(pred, target, reduction=reduction), F.mse_loss(pred, target, reduction=reduction))
    assert torch.allclose(losses.mae(pred, target, reduction=reduction), F.l1_loss(pred, target, reduction=reduction))
    if reduction != "none":
        want = _autograd(lambda p: F.mse_loss(p, target, reduction=reduction), pred)
        assert torch.allclose(losses.mse_grad(pred, target, reduction=reduction), want)
        assert torch.allclose(_autograd(losses.mse, pred, target, reduction=reduction), want)


def test_mse_value_by_hand():
    assert losses.mse([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]).item() == pytest.approx(4 / 3)
    assert losses.mae([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]).item() == pytest.approx(2 / 3)


# ---------------------------------------------------------------- binary losses
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_matches_torch(reduction, device):
    p = torch.rand(50, dtype=torch.float64, device=device) * 0.98 + 0.01
    y = torch.rand(50, dtype=torch.float64, device=device)  # soft targets are allowed
    ours = losses.binary_cross_entropy(p, y, reduction=reduction)
    assert torch.allclose(ours, F.binary_cross_entropy(p, y, reduction=reduction))
    if reduction != "none":
        want = _autograd(lambda q: F.binary_cross_entropy(q, y, reduction=reduction), p)
        assert torch.allclose(losses.binary_cross_entropy_grad(p, y, reduction=reduction), want)
        assert torch.allclose(_autograd(losses.binary_cross_entropy, p, y, reduction=reduction), want)
        want10 = _autograd(lambda q: F.binary_cross_entropy(q, y, reduction=reduction) / math.log(10), p)
        assert torch.allclose(losses.binary_cross_entropy_grad(p, y, base=10, reduction=reduction), want10)


def test_binary_cross_entropy_clamps_like_torch_at_0_and_1():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    ours = losses.binary_cross_entropy(p, y, reduction="none")
    assert torch.equal(ours, F.binary_cross_entropy(p, y, reduction="none"))
    assert ours.tolist() == [100.0, 100.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        losses.binary_cross_entropy_grad(p, y)


def test_binary_cross_entropy_with_logits_is_stable_and_matches_torch(device):
    z = torch.tensor([-1000.0, -30.0, -1.0, 0.0, 2.0, 40.0, 1000.0], dtype=torch.float64, device=device)
    y = torch.tensor([1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0], dtype=torch.float64, device=device)
    ours = losses.binary_cross_entropy_with_logits(z, y, reduction="none")
    assert torch.isfinite(ours).all()
    assert torch.allclose(ours, F.binary_cross_entropy_with_logits(z, y, reduction="none"))
    want = _autograd(F.binary_cross_entropy_with_logits, z, y)
    assert torch.allclose(losses.binary_cross_entropy_with_logits_grad(z, y), want)
    assert torch.allclose(_autograd(losses.binary_cross_entropy_with_logits, z, y), want)
    # and equals BCE of σ(z) where σ(z) is not saturated
    zs, ys = _rand(20), torch.randint(0, 2, (20,)).double()
    assert torch.allclose(losses.binary_cross_entropy_with_logits(zs, ys),
                          losses.binary_cross_entropy(torch.sigmoid(zs), ys))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_logistic_loss_is_soft_margin_loss(reduction, device):
    z = _rand(30, device=device) * 5
    y = torch.randint(0, 2, (30,), device=device).double() * 2 - 1
    ours = losses.logistic_loss(z, y, reduction=reduction)
    assert torch.allclose(ours, F.soft_margin_loss(z, y, reduction=reduction))
    assert torch.allclose(losses.logistic_loss(z, y, reduction="none"), torch.log1p(torch.exp(-y * z)))
    if reduction != "none":
        want = _autograd(lambda s: F.soft_margin_loss(s, y, reduction=reduction), z)
        assert torch.allclose(losses.logistic_loss_grad(z, y, reduction=reduction), want)
        assert torch.allclose(_autograd(losses.logistic_loss, z, y, reduction=reduction), want)


def test_logistic_loss_does_not_overflow_and_has_the_right_slope_at_zero():
    z = torch.tensor([-1000.0, 1000.0, 0.0], dtype=torch.float64)
    y = torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64)
    assert losses.logistic_loss(z, y, reduction="none").tolist() == [1000.0, 0.0, math.log(2)]
    want = -y * torch.sigmoid(-y * z) / 3  # closed form; σ(0) = 1/2 at z = 0 (no kink)
    # (F.soft_margin_loss's own gradient overflows to nan at z = −1000 in torch 2.x, so no comparison here)
    assert torch.allclose(_autograd(losses.logistic_loss, z, y), want)
    assert torch.allclose(losses.logistic_loss_grad(z, y), want)


def test_logistic_loss_equals_bce_with_labels_mapped():
    z = _rand(25)
    y01 = torch.randint(0, 2, (25,)).double()
    assert torch.allclose(losses.logistic_loss(z, 2 * y01 - 1), losses.binary_cross_entropy_with_logits(z, y01))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_hinge_loss(reduction, device):
    z = torch.tensor([-2.0, 0.0, 0.5, 1.0, 3.0, 0.3], dtype=torch.float64, device=device)
    y = torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, -1.0], dtype=torch.float64, device=device)
    per = torch.tensor([3.0, 1.0, 0.5, 0.0, 0.0, 1.3], dtype=torch.float64, device=device)
    want = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    assert torch.allclose(losses.hinge_loss(z, y, reduction=reduction), want)
    if reduction != "none":
        # closed form, the library's convention: −y where yz < 1, 0 elsewhere — 0 at the kink yz = 1 (z[3])
        per_grad = torch.tensor([-1.0, -1.0, -1.0, 0.0, 0.0, 1.0], dtype=torch.float64, device=device)
        reference = per_grad / (6 if reduction == "mean" else 1)
        assert torch.equal(losses.hinge_loss_grad(z, y, reduction=reduction), reference)
        assert torch.equal(_autograd(losses.hinge_loss, z, y, reduction=reduction), reference)
    assert losses.hinge_loss([0.5], [1.0], margin=2.0).item() == pytest.approx(1.5)


def test_hinge_subgradient_at_the_kink_is_zero_for_any_margin(device):
    margin = 2.0
    y = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64, device=device)
    z = torch.tensor([2.0, -2.0, 1.5, 3.0], dtype=torch.float64, device=device)  # yz = 2, 2 (kinks), 1.5, −3
    want = torch.tensor([0.0, 0.0, -1.0, 1.0], dtype=torch.float64, device=device)
    assert torch.equal(losses.hinge_loss_grad(z, y, margin=margin, reduction="sum"), want)
    assert torch.equal(_autograd(losses.hinge_loss, z, y, margin=margin, reduction="sum"), want)
    nan = losses.hinge_loss(torch.tensor([float("nan")]), torch.tensor([1.0]), reduction="none")
    assert torch.isnan(nan).all()  # a NaN score is not hidden as a zero loss


# ---------------------------------------------------------------- softmax and cross-entropy
def test_softmax_and_log_softmax_match_torch(device):
    z = _rand(4, 7, device=device) * 10
    for dim in (0, 1, -1):
        assert torch.allclose(losses.log_softmax(z, dim), F.log_softmax(z, dim))
        assert torch.allclose(losses.softmax(z, dim), F.softmax(z, dim))
    w = _rand(4, 7, device=device)
    want = _autograd(lambda t: (F.log_softmax(t, 1) * w).sum(), z)
    assert torch.allclose(_autograd(lambda t: (losses.log_softmax(t, 1) * w).sum(), z), want)


def test_softmax_is_stable_for_huge_scores():
    z = torch.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1000.0]])
    s = losses.softmax(z)
    assert torch.isfinite(s).all()
    assert torch.allclose(s[0], torch.softmax(torch.tensor([0.0, 1.0, 2.0]), 0))
    assert torch.allclose(s[1], torch.full((3,), 1 / 3))
    assert torch.isfinite(losses.log_softmax(z)).all()
    naive = torch.exp(z) / torch.exp(z).sum(1, keepdim=True)
    assert torch.isnan(naive[0]).any()  # what the shift avoids


def test_softmax_lecture_example():
    s = losses.softmax(torch.tensor([2.0, 1.0, 0.1]))
    assert [round(v, 2) for v in s.tolist()] == [0.66, 0.24, 0.10]
    assert s.sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_indices_and_one_hot(reduction, device):
    logits = _rand(6, 4, device=device) * 3
    labels = torch.tensor([0, 3, 1, 1, 2, 3], device=device)
    want = F.cross_entropy(logits, labels, reduction=reduction)
    assert torch.allclose(losses.cross_entropy(logits, labels, reduction=reduction), want)
    one_hot = losses.one_hot(labels, 4, dtype=torch.float64)
    assert torch.equal(one_hot, F.one_hot(labels, 4).double())
    assert torch.allclose(losses.cross_entropy(logits, one_hot, reduction=reduction), want)
    soft = torch.softmax(_rand(6, 4, device=device), 1)
    assert torch.allclose(losses.cross_entropy(logits, soft, reduction=reduction),
                          F.cross_entropy(logits, soft, reduction=reduction))
    if reduction != "none":
        grad = _autograd(lambda t: F.cross_entropy(t, labels, reduction=reduction), logits)
        assert torch.allclose(losses.cross_entropy_grad(logits, labels, reduction=reduction), grad)
        assert torch.allclose(losses.cross_entropy_grad(logits, one_hot, reduction=reduction), grad)
        assert torch.allclose(_autograd(losses.cross_entropy, logits, labels, reduction=reduction), grad)


def test_cross_entropy_of_two_classes_is_bce_of_the_score_difference():
    logits = _rand(10, 2)
    labels = torch.randint(0, 2, (10,))
    z = logits[:, 1] - logits[:, 0]
    assert torch.allclose(losses.cross_entropy(logits, labels),
                          losses.binary_cross_entropy_with_logits(z, labels.double()))


def test_cross_entropy_with_huge_logits_is_finite():
    logits = torch.tensor([[1000.0, -1000.0], [0.0, 5000.0]], dtype=torch.float64)
    labels = torch.tensor([1, 1])
    ours = losses.cross_entropy(logits, labels, reduction="none")
    assert ours.tolist() == [2000.0, 0.0]


# ---------------------------------------------------------------- errors
def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match=r"pred and target must have the same shape, got \(3,\) and \(3, 1\)"):
        losses.mse(torch.zeros(3), torch.zeros(3, 1))
    with pytest.raises(ValueError, match=r"p and y must have the same shape"):
        losses.binary_cross_entropy(torch.full((3,), 0.5), torch.zeros(4))
    with pytest.raises(ValueError, match=r"logits has 3 rows but labels has 2"):
        losses.cross_entropy(torch.zeros(3, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"labels as one-hot/probability rows must have the shape of logits \(3, 4\)"):
        losses.cross_entropy(torch.zeros(3, 4), torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r"logits must have 2 dimension\(s\), got shape \(4,\)"):
        losses.cross_entropy(torch.zeros(4), torch.tensor([0]))


def test_values_out_of_range_are_reported():
    with pytest.raises(ValueError, match=r"p must hold probabilities in \[0, 1\], got 1.5"):
        losses.binary_cross_entropy([0.5, 1.5], [1.0, 0.0])
    with pytest.raises(ValueError, match=r"p must hold probabilities in \[0, 1\], got nan"):
        losses.binary_cross_entropy([float("nan")], [1.0])
    with pytest.raises(ValueError, match=r"y must hold targets in \[0, 1\], got -1"):
        losses.binary_cross_entropy([0.5], [-1.0])
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 3\], got 4"):
        losses.cross_entropy(torch.zeros(2, 4), torch.tensor([0, 4]))
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 3\], got -1"):
        losses.cross_entropy(torch.zeros(2, 4), torch.tensor([-1, 0]))
    with pytest.raises(ValueError, match="labels rows must sum to 1"):
        losses.cross_entropy(torch.zeros(2, 3), torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]))
    with pytest.raises(TypeError, match="labels as class indices must be an integer tensor, got dtype torch.float32"):
        losses.cross_entropy(torch.zeros(2, 3), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"y must hold labels -1 or \+1, got 0 \(map 0/1 labels with 2\*y - 1\)"):
        losses.logistic_loss([0.3, 0.2], [1.0, 0.0])
    with pytest.raises(ValueError, match=r"y must hold labels -1 or \+1"):
        losses.hinge_loss([0.3], [2.0])
    with pytest.raises(ValueError, match="base must be positive and different from 1"):
        losses.binary_cross_entropy([0.5], [1.0], base=1)
    with pytest.raises(ValueError, match=r"base must be > 0.0"):
        losses.binary_cross_entropy([0.5], [1.0], base=-2)


def test_empty_batches_and_bad_arguments_are_reported():
    with pytest.raises(ValueError, match=r"pred is empty \(shape \(0,\)\)"):
        losses.mse(torch.zeros(0), torch.zeros(0))
    with pytest.raises(ValueError, match=r"logits is empty"):
        losses.cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"z is empty"):
        losses.log_softmax(torch.zeros(0))
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.mse([1.0], [1.0], reduction="avg")
    with pytest.raises(TypeError, match="pred must be a tensor, an array or a number, got str"):
        losses.mse("1", [1.0])
