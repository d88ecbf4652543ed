"""Diagrams drawn with matplotlib alone: networks, computational graphs and architecture schematics.

Taught in chapter 06 (06_mlp); used in chapters 07, 13, 15, 16, 17.

``draw_network([3, 3, 1])`` draws the units of a multilayer perceptron in columns, with the
bias units (+1) and, if asked, one highlighted weight Θᵢⱼ⁽ˡ⁾ — the weight *to* unit i of
layer l + 1 *from* unit j of layer l. ``draw_graph(value)`` draws the computational graph
behind a :class:`dlbook.autograd.Value`, every node with its ``data`` and ``grad`` — the
picture that Graphviz would draw from :func:`dlbook.autograd.to_dot`, without needing
Graphviz installed; ``local_gradients=True`` writes on every edge the local derivative that
the chain rule multiplies along a path.

The schematics of the later chapters: ``draw_im2col()`` (a convolution as one matrix product),
``draw_residual_blocks()``, ``draw_inception()`` and ``draw_dense_block()`` (the building blocks
of ResNet, GoogLeNet and DenseNet), ``draw_unrolled_rnn()`` (a recurrent network folded and
unrolled in time), ``draw_lstm_cell()`` and ``draw_gru_cell()`` (the gates of the two cells, after
PyTorch's equations, as in :mod:`dlbook.rnn`).

Every word a figure shows goes through :func:`dlbook.language.tr`, so it speaks the edition's
language; mathematical notation stays as it is.
"""
from __future__ import annotations

from typing import Sequence

from ._checks import check_positive_int
from .language import tr

__all__ = ["draw_network", "draw_graph", "draw_im2col", "draw_residual_blocks", "draw_inception", "draw_dense_block",
           "draw_unrolled_rnn", "draw_lstm_cell", "draw_gru_cell"]

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


def _local_gradients(node) -> dict[int, tuple]:
    """``{id(child): (child, ∂node/∂child)}`` at the current values, for the operation that made ``node``.

    A child used twice (``a * a``) gets the sum of its two shares (2a); an operation this table
    does not know gets no entry.
    """
    a, op, out = node._prev, node._op, node.data
    if op == "+":
        shares = [1.0] * len(a)
    elif op == "*":
        shares = [a[1].data, a[0].data]
    elif op.startswith("**"):
        k = float(op[2:])
        shares = [k * a[0].data ** (k - 1)]
    else:
        one = {"exp": lambda: out, "log": lambda: 1 / a[0].data, "tanh": lambda: 1 - out**2,
               "relu": lambda: float(a[0].data > 0), "sigmoid": lambda: out * (1 - out)}.get(op)
        if one is None:
            return {}
        shares = [one()]
    found: dict[int, tuple] = {}
    for child, share in zip(a, shares):
        before = found.get(id(child), (child, 0.0))[1]
        found[id(child)] = (child, before + share)
    return found


def _number(value: float, fmt: str) -> str:
    return fmt.format(value + 0.0).replace("-", "−")  # + 0.0: no "−0"


