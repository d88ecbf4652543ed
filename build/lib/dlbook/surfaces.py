"""2-D test surfaces for watching optimisers move, and the tools to race and plot them.

Taught in chapter 10 (10_optimization).

Each :class:`Surface` is a function f(x, y) with its minimiser(s), a suggested start
and plot limits. They are small but show the classic failure modes:

* ``bowl`` — an ill-conditioned quadratic f = x²/20 + y²: curvature 20× larger in y,
  so plain SGD zig-zags across the valley while crawling along it.
* ``saddle`` — f = x² + y⁴/4 − y²/2: a saddle point at (0, 0) between two minima
  (0, ±1). Started almost on the ridge (y = 10⁻³), SGD lingers near the saddle.
* ``rosenbrock`` — f = (1 − x)² + 100(y − x²)²: a long, curved, nearly flat valley.
* ``plateau`` — f = 1 − exp(−(x² + y²)/2): almost flat far from the minimum, so
  gradients are tiny and SGD barely moves; adaptive methods rescale and escape.

``run_trajectory`` runs any optimiser (from :mod:`dlbook.optim` or ``torch.optim``)
on a surface and returns its path; ``race`` reports which reaches a minimum first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from ._checks import as_float_tensor, check_number, check_positive_int
from .runtime import float64_device

__all__ = ["Surface", "SURFACES", "get_surface", "run_trajectory", "race", "plot_trajectories"]


@dataclass(frozen=True)
class Surface:
    """f: (..., 2) → (...), with its minimisers (k, 2) and plotting hints."""

    name: str
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # f(x, y) elementwise
    minima: tuple[tuple[float, float], ...]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    formula: str = ""
    log_levels: bool = False  # contour levels spaced logarithmically (steep surfaces)

    def __call__(self, xy) -> torch.Tensor:
        """xy: (..., 2) → f(xy): (...)."""
        xy = as_float_tensor(xy, "xy")
        if xy.ndim == 0 or xy.shape[-1] != 2:
            raise ValueError(f"xy must have shape (..., 2), got shape {tuple(xy.shape)}")
        return self.fn(xy[..., 0], xy[..., 1])

    def distance_to_minimum(self, xy) -> torch.Tensor:
        """(..., 2) → (...): Euclidean distance to the nearest minimiser."""
        xy = as_float_tensor(xy, "xy")
        minima = torch.tensor(self.minima, dtype=xy.dtype, device=xy.device)  # (k, 2)
        return (xy.unsqueeze(-2) - minima).norm(dim=-1).amin(dim=-1)

    def grid(self, n: int = 200) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(X, Y, Z) on an n×n grid over the plot limits, for contour plots."""
        n = check_positive_int(n, "n", minimum=2)
        xs = torch.linspace(*self.xlim, n, dtype=torch.float64)
        ys = torch.linspace(*self.ylim, n, dtype=torch.float64)
        X, Y = torch.meshgrid(xs, ys, indexing="xy")
        return X, Y, self.fn(X, Y)


def _bowl(x, y):
    return x**2 / 20 + y**2


def _saddle(x, y):
    return x**2 + y**4 / 4 - y**2 / 2


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _plateau(x, y):
    return 1 - torch.exp(-(x**2 + y**2) / 2)


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in [
        Surface("bowl", _bowl, ((0.0, 0.0),), (-7.0, 2.0), (-10.0, 10.0), (-5.0, 5.0),
                r"f(x, y) = \frac{x^2}{20} + y^2"),
        Surface("saddle", _saddle, ((0.0, 1.0), (0.0, -1.0)), (-2.0, 1e-3), (-2.5, 2.5), (-1.8, 1.8),
                r"f(x, y) = x^2 + \frac{y^4}{4} - \frac{y^2}{2}"),
        Surface("rosenbrock", _rosenbrock, ((1.0, 1.0),), (-1.5, 2.0), (-2.0, 2.0), (-1.0, 3.0),
                r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2", log_levels=True),
        Surface("plateau", _plateau, ((0.0, 0.0),), (2.5, 2.5), (-3.5, 3.5), (-3.5, 3.5),
                r"f(x, y) = 1 - e^{-(x^2 + y^2)/2}"),
    ]
}


