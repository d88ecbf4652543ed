"""Hand-made features: what classical machine learning asks of people (chapter 01).

Taught in chapter 01 (01_why_deep_learning); used in chapter 11.

Counting inputs
    ``pixel_features(h, w, channels)`` — a raw image is h·w·channels numbers (283×354 → 100,182;
    in RGB 300,546). ``polynomial_feature_count(d, degree)`` — the monomials of degree 1…degree
    in d inputs, C(d + degree, degree) − 1, the features a linear model needs to draw curved
    boundaries; ``polynomial_features`` builds them (the columns of scikit-learn's
    ``PolynomialFeatures(degree, include_bias=False)``, in the same order).

Describing a shape by hand (for ``dlbook.data.make_shapes``)
    A pixel counts as ink where its value exceeds ``threshold``. ``radial_profile`` gives, for
    each of ``bins`` angular sectors around the ink's centroid, the largest distance to an ink
    pixel centre: flat for a circle, three peaks for a triangle. ``count_corners`` counts those
    peaks (0 for a round profile), the feature a person would reach for first.
    ``roundness`` is the ink area over the area of the circle through the farthest ink pixel:
    about 1 for a disc, about 0.41 for an equilateral triangle.

Images are (N, H, W) or (N, 1, H, W); everything is vectorised over the images and pixels.
The shape descriptors compute in float64 on the images' device — on the CPU for Apple's MPS,
which has no float64 (``dlbook.runtime.float64_device``); their float64 results live there,
``count_corners`` returns to the images' device.
"""
from __future__ import annotations

import math
from itertools import combinations_with_replacement

import torch

from ._checks import as_float_tensor, check_ndim, check_number, check_positive_int
from .runtime import float64_device

__all__ = ["pixel_features", "polynomial_feature_count", "polynomial_features", "ink_mask",
           "radial_profile", "count_corners", "roundness"]


# ---------------------------------------------------------------- counting inputs
def pixel_features(height: int, width: int, channels: int = 1) -> int:
    """The number of raw inputs of an image: height · width · channels."""
    return (check_positive_int(height, "height") * check_positive_int(width, "width")
            * check_positive_int(channels, "channels"))


def polynomial_feature_count(d: int, degree: int = 2) -> int:
    """Monomials of degree 1 … ``degree`` in ``d`` inputs: C(d + degree, degree) − 1.

    d = 2, degree 2 → 5 (x₁, x₂, x₁², x₁x₂, x₂²).
    """
    d = check_positive_int(d, "d")
    degree = check_positive_int(degree, "degree")
    return math.comb(d + degree, degree) - 1


def polynomial_features(x, degree: int = 2, *, max_features: int = 100_000) -> torch.Tensor:
    """Every monomial of degree 1 … ``degree`` of the columns of x: (N, D) → (N, C(D+degree, degree) − 1).

    Columns are ordered as scikit-learn's ``PolynomialFeatures(degree, include_bias=False)``:
    degree 1 first, then within a degree by ``combinations_with_replacement`` of the column
    indices — for D = 2, degree 2: x₁, x₂, x₁², x₁x₂, x₂². Refuses to build more than
    ``max_features`` columns.
    """
    x = check_ndim(as_float_tensor(x), "x", 2)
    degree = check_positive_int(degree, "degree")
    d = x.shape[1]
    if d == 0:
        raise ValueError("x must have at least one column, got shape " + str(tuple(x.shape)))
    count = polynomial_feature_count(d, degree)
    if count > max_features:
        raise ValueError(f"{d} inputs at degree {degree} give {count:,} features, more than max_features="
                         f"{max_features:,}")
    columns = []
    for k in range(1, degree + 1):
        terms = torch.tensor(list(combinations_with_replacement(range(d), k)), device=x.device)  # (T, k)
        columns.append(x[:, terms].prod(dim=2))                                               # (N, T)
    return torch.cat(columns, dim=1)


