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


# ---------------------------------------------------------------- local gradients and the schematics
import dlbook  # noqa: E402
from dlbook import diagrams, language, plot  # noqa: E402
from dlbook_tools import edition_language  # noqa: E402


@pytest.fixture
def restore_language():
    before = language.current()
    yield
    language.set_language(before)


def _edge_labels(fig):
    return [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "local-gradient"]


def _value(label):
    return float(label.rsplit("= ", 1)[-1].replace("−", "-"))


def test_graph_labels_each_edge_with_its_local_derivative():
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(1.0, label="b")
    y = x * w + b
    y.backward()
    assert _edge_labels(draw_graph(y)) == []  # the default figure is unchanged
    labels = {t.split(" = ")[0]: _value(t) for t in _edge_labels(draw_graph(y, local_gradients=True))}
    assert labels["∂/∂x"] == -3.0 and labels["∂/∂w"] == 2.0 and labels["∂/∂b"] == 1.0
    assert "∂/∂x = −3" in _edge_labels(draw_graph(y, local_gradients=True))
    assert labels.pop("1") == 1.0  # the unlabelled x·w into +


def test_local_derivatives_of_every_operation_match_the_analytic_ones():
    import math

    a = Value(0.5, label="a")
    cases = {"tanh": (a.tanh(), 1 - math.tanh(0.5) ** 2), "exp": (a.exp(), math.exp(0.5)), "log": (a.log(), 2.0),
             "relu": (a.relu(), 1.0), "sigmoid": (a.sigmoid(), math.exp(-0.5) / (1 + math.exp(-0.5)) ** 2),
             "pow": (a ** 3, 3 * 0.5 ** 2), "square": (a * a, 2 * 0.5)}
    for name, (out, expected) in cases.items():
        out.backward()
        (label,) = _edge_labels(draw_graph(out, local_gradients=True, precision=6))
        assert _value(label) == pytest.approx(expected, rel=1e-5), name


SCHEMATICS = {"draw_im2col": lambda: diagrams.draw_im2col(), "draw_residual_blocks": diagrams.draw_residual_blocks,
              "draw_inception": diagrams.draw_inception, "draw_dense_block": lambda: diagrams.draw_dense_block(),
              "draw_unrolled_rnn": lambda: diagrams.draw_unrolled_rnn(), "draw_lstm_cell": diagrams.draw_lstm_cell,
              "draw_gru_cell": diagrams.draw_gru_cell, "draw_graph": lambda: _local_graph()}


def _local_graph():
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    y = (x * w).tanh()
    y.backward()
    return draw_graph(y, local_gradients=True)


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("name", sorted(SCHEMATICS))
def test_schematics_are_figures_that_speak_the_edition_language(name, lang, restore_language):
    dlbook.set_language(lang)
    fig = SCHEMATICS[name]()
    assert isinstance(fig, Figure)
    labels = plot.figure_labels(fig)
    assert labels and [w for w in labels if not edition_language.speaks(w, lang)] == []
    assert [w for w in labels if "$" in w and edition_language.HANGUL.search(w)] == []  # mathtext has no Hangul
    assert 7 <= fig.get_figwidth() <= 9


def _gids(fig, gid):
    return [p for ax in fig.axes for p in ax.patches if p.get_gid() == gid]


def test_im2col_matrix_has_one_row_per_kernel_entry_and_one_column_per_window():
    fig = diagrams.draw_im2col(window=(1, 2))
    cells = _gids(fig, "column")
    assert len(cells) == 4 * 9
    assert len({round(c.get_x(), 6) for c in cells}) == 9 and len({round(c.get_y(), 6) for c in cells}) == 4
    assert len(_gids(fig, "input")) == 16 and len(_gids(fig, "kernel")) == 4 and len(_gids(fig, "output")) == 9
    red = sorted((c for c in cells if c.get_edgecolor()[0] > 0.5 and c.get_edgecolor()[1] < 0.3), key=lambda c: -c.get_y())
    assert len(red) == 4 and len({round(c.get_x(), 6) for c in red}) == 1  # one highlighted column: window 1·3 + 2 = 5
    ax = fig.axes[0]
    column_texts = [t.get_text() for t in ax.texts if any(abs(t.get_position()[0] - (r.get_x() + r.get_width() / 2)) < 1e-9
                                                          and abs(t.get_position()[1] - (r.get_y() + r.get_height() / 2)) < 1e-9
                                                          for r in red)]
    assert column_texts == ["7", "8", "11", "12"]  # the pixels of the window at row 1, column 2
    with pytest.raises(ValueError, match="window must be an output position"):
        diagrams.draw_im2col(window=(3, 0))


