"""Preprocessing before training: zero-centring, PCA and whitening, and mean subtraction for images.

Taught in chapter 09 (09_initialization).

For data in rows, x: (N, D), the usual steps are

==================  =====================================  ===============================
step                x'                                     afterwards
==================  =====================================  ===============================
zero-centre         x − μ                                  mean 0
normalise           (x − μ) / σ   (per feature)            mean 0, standard deviation 1
PCA (decorrelate)   (x − μ) Uᵀ                             diagonal covariance
PCA whitening       (x − μ) Uᵀ / √(λ + ε)                  covariance ≈ identity
ZCA whitening       (x − μ) Uᵀ / √(λ + ε) · U              covariance ≈ identity, axes kept
==================  =====================================  ===============================

where the rows of U are the eigenvectors of the covariance matrix (the principal
directions) and λ its eigenvalues. (Per-feature normalisation lives in
:mod:`dlbook.scaling` as ``StandardScaler``.) PCA and whitening are common in classical
machine learning; for images the custom is simpler, only subtracting a mean:

* the **mean image** (AlexNet): the per-pixel mean over the training set, an array of
  the image's own shape, e.g. (3, 32, 32) — 3,072 numbers;
* the **per-channel mean** (VGG): one mean per colour channel — 3 numbers.

Statistics follow scikit-learn: the covariance divides by N − 1, so ``PCA(whiten=True)``
gives the same numbers as ``sklearn.decomposition.PCA(whiten=True)`` (up to the sign of
each component, which both choose arbitrarily; here the largest entry of each component
is made positive). ``tests/test_preprocessing.py`` checks it.
"""
from __future__ import annotations

import torch

from ._checks import as_float_tensor, check_ndim, check_number, check_positive_int
from .runtime import float64_device

__all__ = ["mean_image", "channel_mean", "subtract_mean", "PCA"]


# ---------------------------------------------------------------- images
def _images(x, name: str = "x") -> torch.Tensor:
    x = as_float_tensor(x, name)
    if x.ndim != 4:
        raise ValueError(f"{name} must be a batch of images of shape (N, C, H, W), got shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one image, got shape {tuple(x.shape)}")
    return x


def mean_image(x) -> torch.Tensor:
    """The per-pixel mean over a set of images (AlexNet's preprocessing): (N, C, H, W) → (C, H, W)."""
    return _images(x).mean(dim=0)


def channel_mean(x) -> torch.Tensor:
    """One mean per colour channel over all images and pixels (VGG's preprocessing): (N, C, H, W) → (C,)."""
    return _images(x).mean(dim=(0, 2, 3))


def subtract_mean(x, mean) -> torch.Tensor:
    """x − mean for images x: (N, C, H, W) and a mean image (C, H, W) or per-channel mean (C,) → (N, C, H, W)."""
    x = _images(x)
    mean = as_float_tensor(mean, "mean").to(device=x.device, dtype=x.dtype)
    C, H, W = x.shape[1:]
    if mean.shape == (C, H, W):
        return x - mean
    if mean.shape == (C,):
        return x - mean.view(1, C, 1, 1)
    raise ValueError(f"mean must be a mean image of shape {(C, H, W)} or a per-channel mean of shape ({C},), "
                     f"got shape {tuple(mean.shape)}")


