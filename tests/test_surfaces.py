"""dlbook.surfaces: the 2-D test surfaces, their helpers, and trajectories.

The optimiser-facing behaviour (SGD's closed-form path on the bowl, L-BFGS, the race between
optimisers, gradients at the minima, devices) is tested in ``tests/test_optim.py``, next to the
optimisers; this file checks the surfaces' own API.
"""
import math

import matplotlib

matplotlib.use("Agg")
import pytest
import torch

from dlbook import optim as O
from dlbook import surfaces as S

f64 = torch.float64


@pytest.mark.parametrize("name, point, value", [
    ("bowl", (2.0, 1.0), 4 / 20 + 1),                 # x²/20 + y²
    ("saddle", (1.0, 1.0), 1 + 1 / 4 - 1 / 2),        # x² + y⁴/4 − y²/2
    ("saddle", (0.0, 0.0), 0.0),                      # the saddle point itself
    ("rosenbrock", (0.0, 0.0), 1.0),                  # (1 − x)² + 100(y − x²)²
    ("rosenbrock", (-1.0, 2.0), 4 + 100),
    ("plateau", (0.0, 0.0), 0.0),                     # 1 − exp(−(x² + y²)/2)
    ("plateau", (1.0, 1.0), 1 - math.exp(-1)),
])
def test_surface_values_follow_their_formulas(name, point, value):
    s = S.SURFACES[name]
    assert s(torch.tensor(point, dtype=f64)).item() == pytest.approx(value, rel=1e-12, abs=1e-12)
    for m in s.minima:  # the listed minimisers are the lowest points of the surface
        assert s(torch.tensor(m, dtype=f64)).item() <= s(torch.tensor(point, dtype=f64)).item() + 1e-12


def test_surface_evaluates_a_batch_of_points_elementwise():
    s = S.SURFACES["rosenbrock"]
    xy = torch.randn(3, 4, 2, dtype=f64)
    z = s(xy)
    assert z.shape == (3, 4)
    torch.testing.assert_close(z[1, 2], s(xy[1, 2]))
    torch.testing.assert_close(s([[1.0, 1.0], [0.0, 0.0]]), torch.tensor([0.0, 1.0]))  # lists are accepted


def test_distance_to_minimum_picks_the_nearest_minimiser():
    saddle = S.SURFACES["saddle"]  # minima (0, 1) and (0, −1)
    pts = torch.tensor([[0.0, 0.9], [0.0, -2.0], [3.0, 1.0], [0.0, 0.0]], dtype=f64)
    torch.testing.assert_close(saddle.distance_to_minimum(pts), torch.tensor([0.1, 1.0, 3.0, 1.0], dtype=f64))
    assert saddle.distance_to_minimum(torch.zeros(5, 7, 2)).shape == (5, 7)


def test_grid_spans_the_plot_limits():
    s = S.SURFACES["saddle"]
    X, Y, Z = s.grid(11)
    assert X.shape == Y.shape == Z.shape == (11, 11) and Z.dtype == f64
    assert (X.min().item(), X.max().item()) == s.xlim and (Y.min().item(), Y.max().item()) == s.ylim
    assert torch.all(X[:, 0] == s.xlim[0]) and torch.all(Y[0, :] == s.ylim[0])  # "xy" indexing: x along columns
    torch.testing.assert_close(Z, s(torch.stack([X, Y], dim=-1)))
    with pytest.raises(ValueError):
        s.grid(1)


def test_get_surface_by_name_or_object():
    bowl = S.SURFACES["bowl"]
    assert S.get_surface("bowl") is bowl and S.get_surface(bowl) is bowl
    custom = S.Surface("tilted", lambda x, y: (x - 1) ** 2 + y**2, ((1.0, 0.0),), (0.0, 0.0), (-2.0, 2.0), (-2.0, 2.0))
    assert S.get_surface(custom) is custom
    for bad in ("Bowl", 3, None):
        with pytest.raises(ValueError, match="surface must be a Surface or one of"):
            S.get_surface(bad)


def test_run_trajectory_starts_at_the_surface_start_and_counts_steps():
    path = S.run_trajectory(lambda p: O.SGD(p, lr=0.1), "plateau", steps=0)
    torch.testing.assert_close(path, torch.tensor([S.SURFACES["plateau"].start], dtype=f64))
    custom = S.Surface("tilted", lambda x, y: (x - 1) ** 2 + y**2, ((1.0, 0.0),), (3.0, -2.0), (-4.0, 4.0), (-4.0, 4.0))
    path = S.run_trajectory(lambda p: O.SGD(p, lr=0.25), custom, steps=3)  # gradient 2(p − m): halves the gap
    want = torch.tensor([[3.0, -2.0], [2.0, -1.0], [1.5, -0.5], [1.25, -0.25]], dtype=f64)
    torch.testing.assert_close(path, want)


def test_run_trajectory_needs_a_factory_that_returns_an_optimizer():
    with pytest.raises(TypeError, match="must return an optimizer"):
        S.run_trajectory(lambda p: p, "bowl", steps=2)


def test_race_keeps_the_given_order_among_those_that_never_arrive():
    slow = {"a": lambda p: O.SGD(p, lr=1e-6), "b": lambda p: O.SGD(p, lr=2e-6)}
    assert S.race(slow, "bowl", max_steps=5) == [("a", None), ("b", None)]
    with pytest.raises(TypeError, match="non-empty dict"):
        S.race({}, "bowl")
    with pytest.raises(ValueError):
        S.race(slow, "bowl", tol=0.0)


def test_plot_trajectories_draws_into_a_given_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    s = S.SURFACES["saddle"]
    assert S.plot_trajectories({}, s, ax=ax, title="empty") is fig
    assert ax.get_title() == "empty" and ax.get_legend() is None  # no paths, no legend
    assert ax.get_xlim() == s.xlim and ax.get_ylim() == s.ylim
    assert len(ax.get_lines()) == 1  # only the minima marker, two stars
    assert len(ax.get_lines()[0].get_xdata()) == len(s.minima)
    fig2 = S.plot_trajectories({"x": torch.zeros(3, 2)}, "rosenbrock")  # log-spaced contour levels
    assert fig2.axes[0].get_title() == f"${S.SURFACES['rosenbrock'].formula}$"
    assert [t.get_text() for t in fig2.axes[0].get_legend().get_texts()] == ["x"]