def draw_graph(root, *, local_gradients: bool = False, ax=None, precision: int = 4):
    """Draw the computational graph behind the :class:`~dlbook.autograd.Value` ``root``; return the Figure.

    Each Value is a box ``label | data | grad`` (left to right: inputs first, ``root`` last),
    each operation a circle between its inputs and its result, as in ``to_dot``. Call
    ``root.backward()`` first to see the gradients.

    local_gradients: label every edge input → operation with the local derivative
        ∂(result)/∂(input) at the current values ("∂/∂x = −3" for an input labelled x); the
        chain rule multiplies these along each path from ``root`` back to an input.
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
    gap = 2.8 if local_gradients else 2.3  # inches between columns; data units are inches
    op_at = 1.1 if local_gradients else gap / 2  # an operation's circle, this far left of its result
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
            ox, oy = x_of(n) - op_at, y[id(n)]
            ax.text(ox, oy, _OP_SYMBOL.get(n._op, n._op), ha="center", va="center", fontsize=9, zorder=3,
                    bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec="0.3"))
            ax.annotate("", xy=(x_of(n) - half - 0.1, y[id(n)]), xytext=(ox + 0.22, oy), arrowprops=arrow, zorder=1)
            for c in n._prev:  # an edge that skips columns bends, so it does not run through other boxes
                bend = dict(arrow, connectionstyle="arc3,rad=0.3") if level[id(n)] - level[id(c)] > 1 else arrow
                ax.annotate("", xy=(ox - 0.22, oy), xytext=(x_of(c) + half + 0.1, y[id(c)]), arrowprops=bend, zorder=1)
            if local_gradients:
                _label_local_gradients(ax, n, (ox - 0.22, oy), {id(c): (x_of(c) + half + 0.1, y[id(c)]) for c in n._prev},
                                       {id(c): level[id(n)] - level[id(c)] > 1 for c in n._prev}, fmt)
    xs, ys = [x_of(n) for n in nodes], list(y.values())
    skips = any(level[id(n)] - level[id(c)] > 1 for c, n in edges)
    ax.set_xlim(min(xs) - 0.9, max(xs) + 0.9)
    ax.set_ylim(min(ys) - 0.5 - 0.4 * skips, max(ys) + 0.5)
    ax.axis("off")
    return fig


def _label_local_gradients(ax, node, end, starts, bent, fmt):
    """Write ∂node/∂child on each edge child → operation, halfway along it (early on a bent edge)."""
    for key, (child, value) in _local_gradients(node).items():
        (x0, y0), (x1, y1) = starts[key], end
        x, y = (x0 + x1) / 2, (y0 + y1) / 2
        if bent[key]:  # arc3, rad = 0.3 bows through the control point c; label the curve at t = 0.3, clear of boxes
            cx, cy = x + 0.3 * (y1 - y0), y - 0.3 * (x1 - x0)
            x, y = (0.49 * x0 + 0.42 * cx + 0.09 * x1), (0.49 * y0 + 0.42 * cy + 0.09 * y1)
        text = _number(value, fmt)
        ax.text(x, y, f"∂/∂{child.label} = {text}" if child.label else text, ha="center", va="center", fontsize=8,
                color=_HIGHLIGHT, zorder=2, gid="local-gradient",
                bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.9))


# ---------------------------------------------------------------- schematics: boxes, ⊕/⊙ nodes and arrows
_CONV = _UNIT
_NORM = "#fde8c8"
_ACT = "#dff0d8"
_POOL = "#eadcf2"
_LINE = "0.3"


def _canvas(ax, size, xlim, ylim):
    """A Figure (or ``ax``'s) whose axes show the data box ``xlim`` × ``ylim`` at equal scale, no frame."""
    fig, ax = _figure(ax, size)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _box(ax, xy, text, *, w=1.5, h=0.3, fc=_CONV, gid=None, fontsize=9, ec="0.3"):
    """A rounded box centred at ``xy`` with ``text`` in it."""
    from matplotlib.patches import FancyBboxPatch

    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.06", fc=fc,
                                ec=ec, lw=1, zorder=2, gid=gid))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)


def _node(ax, xy, kind, r=0.13):
    """The element-wise sum ⊕ (``kind="+"``) or product ⊙ (``"*"``) as a circle centred at ``xy``."""
    from matplotlib.patches import Circle

    x, y = xy
    ax.add_patch(Circle(xy, r, fc="white", ec=_LINE, lw=1.1, zorder=2, gid="add" if kind == "+" else "mul"))
    if kind == "+":
        ax.plot([x - 0.65 * r, x + 0.65 * r], [y, y], color=_LINE, lw=1.1, zorder=3)
        ax.plot([x, x], [y - 0.65 * r, y + 0.65 * r], color=_LINE, lw=1.1, zorder=3)
    else:
        ax.add_patch(Circle(xy, 0.22 * r, fc=_LINE, ec="none", zorder=3))


def _path(ax, *points, color=_LINE, lw=1.1, head=True):
    """A line through ``points`` (right angles where they make them), an arrow head at the last."""
    xs, ys = zip(*points)
    if len(points) > 2:
        ax.plot(xs[:-1], ys[:-1], color=color, lw=lw, zorder=1, solid_capstyle="butt")
    ax.annotate("", xy=points[-1], xytext=points[-2], zorder=1,
                arrowprops=dict(arrowstyle="-|>" if head else "-", color=color, lw=lw, shrinkA=0, shrinkB=0,
                                mutation_scale=10))


def _dot(ax, xy, color=_LINE):
    """A junction: where a line splits in two."""
    from matplotlib.patches import Circle

    ax.add_patch(Circle(xy, 0.035, fc=color, ec="none", zorder=3))


def _label(ax, xy, text, *, fontsize=9, ha="center", va="center", **kw):
    ax.text(*xy, text, ha=ha, va=va, fontsize=fontsize, zorder=4, **kw)


def _conv(k: str, channels: int | None = None) -> str:
    name = f"{k} " + tr("합성곱", "conv")
    return name if channels is None else f"{name}, {channels}"


