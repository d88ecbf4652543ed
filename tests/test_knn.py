from fractions import Fraction

import numpy as np
import pytest
import torch

from dlbook import knn, search

sklearn_neighbors = pytest.importorskip("sklearn.neighbors")
F64 = torch.float64


def _blobs(n=300, d=4, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, d, generator=g, dtype=F64) * 2
    y = torch.randint(classes, (n,), generator=g)
    return centres[y] + torch.randn(n, d, generator=g, dtype=F64), y


def _rank_weights(dist):
    return np.tile(1.0 / np.arange(1, dist.shape[1] + 1), (dist.shape[0], 1))


# ---------------------------------------------------------------- against scikit-learn
@pytest.mark.parametrize("weights", ["uniform", "rank"])
@pytest.mark.parametrize("k,p", [(1, 2), (4, 2), (7, 2), (6, 1), (5, 3)])
def test_predictions_match_sklearn_except_at_ties(weights, k, p, device):
    x, y = _blobs()
    labels = y * 10 - 5                                  # arbitrary integer labels
    x_train, y_train, x_test = x[:200], labels[:200], x[200:]
    ours = knn.KNNClassifier(k, weights=weights, p=p).fit(x_train.to(device), y_train.to(device))
    pred, tie = ours.predict_with_ties(x_test.to(device))
    assert pred.device.type == device.type and pred.shape == tie.shape == (100,)
    ref = sklearn_neighbors.KNeighborsClassifier(
        n_neighbors=k, weights="uniform" if weights == "uniform" else _rank_weights, p=p, algorithm="brute"
    ).fit(x_train.numpy(), y_train.numpy())
    expected = torch.as_tensor(ref.predict(x_test.numpy()))
    pred, tie = pred.cpu(), tie.cpu()
    assert torch.equal(pred[~tie], expected[~tie])
    if k == 4 and weights == "uniform":
        assert tie.any()                                 # an even k with 3 classes does tie somewhere
    # sklearn's own scores show the same ties
    proba = torch.as_tensor(ref.predict_proba(x_test.numpy()))
    ref_tie = ((proba >= proba.max(dim=1, keepdim=True).values - 1e-12).sum(dim=1)) > 1
    assert torch.equal(tie, ref_tie)


def test_kneighbors_and_scores_match_sklearn():
    x, y = _blobs(n=120, d=3)
    ours = knn.KNNClassifier(5).fit(x[:100], y[:100])
    ref = sklearn_neighbors.KNeighborsClassifier(5, algorithm="brute").fit(x[:100].numpy(), y[:100].numpy())
    d, i = ours.kneighbors(x[100:])
    d_ref, i_ref = ref.kneighbors(x[100:].numpy())
    torch.testing.assert_close(d, torch.as_tensor(d_ref))
    assert torch.equal(i, torch.as_tensor(i_ref))
    scores = ours.vote_scores(x[100:])
    torch.testing.assert_close(scores / 5, torch.as_tensor(ref.predict_proba(x[100:].numpy())))
    assert ours.score(x[100:], y[100:]) == pytest.approx(ref.score(x[100:].numpy(), y[100:].numpy()))


def test_distances_against_cdist():
    a, b = torch.randn(7, 5, dtype=F64), torch.randn(9, 5, dtype=F64)
    torch.testing.assert_close(knn.squared_distances(a, b), torch.cdist(a, b) ** 2)
    torch.testing.assert_close(knn.pairwise_distances(a, b), torch.cdist(a, b))
    torch.testing.assert_close(knn.pairwise_distances(a, b, p=1), torch.cdist(a, b, p=1))
    torch.testing.assert_close(knn.pairwise_distances(a, b, p=float("inf")), torch.cdist(a, b, p=float("inf")))
    assert bool((knn.squared_distances(a, a).diagonal() >= 0).all())


