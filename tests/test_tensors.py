import itertools

import numpy as np
import pytest
import torch

from dlbook import tensors as T


@pytest.mark.parametrize("a, b", [
    ((4, 3), (3, 2)), ((3,), (3,)), ((5, 3), (3,)), ((3,), (3, 7)), ((2, 5, 3), (3, 4)),
    ((3,), (6, 3, 2)), ((8, 1, 2, 3), (5, 3, 4)), ((6, 2, 3), (3,)), ((0, 3), (3, 2)),
])
def test_matmul_shape_matches_torch(a, b):
    assert T.matmul_shape(a, b) == tuple(torch.matmul(torch.zeros(a), torch.zeros(b)).shape)


def test_matmul_shape_lecture_examples():
    assert T.matmul_shape((5, 3), (3, 2)) == (5, 2)
    assert T.matmul_shape((3, 2), (2, 4)) == (3, 4)
    assert T.matmul_shape((1, 2), (2, 3)) == (1, 3)


@pytest.mark.parametrize("a, b, match", [
    ((4, 3), (4, 2), r"cannot multiply shapes \(4, 3\) and \(4, 2\): the inner dimensions differ \(3 columns vs 4 rows\)"),
    ((3,), (4,), "inner dimensions differ"),
    ((2, 2, 3), (3, 3, 1), "cannot broadcast"),
    ((), (3,), "at least 1 dimension"),
])
def test_matmul_shape_errors(a, b, match):
    with pytest.raises(ValueError, match=match):
        T.matmul_shape(a, b)
    with pytest.raises(RuntimeError):  # torch refuses the same product
        torch.matmul(torch.zeros(a), torch.zeros(b))


def test_broadcast_shape_matches_torch_on_many_shapes():
    sizes = [1, 2, 3]
    shapes = [()] + [s for n in (1, 2, 3) for s in itertools.product(sizes, repeat=n)]
    for a, b in itertools.product(shapes, repeat=2):
        try:
            ref = tuple(torch.broadcast_shapes(a, b))
        except RuntimeError:
            with pytest.raises(ValueError, match="cannot broadcast"):
                T.broadcast_shape(a, b)
        else:
            assert T.broadcast_shape(a, b) == ref
            assert np.broadcast_shapes(a, b) == ref
    assert T.broadcast_shape((3, 1), (1, 4), (2, 1, 1)) == (2, 3, 4)
    assert T.broadcast_shape(torch.Size([2, 3]), [3]) == (2, 3)


def test_broadcast_shape_error_names_the_dimension():
    with pytest.raises(ValueError, match=r"dimension -1 \(counted from the right\) the sizes are \[3, 2\]"):
        T.broadcast_shape((2, 3), (2,))
    with pytest.raises(TypeError, match="not a tensor"):
        T.broadcast_shape(torch.zeros(2), (2,))
    with pytest.raises(ValueError, match="non-negative ints"):
        T.broadcast_shape((2, -1))
    with pytest.raises(TypeError, match="at least one shape"):
        T.broadcast_shape()


def test_explain_broadcast():
    import dlbook

    dlbook.set_language("en")
    try:
        text = T.explain_broadcast((2, 3), (3,))
        assert text.splitlines() == [" (2, 3)  →  (2, 3)", "   (3,)  →  (1, 3)", "result:  →  (2, 3)"]
        dlbook.set_language("ko")
        assert T.explain_broadcast((2, 3), (3,)).splitlines()[-1] == "결과: " + "  →  (2, 3)"  # 결과: is 5 columns
    finally:
        dlbook.set_language(None)


def test_layout_conversions_are_inverse_views(device):
    x = torch.randn(2, 5, 4, 3, device=device)  # N, H, W, C
    y = T.nhwc_to_nchw(x)
    assert y.shape == (2, 3, 5, 4) and y.data_ptr() == x.data_ptr()
    assert torch.equal(y[1, 2], x[1, :, :, 2])
    assert torch.equal(T.nchw_to_nhwc(y), x)
    one = torch.randn(32, 32, 3)
    assert T.nhwc_to_nchw(one).shape == (3, 32, 32)
    assert torch.equal(T.nchw_to_nhwc(T.nhwc_to_nchw(one)), one)
    assert T.nhwc_to_nchw(np.zeros((4, 4, 3))).shape == (3, 4, 4)
    with pytest.raises(ValueError, match="got shape \\(4, 4\\)"):
        T.nhwc_to_nchw(torch.zeros(4, 4))
    with pytest.raises(TypeError, match="tensor or an array"):
        T.nchw_to_nhwc([[1]])


def test_describe():
    assert T.describe(np.array([1, 2, 3, 4])) == "ndim=1 shape=(4,) dtype=int64"
    assert T.describe(torch.zeros(3, 2)) == "ndim=2 shape=(3, 2) dtype=float32"
    assert T.describe(torch.tensor(483)) == "ndim=0 shape=() dtype=int64"
    with pytest.raises(TypeError):
        T.describe([1, 2])


def test_plot_broadcast():
    import matplotlib

    matplotlib.use("Agg")
    fig = T.plot_broadcast(torch.tensor([[0], [10], [20]]), torch.tensor([1, 2, 3, 4]))
    assert [ax.get_title() for ax in fig.axes] == ["a (3, 1)", "b (4,)", "a + b (3, 4)"]
    assert len(fig.axes[2].texts) == 12
    with pytest.raises(ValueError, match="cannot broadcast"):
        T.plot_broadcast(torch.zeros(2, 3), torch.zeros(2))


def test_plot_broadcast_draws_tensors_from_any_device(device):
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    a = torch.tensor([[0.5], [10.0], [20.0]], device=device, requires_grad=True)  # (3, 1) on the device
    b = torch.tensor(2.0)                                                           # a 0-D CPU tensor mixes with any
    fig = T.plot_broadcast(a, b, op="*")
    try:
        assert [ax.get_title() for ax in fig.axes] == ["a (3, 1)", "b ()", "a * b (3, 1)"]
        assert [t.get_text() for t in fig.axes[2].texts] == ["1", "20", "40"]
    finally:
        plt.close(fig)


def test_plot_matmul():
    import matplotlib

    matplotlib.use("Agg")
    fig = T.plot_matmul((5, 3), (3, 2), i=1, j=0)
    patches = fig.axes[0].patches
    assert len(patches) == 5 * 3 + 3 * 2 + 5 * 2
    assert sum(p.get_facecolor() == matplotlib.colors.to_rgba("#4292c6") for p in patches) == 3 + 3 + 1
    with pytest.raises(ValueError, match="inner dimensions differ"):
        T.plot_matmul((5, 3), (4, 2))
    with pytest.raises(ValueError, match="i must be in"):
        T.plot_matmul((5, 3), (3, 2), i=5)
