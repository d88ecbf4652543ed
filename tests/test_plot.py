import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib import font_manager
from matplotlib.figure import Figure

from dlbook import activations as A
from dlbook import plot, widgets
from dlbook.mlp import MLP
from dlbook.nets import xor_data, xor_network
from dlbook.plot import plot_decision_regions

F64 = torch.float64


def test_korean_text_and_math_ticks_render_without_missing_glyphs():
    plot.setup()
    assert "NanumGothic" in matplotlib.rcParams["font.family"]
    assert "NanumGothic" in font_manager.findfont(font_manager.FontProperties(family="NanumGothic"), fallback_to_default=False)
    fig, ax = plt.subplots()
    ax.semilogy([1, 2, 3], [1e-3, 1e-1, 1e1])  # tick labels 10⁻³ … are mathtext with a minus sign
    ax.set_title("활성화 함수와 도함수 (activation −1)")
    ax.set_xlabel("에포크 · epoch")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph")  # "Glyph ... missing from font" (UserWarning); other
        # libraries' deprecation warnings (pyparsing under matplotlib 3.10) are not this test's concern
        fig.canvas.draw()
    plt.close(fig)


def test_activation_grid_has_one_panel_per_function():
    fig = plot.plot_activations()
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split(" ")[0] for ax in visible] == list(A.ACTIVATIONS)
    assert all(len(ax.lines) == 4 for ax in visible)  # φ, φ′ and the two axes
    plt.close(fig)


def test_explorer_builds_and_snapshot_matches_settings():
    pytest.importorskip("ipywidgets")
    box = widgets.activation_explorer("elu", alpha=0.5)
    assert box.children[0].children[0].value == "elu"
    fig = widgets.activation_explorer_snapshot()
    assert [ax.get_title() for ax in fig.axes] == [
        "leaky_relu (α = 0.01)", "leaky_relu (α = 0.3)", "elu (α = 0.5)", "elu (α = 2)"]
    plt.close("all")
    with pytest.raises(ValueError, match="unknown activation"):
        widgets.activation_explorer("swish")


def test_missing_font_package_gives_install_hint(monkeypatch):
    monkeypatch.setattr(plot.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="pip install koreanize-matplotlib"):
        plot.korean_font_dir()


def test_setup_lets_ipython_show_an_object_api_figure_as_an_image():
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    shell = InteractiveShell.instance()
    try:
        plot.setup()
        fig = Figure()
        fig.subplots().plot([0, 1])
        data, _ = shell.display_formatter.format(fig)
        assert "image/png" in data and data["image/png"]
    finally:
        InteractiveShell.clear_instance()


# ---------------------------------------------------------------- decision regions
def test_plot_decision_regions_returns_a_figure():
    x, t = xor_data()
    fig = plot_decision_regions(xor_network().classify, x, t, resolution=20)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    model = torch.nn.Linear(2, 2).double()
    assert isinstance(plot_decision_regions(model, x, t, resolution=20), Figure)
    with pytest.raises(ValueError, match=r"predict_fn must return labels.*got shape \(400, 1\)"):
        plot_decision_regions(xor_network().predict, x, t, resolution=20)
    with pytest.raises(ValueError, match=r"x must hold 2-D points, shape \(N, 2\), got shape \(4, 3\)"):
        plot_decision_regions(xor_network().classify, torch.zeros(4, 3), t)


class _RecordingNet(torch.nn.Module):
    """A 2-2 linear classifier whose ``predict`` records the device of what it is given."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 2, dtype=F64)
        self.seen = []

    def forward(self, g):
        self.seen.append(g.device)
        return self.linear(g)

    def predict(self, g):
        return self.forward(g).argmax(dim=1)


def test_plot_decision_regions_puts_the_grid_on_the_models_device(device):
    x, t = xor_data()                             # the points stay on the CPU
    model = _RecordingNet().to(device)
    for fn in (model, model.predict):             # the module, and a bound method of it
        assert isinstance(plot_decision_regions(fn, x, t, resolution=10), Figure)
    assert [d.type for d in model.seen] == [device.type] * 2
    net = MLP([2, 4, 2], weight_init_std=1.0, device=device)  # a from-scratch net: its params dict
    assert isinstance(plot_decision_regions(net.classify, x, t, resolution=10), Figure)


def test_plot_decision_regions_for_other_callables_uses_xs_device_or_the_one_given(device):
    x, t = xor_data()
    model = _RecordingNet().to(device)
    plot_decision_regions(lambda g: model(g), x.to(device), t, resolution=10)  # default: x's device
    plot_decision_regions(lambda g: model(g), x, t, resolution=10, device=device)
    assert [d.type for d in model.seen] == [device.type] * 2


def test_plot_decision_regions_draws_ties_grey_and_keeps_the_colours_given():
    from matplotlib.colors import to_rgba

    x, t = xor_data()
    fig = plot_decision_regions(lambda g: torch.where(g[:, 0] < 0.5, -1, 1), x, t, resolution=4,
                                extent=(0.0, 1.0, 0.0, 1.0), classes=torch.tensor([0, 1]))
    rgba = fig.axes[0].images[0].get_array()
    assert rgba[0, 0].tolist() == pytest.approx(to_rgba("0.6", 0.8))    # x < 0.5: a tie, grey
    assert rgba[0, -1].tolist() == pytest.approx(to_rgba("C1", 0.35))   # class 1 is the second class: C1