# ---------------------------------------------------------------- ties
def test_ties_are_flagged_and_go_to_the_nearest_tied_class():
    x = torch.tensor([[-1.0], [2.0]])
    model = knn.KNNClassifier(2).fit(x, torch.tensor([0, 1]))
    pred, tie = model.predict_with_ties(torch.tensor([[0.0], [0.6]]))
    assert tie.tolist() == [True, True]
    assert pred.tolist() == [0, 1]                       # the nearer point decides, whatever its label
    swapped = knn.KNNClassifier(2).fit(x, torch.tensor([1, 0]))
    assert swapped.predict(torch.tensor([[0.0], [0.6]])).tolist() == [1, 0]
    assert torch.equal(model.predict(torch.tensor([[0.0]])), pred[:1])


def test_rank_weighted_tie_within_float_rounding():
    # ranks: A at 1; B at 2, 3, 6; C at 4, 5 → A = 1 = 1/2 + 1/3 + 1/6 = B
    x = torch.arange(1, 7, dtype=F64).unsqueeze(1)
    y = torch.tensor([0, 1, 1, 2, 2, 1])
    model = knn.KNNClassifier(6, weights="rank").fit(x, y)
    pred, tie = model.predict_with_ties(torch.zeros(1, 1, dtype=F64))
    assert tie.item() and pred.item() == 0
    scores = model.vote_scores(torch.zeros(1, 1, dtype=F64))[0]
    torch.testing.assert_close(scores, torch.tensor([1.0, 1.0, 0.45], dtype=F64))


# ---------------------------------------------------------------- the lecture's worked example
def test_worked_example_scores_exactly():
    ranking = knn.LECTURE_RANKING
    assert [r for r, c in enumerate(ranking, 1) if c == "red"] == [1, 2, 3, 4, 6]
    assert [r for r, c in enumerate(ranking, 1) if c == "green"] == [5, 7, 8, 9, 10, 11]
    exact = knn.rank_weighted_scores(ranking, exact=True)
    assert exact["red"] == Fraction(27, 12) == Fraction(9, 4)
    assert exact["green"] == sum(Fraction(1, r) for r in (5, 7, 8, 9, 10, 11))
    scores = knn.rank_weighted_scores(ranking)
    assert scores["red"] == 2.25 and round(scores["green"], 3) == 0.770
    lecture_slip = sum(1 / r for r in (5, 7, 9, 10, 11))    # rank 8 left out
    assert round(lecture_slip, 3) == 0.645
    assert knn.vote_counts(ranking) == {"red": 5, "green": 6}               # plain vote: green
    assert knn.vote_counts(ranking, k=7) == {"red": 5, "green": 2}          # k = 7: red
    assert knn.rank_weighted_scores(ranking, k=7, exact=True)["green"] == Fraction(12, 35)


def test_worked_example_through_the_classifier():
    x = torch.arange(1, 12, dtype=F64).unsqueeze(1)          # distance from the query = rank
    y = torch.tensor([0 if c == "red" else 1 for c in knn.LECTURE_RANKING])
    query = torch.zeros(1, 1, dtype=F64)
    plain = knn.KNNClassifier(11).fit(x, y)
    weighted = knn.KNNClassifier(11, weights="rank").fit(x, y)
    assert plain.predict(query).item() == 1                  # green, 6 to 5
    assert weighted.predict(query).item() == 0               # red, 2.25 to 0.770
    torch.testing.assert_close(weighted.vote_scores(query)[0],
                               torch.tensor([2.25, float(knn.rank_weighted_scores(knn.LECTURE_RANKING)["green"])],
                                            dtype=F64))
    for weights in ("uniform", "rank"):
        assert knn.KNNClassifier(7, weights=weights).fit(x, y).predict(query).item() == 0


# ---------------------------------------------------------------- choosing k
def test_sqrt_rule_k():
    assert [knn.sqrt_rule_k(n) for n in (1, 2, 3, 4, 12, 13, 100, 5000)] == [1, 1, 3, 3, 3, 5, 11, 71]
    for n in range(1, 3000):
        r = int(np.floor(np.sqrt(n) + 0.5))
        k = knn.sqrt_rule_k(n)
        assert k == (r if r % 2 else r + 1) and k <= n and k % 2 == 1
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        knn.sqrt_rule_k(0)


