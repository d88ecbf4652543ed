"""k-nearest neighbours: the class most common among the k training points closest to a query.

Taught in chapter 18 (18_knn).

Nothing is learned: ``fit`` stores the training set, and ``predict`` computes all query-to-training
distances in batches (one matrix product: ‖a − b‖² = ‖a‖² − 2a·b + ‖b‖²), takes the k smallest with
``topk`` and counts votes — on whatever device the training tensors live (CPU or GPU).

Votes. ``weights="uniform"``: each neighbour counts 1. ``weights="rank"`` (the lectures' "inverted
index"): the neighbour at rank r (1 = nearest) counts 1/r, so near neighbours outvote far ones.

Ties are explicit. A vote is *tied* when two or more classes share the top score. ``predict`` then
returns the tied class whose member comes first in the ranking (the nearest neighbour among the tied
classes), independent of how the classes are numbered — but not the same as shrinking k until the
tie disappears (k = 4 with neighbours ranked B, A, A, B gives B; k = 3 gives A). ``predict_with_ties`` returns that label together with a boolean mask marking every tied
query, and ``decision_grid`` reports tied grid points as −1 (the grey "undecided" area of the plots).
(scikit-learn breaks the same ties towards the smallest label instead, so the two agree everywhere
except at ties.) Rank scores are compared with a tolerance of 1e-9 in float64 — on the training data's
device, or on the CPU for Apple's MPS, which has no float64 (see ``dlbook.runtime.float64_device``).

Equidistant neighbours at the k-th place are chosen by ``topk``: the model stays deterministic (same
data, same k, same device → same answer), but which of two equally distant points counts is not
specified.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral

import torch

from ._checks import as_float_tensor, check_ndim, check_number, check_positive_int, fraction_true
from .language import tr
from .runtime import float64_device
from .search import CVResult, kfold_indices

__all__ = [
    "squared_distances", "pairwise_distances", "KNNClassifier", "rank_weighted_scores", "vote_counts",
    "LECTURE_RANKING", "sqrt_rule_k", "cross_validate_k", "KSelection", "decision_grid", "plot_decision_boundaries",
]

_TIE_TOL = 1e-9
WEIGHTS = ("uniform", "rank")


# ---------------------------------------------------------------- distances
def squared_distances(a, b, b_sq: torch.Tensor | None = None) -> torch.Tensor:
    """‖aᵢ − bⱼ‖² for all pairs via ‖a‖² − 2a·b + ‖b‖²: a (M, D), b (N, D) → (M, N), clamped at 0.

    ``b_sq`` (N,) may pass precomputed ‖bⱼ‖². One (M, D)×(D, N) product does nearly all the work.
    """
    a_sq = (a * a).sum(dim=1, keepdim=True)                   # (M, 1)
    b_sq = (b * b).sum(dim=1) if b_sq is None else b_sq       # (N,)
    return torch.addmm(b_sq.unsqueeze(0) + a_sq, a, b.t(), alpha=-2).clamp_min_(0)


def pairwise_distances(a, b, p: float = 2) -> torch.Tensor:
    """Minkowski distances (Σ|aᵢ − bⱼ|ᵖ)^(1/p): a (M, D), b (N, D) → (M, N). p = 2 uses the ‖a‖² − 2ab + ‖b‖² trick."""
    a = check_ndim(as_float_tensor(a, "a"), "a", 2)
    b = check_ndim(as_float_tensor(b, "b"), "b", 2).to(device=a.device, dtype=a.dtype)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must have the same number of features, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    p = _check_p(p)
    return squared_distances(a, b).sqrt() if p == 2 else torch.cdist(a, b, p=p)


def _check_p(p) -> float:
    if isinstance(p, (int, float)) and not isinstance(p, bool) and p == math.inf:
        return math.inf
    return check_number(p, "p", low=1.0)


# ---------------------------------------------------------------- votes
def _rank_weights(k: int, weights: str, dtype=torch.float64, device=None) -> torch.Tensor:
    """(k,) vote weights: all 1, or 1/r for ranks r = 1 … k."""
    if weights == "uniform":
        return torch.ones(k, dtype=dtype, device=device)
    return 1.0 / torch.arange(1, k + 1, dtype=dtype, device=device)


def _vote(neighbour_classes: torch.Tensor, n_classes: int, weights: str):
    """neighbour_classes (B, k) class indices in rank order → (scores (B, C) float64, prediction (B,), tie (B,)).

    prediction: the top-scoring class; among tied classes, the one whose member ranks first.
    The vote is counted in float64 on ``float64_device`` of the input (its own device, or the
    CPU for MPS); prediction and tie come back on the input's device, the scores stay there.
    """
    device = neighbour_classes.device
    neighbour_classes = neighbour_classes.to(float64_device(device))
    B, k = neighbour_classes.shape
    w = _rank_weights(k, weights, device=neighbour_classes.device).expand(B, k)
    scores = torch.zeros(B, n_classes, dtype=torch.float64, device=neighbour_classes.device)
    scores.scatter_add_(1, neighbour_classes, w)
    top = scores >= scores.amax(dim=1, keepdim=True) - _TIE_TOL      # (B, C) classes sharing the top score
    tie = top.sum(dim=1) > 1
    in_top = top.gather(1, neighbour_classes)                          # (B, k): neighbour r belongs to a top class
    ranks = torch.arange(k, device=neighbour_classes.device).expand(B, k)
    first = torch.where(in_top, ranks, k).argmin(dim=1, keepdim=True)  # the best-ranked such neighbour
    prediction = neighbour_classes.gather(1, first).squeeze(1)
    return scores, prediction.to(device), tie.to(device)


# ---------------------------------------------------------------- the classifier
class KNNClassifier:
    """k-nearest-neighbour classifier (uniform or rank-weighted vote, Minkowski distance of order p).

    fit(x (n, D), y (n,) integer labels) stores the data; predict(x (M, D)) → labels (M,).
    """

    def __init__(self, k: int = 5, weights: str = "uniform", p: float = 2):
        self.k = check_positive_int(k, "k")
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be 'uniform' or 'rank', got {weights!r}")
        self.weights = weights
        self.p = _check_p(p)
        self.x_train: torch.Tensor | None = None

    def __repr__(self) -> str:
        fitted = "" if self.x_train is None else f", n_train={self.n_train}"
        return f"KNNClassifier(k={self.k}, weights={self.weights!r}, p={self.p:g}{fitted})"

    # -- training: remember everything
    def fit(self, x, y) -> "KNNClassifier":
        """x: (n, D) features, y: (n,) integer class labels (any integers; stored as indices into ``classes_``)."""
        x = check_ndim(as_float_tensor(x, "x"), "x", 2)
        y = _as_labels(y, "y")
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"x and y must have the same number of samples, got x {tuple(x.shape)} and y {tuple(y.shape)}")
        if x.shape[0] == 0:
            raise ValueError(f"x must contain at least one training point, got shape {tuple(x.shape)}")
        if self.k > x.shape[0]:
            raise ValueError(f"k={self.k} is larger than the number of training points n_train={x.shape[0]}")
        y = y.to(x.device)
        self.classes_ = torch.unique(y)                             # sorted
        self.y_train = torch.searchsorted(self.classes_, y)        # class indices 0 … C − 1
        self.x_train = x
        self._x_sq = (x * x).sum(dim=1)
        return self

    @property
    def n_train(self) -> int:
        return self._fitted().shape[0]

    @property
    def n_features(self) -> int:
        return self._fitted().shape[1]

    def to(self, device) -> "KNNClassifier":
        """Move the stored training data (and so all later distance computations) to ``device``."""
        x = self._fitted()
        self.x_train, self._x_sq = x.to(device), self._x_sq.to(device)
        self.y_train, self.classes_ = self.y_train.to(device), self.classes_.to(device)
        return self

    def _fitted(self) -> torch.Tensor:
        if self.x_train is None:
            raise RuntimeError("this KNNClassifier is not fitted yet: call fit(x, y) first")
        return self.x_train

    def _queries(self, x) -> torch.Tensor:
        x_train = self._fitted()
        x = check_ndim(as_float_tensor(x, "x"), "x", 2)
        if x.shape[1] != x_train.shape[1]:
            raise ValueError(
                f"x must have {x_train.shape[1]} features, as the training data had, got shape {tuple(x.shape)}"
            )
        return x

    # -- inference
    def kneighbors(self, x, k: int | None = None, batch_size: int = 1024):
        """x: (M, D) → (distances (M, k), indices (M, k)) of the k nearest training points, nearest first."""
        x = self._queries(x)
        k = self.k if k is None else check_positive_int(k, "k")
        if k > self.n_train:
            raise ValueError(f"k={k} is larger than the number of training points n_train={self.n_train}")
        batch_size = check_positive_int(batch_size, "batch_size")
        out_device = x.device
        x = x.to(device=self.x_train.device, dtype=self.x_train.dtype)
        dists, idx = [], []
        for chunk in x.split(batch_size):
            if self.p == 2:
                d = squared_distances(chunk, self.x_train, self._x_sq)
            else:
                d = torch.cdist(chunk, self.x_train, p=self.p)
            d_k, i_k = d.topk(k, dim=1, largest=False, sorted=True)
            dists.append(d_k.sqrt() if self.p == 2 else d_k)
            idx.append(i_k)
        return torch.cat(dists).to(out_device), torch.cat(idx).to(out_device)

    def _votes(self, x, batch_size: int):
        x = self._queries(x)
        _, idx = self.kneighbors(x, batch_size=batch_size)
        idx = idx.to(self.x_train.device)
        return x.device, _vote(self.y_train[idx], len(self.classes_), self.weights)

    def vote_scores(self, x, batch_size: int = 1024) -> torch.Tensor:
        """x: (M, D) → (M, C) float64 vote totals per class (columns in the order of ``classes_``).

        On ``x``'s device, or on the CPU when that is MPS (no float64 there).
        """
        device, (scores, _, _) = self._votes(x, batch_size)
        return scores.to(float64_device(device))

    def predict_with_ties(self, x, batch_size: int = 1024):
        """x: (M, D) → (labels (M,), tie (M,) bool). ``tie`` marks queries whose top score is shared."""
        device, (_, pred, tie) = self._votes(x, batch_size)
        return self.classes_[pred].to(device), tie.to(device)

    def predict(self, x, batch_size: int = 1024) -> torch.Tensor:
        """x: (M, D) → labels (M,). Tied votes go to the tied class with the nearest member (see module doc)."""
        return self.predict_with_ties(x, batch_size)[0]

    def score(self, x, y, batch_size: int = 1024) -> float:
        """Accuracy of ``predict(x)`` against labels y (M,)."""
        y = _as_labels(y, "y")
        pred = self.predict(x, batch_size)
        if y.shape != pred.shape:
            raise ValueError(f"y must have shape {tuple(pred.shape)} to match x, got {tuple(y.shape)}")
        return fraction_true(pred == y.to(pred.device))


def _as_labels(y, name: str) -> torch.Tensor:
    t = torch.as_tensor(y) if not isinstance(y, torch.Tensor) else y
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name} must hold integer class labels, got dtype {t.dtype}")
    if t.is_floating_point():
        if not torch.equal(t, t.round()):
            raise TypeError(f"{name} must hold integer class labels, got non-integer values of dtype {t.dtype}")
        t = t.long()
    check_ndim(t, name, 1)
    return t.long()


# ---------------------------------------------------------------- the lecture's worked example
#: Neighbours of the lecture's query in rank order (rank 1 first): red at 1, 2, 3, 4, 6; green at 5, 7–11.
LECTURE_RANKING = ("red", "red", "red", "red", "green", "red", "green", "green", "green", "green", "green")


def _ranked(ranked_labels, k):
    labels = list(ranked_labels)
    if not labels:
        raise ValueError("ranked_labels must contain at least one label")
    if k is None:
        return labels
    k = check_positive_int(k, "k")
    if k > len(labels):
        raise ValueError(f"k={k} is larger than the number of ranked labels ({len(labels)})")
    return labels[:k]


def rank_weighted_scores(ranked_labels, k: int | None = None, *, exact: bool = False) -> dict:
    """Score 1/rank per label: ranked_labels[0] is rank 1. Uses the first ``k`` (default: all).

    >>> rank_weighted_scores(LECTURE_RANKING, exact=True)["red"]     # 1 + 1/2 + 1/3 + 1/4 + 1/6
    Fraction(9, 4)

    With k = 11 green scores 1/5 + 1/7 + 1/8 + 1/9 + 1/10 + 1/11 ≈ 0.770 (the lecture's 0.645 leaves out
    1/8), so red (2.25) wins the weighted vote although green wins the plain vote 6 to 5. With k = 7,
    green has 1/5 + 1/7 = 12/35 ≈ 0.343 (the lecture writes only 1/5) and red wins either way.
    ``exact=True`` returns ``fractions.Fraction`` values, else floats.
    """
    scores: dict = {}
    for rank, label in enumerate(_ranked(ranked_labels, k), start=1):
        scores[label] = scores.get(label, Fraction(0)) + Fraction(1, rank)
    return scores if exact else {label: float(s) for label, s in scores.items()}


def vote_counts(ranked_labels, k: int | None = None) -> dict:
    """The plain majority vote: how many of the first ``k`` ranked labels (default: all) each label has."""
    counts: dict = {}
    for label in _ranked(ranked_labels, k):
        counts[label] = counts.get(label, 0) + 1
    return counts


# ---------------------------------------------------------------- choosing k
def sqrt_rule_k(n: int) -> int:
    """Rule of thumb k = √n, rounded to the nearest integer and then made odd by adding 1 if even.

    Rounding is exact integer arithmetic (√n is never exactly halfway between two integers), and
    an odd k cannot tie between two classes. The result never exceeds n: sqrt_rule_k(100) = 11,
    sqrt_rule_k(5000) = 71, sqrt_rule_k(3) = 3.
    """
    n = check_positive_int(n, "n")
    r = math.isqrt(n)
    if n - r * r > r:           # √n > r + ½  ⇔  n > r² + r + ¼  ⇔  n > r² + r
        r += 1
    return r if r % 2 else r + 1


@dataclass
class KSelection:
    """Cross-validated accuracy for each candidate k: one :class:`dlbook.search.CVResult` per k, as tensors.

    The folds are :func:`dlbook.search.kfold_indices` and ``std`` follows
    :class:`dlbook.search.CVResult` (population, ddof = 0): k-fold cross-validation is taught in
    chapter 12, and this is the same computation, done for every k at once.
    """

    ks: list[int]
    scores: torch.Tensor   # (len(ks), folds) accuracy of every fold
    mean: torch.Tensor     # (len(ks),)
    std: torch.Tensor      # (len(ks),) population standard deviation over folds (ddof = 0)
    best_k: int            # highest mean accuracy; the smallest such k on a tie

    def result(self, k: int) -> CVResult:
        """The :class:`dlbook.search.CVResult` of one candidate ``k``."""
        if k not in self.ks:
            raise ValueError(f"k={k!r} was not cross-validated; expected one of {self.ks}")
        return CVResult(self.scores[self.ks.index(k)].tolist())


def cross_validate_k(x, y, ks, folds: int = 5, seed: int = 0, *, weights: str = "uniform", p: float = 2,
                     batch_size: int = 1024) -> KSelection:
    """Shuffled ``folds``-fold cross-validation of kNN for every k in ``ks``.

    x: (n, D), y: (n,). The folds are :func:`dlbook.search.kfold_indices` ``(n, folds, seed)``, the ones
    :func:`dlbook.search.cross_validate` uses (chapter 12). For each fold the neighbours are ranked once
    (up to max(ks)) and every k is scored from that ranking. Ties follow ``KNNClassifier.predict``.
    """
    x = check_ndim(as_float_tensor(x, "x"), "x", 2)
    y = _as_labels(y, "y").to(x.device)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"x and y must have the same number of samples, got x {tuple(x.shape)} and y {tuple(y.shape)}")
    n = x.shape[0]
    folds = check_positive_int(folds, "folds", minimum=2)
    if folds > n:
        raise ValueError(f"folds={folds} is larger than the number of samples n={n}")
    seed = check_positive_int(seed, "seed", minimum=0)
    if isinstance(ks, Integral):
        ks = [ks]
    ks = [check_positive_int(k, "each k in ks") for k in ks]
    if not ks:
        raise ValueError("ks must contain at least one k")
    smallest_train = n - math.ceil(n / folds)
    if max(ks) > smallest_train:
        raise ValueError(f"k={max(ks)} is larger than the smallest training fold n_train={smallest_train}")
    scores = torch.empty(len(ks), folds, dtype=torch.float64)
    for f, (train, val) in enumerate(kfold_indices(n, folds, seed)):
        train, val = train.to(x.device), val.to(x.device)
        model = KNNClassifier(max(ks), weights, p).fit(x[train], y[train])
        _, idx = model.kneighbors(x[val], batch_size=batch_size)
        ranked = model.y_train[idx]                                # (n_val, max k) class indices
        truth = torch.searchsorted(model.classes_, y[val])
        known = model.classes_[truth.clamp_max(len(model.classes_) - 1)] == y[val]
        for i, k in enumerate(ks):
            _, pred, _ = _vote(ranked[:, :k], len(model.classes_), weights)
            scores[i, f] = fraction_true((pred == truth) & known)
    mean = scores.mean(dim=1)
    std = scores.std(dim=1, correction=0)  # ddof = 0, as search.CVResult.std
    best_k = min(k for k, m in zip(ks, mean.tolist()) if m >= mean.max().item() - 1e-12)
    return KSelection(ks, scores, mean, std, best_k)


# ---------------------------------------------------------------- decision regions
def _resolution(resolution) -> tuple[int, int]:
    if isinstance(resolution, (tuple, list)):
        if len(resolution) != 2:
            raise ValueError(f"resolution must be an int or a pair (nx, ny), got {resolution!r}")
        return check_positive_int(resolution[0], "resolution[0]", minimum=2), check_positive_int(resolution[1], "resolution[1]", minimum=2)
    r = check_positive_int(resolution, "resolution", minimum=2)
    return r, r


def _range(r, name: str) -> tuple[float, float]:
    if not isinstance(r, (tuple, list)) or len(r) != 2:
        raise TypeError(f"{name} must be a pair (low, high), got {r!r}")
    lo, hi = check_number(r[0], f"{name}[0]"), check_number(r[1], f"{name}[1]")
    if not lo < hi:
        raise ValueError(f"{name} must have low < high, got ({lo}, {hi})")
    return lo, hi


def _check_2d(model) -> torch.Tensor:
    if not isinstance(model, KNNClassifier):
        raise TypeError(f"model must be a fitted KNNClassifier, got {type(model).__name__}")
    x_train = model._fitted()
    if x_train.shape[1] != 2:
        raise ValueError(f"decision regions need 2 features, but the model was fitted on shape {tuple(x_train.shape)}")
    return x_train


def _class_or_tie(model: KNNClassifier, points: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """(M,) index into ``model.classes_`` of each point's vote, −1 where the vote ties."""
    _, idx = model.kneighbors(points, batch_size=batch_size)
    _, pred, tie = _vote(model.y_train[idx], len(model.classes_), model.weights)
    return torch.where(tie, -1, pred)


