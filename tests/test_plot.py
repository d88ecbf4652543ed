import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from matplotlib import font_manager

from dlbook import activations as A
from dlbook import plot, widgets


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
