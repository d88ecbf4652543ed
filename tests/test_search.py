import math

import numpy as np
import pytest
import torch

from dlbook import search as S


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- samplers
def test_log_uniform_puts_equal_mass_in_every_decade():
    n = 20000
    x = S.log_uniform(1e-5, 1e-1).samples(n, gen())
    assert x.min() >= 1e-5 and x.max() <= 1e-1
    decade = torch.floor(torch.log10(x)).long() + 5  # 0..3
    counts = torch.bincount(decade, minlength=4)[:4].double()
    se = math.sqrt(n * 0.25 * 0.75)  # binomial standard error of one decade's count
    assert ((counts - n / 4).abs() < 5 * se).all()
    # a plain uniform puts ~90% of its draws in the top decade
    u = S.uniform(1e-5, 1e-1).samples(n, gen())
    assert (u > 1e-2).double().mean() > 0.85


def test_uniform_mean_and_reproducibility():
    s = S.uniform(-1.0, 3.0)
    x = s.samples(10000, gen(1))
    assert abs(x.mean().item() - 1.0) < 5 * (4 / math.sqrt(12)) / 100
    assert torch.equal(x, s.samples(10000, gen(1)))
    assert S.uniform(0, 1).sample(gen(2)) == S.uniform(0, 1).sample(gen(2))
    assert S.choice(["a", "b"]).sample(gen()) in ("a", "b")


def test_sampler_errors():
    with pytest.raises(ValueError, match="low must be > 0.0"):
        S.log_uniform(0.0, 1.0)
    with pytest.raises(ValueError, match="high must be greater than low, got low=2.0, high=1.0"):
        S.uniform(2.0, 1.0)
    with pytest.raises(ValueError, match="options must not be empty"):
        S.choice([])


# ---------------------------------------------------------------- searches
def _score(lr, width):
    return -((math.log10(lr) + 2) ** 2) - (width - 64) ** 2 / 1e4  # best at lr = 1e-2, width = 64


def test_grid_search_tries_every_combination_and_sorts_best_first():
    calls = []

    def fn(lr, width):
        calls.append((lr, width))
        return _score(lr, width)

    trials = S.grid_search(fn, {"lr": [1e-3, 1e-2, 1e-1], "width": [32, 64]})
    assert len(calls) == 6 and len(set(calls)) == 6
    assert trials[0].params == {"lr": 1e-2, "width": 64}
    scores = [t.score for t in trials]
    assert scores == sorted(scores, reverse=True)
    low_first = S.grid_search(fn, {"lr": [1e-3, 1e-2, 1e-1], "width": [32, 64]}, mode="min")
    assert [t.score for t in low_first] == sorted(scores)


def test_random_search_is_seeded_and_in_range():
    space = {"lr": S.log_uniform(1e-4, 1.0), "width": S.choice([32, 64, 128]), "epochs": 5}
    fn = lambda lr, width, epochs: _score(lr, width)  # noqa: E731
    a = S.random_search(fn, space, 20, seed=3)
    b = S.random_search(fn, space, 20, seed=3)
    c = S.random_search(fn, space, 20, seed=4)
    assert [t.params for t in a] == [t.params for t in b]
    assert [t.params for t in a] != [t.params for t in c]
    assert all(1e-4 <= t.params["lr"] <= 1.0 and t.params["epochs"] == 5 for t in a)
    assert [t.score for t in a] == sorted((t.score for t in a), reverse=True)
    assert sorted(t.index for t in a) == list(range(20))


def test_nan_scores_go_last():
    trials = S.grid_search(lambda x: float("nan") if x == 2 else x, {"x": [1, 2, 3]})
    assert [t.params["x"] for t in trials] == [3, 1, 2]
    trials = S.grid_search(lambda x: float("nan") if x == 2 else x, {"x": [1, 2, 3]}, mode="min")
    assert [t.params["x"] for t in trials] == [1, 3, 2]


def test_search_errors():
    with pytest.raises(ValueError, match="mode must be 'max'"):
        S.grid_search(lambda x: x, {"x": [1]}, mode="best")
    with pytest.raises(ValueError, match="grid\\['x'\\] must be a non-empty list"):
        S.grid_search(lambda x: x, {"x": []})
    with pytest.raises(ValueError, match="n_trials must be an integer >= 1"):
        S.random_search(lambda x: x, {"x": S.uniform(0, 1)}, 0)
    with pytest.raises(TypeError, match="fn must be a function"):
        S.grid_search(3, {"x": [1]})


# ---------------------------------------------------------------- k-fold
@pytest.mark.parametrize("n,k", [(10, 5), (11, 3), (7, 7)])
def test_kfold_matches_sklearn(n, k):
    from sklearn.model_selection import KFold

    ours = S.kfold_indices(n, k)
    ref = list(KFold(k).split(np.zeros(n)))
    assert len(ours) == k
    for (tr, va), (rtr, rva) in zip(ours, ref):
        assert tr.tolist() == rtr.tolist() and va.tolist() == rva.tolist()


def test_shuffled_kfold_is_a_seeded_partition():
    folds = S.kfold_indices(23, 4, seed=1)
    val = torch.cat([va for _, va in folds])
    assert sorted(val.tolist()) == list(range(23))  # every example validated exactly once
    assert [len(va) for _, va in folds] == [6, 6, 6, 5]
    for tr, va in folds:
        assert set(tr.tolist()).isdisjoint(va.tolist()) and len(tr) + len(va) == 23
    assert all(torch.equal(a[1], b[1]) for a, b in zip(folds, S.kfold_indices(23, 4, seed=1)))
    assert not all(torch.equal(a[1], b[1]) for a, b in zip(folds, S.kfold_indices(23, 4, seed=2)))
    with pytest.raises(ValueError, match="k must be at most n"):
        S.kfold_indices(3, 4)
    with pytest.raises(ValueError, match="k must be an integer >= 2"):
        S.kfold_indices(3, 1)


def test_cross_validate_matches_sklearn():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold, cross_val_score

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.5, size=40)

    def fit_score(x_tr, y_tr, x_va, y_va):
        return Ridge(alpha=1.0).fit(x_tr, y_tr).score(x_va, y_va)

    ref = cross_val_score(Ridge(alpha=1.0), x, y, cv=KFold(5))
    result = S.cross_validate(fit_score, x, y, k=5)
    np.testing.assert_allclose(result.scores, ref)
    assert result.mean == pytest.approx(ref.mean()) and result.std == pytest.approx(ref.std())
    # tensors work too
    as_tensors = S.cross_validate(
        lambda a, b, c, d: fit_score(a.numpy(), b.numpy(), c.numpy(), d.numpy()),
        torch.from_numpy(x), torch.from_numpy(y), k=5)
    np.testing.assert_allclose(as_tensors.scores, ref)
    with pytest.raises(ValueError, match="same number of examples, got 40 and 39"):
        S.cross_validate(fit_score, x, y[:39])