def _grid(ax, origin, values, *, cell=0.34, gid, marked=(), fc="white", fontsize=8):
    """A table of ``values`` (rows of texts) with its lower-left corner at ``origin``; cells in ``marked`` red."""
    from matplotlib.patches import Rectangle

    x0, y0 = origin
    rows = len(values)
    for r, row in enumerate(values):
        for c, text in enumerate(row):
            hot = (r, c) in marked
            ax.add_patch(Rectangle((x0 + c * cell, y0 + (rows - 1 - r) * cell), cell, cell, gid=gid, zorder=2 + hot,
                                   fc="#fbe0e0" if hot else fc, ec=_HIGHLIGHT if hot else "0.35", lw=1.6 if hot else 0.8))
            ax.text(x0 + (c + 0.5) * cell, y0 + (rows - 0.5 - r) * cell, text, ha="center", va="center",
                    fontsize=fontsize, zorder=4)


def draw_im2col(*, window: tuple[int, int] = (0, 1), ax=None):
    """Draw im2col for a 4×4 input (one channel) and a 2×2 kernel, stride 1; return the Figure.

    Top left the input (pixels 1 … 16) with the 2×2 window at output position ``window`` = (row,
    column) in red; below, the matrix product that computes every output at once: the flattened
    kernel (1×4) times the column matrix (4×9, one column per window, the red one from the red
    window) gives the 1×9 output, which reshaped is the 3×3 feature map top right.
    """
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise TypeError(f"window must be a pair (row, column), got {window!r}")
    wy, wx = (check_positive_int(v, name, minimum=0) for v, name in zip(window, ("window row", "window column")))
    if wy > 2 or wx > 2:
        raise ValueError(f"window must be an output position of the 3×3 output, (0 … 2, 0 … 2), got {(wy, wx)}")
    n, k, out, cell = 4, 2, 3, 0.34
    hot = wy * out + wx
    fig, ax = _canvas(ax, (8.6, 3.9), (-0.15, 8.6), (-0.55, 3.8))
    pixels = [[str(n * r + c + 1) for c in range(n)] for r in range(n)]
    columns = [[pixels[y + i][x + j] for y in range(out) for x in range(out)] for i in range(k) for j in range(k)]

    top = 1.95  # the lower edge of the input and of the 3×3 output
    _grid(ax, (0, top), pixels, gid="input", marked={(wy + i, wx + j) for i in range(k) for j in range(k)})
    _label(ax, (n * cell / 2, top + n * cell + 0.12), tr("입력", "input") + " (4×4)", va="bottom")
    _grid(ax, (0, 0.68 - cell / 2), [[f"$w_{{{i + 1}{j + 1}}}$" for i in range(k) for j in range(k)]], gid="kernel",
          fc=_NORM)
    _label(ax, (2 * cell, 0.68 - cell / 2 - 0.12), tr("커널", "kernel") + " (1×4)", va="top")
    _label(ax, (1.6, 0.68), "×", fontsize=14)
    mx = 1.85
    _grid(ax, (mx, 0), columns, gid="column", marked={(r, hot) for r in range(k * k)})
    _label(ax, (mx + out * out * cell / 2, -0.12), tr("열 행렬", "column matrix") + " (4×9)", va="top")
    _label(ax, (5.15, 0.68), "=", fontsize=14)
    ox = 5.4
    outputs = [f"$y_{{{y + 1}{x + 1}}}$" for y in range(out) for x in range(out)]
    _grid(ax, (ox, 0.68 - cell / 2), [outputs], gid="output", marked={(0, hot)}, fc=_ACT)
    _label(ax, (ox + out * out * cell / 2, 0.68 - cell / 2 - 0.12), tr("출력", "output") + " (1×9)", va="top")
    fx = ox + out * out * cell - out * cell  # the 3×3 output, right-aligned with the 1×9 row
    _grid(ax, (fx, top), [outputs[r * out:(r + 1) * out] for r in range(out)], gid="feature-map",
          marked={(wy, wx)}, fc=_ACT)
    _label(ax, (fx + out * cell / 2, top + out * cell + 0.12), tr("출력", "output") + " (3×3)", va="bottom")

    red = dict(color=_HIGHLIGHT, lw=1.4)
    win = ((wx + k) * cell + 0.05, top + (n - wy - 1) * cell)  # right of the window
    _path(ax, win, (mx + (hot + 0.5) * cell, win[1]), (mx + (hot + 0.5) * cell, k * k * cell + 0.05), **red)
    _label(ax, ((win[0] + mx + (hot + 0.5) * cell) / 2 + 0.5, win[1] + 0.06), "im2col", color=_HIGHLIGHT, va="bottom",
           fontsize=9)
    _path(ax, (ox + (hot + 0.5) * cell, 0.68 + cell / 2 + 0.05), (ox + (hot + 0.5) * cell, 1.35),
          (fx + (wx + 0.5) * cell, 1.35), (fx + (wx + 0.5) * cell, top - 0.05), **red)
    return fig


def _bn() -> tuple[str, str]:
    return tr("배치 정규화", "batch norm"), _NORM