def test_cross_validate_k_matches_sklearn_on_the_same_folds():
    from sklearn.model_selection import cross_val_score

    g = torch.Generator().manual_seed(1)
    x = torch.randn(90, 2, generator=g, dtype=F64)
    y = (x[:, 0] + 0.5 * torch.randn(90, generator=g, dtype=F64) > 0).long()   # 2 classes, odd k: no ties
    ks = [1, 3, 9]
    result = knn.cross_validate_k(x, y, ks, folds=4, seed=5)
    splits = [(train.numpy(), val.numpy()) for train, val in search.kfold_indices(90, 4, seed=5)]  # the one k-fold
    for i, k in enumerate(ks):
        ref = cross_val_score(sklearn_neighbors.KNeighborsClassifier(k, algorithm="brute"), x.numpy(), y.numpy(), cv=splits)
        torch.testing.assert_close(result.scores[i], torch.as_tensor(ref))
    assert result.scores.shape == (3, 4) and result.mean.shape == (3,)
    assert result.best_k == ks[int(result.mean.argmax())]
    for i, k in enumerate(ks):  # one convention with chapter 12's CVResult: population std (ddof = 0)
        cv = result.result(k)
        assert isinstance(cv, search.CVResult)
        assert cv.mean == pytest.approx(result.mean[i].item()) and cv.std == pytest.approx(result.std[i].item())
        assert result.std[i].item() == pytest.approx(float(result.scores[i].numpy().std(ddof=0)))
    with pytest.raises(ValueError, match=r"k=5 was not cross-validated; expected one of \[1, 3, 9\]"):
        result.result(5)
    again = knn.cross_validate_k(x, y, ks, folds=4, seed=5)
    assert torch.equal(again.scores, result.scores)
    with pytest.raises(ValueError, match=r"k=80 is larger than the smallest training fold n_train=67"):
        knn.cross_validate_k(x, y, [80], folds=4)
    with pytest.raises(ValueError, match="folds must be an integer >= 2, got 1"):
        knn.cross_validate_k(x, y, [1], folds=1)


# ---------------------------------------------------------------- decision regions
def test_decision_grid_marks_ties():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    model = knn.KNNClassifier(2).fit(x, torch.tensor([3, 3, 7, 7]))
    xx, yy, labels = knn.decision_grid(model, (-0.5, 1.5), (-0.5, 1.5), resolution=(9, 11))
    assert xx.shape == yy.shape == labels.shape == (11, 9)
    pred, tie = model.predict_with_ties(torch.stack([xx.reshape(-1), yy.reshape(-1)], 1))
    assert torch.equal(labels.reshape(-1), torch.where(tie, -1, pred))
    assert set(labels.unique().tolist()) == {-1, 3, 7}
    assert labels[0, 0] == 3 and labels[-1, -1] == 7


def test_plot_decision_boundaries_returns_a_figure():
    from matplotlib.figure import Figure

    x, y = _blobs(n=60, d=2, classes=2)
    models = [knn.KNNClassifier(k).fit(x, y) for k in (1, 2, 15)]
    fig = knn.plot_decision_boundaries(models, resolution=40)
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["k = 1", "k = 2", "k = 15"]
    image = panels[1].get_images()[0].get_array()
    grey = np.isclose(image[..., 0], 0.6) & np.isclose(image[..., 1], 0.6) & np.isclose(image[..., 2], 0.6)
    assert grey.any()                                         # k = 2 ties somewhere, drawn in grey
    with pytest.raises(ValueError, match="need 2 features"):
        knn.plot_decision_boundaries(knn.KNNClassifier(1).fit(torch.zeros(3, 3), torch.tensor([0, 1, 0])))


