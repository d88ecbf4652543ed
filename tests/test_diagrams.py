import matplotlib

matplotlib.use("Agg")
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch

from dlbook.autograd import Value, trace
from dlbook.diagrams import draw_graph, draw_network


def test_network_draws_every_unit_and_edge():
    fig = draw_network([3, 3, 1])
    ax = fig.axes[0]
    assert sum(isinstance(p, Circle) for p in ax.patches) == 7
    assert sum(isinstance(p, FancyBboxPatch) for p in ax.patches) == 2  # the two +1 units
    assert sum(1 for t in ax.texts if t.get_text()) == 7 + 2 + 3  # unit labels, +1 labels, layer names
    assert sum(1 for t in ax.texts if t.get_text() == "") == 4 * 3 + 4 * 1  # one arrow per weight
    plain = draw_network([2, 2], bias=False, layer_names=["in", "out"]).axes[0]
    assert [t.get_text() for t in plain.texts][-2:] == ["in", "out"]


def test_network_highlights_the_named_weight():
    ax = draw_network([3, 3, 1], highlight=(1, 1, 3)).axes[0]
    assert r"$\Theta^{(1)}_{13}$" in [t.get_text() for t in ax.texts]


def test_network_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least two layers"):
        draw_network([3])
    with pytest.raises(ValueError, match="highlight i must be a unit of layer 2"):
        draw_network([3, 3, 1], highlight=(1, 4, 1))
    with pytest.raises(ValueError, match="highlight l must be a layer"):
        draw_network([3, 3, 1], highlight=(3, 1, 1))
    with pytest.raises(ValueError, match="one name per layer"):
        draw_network([3, 1], layer_names=["a"])
    with pytest.raises(TypeError, match="sizes must be a list"):
        draw_network(3)


def test_graph_draws_one_box_per_value_and_one_circle_per_operation():
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(1.0, label="b")
    y = (x * w + b).tanh()
    y.backward()
    fig = draw_graph(y)
    assert isinstance(fig, Figure)
    nodes, _ = trace(y)
    texts = [t.get_text() for t in fig.axes[0].texts if t.get_text()]
    assert len(texts) == len(nodes) + sum(1 for n in nodes if n._op)
    # no edition language is set here, so each word shows both languages
    assert f"x\n값 · data 2\n기울기 · grad {x.grad:.4g}" in texts and f"w\n값 · data -3\n기울기 · grad {w.grad:.4g}" in texts
    assert "×" in texts and "tanh" in texts


def test_graph_handles_a_value_used_twice_and_an_axis_given():
    import matplotlib.pyplot as plt

    a = Value(3.0, label="a")
    d = (a + a) * a
    d.backward()
    fig, ax = plt.subplots()
    assert draw_graph(d, ax=ax) is fig
    plt.close(fig)
    with pytest.raises(TypeError, match="root must be a dlbook.autograd.Value"):
        draw_graph(1.0)
