"""Interactive explorers for Jupyter and Colab, each with a static twin for the HTML book.

Taught in chapter 05 (05_perceptron).

A widget needs a live kernel; the published HTML has none. Every explorer here
therefore comes with a ``*_snapshot`` function drawing what the controls do at a
few settings, which the chapter shows as an ordinary figure.
"""
from __future__ import annotations

import torch

from . import activations as A
from .plot import draw_activation


def activation_explorer(name: str = "leaky_relu", alpha: float | None = None, x_range=(-5.0, 5.0)):
    """A live explorer: choose the activation, its α and the x range; see φ and φ′."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    A.get(name)  # validates the starting choice
    choice = W.Dropdown(options=list(A.ACTIVATIONS), value=name, description="φ")
    alpha_slider = W.FloatSlider(value=alpha if alpha is not None else (A.get(name).alpha or 0.1),
                                 min=0.0, max=2.0, step=0.01, description="α", continuous_update=False)
    span = W.FloatRangeSlider(value=x_range, min=-10.0, max=10.0, step=0.5, description="x", continuous_update=False)

    def draw(name, alpha, span):
        act = A.get(name)
        alpha_slider.disabled = act.alpha is None
        if name == "elu":
            alpha = max(alpha, 0.01)  # ELU needs α > 0
        fig, ax = plt.subplots(figsize=(5.2, 3.4))
        draw_activation(ax, name, torch.linspace(span[0], span[1], 401), None if act.alpha is None else alpha)
        ax.legend(loc="upper left")
        plt.show()

    out = W.interactive_output(draw, {"name": choice, "alpha": alpha_slider, "span": span})
    return W.VBox([W.HBox([choice, alpha_slider]), span, out])


def activation_explorer_snapshot(settings=(("leaky_relu", 0.01), ("leaky_relu", 0.3), ("elu", 0.5), ("elu", 2.0)),
                                 x_range=(-5.0, 5.0)):
    """The explorer's static twin: one panel per (name, α) setting. Returns the Figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(settings), figsize=(3.2 * len(settings), 2.8), sharey=True)
    x = torch.linspace(*x_range, 401)
    for ax, (name, alpha) in zip(axes, settings):
        draw_activation(ax, name, x, alpha)
    axes[0].legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    return fig
