
import pytest
import torch

from dlbook import dimensionality as D


def test_grid_cells_grow_exponentially():
    assert [D.grid_cells(d) for d in (1, 2, 3)] == [10, 100, 1000]
    assert D.grid_cells(10, per_axis=2) == 1024
    with pytest.raises(ValueError, match="d must be an integer >= 1"):
        D.grid_cells(0)
    with pytest.raises(TypeError, match="per_axis must be an integer"):
        D.grid_cells(2, per_axis=2.5)


def test_distance_ratios_match_cdist(device):
    g = torch.Generator().manual_seed(1)
    points = torch.rand(300, 17, generator=g, dtype=torch.float64)
    queries = torch.rand(20, 17, generator=g, dtype=torch.float64)
    ref = torch.cdist(queries, points)
    got = D.distance_ratios(points.to(device), queries.to(device))
    assert got.shape == (20,) and got.device.type == device.type
    torch.testing.assert_close(got.cpu(), ref.min(1).values / ref.max(1).values)
    rc = D.relative_contrast(points.to(device), queries.to(device)).cpu()
    torch.testing.assert_close(rc, (ref.max(1).values - ref.min(1).values) / ref.min(1).values)


def test_distance_ratios_by_hand():
    points = torch.tensor([[0.0, 1.0], [0.0, 3.0]])
    assert D.distance_ratios(points, torch.zeros(1, 2)).tolist() == pytest.approx([1 / 3])


def test_distance_ratios_reject_bad_input():
    with pytest.raises(ValueError, match="same number of dimensions"):
        D.distance_ratios(torch.rand(5, 3), torch.rand(2, 4))
    with pytest.raises(ValueError, match="points must have 2 dimension"):
        D.distance_ratios(torch.rand(5), torch.rand(2, 5))
    with pytest.raises(ValueError, match="farthest distance 0"):
        D.distance_ratios(torch.ones(3, 2), torch.ones(1, 2))
    with pytest.raises(ValueError, match="at least one row"):
        D.distance_ratios(torch.rand(0, 2), torch.rand(1, 2))


def test_distance_concentration_rises_towards_one_and_is_reproducible(device):
    dims = [1, 10, 100, 1000]
    r = D.distance_concentration(dims, n_points=300, n_queries=10, seed=0, device=device)
    assert r.shape == (4,) and r.device.type == device.type
    assert torch.all(r[1:] > r[:-1]) and r[0] < 0.05 and r[-1] > 0.8
    again = D.distance_concentration(dims, n_points=300, n_queries=10, seed=0)
    torch.testing.assert_close(r.cpu(), again)
    other = D.distance_concentration(dims, n_points=300, n_queries=10, seed=1)
    assert not torch.equal(other, again)
    g = torch.Generator().manual_seed(0)
    torch.testing.assert_close(D.distance_concentration(dims, n_points=300, n_queries=10, generator=g), again)


def test_distance_concentration_in_float64_goes_to_float64_device(monkeypatch):
    seen = []

    def spy(device):  # stands in for the helper; on MPS it would answer "cpu"
        seen.append(device)
        return torch.device("cpu")

    monkeypatch.setattr(D, "float64_device", spy)
    r = D.distance_concentration([2, 3], n_points=20, n_queries=4, device="cpu")
    assert seen == ["cpu"] and r.dtype == torch.float64
    seen.clear()
    r32 = D.distance_concentration([2, 3], n_points=20, n_queries=4, dtype=torch.float32)
    assert seen == [] and r32.dtype == torch.float32  # float32 runs where it is asked to
    torch.testing.assert_close(r32, r.float())


def test_distance_concentration_rejects_bad_arguments():
    with pytest.raises(ValueError, match="each dimension in dims"):
        D.distance_concentration([2, 0])
    with pytest.raises(ValueError, match="n_points must be an integer >= 2"):
        D.distance_concentration([2], n_points=1)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        D.distance_concentration([2], generator=3)
    with pytest.raises(ValueError, match="at least one dimension"):
        D.distance_concentration([])


def test_plot_distance_concentration():
    import matplotlib

    matplotlib.use("Agg")
    fig = D.plot_distance_concentration([1, 10], torch.tensor([0.1, 0.5]))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.lines) == 2
    with pytest.raises(ValueError, match="same length"):
        D.plot_distance_concentration([1, 10, 100], [0.1, 0.5])
