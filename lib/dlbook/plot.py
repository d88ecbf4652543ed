"""Plotting set-up and the figures of the early chapters.

Not taught in a chapter: the set-up cell of every chapter and exercise calls its setup(); used in
chapters 01–18.

``setup()`` makes matplotlib draw Korean text with NanumGothic, a font that ships
inside the ``koreanize-matplotlib`` wheel, so labels never turn into boxes —
on a CI machine, in JupyterLab and in Colab alike. The font files are registered
directly (the package's own import hook relies on ``distutils``, which newer
Pythons no longer have).

``plot_decision_regions(predict_fn, x, y)`` is the book's one picture of a classifier in the
plane: the region of each class coloured, ties (a label −1, as k-NN reports them) in grey, the
points on top. Class j of the sorted classes gets matplotlib's colour ``C{j}`` (blue, orange,
green, …) in every chapter, so the same class has the same colour in a k-NN legend and a scatter.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable

import matplotlib
import torch

from . import activations as A
from ._checks import as_float_tensor, check_ndim, check_number, check_positive_int

KOREAN_FONT = "NanumGothic"


def korean_font_dir() -> Path:
    """The folder of NanumGothic .ttf files inside the koreanize-matplotlib package."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "Korean labels need the font in the 'koreanize-matplotlib' package: pip install koreanize-matplotlib"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "fonts"


def setup(*, dpi: int = 100) -> None:
    """Register the Korean font and set the book's figure style (call once per notebook)."""
    from matplotlib import font_manager

    known = {f.fname for f in font_manager.fontManager.ttflist}
    for ttf in sorted(korean_font_dir().glob("*.ttf")):
        if str(ttf) not in known:
            font_manager.fontManager.addfont(str(ttf))
    matplotlib.rcParams.update({
        # DejaVu Sans first: it has the minus sign and the glyphs of math tick labels (10⁻³);
        # matplotlib falls back to NanumGothic, glyph by glyph, for Hangul.
        "font.family": ["DejaVu Sans", KOREAN_FONT],
        "axes.unicode_minus": True,
        "figure.dpi": dpi,
        "savefig.dpi": dpi,
        "figure.figsize": (6.4, 4.0),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })
    _display_figures_as_images()


FIGURE_MARKER = "dlbook"  # the PNG text chunk in which a displayed figure records its labels


def figure_labels(fig) -> list[str]:
    """The words a reader reads in ``fig``: suptitle, titles, axis labels, legend entries, texts.

    Tick labels are left out (numbers, class names of a data set); a colour bar's label is its
    axes' label.
    """
    texts = [fig._suptitle] if getattr(fig, "_suptitle", None) is not None else []
    texts += list(fig.texts)
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        if getattr(ax, "zaxis", None) is not None:
            texts.append(ax.zaxis.label)
        legend = ax.get_legend()
        if legend is not None:
            texts += [legend.get_title(), *legend.get_texts()]
    for legend in fig.legends:
        texts += [legend.get_title(), *legend.get_texts()]
    return [t.get_text() for t in texts if t.get_visible() and t.get_text().strip()]


def _png(fig) -> bytes:
    """``fig`` as PNG bytes that record the edition's language and the figure's labels.

    The record (JSON in a PNG text chunk, read back by ``tests/test_figure_language.py`` in the
    built book) lets the book check that the Korean edition's figures speak Korean.
    """
    import json

    from IPython.core.pylabtools import print_figure

    from .language import current

    record = json.dumps({"language": current(), "labels": figure_labels(fig)})  # ASCII-escaped
    return print_figure(fig, "png", metadata={FIGURE_MARKER: record})