def get_surface(surface) -> Surface:
    """A :class:`Surface`, or one looked up by name in :data:`SURFACES`."""
    if isinstance(surface, Surface):
        return surface
    if isinstance(surface, str) and surface in SURFACES:
        return SURFACES[surface]
    raise ValueError(f"surface must be a Surface or one of {sorted(SURFACES)}, got {surface!r}")


def run_trajectory(optimizer_factory: Callable[[list[torch.Tensor]], object], surface, start=None,
                   steps: int = 100) -> torch.Tensor:
    """Minimise a surface from ``start`` and return the path, shape (steps + 1, 2), float64.

    ``optimizer_factory`` maps a list with the point (a (2,) leaf tensor) to an optimiser,
    e.g. ``lambda p: dlbook.optim.Adam(p, lr=0.1)`` or ``lambda p: torch.optim.LBFGS(p)``.
    The optimiser is stepped with a closure, so L-BFGS works too (one point per ``step()``;
    an L-BFGS step runs up to its ``max_iter`` inner iterations). If the point leaves the
    finite numbers (a too-large learning rate) the path stops there and is shorter.
    """
    surface = get_surface(surface)
    steps = check_positive_int(steps, "steps", minimum=0)
    start = surface.start if start is None else start
    start = as_float_tensor(start, "start")
    xy = start.to(device=float64_device(start.device), dtype=torch.float64).detach().clone()  # MPS: on the CPU
    if xy.shape != (2,):
        raise ValueError(f"start must be a point (x, y) of shape (2,), got shape {tuple(xy.shape)}")
    xy.requires_grad_(True)
    opt = optimizer_factory([xy])
    if not hasattr(opt, "step"):
        raise TypeError(f"optimizer_factory must return an optimizer (with .step), got {type(opt).__name__}")

    def closure():
        opt.zero_grad()
        loss = surface(xy)
        loss.backward()
        return loss

    path = [xy.detach().clone()]
    for _ in range(steps):
        opt.step(closure)
        if not torch.isfinite(xy).all():
            break
        path.append(xy.detach().clone())
    return torch.stack(path)


def race(optimizer_factories: dict, surface, start=None, tol: float = 1e-2,
         max_steps: int = 1000) -> list[tuple[str, int | None]]:
    """Which optimiser gets within ``tol`` of a minimiser first?

    Returns ``[(name, steps), ...]`` best first, ``steps`` being the first step at which
    the distance to the nearest minimiser is below ``tol`` (``None``: not within
    ``max_steps``; those come last, in the given order).
    """
    surface = get_surface(surface)
    tol = check_number(tol, "tol", low=0.0, low_inclusive=False)
    max_steps = check_positive_int(max_steps, "max_steps")
    if not isinstance(optimizer_factories, dict) or not optimizer_factories:
        raise TypeError("optimizer_factories must be a non-empty dict {name: factory}")
    results = []
    for name, factory in optimizer_factories.items():
        path = run_trajectory(factory, surface, start, max_steps)
        close = (surface.distance_to_minimum(path) < tol).nonzero()
        results.append((name, int(close[0]) if len(close) else None))
    return sorted(results, key=lambda r: math.inf if r[1] is None else r[1])


def plot_trajectories(paths: dict, surface, *, ax=None, levels: int = 30, title: str | None = None,
                      figsize=(6, 4.5)):
    """Contours of the surface with each path drawn over it; returns the matplotlib Figure.

    ``paths`` maps a label to a (T, 2) path from :func:`run_trajectory`. Pass ``ax`` to draw
    into an existing Axes (its figure is returned).
    """
    import numpy as np
    from matplotlib.figure import Figure

    surface = get_surface(surface)
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    X, Y, Z = (t.numpy() for t in surface.grid())
    if surface.log_levels:
        lo, hi = max(Z.min(), 1e-3), Z.max()
        contour_levels = np.geomspace(lo, hi, levels)
    else:
        contour_levels = levels
    ax.contour(X, Y, Z, levels=contour_levels, cmap="Greys", linewidths=0.6)
    for label, path in paths.items():
        p = torch.as_tensor(path).detach().cpu().numpy()
        ax.plot(p[:, 0], p[:, 1], ".-", markersize=2.5, linewidth=1.0, label=str(label))
    minima = np.array(surface.minima)
    ax.plot(minima[:, 0], minima[:, 1], "k*", markersize=10)
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title if title is not None else f"${surface.formula}$" if surface.formula else surface.name)
    if paths:
        ax.legend(fontsize=8)
    return fig