# ---------------------------------------------------------------- shape descriptors
def _images(images, threshold) -> torch.Tensor:
    x = as_float_tensor(images, "images")
    if x.ndim == 4:
        if x.shape[1] != 1:
            raise ValueError(f"images must have one channel, shape (N, 1, H, W), got shape {tuple(x.shape)}")
        x = x[:, 0]
    check_ndim(x, "images", (3,))
    threshold = check_number(threshold, "threshold")
    return x > threshold


def ink_mask(images, threshold: float = 0.5) -> torch.Tensor:
    """Where the ink is: images (N, H, W) or (N, 1, H, W) → bool (N, H, W), pixel > threshold."""
    return _images(images, threshold)


def _polar(images, threshold):
    """Ink mask (N, H, W), ink area (N,), distance r and angle θ of each pixel centre from the ink
    centroid (N, H, W), all on ``float64_device`` of the images (float64 for the numbers)."""
    mask = _images(images, threshold)
    mask = mask.to(float64_device(mask.device))
    n, h, w = mask.shape
    m = mask.to(torch.float64)
    area = m.sum(dim=(1, 2))
    if torch.any(area == 0):
        empty = torch.nonzero(area == 0).flatten().tolist()
        raise ValueError(f"images {empty[:5]} have no pixel above threshold={threshold}: no shape to describe")
    ys = torch.arange(h, dtype=torch.float64, device=mask.device).view(1, h, 1) + 0.5
    xs = torch.arange(w, dtype=torch.float64, device=mask.device).view(1, 1, w) + 0.5
    cy = (m * ys).sum(dim=(1, 2)) / area
    cx = (m * xs).sum(dim=(1, 2)) / area
    dy, dx = ys - cy.view(n, 1, 1), xs - cx.view(n, 1, 1)
    return mask, area, torch.sqrt(dx**2 + dy**2), torch.atan2(dy, dx)


def radial_profile(images, bins: int = 24, threshold: float = 0.5) -> torch.Tensor:
    """Farthest ink pixel centre from the ink centroid in each angular sector: (N, bins).

    Sector b covers angles [−π + 2πb/bins, −π + 2π(b+1)/bins); a sector with no ink gets 0.
    """
    bins = check_positive_int(bins, "bins", minimum=3)
    mask, _, r, theta = _polar(images, threshold)
    n = mask.shape[0]
    sector = ((theta + math.pi) / (2 * math.pi) * bins).long().clamp(0, bins - 1).expand_as(mask)
    r = torch.where(mask, r, torch.zeros((), dtype=r.dtype, device=r.device))
    profile = torch.zeros(n, bins, dtype=torch.float64, device=mask.device)
    return profile.scatter_reduce(1, sector.reshape(n, -1), r.reshape(n, -1), reduce="amax")


def count_corners(images, bins: int = 24, contrast: float = 1.4, threshold: float = 0.5) -> torch.Tensor:
    """How many corners each shape has, read off its radial profile: (N,) int64.

    A profile whose largest value is less than ``contrast`` times its smallest is round: 0
    corners. Otherwise each run of neighbouring sectors (the profile is circular) that rise
    above the middle of the range counts as one corner. Clean ``make_shapes`` images of size
    32 or more give 0 for every circle and 3 for every triangle; noise, or small images,
    break the rule — that is the point of the chapter.
    """
    contrast = check_number(contrast, "contrast", low=1.0)
    profile = radial_profile(images, bins, threshold)
    high, low = profile.amax(dim=1), profile.amin(dim=1)
    above = profile > ((high + low) / 2).unsqueeze(1)
    runs = (above & ~above.roll(1, dims=1)).sum(dim=1)
    corners = torch.where(high > contrast * low, runs, torch.zeros_like(runs))
    return corners.to(images.device if isinstance(images, torch.Tensor) else "cpu")


def roundness(images, threshold: float = 0.5) -> torch.Tensor:
    """Ink area / (π r²), r the distance from the centroid to the farthest ink pixel centre plus ½: (N,).

    About 1 for a disc, about 3√3/(4π) ≈ 0.41 for an equilateral triangle.
    """
    mask, area, r, _ = _polar(images, threshold)
    r_max = torch.where(mask, r, torch.zeros((), dtype=r.dtype, device=r.device)).amax(dim=(1, 2)) + 0.5
    return area / (math.pi * r_max**2)