def _relu() -> tuple[str, str]:
    return "ReLU", _ACT


def _residual_panel(ax, layers, output, *, relu_after=True, step=0.4, top=0.0):
    """One residual block, top to bottom: x, ``layers`` (text, colour), ⊕ with the shortcut, ReLU if asked."""
    y = top
    _label(ax, (0, y), "$x$", fontsize=11)
    split = y - 0.28
    _dot(ax, (0, split))
    _path(ax, (0, y - 0.14), (0, y - step + 0.15))
    for k, (text, fc) in enumerate(layers):
        y -= step
        _box(ax, (0, y), text, fc=fc, gid="layer", fontsize=8.5)
        _path(ax, (0, y - 0.15), (0, y - step + (0.15 if k + 1 < len(layers) else 0.13)))
    y -= step
    _node(ax, (0, y), "+")
    _label(ax, (-0.22, y), "$F(x)$", fontsize=9, ha="right")
    right = 1.12
    _path(ax, (0, split), (right, split), (right, y), (0.13, y))
    _label(ax, (right + 0.08, (split + y) / 2), tr("지름길\n연결", "shortcut\nconnection"), fontsize=8.5, ha="left")
    if relu_after:
        _path(ax, (0, y - 0.13), (0, y - step + 0.15))
        y -= step
        _box(ax, (0, y), "ReLU", fc=_ACT, gid="layer", fontsize=8.5)
        _path(ax, (0, y - 0.15), (0, y - step + 0.12))
    else:
        _path(ax, (0, y - 0.13), (0, y - step + 0.12))
    _label(ax, (0, y - step), output, fontsize=10, va="top")


def draw_residual_blocks(*, ax=None):
    """Draw three residual blocks side by side, input x on top; return the Figure.

    The basic block (3×3 conv → batch norm → ReLU → 3×3 conv → batch norm, ⊕ the shortcut x, then
    ReLU), the bottleneck block (1×1 → 3×3 → 1×1 convolutions, 256 → 64 → 64 → 256 channels,
    the same shortcut) and the pre-activation block (batch norm → ReLU → conv, twice, then ⊕
    and no ReLU after the sum). ``ax``: a list of three Axes to draw into.
    """
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(8.8, 5.0), layout="constrained")
        axes = fig.subplots(1, 3)
    else:
        axes = list(ax)
        if len(axes) != 3:
            raise ValueError(f"ax must be three Axes, one per block, got {len(axes)}")
        fig = axes[0].figure
    conv_bn_relu = lambda k, c: [(_conv(k, c), _CONV), _bn(), _relu()]  # noqa: E731
    basic = conv_bn_relu("3×3", 64) + [(_conv("3×3", 64), _CONV), _bn()]
    bottleneck = conv_bn_relu("1×1", 64) + conv_bn_relu("3×3", 64) + [(_conv("1×1", 256), _CONV), _bn()]
    pre = [_bn(), _relu(), (_conv("3×3", 64), _CONV)] * 2
    out = r"$\mathrm{ReLU}(F(x) + x)$"
    panels = [(tr("기본 블록", "basic block"), basic, out, True),
              (tr("병목 블록", "bottleneck block"), bottleneck, out, True),
              (tr("사전 활성화 블록", "pre-activation block"), pre, "$F(x) + x$", False)]
    for a, (title, layers, output, relu_after) in zip(axes, panels):
        _residual_panel(a, layers, output, relu_after=relu_after)
        a.set_title(title, fontsize=10)
        a.set_xlim(-1.0, 1.9)
        a.set_ylim(-0.4 * (len(bottleneck) + 2) - 0.4, 0.2)
        a.set_aspect("equal")
        a.axis("off")
    return fig


_ONE_BY_ONE = "#fff2b3"


def draw_inception(*, ax=None):
    """Draw one Inception module (GoogLeNet), input on top; return the Figure.

    The previous layer feeds four branches side by side: a 1×1 conv; a 1×1 conv (yellow, the
    dimensionality reduction) then a 3×3 conv; a 1×1 conv then a 5×5 conv; a 3×3 max pool
    (stride 1) then a 1×1 conv. Their outputs, all the same height and width, are concatenated
    along the channels.
    """
    fig, ax = _canvas(ax, (7.6, 3.3), (-3.65, 3.65), (-2.85, 0.3))
    xs, w = (-2.7, -0.9, 0.9, 2.7), 1.6
    rows = (-0.85, -1.65)
    pool = tr("3×3 최대 풀링", "3×3 max pool")
    branches = [[None, (_conv("1×1"), _ONE_BY_ONE)],
                [(_conv("1×1"), _ONE_BY_ONE), (_conv("3×3"), _CONV)],
                [(_conv("1×1"), _ONE_BY_ONE), (_conv("5×5"), _CONV)],
                [(pool, _POOL), (_conv("1×1"), _ONE_BY_ONE)]]
    _box(ax, (0, 0), tr("이전 계층", "previous layer"), w=7.0, h=0.34, fc=_BIAS, gid="input")
    concat = -2.5
    _box(ax, (0, concat), tr("채널 방향으로 이어 붙이기", "depth-wise concatenation"), w=7.0, h=0.34, fc=_BIAS,
         gid="concat")
    for x, branch in zip(xs, branches):
        y = -0.17
        for row, layer in zip(rows, branch):
            if layer is None:
                continue
            _path(ax, (x, y), (x, row + 0.15))
            _box(ax, (x, row), layer[0], w=w, fc=layer[1], gid="layer")
            y = row - 0.15
        _path(ax, (x, y), (x, concat + 0.17))
    return fig


