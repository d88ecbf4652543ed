"""Hyperparameter search: grid and random search, log-uniform sampling, k-fold cross-validation.

Taught in chapter 12 (12_babysitting).

Random search beats grid search when only a few hyperparameters matter: a 3×3 grid
tries just 3 values of each, 9 random trials try 9. Rates such as the learning rate
or weight decay are searched on a **log** scale (10⁻⁵ … 10⁻¹ equally likely per
decade): ``log_uniform(1e-5, 1e-1)``. Search coarse (few epochs, wide ranges), then
fine (narrow ranges around the best).

Every search returns its :class:`Trial` s sorted **best first** (``mode="max"`` for
scores such as accuracy, ``"min"`` for losses; NaN scores go last).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from ._checks import check_number, check_positive_int

__all__ = [
    "Uniform", "LogUniform", "Choice", "uniform", "log_uniform", "choice", "sample_params",
    "Trial", "grid_search", "random_search", "kfold_indices", "CVResult", "cross_validate",
]


# ---------------------------------------------------------------- samplers
def _unit(generator, n=None) -> torch.Tensor:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return torch.rand(() if n is None else (n,), generator=generator, dtype=torch.float64)


@dataclass(frozen=True)
class Uniform:
    """x ~ U(low, high)."""

    low: float
    high: float

    def samples(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n,) float64 draws."""
        return self.low + (self.high - self.low) * _unit(generator, check_positive_int(n, "n"))

    def sample(self, generator: torch.Generator | None = None) -> float:
        return float(self.low + (self.high - self.low) * _unit(generator))