# ---------------------------------------------------------------- errors
def test_errors():
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 0, 1, 1])
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        knn.KNNClassifier(0)
    with pytest.raises(ValueError, match="k=7 is larger than the number of training points n_train=5"):
        knn.KNNClassifier(7).fit(x, y)
    with pytest.raises(ValueError, match=r"x must have 3 features, as the training data had, got shape \(2, 4\)"):
        knn.KNNClassifier(3).fit(x, y).predict(torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"same number of samples"):
        knn.KNNClassifier(3).fit(x, y[:4])
    with pytest.raises(RuntimeError, match="not fitted"):
        knn.KNNClassifier(3).predict(x)
    with pytest.raises(ValueError, match="weights must be 'uniform' or 'rank', got 'distance'"):
        knn.KNNClassifier(3, weights="distance")
    with pytest.raises(ValueError, match="p must be >= 1.0"):
        knn.KNNClassifier(3, p=0.5)
    with pytest.raises(TypeError, match="y must hold integer class labels"):
        knn.KNNClassifier(3).fit(x, torch.tensor([0.5, 1, 0, 1, 1]))
    with pytest.raises(ValueError, match="labels include -1"):
        knn.decision_grid(knn.KNNClassifier(1).fit(torch.zeros(2, 2), torch.tensor([-1, 1])), (0, 1), (0, 1), 5)
    with pytest.raises(ValueError, match=r"x_range must have low < high, got \(1.0, 0.0\)"):
        knn.decision_grid(knn.KNNClassifier(1).fit(torch.zeros(2, 2), torch.tensor([0, 1])), (1, 0), (0, 1), 5)


# ---------------------------------------------------------------- devices and float64
def test_votes_scores_and_cross_validation_on_any_device_match_the_cpu(device):
    x, y = _blobs(n=120, d=3)
    cpu = knn.KNNClassifier(5, weights="rank").fit(x[:100], y[:100])
    ours = knn.KNNClassifier(5, weights="rank").fit(x[:100].to(device), y[:100].to(device))
    scores = ours.vote_scores(x[100:].to(device))
    assert scores.device.type == knn.float64_device(device).type and scores.dtype == F64
    torch.testing.assert_close(scores.cpu(), cpu.vote_scores(x[100:]), rtol=1e-12, atol=1e-12)
    assert ours.score(x[100:].to(device), y[100:].to(device)) == cpu.score(x[100:], y[100:])
    on_device = knn.cross_validate_k(x.to(device), y.to(device), [1, 3], folds=3, seed=2)
    torch.testing.assert_close(on_device.scores, knn.cross_validate_k(x, y, [1, 3], folds=3, seed=2).scores)


def test_plot_decision_boundaries_of_models_on_any_device(device):
    x, y = _blobs(n=60, d=2, classes=2)
    images = []
    for where in (torch.device("cpu"), device):
        models = [knn.KNNClassifier(k).fit(x.to(where), y.to(where)) for k in (1, 2)]
        fig = knn.plot_decision_boundaries(models, resolution=30)
        images.append([ax.get_images()[0].get_array() for ax in fig.axes if ax.get_visible() and ax.get_images()])
    for cpu_image, image in zip(*images):
        np.testing.assert_allclose(image, cpu_image)


def test_every_vote_is_counted_on_float64_device(monkeypatch):
    seen = []

    def spy(device):  # stands in for the helper; on MPS it would answer "cpu"
        seen.append(torch.device(device))
        return torch.device("cpu")

    monkeypatch.setattr(knn, "float64_device", spy)
    x, y = _blobs(n=60, d=2, classes=2)
    model = knn.KNNClassifier(3).fit(x, y)
    for call in (lambda: model.predict(x[:5]), lambda: model.vote_scores(x[:5]), lambda: model.score(x[:5], y[:5]),
                 lambda: knn.decision_grid(model, (-1, 1), (-1, 1), resolution=4),
                 lambda: knn.cross_validate_k(x, y, [1], folds=2)):
        seen.clear()
        call()
        assert seen and all(d == torch.device("cpu") for d in seen)