def draw_dense_block(layers: int = 4, *, ax=None):
    """Draw a dense block of ``layers`` layers and the transition layer after it; return the Figure.

    Left to right: the block's input x₀ and each layer Hℓ (batch norm → ReLU → 3×3 conv) with
    its output xℓ. Every layer receives the concatenation [x₀, …, xℓ₋₁] of all earlier feature
    maps: one coloured line per earlier map, in the colour of that map. The transition layer
    (batch norm, 1×1 conv, 2×2 average pool) receives them all and shrinks channels and size.
    """
    layers = check_positive_int(layers, "layers")
    if layers > 6:
        raise ValueError(f"layers must be at most 6 to stay readable, got {layers}")
    from matplotlib import colormaps

    colours = [colormaps["tab20"](2 * k) for k in range(layers + 1)]  # lines; the maps in the light shade
    fills = [colormaps["tab20"](2 * k + 1) for k in range(layers + 1)]
    unit = 0.62  # inches from a feature map to the next layer
    maps = [2 * unit * j for j in range(layers + 1)]  # x of x_j
    boxes = [2 * unit * j + unit for j in range(layers)]  # x of H_{j+1}
    tx = maps[-1] + unit + 0.75  # the transition layer
    arcs = [(j, t) for t in range(2, layers + 2) for j in range(t - 1)]  # a map into a later (not the next) layer
    height = 0.5 + 0.12 * len(arcs)
    fig, ax = _canvas(ax, (tx + 1.5, height + 1.6), (-0.45, tx + 0.85), (-1.15, height + 0.3))
    for j, x in enumerate(maps):
        _box(ax, (x, 0), f"$x_{j}$", w=0.36, h=0.5, fc=fills[j], gid="feature-map", fontsize=10)
    for j, x in enumerate(boxes):
        _box(ax, (x, 0), f"$H_{j + 1}$", w=0.5, h=0.5, gid="layer", fontsize=10)
        _path(ax, (maps[j] + 0.18, 0), (x - 0.25, 0), color=colours[j], lw=1.6)
        _path(ax, (x + 0.25, 0), (maps[j + 1] - 0.18, 0))
    _box(ax, (tx, 0), "\n".join([tr("배치 정규화", "batch norm"), _conv("1×1"), tr("2×2 평균 풀링", "2×2 avg pool")]),
         w=1.45, h=0.95, fc=_POOL, gid="transition", fontsize=8.5)
    _path(ax, (maps[-1] + 0.18, 0), (tx - 0.73, 0), color=colours[-1], lw=1.6)
    targets = boxes + [tx]
    halves = [0.25] * layers + [0.73]
    for k, (j, t) in enumerate(sorted(arcs, key=lambda a: (a[1] - a[0], a[0]))):
        level = 0.5 + 0.12 * k
        x0 = maps[j] + 0.06 * (j - layers / 2) / max(layers, 1)
        x1 = targets[t - 1] - halves[t - 1] + 0.08 + 0.06 * j if t - 1 < layers else tx - 0.55 + 0.1 * j
        top = 0.25 if t - 1 < layers else 0.475
        _path(ax, (x0, 0.25), (x0, level), (x1, level), (x1, top), color=colours[j], lw=1.2)
    y = -0.55
    _label(ax, ((maps[0] + maps[-1]) / 2, y), tr("밀집 블록", "dense block"), fontsize=10, va="top")
    _label(ax, (tx, y), tr("전환 계층", "transition layer"), fontsize=10, va="top")
    ax.plot([maps[0] - 0.2, maps[-1] + 0.2], [y + 0.08] * 2, color="0.5", lw=1)
    note = tr("각 계층: 배치 정규화 → ReLU → 3×3 합성곱, 앞의 모든 특징 맵을 이어 붙여 받음",
              "each layer: batch norm → ReLU → 3×3 conv, fed all earlier feature maps concatenated")
    _label(ax, ((maps[0] + tx) / 2, -0.9), note, fontsize=8.5, va="top", color="0.25")
    return fig


