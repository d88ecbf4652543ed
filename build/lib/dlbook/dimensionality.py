"""The curse of dimensionality, measured (chapter 01).

Taught in chapter 01 (01_why_deep_learning); used in chapter 18.

Two ways to see why high-dimensional inputs are hard for methods that rely on nearby examples:

* ``grid_cells(d, per_axis)``: covering the unit cube with a grid of ``per_axis`` cells per axis
  takes ``per_axisᵈ`` cells, so the data needed to put one example in every cell grows
  exponentially with the dimension d.
* *Distance concentration*: for random points in the unit cube the distance from a query to its
  nearest and to its farthest point become almost equal as d grows, so "the nearest neighbour"
  loses its meaning. ``distance_ratios`` measures nearest / farthest for each query;
  ``distance_concentration`` averages it over random draws for several dimensions.

Points are drawn on the CPU from a seeded generator (in float64) and then moved to ``device``, so
the same seed gives the same points, and the same ratios, on every device. Float64 work for Apple's
MPS, which has no float64, is done on the CPU (``dlbook.runtime.float64_device``).
"""
from __future__ import annotations

import torch

from ._checks import as_float_tensor, check_ndim, check_positive_int
from .runtime import float64_device

__all__ = ["grid_cells", "distance_ratios", "relative_contrast", "distance_concentration",
           "plot_distance_concentration"]


def grid_cells(d: int, per_axis: int = 10) -> int:
    """Cells in a grid over the d-dimensional unit cube with ``per_axis`` cells per axis: per_axisᵈ."""
    d = check_positive_int(d, "d")
    per_axis = check_positive_int(per_axis, "per_axis")
    return per_axis ** d


def _distances(points, queries) -> torch.Tensor:
    """‖qᵢ − pⱼ‖ for all pairs: queries (Q, D), points (N, D) → (Q, N), via ‖q‖² − 2q·p + ‖p‖²."""
    points = check_ndim(as_float_tensor(points, "points"), "points", 2)
    queries = check_ndim(as_float_tensor(queries, "queries"), "queries", 2).to(points.device, points.dtype)
    if points.shape[0] == 0 or queries.shape[0] == 0:
        raise ValueError(f"points and queries must hold at least one row each, got shapes "
                         f"{tuple(points.shape)} and {tuple(queries.shape)}")
    if points.shape[1] != queries.shape[1]:
        raise ValueError(f"points and queries must have the same number of dimensions, got shapes "
                         f"{tuple(points.shape)} and {tuple(queries.shape)}")
    sq = (queries * queries).sum(1, keepdim=True) - 2 * queries @ points.T + (points * points).sum(1)
    return sq.clamp_min(0).sqrt()


def distance_ratios(points, queries) -> torch.Tensor:
    """Nearest over farthest distance from each query: points (N, D), queries (Q, D) → (Q,).

    A ratio near 0 means the nearest point is much closer than the farthest one; a ratio near 1
    means every point is about equally far away. Raises ValueError when a farthest distance is 0
    (every point sits on the query).
    """
    dist = _distances(points, queries)
    far = dist.amax(dim=1)
    if torch.any(far == 0):
        raise ValueError("a query coincides with every point (farthest distance 0): the ratio is undefined")
    return dist.amin(dim=1) / far


def relative_contrast(points, queries) -> torch.Tensor:
    """(farthest − nearest) / nearest for each query: points (N, D), queries (Q, D) → (Q,).

    Another common measure of concentration (it falls towards 0 as d grows); infinite when a
    query coincides with a point.
    """
    dist = _distances(points, queries)
    near = dist.amin(dim=1)
    return (dist.amax(dim=1) - near) / near


def distance_concentration(dims, n_points: int = 1000, n_queries: int = 50, *, seed: int | None = 0,
                           generator: torch.Generator | None = None, dtype=torch.float64, device=None) -> torch.Tensor:
    """Mean nearest/farthest distance ratio for uniform points in [0, 1]ᵈ, one value per d in ``dims``.

    For each d, ``n_points`` points and ``n_queries`` queries are drawn uniformly in the unit cube
    (on the CPU, from ``generator`` or a generator seeded with ``seed``, then moved to ``device``);
    the result is the mean over the queries of ``distance_ratios``: a tensor of shape (len(dims),)
    on ``device`` — for float64 on MPS (no float64 there), on the CPU.
    """
    if isinstance(dims, int):
        dims = [dims]
    dims = [check_positive_int(d, "each dimension in dims") for d in dims]
    if not dims:
        raise ValueError("dims must name at least one dimension")
    n_points = check_positive_int(n_points, "n_points", minimum=2)
    n_queries = check_positive_int(n_queries, "n_queries")
    if generator is None:
        generator = torch.Generator().manual_seed(check_positive_int(seed if seed is not None else 0, "seed", minimum=0))
    elif not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if dtype == torch.float64:
        device = float64_device(device)
    means = []
    for d in dims:
        points = torch.rand(n_points, d, generator=generator, dtype=torch.float64, device="cpu")
        queries = torch.rand(n_queries, d, generator=generator, dtype=torch.float64, device="cpu")
        ratios = distance_ratios(points.to(device=device, dtype=dtype), queries.to(device=device, dtype=dtype))
        means.append(ratios.mean())
    return torch.stack(means)


def plot_distance_concentration(dims, ratios, *, ax=None):
    """Plot the mean nearest/farthest ratio against the dimension d (log scale). Returns the Figure."""
    import matplotlib.pyplot as plt

    ratios = torch.as_tensor(ratios).detach().cpu().double()
    dims = list(dims)
    if len(dims) != ratios.numel():
        raise ValueError(f"dims and ratios must have the same length, got {len(dims)} and {ratios.numel()}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
    else:
        fig = ax.figure
    ax.plot(dims, ratios.numpy(), "o-", lw=2)
    ax.axhline(1.0, color="0.5", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("d")
    ax.set_ylabel(r"$d_{\min} / d_{\max}$")
    return fig
