import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn import metrics as sk

from dlbook import metrics


def _labels(n, k, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, k, (n,), generator=g), torch.randint(0, k, (n,), generator=g)


def test_accuracy_matches_sklearn_and_takes_scores(device):
    y_true, y_pred = _labels(200, 4, 0)
    assert metrics.accuracy(y_true.to(device), y_pred.to(device)) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    scores = torch.nn.functional.one_hot(y_pred, 4).double() + 0.1 * torch.rand(200, 4, dtype=torch.float64)
    assert metrics.accuracy(y_true, scores) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert metrics.accuracy([1, 0, 1, 1], [1.0, 0.0, 0.0, 1.0]) == 0.75  # whole-number floats (a perceptron's output)


def test_confusion_matrix_matches_sklearn(device):
    y_true, y_pred = _labels(300, 5, 1)
    ours = metrics.confusion_matrix(y_true.to(device), y_pred.to(device))
    assert ours.dtype == torch.int64 and ours.shape == (5, 5) and ours.device.type == device.type
    np.testing.assert_array_equal(ours.cpu().numpy(), sk.confusion_matrix(y_true, y_pred))
    wide = metrics.confusion_matrix(torch.tensor([0, 1]), torch.tensor([1, 1]), num_classes=3)
    assert wide.tolist() == [[0, 1, 0], [0, 1, 0], [0, 0, 0]]


def test_binary_precision_recall_f1_by_hand_and_sklearn():
    # TP = 3, FP = 1, FN = 2, TN = 2
    y_true = torch.tensor([1, 1, 1, 1, 1, 0, 0, 0])
    y_pred = torch.tensor([1, 1, 1, 0, 0, 1, 0, 0])
    assert metrics.precision(y_true, y_pred) == pytest.approx(3 / 4)
    assert metrics.recall(y_true, y_pred) == pytest.approx(3 / 5)
    assert metrics.f1(y_true, y_pred) == pytest.approx(2 * 0.75 * 0.6 / (0.75 + 0.6))
    assert metrics.precision_recall_f1(y_true, y_pred, pos_label=0) == pytest.approx(
        (sk.precision_score(y_true, y_pred, pos_label=0), sk.recall_score(y_true, y_pred, pos_label=0),
         sk.f1_score(y_true, y_pred, pos_label=0)))
    for seed in range(3):
        t, p = _labels(100, 2, seed)
        assert metrics.precision_recall_f1(t, p) == pytest.approx(
            (sk.precision_score(t, p), sk.recall_score(t, p), sk.f1_score(t, p)))


@pytest.mark.parametrize("average", ["macro", "micro"])
def test_multiclass_averages_match_sklearn(average, device):
    for seed in range(3):
        t, p = _labels(150, 4, seed)
        t[t == 3] = 2  # class 3 only ever predicted: sklearn still counts it
        ours = metrics.precision_recall_f1(t.to(device), p.to(device), average=average)
        want = (sk.precision_score(t, p, average=average, zero_division=0),
                sk.recall_score(t, p, average=average, zero_division=0),
                sk.f1_score(t, p, average=average, zero_division=0))
        assert ours == pytest.approx(want)
    # a class absent from both y_true and y_pred does not count in the macro average…
    t, p = torch.tensor([0, 0, 2, 2]), torch.tensor([0, 2, 2, 2])
    assert metrics.f1(t, p, average="macro") == pytest.approx(sk.f1_score(t, p, average="macro"))
    # …unless num_classes asks for it (as sklearn's labels= does)
    assert metrics.f1(t, p, average="macro", num_classes=3) == pytest.approx(
        sk.f1_score(t, p, average="macro", labels=[0, 1, 2], zero_division=0))


def test_per_class_scores_and_zero_division():
    t, p = _labels(120, 3, 7)
    prec, rec, f = metrics.precision_recall_f1(t, p, average="none")
    assert prec.shape == rec.shape == f.shape == (3,)
    np.testing.assert_allclose(f.numpy(), sk.f1_score(t, p, average=None))
    np.testing.assert_allclose(prec.numpy(), sk.precision_score(t, p, average=None))
    # nothing predicted positive: precision is 0/0 → zero_division
    t, p = torch.tensor([1, 0, 1]), torch.tensor([0, 0, 0])
    assert metrics.precision(t, p) == 0.0
    assert metrics.precision(t, p, zero_division=1.0) == 1.0
    assert metrics.f1(t, p) == 0.0 and metrics.recall(t, p) == 0.0