_INPUT = "#f4c7c7"
_STATE = "#cdebcd"
_OUTPUT = "#c9daf5"


def _rnn_column(ax, x, t: str, weights, symbols, output: bool, gid: str):
    """One time step at ``x``: input box, cell (the hidden state) and, if asked, output box, with their arrows."""
    w_xh, _, w_hy = weights
    x_, h_, y_ = symbols
    _box(ax, (x, 0), f"${x_}_{{{t}}}$", w=0.55, h=0.4, fc=_INPUT, gid="input", fontsize=10)
    _box(ax, (x, 1.1), f"${h_}_{{{t}}}$", w=0.7, h=0.45, fc=_STATE, gid=gid, fontsize=10)
    _path(ax, (x, 0.2), (x, 0.875))
    _label(ax, (x + 0.06, 0.54), f"${w_xh}$", fontsize=9, ha="left", color="0.25")
    if output:
        _box(ax, (x, 2.2), f"${y_}_{{{t}}}$", w=0.55, h=0.4, fc=_OUTPUT, gid="output", fontsize=10)
        _path(ax, (x, 1.325), (x, 2.0))
        _label(ax, (x + 0.06, 1.66), f"${w_hy}$", fontsize=9, ha="left", color="0.25")


def draw_unrolled_rnn(steps: int = 4, *, output: bool = True, weights=("W_{xh}", "W_{hh}", "W_{hy}"),
                      symbols=("x", "h", "y"), ax=None):
    """Draw a recurrent network folded (a cell with a loop) and unrolled over ``steps`` time steps; return the Figure.

    Each step t: the input xₜ → the cell, whose hidden state hₜ goes up to the output yₜ (if
    ``output``) and right to the next step, hₜ₋₁ → hₜ. The same three weight matrices at every
    step; ``weights`` names them (TeX without ``$``: input → hidden, hidden → hidden, hidden →
    output), e.g. ``("U", "W", "V")``; ``symbols`` the input, the state and the output
    (``("x", "s", "o")`` for a book that writes the state sₜ).
    """
    steps = check_positive_int(steps, "steps")
    if steps > 6:
        raise ValueError(f"steps must be at most 6 to stay readable, got {steps}")
    if isinstance(weights, str) or len(weights) != 3 or not all(isinstance(w, str) for w in weights):
        raise TypeError(f"weights must be three TeX names (input, recurrent, output), got {weights!r}")
    if isinstance(symbols, str) or len(symbols) != 3 or not all(isinstance(s, str) for s in symbols):
        raise TypeError(f"symbols must be three TeX names (input, state, output), got {symbols!r}")
    gap, first = 1.35, 2.6
    right = first + gap * (steps - 1) + 0.6
    top = 2.75 if output else 1.65
    fig, ax = _canvas(ax, (right + 0.9, top + 0.95), (-0.75, right), (-0.75, top))
    _rnn_column(ax, 0, "t", weights, symbols, output, "folded")
    _path(ax, (0.35, 1.0), (0.62, 1.0), (0.62, 1.52), (0.18, 1.52), (0.18, 1.325))
    _label(ax, (0.68, 1.26), f"${weights[1]}$", fontsize=9, ha="left", color="0.25")
    _label(ax, (1.2, 1.1), "=", fontsize=16)
    for k in range(steps):
        x = first + gap * k
        _rnn_column(ax, x, str(k + 1), weights, symbols, output, "cell")
        start = x - gap + 0.35 if k else x - 0.85
        _path(ax, (start, 1.1), (x - 0.35, 1.1))
        _label(ax, ((start + x - 0.35) / 2, 1.16), f"${weights[1]}$", fontsize=9, va="bottom", color="0.25")
    _label(ax, (first - 0.85, 1.1), f"${symbols[1]}_0$", fontsize=10, ha="right")
    below = -0.45
    _label(ax, (0, below), tr("접힌 모양", "folded"), fontsize=10, va="top")
    _label(ax, ((first + right - 0.6) / 2, below),
           tr("시간 방향으로 펼친 모양: 모든 시간 단계에서 같은 가중치", "unrolled in time: the same weights at every time step"),
           fontsize=10, va="top")
    return fig


def _key(ax, y, entries, *, x0=0.0, spacing=1.8):
    """A row ``symbol  name`` at height ``y``: the math and the words as separate texts (mathtext has no Hangul)."""
    for k, (symbol, name) in enumerate(entries):
        x = x0 + spacing * k
        _label(ax, (x, y), symbol, fontsize=10, ha="left")
        _label(ax, (x + 0.32, y), name, fontsize=9, ha="left")