def _display_figures_as_images() -> None:
    """In IPython, show every ``Figure`` as a PNG that records its labels (see ``_png``).

    Figures built with the object API (``Figure()``, as the library's plot functions do) are
    displayed by IPython's formatters, which the inline backend registers only once it is loaded;
    without this a bare ``fig`` would print ``<Figure size … with … Axes>``. The backend is loaded
    first (matplotlib loads it lazily, at the first figure), so that its own PNG formatter,
    registered then, is replaced rather than replacing this one.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    plt.switch_backend(matplotlib.get_backend())  # load it now

    shell.display_formatter.formatters["image/png"].for_type(Figure, _png)


def draw_activation(ax, name: str, x: torch.Tensor, alpha: float | None = None, *, derivative: bool = True):
    """Draw φ(x) (and φ′(x), dashed) for the activation ``name`` on ``ax``."""
    act = A.get(name)
    x = x.detach().cpu().double()
    ax.plot(x, act(x, alpha), lw=2, label="φ(x)")
    if derivative:
        ax.plot(x, act.derivative(x, alpha), lw=1.5, ls="--", label="φ′(x)")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.axvline(0, color="0.5", lw=0.8)
    title = name if act.alpha is None else f"{name} (α = {act.alpha if alpha is None else alpha:g})"
    ax.set_title(title)
    ax.set_xlabel("x")
    return ax


def plot_activations(names=None, *, x_range=(-5.0, 5.0), cols: int = 4, alphas: dict | None = None):
    """A grid with one panel per activation: the function and its derivative. Returns the Figure."""
    import matplotlib.pyplot as plt

    names = list(names or A.ACTIVATIONS)
    alphas = alphas or {}
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.7 * rows), squeeze=False, sharex=True)
    x = torch.linspace(*x_range, 401, dtype=torch.float64)
    for ax, name in zip(axes.flat, names):
        draw_activation(ax, name, x, alphas.get(name))
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    return fig


def plot_maxout(pieces=((1.0, 0.0), (-0.5, 0.0), (0.3, 1.0)), *, x_range=(-5.0, 5.0)):
    """Maxout of a few lines wᵢx + bᵢ on a 1-D input: a learned convex piecewise-linear function."""
    import matplotlib.pyplot as plt

    x = torch.linspace(*x_range, 401, dtype=torch.float64)
    lines = torch.stack([w * x + b for w, b in pieces], dim=-1)  # (401, pieces)
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    for (w, b), line in zip(pieces, lines.unbind(-1)):
        ax.plot(x, line, lw=1, ls=":", label=f"{w:g}x {'+' if b >= 0 else '-'} {abs(b):g}")
    ax.plot(x, A.maxout(lines, len(pieces)).squeeze(-1), lw=2.5, color="k", label="maxout")
    ax.set_xlabel("x")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- decision regions
def _weight_of(fn) -> torch.Tensor | None:
    """A parameter of the model behind ``fn``, or None: fn may be an ``nn.Module``, a bound method
    of one (``model.predict``), or a bound method of a from-scratch net with a ``params`` dict
    (``dlbook.mlp.MLP``)."""
    owner = fn if isinstance(fn, torch.nn.Module) else getattr(fn, "__self__", None)
    if isinstance(owner, torch.nn.Module):
        return next(owner.parameters(), None)
    params = getattr(owner, "params", None)
    if isinstance(params, dict):
        return next((p for p in params.values() if isinstance(p, torch.Tensor)), None)
    return None


def _grid_placement(predict_fn, x: torch.Tensor, device) -> tuple[torch.device, torch.dtype]:
    """Device and dtype for the grid: ``device`` if given, else the model's (see :func:`_weight_of`),
    else those of the points ``x``."""
    p = _weight_of(predict_fn)
    dtype = p.dtype if p is not None and p.is_floating_point() else x.dtype
    if device is not None:
        return torch.device(device), dtype
    return (p.device if p is not None else x.device), dtype


def _predicted_labels(predict_fn, grid: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        out = torch.as_tensor(predict_fn(grid)).detach()
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(dim=1)
    if out.ndim != 1 or out.shape[0] != grid.shape[0]:
        raise ValueError(f"predict_fn must return labels of shape ({grid.shape[0]},) or scores of shape "
                         f"({grid.shape[0]}, C) with C > 1, got shape {tuple(out.shape)}; "
                         "for one output (a logit), pass e.g. lambda g: (model(g)[:, 0] > 0).long()")
    return out.long()


def plot_decision_regions(predict_fn: Callable, x, y, *, ax=None, resolution: int = 200, padding: float = 0.5,
                          title: str | None = None, device=None, extent=None, classes=None):
    """Colour the plane by the class ``predict_fn`` assigns, with the points (x, y) on top.

    predict_fn: (M, 2) → labels (M,) or scores (M, C) (the arg-max is taken), evaluated without
    gradients; a label −1 means "no single class" (a tie) and is drawn grey. The grid is put on
    the model's device and dtype when predict_fn is an ``nn.Module``, a bound method of one
    (``model.predict``) or of a net with a ``params`` dict (``net.classify``); for any other
    callable on ``device``, by default the device of ``x`` — pass ``device=`` when they differ.
    x: (N, 2) points, y: (N,) their labels. The box is the points' ± ``padding`` unless
    ``extent=(x0, x1, y0, y1)`` is given; ``classes`` (sorted labels) fixes the colours, so
    several panels agree. Returns the matplotlib Figure.
    """
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable (M, 2) → labels or scores, got {type(predict_fn).__name__}")
    x = check_ndim(as_float_tensor(x), "x", 2).detach()
    if x.shape[1] != 2:
        raise ValueError(f"x must hold 2-D points, shape (N, 2), got shape {tuple(x.shape)}")
    y = torch.as_tensor(y).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have one label per point ({x.shape[0]}), got shape {tuple(y.shape)}")
    resolution = check_positive_int(resolution, "resolution", minimum=2)
    if extent is None:
        padding = check_number(padding, "padding", low=0.0)
        lo, hi = (x.min(dim=0).values - padding).tolist(), (x.max(dim=0).values + padding).tolist()
        extent = (lo[0], hi[0], lo[1], hi[1])
    x0, x1, y0, y1 = (check_number(v, "extent") for v in extent)

    g0 = torch.linspace(x0, x1, resolution, dtype=torch.float64)
    g1 = torch.linspace(y0, y1, resolution, dtype=torch.float64)
    xx, yy = torch.meshgrid(g0, g1, indexing="xy")                       # (R, R) each: row = y, column = x
    grid_device, grid_dtype = _grid_placement(predict_fn, x, device)
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1).to(device=grid_device, dtype=grid_dtype)
    labels = _predicted_labels(predict_fn, grid).cpu().reshape(resolution, resolution)
    y = y.cpu().long()
    if classes is None:
        classes = torch.unique(torch.cat([y, labels[labels >= 0].unique()]))
    classes = torch.as_tensor(classes).cpu().long()

    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure

    palette = torch.tensor([to_rgba(f"C{j % 10}") for j in range(len(classes))], dtype=torch.float64)
    index = torch.searchsorted(classes, labels.clamp_min(classes[0].item())).clamp_max(len(classes) - 1)
    tie = labels < 0
    rgba = torch.where(tie.unsqueeze(-1), torch.tensor(to_rgba("0.6"), dtype=torch.float64), palette[index])
    rgba[..., 3] = torch.where(tie, 0.8, 0.35)
    fig = ax.figure if ax is not None else Figure(figsize=(4.5, 4), layout="constrained")
    ax = ax if ax is not None else fig.subplots()
    ax.imshow(rgba.numpy(), origin="lower", extent=(x0, x1, y0, y1), aspect="auto", interpolation="nearest")
    point_colour = palette[torch.searchsorted(classes, y).clamp_max(len(classes) - 1)]
    ax.scatter(x[:, 0].cpu().numpy(), x[:, 1].cpu().numpy(), c=point_colour.numpy(), edgecolors="k",
               linewidths=0.5, s=25)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return fig