def test_regression_metrics_match_sklearn(device):
    y = torch.randn(50, dtype=torch.float64)
    yhat = y + 0.3 * torch.randn(50, dtype=torch.float64)
    assert metrics.mse(y.to(device), yhat.to(device)) == pytest.approx(sk.mean_squared_error(y, yhat))
    assert metrics.mae(y, yhat) == pytest.approx(sk.mean_absolute_error(y, yhat))
    assert metrics.rmse(y, yhat) == pytest.approx(math.sqrt(sk.mean_squared_error(y, yhat)))
    assert metrics.mse([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx(4 / 3)
    assert metrics.rmse([0.0, 0.0], [3.0, -3.0]) == pytest.approx(3.0)


def test_errors_are_reported():
    with pytest.raises(ValueError, match=r"accuracy needs y_pred of y_true's shape \(3,\) .*got shape \(2,\)"):
        metrics.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="y_true is empty"):
        metrics.accuracy(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match=r"y_pred must hold class labels \(whole numbers\), got a value 0.7"):
        metrics.accuracy([0, 1], [0.0, 0.7])
    with pytest.raises(ValueError, match="y_true must hold class labels >= 0, got -1"):
        metrics.f1([-1, 1], [1, 1])
    with pytest.raises(ValueError, match=r"y_true must have 1 dimension\(s\), got shape \(2, 2\)"):
        metrics.f1(torch.zeros(2, 2, dtype=torch.long), [0, 1])
    with pytest.raises(TypeError, match=r"y_pred of shape \(2, 2\) .* must hold float scores, got dtype torch.int64"):
        metrics.accuracy([0, 1], torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="average='binary' needs labels 0 and 1, got a label 2"):
        metrics.precision([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="average must be one of"):
        metrics.recall([0, 1], [0, 1], average="weighted")
    with pytest.raises(ValueError, match=r"labels must be in \[0, 1\] for num_classes=2, got label 2"):
        metrics.confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match=r"y_pred and y_true must have the same shape, got \(2,\) and \(3,\)"):
        metrics.mse([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(TypeError, match="y_true must be a tensor or an array of class labels, got str"):
        metrics.accuracy("01", [0, 1])


def test_accuracy_takes_scores_in_either_class_layout_and_probability_targets():
    scores = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    assert metrics.accuracy(torch.tensor([0, 1, 1, 1]), scores) == 0.75
    assert metrics.accuracy(F.one_hot(torch.tensor([0, 1, 1, 1]), 2).float(), scores) == 0.75
    logits = torch.tensor([[2.0], [-1.0], [0.5]])
    assert metrics.accuracy(torch.tensor([[1.0], [0.0], [0.0]]), logits > 0) == pytest.approx(2 / 3)
    seq = torch.randn(3, 4, 7)  # (N, T, vocabulary): the class dimension is the last
    labels = seq.argmax(-1)
    assert metrics.accuracy(labels, seq) == 1.0
    assert metrics.accuracy(labels, seq.transpose(1, 2)) == 1.0  # (N, C, T): PyTorch's layout
    with pytest.raises(ValueError, match=r"threshold probabilities first"):
        metrics.accuracy(torch.tensor([[1.0], [0.0], [0.0]]), logits)


# ---------------------------------------------------------------- devices and float64
def test_accuracy_is_an_exact_integer_count(device):
    y_true = torch.tensor([0, 1, 1, 2, 2, 2, 0], device=device)
    y_pred = torch.tensor([0, 1, 0, 2, 1, 2, 0], device=device)
    assert metrics.accuracy(y_true, y_pred) == 5 / 7  # exactly, as Python divides the two counts


def test_per_class_scores_live_on_float64_device(device):
    t, p = _labels(120, 3, 7)
    prec, rec, f = metrics.precision_recall_f1(t.to(device), p.to(device), average="none")
    assert prec.device.type == metrics.float64_device(device).type and f.dtype == torch.float64
    np.testing.assert_allclose(f.cpu().numpy(), sk.f1_score(t, p, average=None))
    np.testing.assert_allclose(rec.cpu().numpy(), sk.recall_score(t, p, average=None))


def test_precision_recall_f1_count_on_float64_device(monkeypatch):
    seen = []

    def spy(device):  # stands in for the helper; on MPS it would answer "cpu"
        seen.append(torch.device(device))
        return torch.device("cpu")

    monkeypatch.setattr(metrics, "float64_device", spy)
    t, p = _labels(50, 3, 2)
    for average in ("binary", "macro", "micro", "none"):
        seen.clear()
        if average == "binary":
            metrics.f1(t.clamp(max=1), p.clamp(max=1))
        else:
            metrics.precision_recall_f1(t, p, average=average)
        assert seen == [torch.device("cpu")]