def _cell_frame(ax, x0, x1, y0, y1):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0,rounding_size=0.2", fc="#f6f6f6",
                                ec="0.6", lw=1, zorder=0))


def _gate(ax, xy, text):
    _box(ax, xy, text, w=0.62, h=0.36, fc=_ONE_BY_ONE if text == "σ" else _CONV, gid="gate", fontsize=10)


def draw_lstm_cell(*, ax=None):
    """Draw one LSTM cell after PyTorch's equations (``nn.LSTM``); return the Figure.

    Along the top the cell state c_{t−1} → cₜ = fₜ ⊙ c_{t−1} + iₜ ⊙ gₜ; along the bottom the
    hidden state h_{t−1}, joined by xₜ, feeds the four gate boxes: forget fₜ (σ), input iₜ (σ),
    candidate gₜ (tanh), output oₜ (σ); hₜ = oₜ ⊙ tanh(cₜ) leaves at the bottom right.
    """
    fig, ax = _canvas(ax, (8.0, 4.5), (-0.8, 7.4), (-1.0, 3.45))
    top, gy, bus = 3.0, 1.35, 0.45
    _cell_frame(ax, 0.25, 6.45, 0.1, 3.3)
    xf, xi, xg, xo, xh = 1.6, 2.8, 3.9, 5.0, 5.9
    # the cell state
    _path(ax, (0, top), (xf - 0.13, top))
    _node(ax, (xf, top), "*")
    _path(ax, (xf + 0.13, top), (xg - 0.13, top))
    _node(ax, (xg, top), "+")
    _path(ax, (xg + 0.13, top), (6.85, top))
    _dot(ax, (xh, top))
    _label(ax, (-0.08, top), "$c_{t-1}$", fontsize=11, ha="right")
    _label(ax, (6.92, top), "$c_t$", fontsize=11, ha="left")
    _label(ax, (0.8, top + 0.08), tr("셀 상태", "cell state"), fontsize=9, va="bottom", color="0.25")
    # the hidden state and the input feed every gate
    ax.plot([0, xo], [bus, bus], color=_LINE, lw=1.1, zorder=1)
    _path(ax, (0.6, -0.3), (0.6, bus))
    _dot(ax, (0.6, bus))
    _label(ax, (-0.08, bus), "$h_{t-1}$", fontsize=11, ha="right")
    _label(ax, (0.6, -0.36), "$x_t$", fontsize=11, va="top")
    for x, text in zip((xf, xi, xg, xo), ("σ", "σ", "tanh", "σ")):
        _dot(ax, (x, bus)) if x != xo else None
        _path(ax, (x, bus), (x, gy - 0.18))
        _gate(ax, (x, gy), text)
    _path(ax, (xf, gy + 0.18), (xf, top - 0.13))
    _path(ax, (xi, gy + 0.18), (xi, 2.2), (xg - 0.13, 2.2))
    _path(ax, (xg, gy + 0.18), (xg, 2.2 - 0.13))
    _node(ax, (xg, 2.2), "*")
    _path(ax, (xg, 2.2 + 0.13), (xg, top - 0.13))
    # the output: hₜ = oₜ ⊙ tanh(cₜ)
    _box(ax, (xh, 2.4), "tanh", w=0.62, h=0.34, fc=_CONV, gid="tanh", fontsize=10)
    _path(ax, (xh, top), (xh, 2.4 + 0.17))
    _path(ax, (xh, 2.4 - 0.17), (xh, 1.85 + 0.13))
    _node(ax, (xh, 1.85), "*")
    _path(ax, (xo, gy + 0.18), (xo, 1.85), (xh - 0.13, 1.85))
    _path(ax, (xh, 1.85 - 0.13), (xh, bus), (6.85, bus))
    _label(ax, (6.92, bus), "$h_t$", fontsize=11, ha="left")
    _label(ax, (6.1, bus - 0.08), tr("은닉 상태", "hidden state"), fontsize=9, va="top", color="0.25")
    for x, y, name in ((xf, 2.3, "f"), (xi, 1.85, "i"), (xg, 1.8, "g")):
        _label(ax, (x + 0.07, y), f"${name}_t$", fontsize=10, ha="left")
    _label(ax, (5.35, 1.9), "$o_t$", fontsize=10, va="bottom")
    _key(ax, -0.75, [("$f_t$", tr("망각 게이트", "forget gate")), ("$i_t$", tr("입력 게이트", "input gate")),
                     ("$g_t$", tr("후보 셀 상태", "candidate cell state")), ("$o_t$", tr("출력 게이트", "output gate"))],
         x0=-0.3, spacing=1.9)
    return fig