def _label_or_tie(model: KNNClassifier, cls: torch.Tensor) -> torch.Tensor:
    """Class indices (−1 at ties, from :func:`_class_or_tie`) as the model's labels, −1 kept."""
    return torch.where(cls >= 0, model.classes_[cls.clamp_min(0)], -1)


def _grid_classes(model: KNNClassifier, x_range, y_range, resolution, batch_size: int):
    """(xx, yy, class index grid (ny, nx) with −1 at ties), on the model's device."""
    x_train = _check_2d(model)
    (x0, x1), (y0, y1) = _range(x_range, "x_range"), _range(y_range, "y_range")
    nx, ny = _resolution(resolution)
    kw = dict(dtype=x_train.dtype, device=x_train.device)
    xx, yy = torch.meshgrid(torch.linspace(x0, x1, nx, **kw), torch.linspace(y0, y1, ny, **kw), indexing="xy")
    points = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
    return xx, yy, _class_or_tie(model, points, batch_size).reshape(ny, nx)


def decision_grid(model: KNNClassifier, x_range, y_range, resolution=200, batch_size: int = 4096):
    """Predict on a regular grid: (xx (ny, nx), yy (ny, nx), labels (ny, nx) long with −1 where the vote ties).

    ``resolution`` is points per axis (an int, or (nx, ny)); the model must be fitted on 2 features
    and its labels must not include −1.
    """
    xx, yy, cls = _grid_classes(model, x_range, y_range, resolution, batch_size)
    if bool((model.classes_ == -1).any()):
        raise ValueError("the model's labels include -1, which decision_grid uses to mark ties")
    return xx, yy, _label_or_tie(model, cls)