@dataclass(frozen=True)
class LogUniform:
    """log x ~ U(log low, log high): every decade between low and high equally likely."""

    low: float
    high: float

    def samples(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        lo, hi = math.log(self.low), math.log(self.high)
        return torch.exp(lo + (hi - lo) * _unit(generator, check_positive_int(n, "n")))

    def sample(self, generator: torch.Generator | None = None) -> float:
        lo, hi = math.log(self.low), math.log(self.high)
        return float(torch.exp(lo + (hi - lo) * _unit(generator)))


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of options, equally likely."""

    options: tuple

    def sample(self, generator: torch.Generator | None = None):
        i = int(torch.randint(len(self.options), (), generator=generator))
        return self.options[i]


def _bounds(low, high, *, positive: bool = False) -> tuple[float, float]:
    low = check_number(low, "low", low=0.0, low_inclusive=False) if positive else check_number(low, "low")
    high = check_number(high, "high")
    if not high > low:
        raise ValueError(f"high must be greater than low, got low={low}, high={high}")
    return low, high


def uniform(low: float, high: float) -> Uniform:
    """A sampler of U(low, high)."""
    return Uniform(*_bounds(low, high))


def log_uniform(low: float, high: float) -> LogUniform:
    """A sampler uniform in log space between ``low`` > 0 and ``high`` (for rates: 1e-5 … 1e-1)."""
    return LogUniform(*_bounds(low, high, positive=True))


def choice(options: Sequence) -> Choice:
    """A sampler picking one of ``options``."""
    options = tuple(options)
    if not options:
        raise ValueError("options must not be empty")
    return Choice(options)


def sample_params(space: dict, generator: torch.Generator | None = None) -> dict:
    """One draw from a search space ``{name: sampler or constant}`` (in the dict's order)."""
    return {name: s.sample(generator) if hasattr(s, "sample") else s for name, s in space.items()}


# ---------------------------------------------------------------- searches
@dataclass
class Trial:
    """One evaluated setting: the hyperparameters and the score ``fn(**params)`` returned."""

    params: dict
    score: float
    index: int = field(default=0, compare=False)  # order of evaluation


def _check_mode(mode: str) -> None:
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' (higher score is better) or 'min' (lower is better), got {mode!r}")


def _ranked(trials: list[Trial], mode: str) -> list[Trial]:
    """Best first; NaN scores last; ties keep evaluation order."""
    sign = -1.0 if mode == "max" else 1.0
    return sorted(trials, key=lambda t: (math.isnan(t.score), sign * t.score if not math.isnan(t.score) else 0.0))


def _evaluate(fn: Callable[..., float], settings, mode: str) -> list[Trial]:
    if not callable(fn):
        raise TypeError(f"fn must be a function of the hyperparameters returning a score, got {type(fn).__name__}")
    _check_mode(mode)
    trials = []
    for i, params in enumerate(settings):
        score = fn(**params)
        score = float(score.item() if isinstance(score, torch.Tensor) else score)
        trials.append(Trial(params, score, i))
    return _ranked(trials, mode)


def grid_search(fn: Callable[..., float], grid: dict[str, Sequence], *, mode: str = "max") -> list[Trial]:
    """Evaluate ``fn(**params)`` on every combination of ``grid = {name: [values]}``; best first."""
    if not isinstance(grid, dict) or not grid:
        raise TypeError(f"grid must be a non-empty dict {{name: [values]}}, got {grid!r}")
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") or len(list(values)) == 0:
            raise ValueError(f"grid[{name!r}] must be a non-empty list of values, got {values!r}")
    names = list(grid)
    settings = [dict(zip(names, combo)) for combo in itertools.product(*(list(grid[n]) for n in names))]
    return _evaluate(fn, settings, mode)


def random_search(fn: Callable[..., float], space: dict, n_trials: int, *, seed: int = 0,
                  mode: str = "max") -> list[Trial]:
    """Evaluate ``fn`` at ``n_trials`` settings drawn from ``space = {name: sampler or constant}``; best first.

    Samplers: :func:`uniform`, :func:`log_uniform`, :func:`choice` (anything with ``.sample(generator)``).
    The draws depend only on ``seed``.
    """
    if not isinstance(space, dict) or not space:
        raise TypeError(f"space must be a non-empty dict {{name: sampler}}, got {space!r}")
    n_trials = check_positive_int(n_trials, "n_trials")
    seed = check_positive_int(seed, "seed", minimum=0)
    g = torch.Generator().manual_seed(seed)
    settings = [sample_params(space, g) for _ in range(n_trials)]
    return _evaluate(fn, settings, mode)


# ---------------------------------------------------------------- cross-validation
def kfold_indices(n: int, k: int = 5, seed: int | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """k (train, validation) index pairs that split range(n) into k folds.

    The first n mod k folds hold ⌊n/k⌋ + 1 examples, the rest ⌊n/k⌋ (as scikit-learn's ``KFold``).
    ``seed=None`` keeps the order (fold i is a contiguous block); a seed shuffles first.
    Indices are sorted int64 tensors; every example is validated exactly once.
    """
    n = check_positive_int(n, "n")
    k = check_positive_int(k, "k", minimum=2)
    if k > n:
        raise ValueError(f"k must be at most n (each fold needs an example), got k={k}, n={n}")
    if seed is None:
        order = torch.arange(n)
    else:
        order = torch.randperm(n, generator=torch.Generator().manual_seed(check_positive_int(seed, "seed", minimum=0)))
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    folds = []
    for val in torch.split(order, sizes):
        in_val = torch.zeros(n, dtype=torch.bool)
        in_val[val] = True
        folds.append((torch.nonzero(~in_val).flatten(), torch.nonzero(in_val).flatten()))
    return folds


@dataclass
class CVResult:
    """Scores of the k folds, their mean and (population, ddof = 0) standard deviation.

    The library's one cross-validation result (:func:`dlbook.knn.cross_validate_k` returns one per k).
    ddof = 0 is the convention of NumPy's ``std`` and so of scikit-learn users' ``scores.std()``:
    the k scores are described as they are, not used to estimate a wider population.
    """

    scores: list[float]

    @property
    def mean(self) -> float:
        return sum(self.scores) / len(self.scores)

    @property
    def std(self) -> float:
        m = self.mean
        return math.sqrt(sum((s - m) ** 2 for s in self.scores) / len(self.scores))


def _take(data, idx: torch.Tensor):
    if isinstance(data, torch.Tensor):
        return data[idx.to(data.device)]
    return data[idx.numpy()]  # NumPy arrays (and anything indexable by an int array)


def cross_validate(fit_score_fn: Callable, x, y, k: int = 5, *, seed: int | None = None) -> CVResult:
    """k-fold cross-validation: ``fit_score_fn(x_train, y_train, x_val, y_val) → score`` on every fold.

    x: (n, …) and y: (n, …) tensors or NumPy arrays with the same first dimension.
    """
    if not callable(fit_score_fn):
        raise TypeError(f"fit_score_fn must be callable, got {type(fit_score_fn).__name__}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same number of examples, got {len(x)} and {len(y)}")
    scores = []
    for train, val in kfold_indices(len(x), k, seed):
        score = fit_score_fn(_take(x, train), _take(y, train), _take(x, val), _take(y, val))
        scores.append(float(score.item() if isinstance(score, torch.Tensor) else score))
    return CVResult(scores)