# ---------------------------------------------------------------- PCA and whitening
def _principal_axes(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x: (N, D) → mean (D,), all principal directions as rows U (D, D), largest variance first,
    and their variances (D,) (covariance eigenvalues, dividing by N − 1, clamped at 0)."""
    N = x.shape[0]
    mean = x.mean(dim=0)
    xc = x - mean
    cov = xc.T @ xc / (N - 1)                                   # (D, D)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)           # ascending; columns are eigenvectors
    eigenvalues, U = eigenvalues.flip(0), eigenvectors.flip(1).T  # largest first; rows = directions
    signs = torch.sign(U.gather(1, U.abs().argmax(dim=1, keepdim=True)))  # largest entry positive
    return mean, U * signs, eigenvalues.clamp(min=0.0)


class PCA:
    """Principal component analysis with optional PCA or ZCA whitening, fitted on training rows.

    ``fit(x)`` with x: (N, D) learns ``mean_`` (D,), ``components_`` (k, D) — the principal
    directions as rows, largest variance first — and ``explained_variance_`` (k,), the
    variance along each (the covariance's eigenvalues, dividing by N − 1).

    ``transform``: (M, D) → (M, k): the coordinates along the components,
    (x − μ) Uᵀ, divided by √(λ + ε) when ``whiten``. With ``zca=True`` (which implies
    whitening and needs all D components) the whitened coordinates are rotated back,
    (x − μ) Uᵀ diag(1/√(λ + ε)) U: the result is white but stays close to the original axes,
    so (M, D) → (M, D). ``eps`` keeps directions of (almost) zero variance finite.

    Everything is computed on x's device in x's dtype, except on Apple's MPS, which has neither
    float64 nor ``torch.linalg.eigh``: there the fit runs on the CPU in float64 and the fitted
    statistics are stored back on x's device in x's dtype.
    """

    def __init__(self, n_components: int | None = None, *, whiten: bool = False, zca: bool = False,
                 eps: float = 0.0):
        self.n_components = None if n_components is None else check_positive_int(n_components, "n_components")
        self.zca = bool(zca)
        self.whiten = bool(whiten) or self.zca
        self.eps = check_number(eps, "eps", low=0.0)
        if self.zca and self.n_components is not None:
            raise ValueError("zca=True rotates back to the original axes, so it needs every component: "
                             f"leave n_components=None, got {self.n_components}")
        self.mean_ = self.components_ = self.explained_variance_ = None

    def fit(self, x) -> PCA:
        """Learn mean (D,), components (k, D) and variances (k,) from x: (N, D), N ≥ 2."""
        x = check_ndim(as_float_tensor(x), "x", 2)
        N, D = x.shape
        if N < 2:
            raise ValueError(f"x must have at least 2 rows to estimate a covariance, got shape {tuple(x.shape)}")
        k = D if self.n_components is None else self.n_components
        if k > D:
            raise ValueError(f"n_components must be at most the number of features {D}, got {k}")
        work = float64_device(x.device)
        xw = x if work == x.device else x.to(device=work, dtype=torch.float64)  # MPS: CPU, float64
        mean, U, variances = _principal_axes(xw)
        self.mean_ = mean.to(x)
        self.components_ = U[:k].to(x)
        self.explained_variance_ = variances[:k].to(x)
        return self

    def _check_fitted(self, x) -> torch.Tensor:
        if self.mean_ is None:
            raise RuntimeError("this PCA is not fitted yet: call fit(x_train) first")
        x = check_ndim(as_float_tensor(x), "x", 2)
        if x.shape[1] != self.mean_.shape[0]:
            raise ValueError(f"x must have {self.mean_.shape[0]} features (as the data fitted), got shape {tuple(x.shape)}")
        return x

    def _scale(self) -> torch.Tensor:
        return torch.rsqrt(self.explained_variance_ + self.eps)

    def transform(self, x) -> torch.Tensor:
        """x: (M, D) → (M, k), or (M, D) for ZCA."""
        x = self._check_fitted(x)
        mean, U = self.mean_.to(x), self.components_.to(x)
        z = (x - mean) @ U.T
        if self.whiten:
            z = z * self._scale().to(x)
        if self.zca:
            z = z @ U
        return z

    def fit_transform(self, x) -> torch.Tensor:
        return self.fit(x).transform(x)

    def inverse_transform(self, z) -> torch.Tensor:
        """Back to the original space: (M, k) → (M, D) (exact when all components are kept)."""
        if self.mean_ is None:
            raise RuntimeError("this PCA is not fitted yet: call fit(x_train) first")
        z = check_ndim(as_float_tensor(z), "z", 2)
        U = self.components_.to(z)
        width = U.shape[1] if self.zca else U.shape[0]
        if z.shape[1] != width:
            raise ValueError(f"z must have {width} columns, got shape {tuple(z.shape)}")
        if self.zca:
            z = z @ U.T
        if self.whiten:
            z = z / self._scale().to(z)
        return z @ U + self.mean_.to(z)

    def __repr__(self) -> str:
        kind = "ZCA whitening" if self.zca else "PCA whitening" if self.whiten else "PCA"
        fitted = "unfitted" if self.mean_ is None else f"{self.components_.shape[0]} of {self.mean_.shape[0]} components"
        return f"{type(self).__name__}({kind}, {fitted})"
