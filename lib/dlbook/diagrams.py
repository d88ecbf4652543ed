"""Diagrams drawn with matplotlib alone: a layered network and a computational graph.

Taught in chapter 06 (06_mlp); used in chapter 07.

``draw_network([3, 3, 1])`` draws the units of a multilayer perceptron in columns, with the
bias units (+1) and, if asked, one highlighted weight Θᵢⱼ⁽ˡ⁾ — the weight *to* unit i of
layer l + 1 *from* unit j of layer l. ``draw_graph(value)`` draws the computational graph
behind a :class:`dlbook.autograd.Value`, every node with its ``data`` and ``grad`` — the
picture that Graphviz would draw from :func:`dlbook.autograd.to_dot`, without needing
Graphviz installed.

Text in the figures is mathematical notation or code names, so one figure serves every
language; column titles can be passed in.
"""
from __future__ import annotations

from typing import Sequence

from ._checks import check_positive_int
from .language import tr

__all__ = ["draw_network", "draw_graph"]

_UNIT = "#dbe9f6"
_BIAS = "#f2f2f2"
_HIGHLIGHT = "tab:red"
_OP_SYMBOL = {"*": "×", "+": "+"}


def _figure(ax, size):
    from matplotlib.figure import Figure

    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()


def _unit_label(l: int, i: int, n_layers: int, n_out: int) -> str:
    if l == 1:
        return f"$x_{i}$"
    if l == n_layers and n_out == 1:
        return r"$h_\Theta(x)$"
    return f"$a^{{({l})}}_{i}$"


