"""dlbook.widgets: the activation explorer and its static twin for the HTML book.

``tests/test_plot.py`` checks the default snapshot's titles and an unknown activation; this file
checks what the controls and panels hold.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dlbook import activations as A
from dlbook import widgets


def test_snapshot_has_one_panel_per_setting_with_the_function_drawn():
    settings = (("relu", None), ("leaky_relu", 0.2), ("sigmoid", None))
    fig = widgets.activation_explorer_snapshot(settings, x_range=(-2.0, 3.0))
    try:
        assert [ax.get_title() for ax in fig.axes] == ["relu", "leaky_relu (α = 0.2)", "sigmoid"]
        for ax, (name, alpha) in zip(fig.axes, settings):
            phi, dphi = ax.lines[:2]  # φ, then φ′ (dashed)
            x = np.asarray(phi.get_xdata(), dtype=float)
            assert (x[0], x[-1]) == (-2.0, 3.0)
            want = A.get(name)(torch.as_tensor(x, dtype=torch.float64), alpha).numpy()
            np.testing.assert_allclose(phi.get_ydata(), want, atol=1e-12)
            assert dphi.get_linestyle() == "--"
        assert fig.axes[0].get_legend() is not None  # the first panel says which curve is which
    finally:
        plt.close(fig)


def test_snapshot_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation"):
        widgets.activation_explorer_snapshot((("relu", None), ("swish", None)))
    plt.close("all")


def test_explorer_controls_start_from_the_arguments():
    pytest.importorskip("ipywidgets")
    try:
        box = widgets.activation_explorer("leaky_relu", alpha=0.3, x_range=(-2.0, 4.0))
        (choice, alpha), span = box.children[0].children, box.children[1]
        assert (choice.value, alpha.value, span.value) == ("leaky_relu", 0.3, (-2.0, 4.0))
        assert list(choice.options) == list(A.ACTIVATIONS)
        assert not alpha.disabled
        # without alpha the slider starts at the activation's own default α
        default = widgets.activation_explorer("prelu").children[0].children[1]
        assert default.value == pytest.approx(A.get("prelu").alpha)
    finally:
        plt.close("all")


def test_explorer_disables_alpha_for_activations_without_one():
    pytest.importorskip("ipywidgets")
    try:
        box = widgets.activation_explorer("relu")
        choice, alpha = box.children[0].children
        assert alpha.disabled and alpha.value == pytest.approx(0.1)
        choice.value = "leaky_relu"  # the redraw switches the slider back on
        assert not alpha.disabled
    finally:
        plt.close("all")


def test_the_slider_reaches_the_defaults_and_the_snapshot_settings():
    """ELU's default α is 1.0 and the book's still picture shows ELU at α = 2: both fit the slider."""
    pytest.importorskip("ipywidgets")
    try:
        elu = widgets.activation_explorer("elu").children[0].children[1]
        assert elu.value == pytest.approx(A.get("elu").alpha) == pytest.approx(1.0)
        assert widgets.activation_explorer("elu", alpha=2.0).children[0].children[1].value == pytest.approx(2.0)
    finally:
        plt.close("all")