def draw_gru_cell(*, ax=None):
    """Draw one GRU cell after PyTorch's equations (``nn.GRU``); return the Figure.

    No cell state: along the top only the hidden state, h_{t−1} → hₜ = (1 − zₜ) ⊙ nₜ + zₜ ⊙ h_{t−1}.
    h_{t−1} and xₜ feed the update gate zₜ (σ) and the reset gate rₜ (σ); the candidate
    nₜ = tanh(W_in xₜ + b_in + rₜ ⊙ (W_hn h_{t−1} + b_hn)), the reset applied after W_hn.
    """
    fig, ax = _canvas(ax, (8.0, 4.5), (-0.8, 7.4), (-1.0, 3.45))
    top, gy, bus = 3.0, 1.5, 0.45
    _cell_frame(ax, 0.25, 6.6, 0.1, 3.3)
    xz, xzh, xr, xhn, xn, xminus = 1.8, 2.6, 3.6, 4.6, 6.1, 5.2
    # the hidden state along the top
    _path(ax, (0, top), (xzh - 0.13, top))
    _node(ax, (xzh, top), "*")
    _path(ax, (xzh + 0.13, top), (xn - 0.13, top))
    _node(ax, (xn, top), "+")
    _path(ax, (xn + 0.13, top), (6.95, top))
    _label(ax, (-0.08, top), "$h_{t-1}$", fontsize=11, ha="right")
    _label(ax, (7.02, top), "$h_t$", fontsize=11, ha="left")
    _label(ax, (1.2, top + 0.08), tr("은닉 상태", "hidden state"), fontsize=9, va="bottom", color="0.25")
    # h_{t−1} and x_t feed the gates
    _dot(ax, (0.45, top))
    ax.plot([0.45, 0.45, xn], [top, bus, bus], color=_LINE, lw=1.1, zorder=1)
    _path(ax, (0.9, -0.3), (0.9, bus))
    _dot(ax, (0.9, bus))
    _label(ax, (0.9, -0.36), "$x_t$", fontsize=11, va="top")
    for x in (xz, xr, xhn):
        _dot(ax, (x, bus))
    _gate(ax, (xz, gy), "σ")
    _gate(ax, (xr, gy), "σ")
    _gate(ax, (xn, gy), "tanh")
    _path(ax, (xz, bus), (xz, gy - 0.18))
    _path(ax, (xr, bus), (xr, gy - 0.18))
    _path(ax, (xn, bus), (xn, gy - 0.18))
    _label(ax, (xn + 0.07, 0.95), "$x_t$", fontsize=9, ha="left", color="0.25")
    # the reset gate scales W_hn h_{t−1} on its way into the candidate
    _box(ax, (xhn, 0.87), "$W_{hn}$", w=0.62, h=0.3, fc=_BIAS, gid="linear", fontsize=9)
    _path(ax, (xhn, bus), (xhn, 0.87 - 0.15))
    _path(ax, (xhn, 0.87 + 0.15), (xhn, gy - 0.13))
    _node(ax, (xhn, gy), "*")
    _path(ax, (xr + 0.31, gy), (xhn - 0.13, gy))
    _path(ax, (xhn + 0.13, gy), (xn - 0.31, gy))
    _label(ax, ((xr + xhn) / 2 + 0.1, gy + 0.06), "$r_t$", fontsize=10, va="bottom")
    # the update gate mixes: z ⊙ h_{t−1} on the top line, (1 − z) ⊙ n below it
    mid = 2.2
    _path(ax, (xz, gy + 0.18), (xz, mid), (xzh, mid), (xzh, top - 0.13))
    _dot(ax, (xzh, mid))
    _path(ax, (xzh, mid), (xminus - 0.17, mid))
    _box(ax, (xminus, mid), "1 −", w=0.34, h=0.3, fc="white", gid="one-minus", fontsize=9)
    _path(ax, (xminus + 0.17, mid), (xn - 0.13, mid))
    _path(ax, (xn, gy + 0.18), (xn, mid - 0.13))
    _node(ax, (xn, mid), "*")
    _path(ax, (xn, mid + 0.13), (xn, top - 0.13))
    _label(ax, (xz + 0.07, 1.9), "$z_t$", fontsize=10, ha="left")
    _label(ax, (xn + 0.07, 1.88), "$n_t$", fontsize=10, ha="left")
    _label(ax, ((xminus + xn) / 2 + 0.05, mid + 0.06), "$1 - z_t$", fontsize=9, va="bottom")
    _key(ax, -0.75, [("$z_t$", tr("갱신 게이트", "update gate")), ("$r_t$", tr("리셋 게이트", "reset gate")),
                     ("$n_t$", tr("후보 은닉 상태", "candidate hidden state"))], x0=0.4, spacing=2.2)
    return fig