def draw_network(sizes: Sequence[int], *, bias: bool = True, highlight: tuple[int, int, int] | None = None,
                 layer_names: Sequence[str] | None = None, ax=None):
    """Draw a fully connected network with ``sizes[l]`` units in layer l + 1; return the Figure.

    bias: draw the constant unit x₀ = a₀ = 1 on top of every layer but the last.
    highlight: ``(l, i, j)`` marks the weight Θᵢⱼ⁽ˡ⁾ (to unit i ≥ 1 of layer l + 1 from unit
        j of layer l; j = 0 is the bias unit) in red with its name.
    layer_names: a title under each column (default ``l = 1``, ``l = 2``, …).
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a list of layer sizes such as [3, 3, 1], got {type(sizes).__name__}")
    sizes = [check_positive_int(s, f"sizes[{k}]") for k, s in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least two layers, got {sizes}")
    n_layers = len(sizes)
    if layer_names is None:
        layer_names = [f"$l = {l}$" for l in range(1, n_layers + 1)]
    layer_names = list(layer_names)
    if len(layer_names) != n_layers:
        raise ValueError(f"layer_names must have one name per layer ({n_layers}), got {len(layer_names)}")
    if highlight is not None:
        if not isinstance(highlight, (tuple, list)) or len(highlight) != 3:
            raise TypeError(f"highlight must be a triple (l, i, j), got {highlight!r}")
        hl, hi, hj = (check_positive_int(v, name, minimum=0) for v, name in zip(highlight, ("l", "i", "j")))
        if not 1 <= hl < n_layers:
            raise ValueError(f"highlight l must be a layer with a next layer, 1 … {n_layers - 1}, got {hl}")
        if not 1 <= hi <= sizes[hl]:
            raise ValueError(f"highlight i must be a unit of layer {hl + 1}, 1 … {sizes[hl]}, got {hi}")
        if not (0 if bias else 1) <= hj <= sizes[hl - 1]:
            raise ValueError(f"highlight j must be a unit of layer {hl}, {0 if bias else 1} … {sizes[hl - 1]}, got {hj}")
        highlight = (hl, hi, hj)

    from matplotlib.patches import Circle, FancyBboxPatch

    tallest = max(s + (1 if bias else 0) for s in sizes)
    fig, ax = _figure(ax, (2.0 + 2.2 * (n_layers - 1), 1.0 + 0.9 * tallest))
    radius = 0.28
    pos: dict[tuple[int, int], tuple[float, float]] = {}
    for l, n in enumerate(sizes, start=1):
        x = 2.5 * (l - 1)
        units = list(range(1, n + 1))
        if bias and l < n_layers:
            units = [0] + units
        top = (len(units) - 1) / 2
        for k, i in enumerate(units):
            pos[(l, i)] = (x, top - k)

    for l in range(1, n_layers):
        for i in range(1, sizes[l] + 1):
            for j in range(0 if bias else 1, sizes[l - 1] + 1):
                (x0, y0), (x1, y1) = pos[(l, j)], pos[(l + 1, i)]
                marked = highlight == (l, i, j)
                ax.annotate("", xy=(x1 - radius, y1), xytext=(x0 + radius, y0),
                            arrowprops=dict(arrowstyle="-|>", lw=2.2 if marked else 0.8, shrinkA=0, shrinkB=0,
                                            color=_HIGHLIGHT if marked else "0.55"),
                            zorder=3 if marked else 1)
                if marked:
                    ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.18, f"$\\Theta^{{({l})}}_{{{i}{j}}}$",
                            color=_HIGHLIGHT, fontsize=13, ha="center", va="bottom", zorder=4,
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.9))

    for (l, i), (x, y) in pos.items():
        if i == 0:
            ax.add_patch(FancyBboxPatch((x - radius, y - radius), 2 * radius, 2 * radius,
                                        boxstyle="round,pad=0.02", fc=_BIAS, ec="0.4", ls="--", zorder=2))
            ax.text(x, y, "+1", ha="center", va="center", fontsize=10, zorder=3)
        else:
            ax.add_patch(Circle((x, y), radius, fc=_UNIT, ec="0.25", lw=1.2, zorder=2))
            ax.text(x, y, _unit_label(l, i, n_layers, sizes[-1]), ha="center", va="center", fontsize=10, zorder=3)

    bottom = min(y for _, y in pos.values())
    for l, name in enumerate(layer_names, start=1):
        ax.text(2.5 * (l - 1), bottom - 0.75, name, ha="center", va="top", fontsize=10)
    top = max(y for _, y in pos.values())
    ax.set_xlim(-0.8, 2.5 * (n_layers - 1) + 0.8)
    ax.set_ylim(bottom - 1.3, top + 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def draw_graph(root, *, ax=None, precision: int = 4):
    """Draw the computational graph behind the :class:`~dlbook.autograd.Value` ``root``; return the Figure.

    Each Value is a box ``label | data | grad`` (left to right: inputs first, ``root`` last),
    each operation a circle between its inputs and its result, as in ``to_dot``. Call
    ``root.backward()`` first to see the gradients.
    """
    from .autograd import Value, trace

    if not isinstance(root, Value):
        raise TypeError(f"root must be a dlbook.autograd.Value, got {type(root).__name__}")
    precision = check_positive_int(precision, "precision")
    nodes, edges = trace(root)  # inputs first
    consumers: dict[int, list] = {id(n): [] for n in nodes}
    for child, node in edges:
        consumers[id(child)].append(node)

    # columns: an operation's result one column right of its latest input; a leaf just left of its first use
    level: dict[int, int] = {}
    for n in nodes:
        if n._prev:
            level[id(n)] = 1 + max(level[id(c)] if c._prev else 0 for c in n._prev)
    for n in nodes:
        if not n._prev:
            level[id(n)] = min((level[id(p)] for p in consumers[id(n)]), default=1) - 1
    columns: dict[int, list] = {}
    for n in nodes:
        columns.setdefault(level[id(n)], []).append(n)

    # heights: a few sweeps that move each node towards the mean height of its neighbours
    step = 1.0
    y: dict[int, float] = {}
    for col in columns.values():
        for k, n in enumerate(col):
            y[id(n)] = ((len(col) - 1) / 2 - k) * step
    for _ in range(6):
        for lv in sorted(columns):
            col = columns[lv]
            def pull(n):
                near = list(n._prev) + consumers[id(n)]
                return sum(y[id(m)] for m in near) / len(near) if near else y[id(n)]
            col.sort(key=pull, reverse=True)
            for k, n in enumerate(col):
                y[id(n)] = ((len(col) - 1) / 2 - k) * step

    tallest = max(len(c) for c in columns.values())
    depth = max(columns) + 1
    gap = 2.3  # inches between columns; data units are inches
    fig, ax = _figure(ax, (gap * (depth - 1) + 1.8, step * tallest + 0.6))

    def x_of(n):
        return gap * level[id(n)]

    half = 0.5  # half the width of a node's box
    fmt = f"{{:.{precision}g}}"
    box = dict(boxstyle="round,pad=0.3", fc=_UNIT, ec="0.3")
    arrow = dict(arrowstyle="-|>", color="0.4", lw=1, shrinkA=0, shrinkB=0)
    for n in nodes:
        lines = ([n.label] if n.label else []) + [f"{tr('값', 'data')} {fmt.format(n.data)}", f"{tr('기울기', 'grad')} {fmt.format(n.grad)}"]
        ax.text(x_of(n), y[id(n)], "\n".join(lines), ha="center", va="center", fontsize=9, bbox=box, zorder=3,
                linespacing=1.2)
        if n._op:
            ox, oy = x_of(n) - gap / 2, y[id(n)]
            ax.text(ox, oy, _OP_SYMBOL.get(n._op, n._op), ha="center", va="center", fontsize=9, zorder=3,
                    bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec="0.3"))
            ax.annotate("", xy=(x_of(n) - half - 0.1, y[id(n)]), xytext=(ox + 0.22, oy), arrowprops=arrow, zorder=1)
            for c in n._prev:  # an edge that skips columns bends, so it does not run through other boxes
                bend = dict(arrow, connectionstyle="arc3,rad=0.3") if level[id(n)] - level[id(c)] > 1 else arrow
                ax.annotate("", xy=(ox - 0.22, oy), xytext=(x_of(c) + half + 0.1, y[id(c)]), arrowprops=bend, zorder=1)
    xs, ys = [x_of(n) for n in nodes], list(y.values())
    skips = any(level[id(n)] - level[id(c)] > 1 for c, n in edges)
    ax.set_xlim(min(xs) - 0.9, max(xs) + 0.9)
    ax.set_ylim(min(ys) - 0.5 - 0.4 * skips, max(ys) + 0.5)
    ax.axis("off")
    return fig
