"""Plotting set-up and the figures of the early chapters.

Not taught in a chapter: the set-up cell of every chapter and exercise calls its setup(); used in
chapters 01–18.

``setup()`` makes matplotlib draw Korean text with NanumGothic, a font that ships
inside the ``koreanize-matplotlib`` wheel, so labels never turn into boxes —
on a CI machine, in JupyterLab and in Colab alike. The font files are registered
directly (the package's own import hook relies on ``distutils``, which newer
Pythons no longer have).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib
import torch

from . import activations as A

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
