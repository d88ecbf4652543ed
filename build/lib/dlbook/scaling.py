"""Feature scaling: min-max scaling and standardisation, fitted on the training data only.

Taught in chapter 08 (08_pytorch).

Features measured on very different scales (a wine's hue near 1, its proline near 1,000)
stretch the loss surface into a long narrow valley, and push sigmoid and tanh units into
saturation; gradient descent then crawls. Two common fixes, applied per feature j
(statistics over the rows, dimension 0):

====================  ======================================  =========================
scaler                x'ⱼ                                     result
====================  ======================================  =========================
``MinMaxScaler``      (xⱼ − minⱼ) / (maxⱼ − minⱼ)              in [0, 1] on the fitted data
``StandardScaler``    (xⱼ − μⱼ) / σⱼ                          mean 0, standard deviation 1
====================  ======================================  =========================

``fit`` learns the statistics from the **training** data; ``transform`` applies those
same numbers to any data (validation, test, a new sample), so no information leaks from
the test set. σ is the population standard deviation (divide by N, as scikit-learn
does), and a constant feature (range or σ equal to 0) is left unscaled (divided by 1),
as in scikit-learn. ``tests/test_scaling.py`` compares both with scikit-learn.

    scaler = StandardScaler().fit(x_train)           # x_train: (N, D)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
"""
from __future__ import annotations

import torch

from ._checks import as_float_tensor, check_number

__all__ = ["MinMaxScaler", "StandardScaler"]


def _rows(x, name: str = "x") -> torch.Tensor:
    x = as_float_tensor(x, name)
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least 1 dimension (one row per sample), got a scalar")
    return x


class _Scaler:
    """x' = (x − shift) / scale per feature; subclasses say how ``fit`` finds shift and scale."""

    _stats: tuple[str, ...] = ()

    def __init__(self):
        self.shift_: torch.Tensor | None = None
        self.scale_: torch.Tensor | None = None

    # -- subclasses fill these two from the data
    def _fit(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def fit(self, x):
        """Learn the per-feature statistics of ``x``: (N, …) → self (statistics of shape …)."""
        x = _rows(x)
        if x.shape[0] == 0:
            raise ValueError(f"x must hold at least one row to fit, got shape {tuple(x.shape)}")
        shift, scale = self._fit(x)
        self.shift_ = shift
        self.scale_ = torch.where(scale == 0, torch.ones_like(scale), scale)  # constant feature: leave it
        return self

    def _fitted(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.shift_ is None:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet: call fit(x_train) first")
        if tuple(x.shape[1:]) != tuple(self.shift_.shape):
            raise ValueError(f"x must have rows of shape {tuple(self.shift_.shape)} (as in fit), "
                             f"got shape {tuple(x.shape)}")
        return self.shift_.to(x), self.scale_.to(x)

    def transform(self, x) -> torch.Tensor:
        """(N, …) → (N, …): scaled with the fitted statistics, on ``x``'s device and dtype."""
        x = _rows(x)
        shift, scale = self._fitted(x)
        return (x - shift) / scale

    def fit_transform(self, x) -> torch.Tensor:
        """``fit(x)`` then ``transform(x)``: use it on the training data only."""
        return self.fit(x).transform(x)

    def inverse_transform(self, x) -> torch.Tensor:
        """Undo ``transform``: (N, …) → (N, …) in the original units."""
        x = _rows(x)
        shift, scale = self._fitted(x)
        return x * scale + shift

    def state_dict(self) -> dict:
        """The fitted statistics, to save next to a model's checkpoint."""
        return {"shift": self.shift_, "scale": self.scale_}

    def load_state_dict(self, state) -> None:
        self.shift_, self.scale_ = state["shift"], state["scale"]

    def __repr__(self) -> str:
        fitted = "unfitted" if self.shift_ is None else f"fitted on rows of shape {tuple(self.shift_.shape)}"
        return f"{type(self).__name__}({fitted})"


class MinMaxScaler(_Scaler):
    """x' = (x − min) / (max − min) per feature, so the training data lies in [0, 1].

    ``feature_range=(a, b)`` maps to [a, b] instead: x'' = a + (b − a)·x'. Attributes
    after ``fit``: ``min_``, ``max_`` (shape of one row).
    """

    def __init__(self, feature_range=(0.0, 1.0)):
        super().__init__()
        if not isinstance(feature_range, (tuple, list)) or len(feature_range) != 2:
            raise TypeError(f"feature_range must be a pair (low, high), got {feature_range!r}")
        low = check_number(feature_range[0], "feature_range[0]")
        high = check_number(feature_range[1], "feature_range[1]")
        if not low < high:
            raise ValueError(f"feature_range must have low < high, got {feature_range!r}")
        self.feature_range = (low, high)
        self.min_ = self.max_ = None

    def _fit(self, x):
        self.min_, self.max_ = x.amin(dim=0), x.amax(dim=0)
        low, high = self.feature_range
        data_range = self.max_ - self.min_
        width = torch.where(data_range == 0, torch.ones_like(data_range), data_range) / (high - low)
        # x'' = low + (x − min)/range·(high − low) = (x − shift)/scale with
        return self.min_ - low * width, width


class StandardScaler(_Scaler):
    """x' = (x − μ) / σ per feature: mean 0 and standard deviation 1 on the training data.

    σ is the population standard deviation (÷N, as scikit-learn). Attributes after
    ``fit``: ``mean_``, ``std_`` (shape of one row).
    """

    def __init__(self):
        super().__init__()
        self.mean_ = self.std_ = None

    def _fit(self, x):
        self.mean_ = x.mean(dim=0)
        self.std_ = x.std(dim=0, correction=0)
        return self.mean_, self.std_