def test_residual_inception_and_dense_blocks_draw_their_layers():
    fig = diagrams.draw_residual_blocks()
    assert [len([p for p in ax.patches if p.get_gid() == "layer"]) for ax in fig.axes] == [6, 9, 6]
    assert [len([p for p in ax.patches if p.get_gid() == "add"]) for ax in fig.axes] == [1, 1, 1]
    pre = [t.get_text() for t in fig.axes[2].texts]
    assert pre[-1] == "$F(x) + x$"  # no ReLU after the sum in the pre-activation block
    fig = diagrams.draw_inception()
    assert len(_gids(fig, "layer")) == 7 and len(_gids(fig, "concat")) == 1
    fig = diagrams.draw_dense_block(layers=3)
    assert len(_gids(fig, "layer")) == 3 and len(_gids(fig, "feature-map")) == 4 and len(_gids(fig, "transition")) == 1
    ax = fig.axes[0]
    assert sum(1 for t in ax.texts if t.get_text() == "" and t.arrow_patch is not None) == 3 * 2 + 1 + 6  # chain + skips
    with pytest.raises(ValueError, match="layers must be at most 6"):
        diagrams.draw_dense_block(layers=7)


def test_unrolled_rnn_draws_one_cell_per_step_with_the_same_weights():
    fig = diagrams.draw_unrolled_rnn(steps=5)
    assert len(_gids(fig, "cell")) == 5 and len(_gids(fig, "folded")) == 1
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("$W_{hh}$") == 5 + 1 and texts.count("$W_{xh}$") == 6 and "$h_{5}$" in texts and "$h_0$" in texts
    fig = diagrams.draw_unrolled_rnn(3, output=False, weights=("U", "W", "V"))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(_gids(fig, "output")) == 0 and "$U$" in texts and "$V$" not in texts
    with pytest.raises(TypeError, match="weights must be three TeX names"):
        diagrams.draw_unrolled_rnn(weights="W")
    fig = diagrams.draw_unrolled_rnn(2, weights=("U", "W", "V"), symbols=("x", "s", "o"))  # chapter 16's letters
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert {"$s_{2}$", "$o_{1}$", "$x_{t}$", "$s_0$"} <= set(texts) and not any("h_" in t for t in texts)
    with pytest.raises(TypeError, match="symbols must be three TeX names"):
        diagrams.draw_unrolled_rnn(symbols=("x", "s"))


def test_lstm_has_four_gates_and_a_cell_state_the_gru_three_and_none(restore_language):
    for lang, cell_state in (("ko", "셀 상태"), ("en", "cell state")):
        dlbook.set_language(lang)
        lstm, gru = diagrams.draw_lstm_cell(), diagrams.draw_gru_cell()
        assert len(_gids(lstm, "gate")) == 4 and len(_gids(gru, "gate")) == 3
        lstm_texts, gru_texts = plot.figure_labels(lstm), plot.figure_labels(gru)
        assert cell_state in lstm_texts and {"$c_{t-1}$", "$c_t$", "$f_t$", "$i_t$", "$g_t$", "$o_t$"} <= set(lstm_texts)
        assert not any(cell_state in t or "c_" in t for t in gru_texts)
        assert {"$h_{t-1}$", "$h_t$", "$z_t$", "$r_t$", "$n_t$", "$1 - z_t$"} <= set(gru_texts)
        assert [g.get_gid() for g in _gids(lstm, "add")] == ["add"] and len(_gids(lstm, "mul")) == 3
        assert len(_gids(gru, "add")) == 1 and len(_gids(gru, "mul")) == 3