def plot_decision_boundaries(models, resolution: int = 200, *, padding: float = 0.1, ncols: int | None = None,
                             titles=None, panel_size=(3.6, 3.2)):
    """One panel per fitted 2-D ``KNNClassifier``: decision regions drawn by
    :func:`dlbook.plot.plot_decision_regions` (ties in grey), training points on top.

    ``models``: a model or a list of them (e.g. the same data with k = 1, 5, 25). All panels share the
    bounding box of all training points, widened by ``padding`` × its size, and one colour per class.
    Returns a ``matplotlib.figure.Figure`` (built with the object API, nothing is shown or kept by pyplot).
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from .plot import plot_decision_regions

    models = [models] if isinstance(models, KNNClassifier) else list(models)
    if not models or not all(isinstance(m, KNNClassifier) for m in models):
        raise TypeError("models must be a fitted KNNClassifier or a non-empty list of them")
    padding = check_number(padding, "padding", low=0.0)
    if titles is not None and len(titles) != len(models):
        raise ValueError(f"titles must have one entry per model ({len(models)}), got {len(titles)}")
    pts = torch.cat([_check_2d(m).detach().cpu().double() for m in models])
    lo, hi = pts.amin(0), pts.amax(0)
    pad = (hi - lo).clamp_min(1e-12) * padding
    (x0, y0), (x1, y1) = (lo - pad).tolist(), (hi + pad).tolist()
    all_classes = torch.unique(torch.cat([m.classes_.cpu() for m in models]))

    ncols = min(len(models), 3) if ncols is None else check_positive_int(ncols, "ncols")
    nrows = math.ceil(len(models) / ncols)
    fig = Figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, (ax, m) in enumerate(zip(axes, models)):
        def vote(points, m=m):
            return _label_or_tie(m, _class_or_tie(m, points))

        weighted = tr(", 1/순위", ", 1/rank") if m.weights == "rank" else ""
        plot_decision_regions(vote, m.x_train, m.y_train, ax=ax, resolution=resolution, extent=(x0, x1, y0, y1),
                              classes=all_classes, title=titles[i] if titles is not None else f"k = {m.k}{weighted}")
        ax.set(xlabel=None, ylabel=None)
    for ax in axes[len(models):]:
        ax.set_visible(False)
    handles = [Line2D([], [], ls="", marker="o", mfc=f"C{j % 10}", mec="k", label=str(c.item()))
               for j, c in enumerate(all_classes)]
    handles.append(Line2D([], [], ls="", marker="s", mfc="0.6", mec="0.6", label=tr("동점", "tie")))
    fig.legend(handles=handles, loc="outside right center", frameon=False)
    return fig
