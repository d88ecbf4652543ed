"""Shapes of tensors, worked out before any number is computed (chapter 02).

Taught in chapter 02 (02_tensors).

* ``matmul_shape(a, b)`` — the shape of ``a @ b`` from the two shapes alone, with PyTorch's
  rules: (n, k) @ (k, m) → (n, m); a 1-D operand is a vector (its dimension is dropped from the
  result); leading "batch" dimensions broadcast. When the inner dimensions differ it raises a
  ValueError that names them.
* ``broadcast_shape(*shapes)`` — the shape two or more tensors broadcast to: align the shapes on
  the right; in every position the sizes must be equal or one of them 1 (a missing dimension
  counts as 1); the result takes the larger size. ``explain_broadcast`` prints the alignment.
* ``nhwc_to_nchw`` / ``nchw_to_nhwc`` — images stored channels-last (NumPy, PIL, Matplotlib,
  TensorFlow: N, H, W, C) to PyTorch's channels-first (N, C, H, W) and back, for a batch (4-D)
  or one image (3-D).
* ``describe(t)`` — "ndim=2 shape=(3, 2) dtype=int64": the facts of a tensor or array that do not
  depend on the device.

Shapes are tuples (or lists, or ``torch.Size``) of non-negative ints; every function is checked
against ``torch.matmul`` / ``torch.broadcast_shapes`` in ``tests/test_tensors.py``.
"""
from __future__ import annotations

import numbers

import torch

from .language import tr

__all__ = ["as_shape", "matmul_shape", "broadcast_shape", "explain_broadcast", "nhwc_to_nchw", "nchw_to_nhwc",
           "describe", "plot_broadcast", "plot_matmul"]


def as_shape(shape, name: str = "shape") -> tuple[int, ...]:
    """``shape`` as a tuple of ints ≥ 0 (accepts a tuple, list, ``torch.Size``, or a tensor/array's ``.shape``)."""
    if isinstance(shape, torch.Tensor) or hasattr(shape, "__array__"):
        raise TypeError(f"{name} must be a shape such as (3, 2), not a tensor: pass {name}.shape")
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list, torch.Size)):
        raise TypeError(f"{name} must be a tuple of ints such as (3, 2), got {type(shape).__name__}")
    out = []
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 0:
            raise ValueError(f"{name} must hold non-negative ints, got {tuple(shape)}")
        out.append(int(size))
    return tuple(out)


def _broadcast(shapes: list[tuple[int, ...]], names: list[str]) -> tuple[int, ...]:
    ndim = max(len(s) for s in shapes)
    result = []
    for pos in range(-ndim, 0):  # left to right, counted from the right
        sizes = [s[pos] if len(s) >= -pos else 1 for s in shapes]
        big = {n for n in sizes if n != 1}
        if len(big) > 1:
            shown = ", ".join(f"{name}={s}" for name, s in zip(names, shapes))
            raise ValueError(f"cannot broadcast {shown}: in dimension {pos} (counted from the right) the sizes "
                             f"are {sizes}; each must equal the others or be 1")
        result.append(big.pop() if big else 1)
    return tuple(result)


def broadcast_shape(*shapes) -> tuple[int, ...]:
    """The shape the given shapes broadcast to: ``broadcast_shape((3, 1), (1, 4))`` → (3, 4).

    Raises ValueError, naming the clashing dimension, when two sizes differ and neither is 1.
    """
    if not shapes:
        raise TypeError("broadcast_shape needs at least one shape")
    names = [f"shape{i + 1}" for i in range(len(shapes))]
    parsed = [as_shape(s, n) for s, n in zip(shapes, names)]
    return _broadcast(parsed, names)


def explain_broadcast(*shapes) -> str:
    """The broadcasting rule written out: shapes aligned on the right, 1s filled in, the result.

    >>> print(explain_broadcast((2, 3), (3,)))
     (2, 3)  →  (2, 3)
       (3,)  →  (1, 3)
    result:  →  (2, 3)
    """
    result = broadcast_shape(*shapes)
    parsed = [as_shape(s) for s in shapes]
    ndim = len(result)
    left = [str(s) for s in parsed]
    label = tr("결과:", "result:")
    columns = len(label) + sum(1 for c in label if "\uac00" <= c <= "\ud7a3")  # a syllable is two columns wide
    width = max([len(t) for t in left] + [columns])
    lines = [f"{t:>{width}}  →  {(1,) * (ndim - len(s)) + s}" for t, s in zip(left, parsed)]
    lines.append(f"{label}{' ' * (width - columns)}  →  {result}")
    return "\n".join(lines)


def matmul_shape(a, b) -> tuple[int, ...]:
    """The shape of ``A @ B`` for A of shape ``a`` and B of shape ``b`` (``torch.matmul``'s rules).

    (n, k) @ (k, m) → (n, m). A 1-D ``a`` of shape (k,) acts as a row (1, k) and a 1-D ``b`` as a
    column (k, 1); that dimension is then dropped: (k,) @ (k,) → () and (n, k) @ (k,) → (n,).
    Dimensions before the last two are batch dimensions and broadcast:
    (8, 1, n, k) @ (5, k, m) → (8, 5, n, m). Raises ValueError when the inner sizes differ.
    """
    a, b = as_shape(a, "a"), as_shape(b, "b")
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"matmul needs operands with at least 1 dimension, got shapes {a} and {b}")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(f"cannot multiply shapes {a} and {b}: the inner dimensions differ "
                         f"({a2[-1]} columns vs {b2[-2]} rows); A's last dimension must equal B's "
                         f"{'only' if len(b) == 1 else 'second-to-last'} dimension")
    batch = _broadcast([a2[:-2], b2[:-2]], ["a's batch dimensions", "b's batch dimensions"])
    rows = () if len(a) == 1 else (a2[-2],)
    cols = () if len(b) == 1 else (b2[-1],)
    return batch + rows + cols


def _image_tensor(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        if hasattr(x, "__array__"):
            x = torch.as_tensor(x)
        else:
            raise TypeError(f"{name} must be a tensor or an array, got {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{name} must be one image (3 dimensions) or a batch (4 dimensions), "
                         f"got shape {tuple(x.shape)}")
    return x


def nhwc_to_nchw(x) -> torch.Tensor:
    """Channels-last to channels-first: (N, H, W, C) → (N, C, H, W), or (H, W, C) → (C, H, W).

    A view (no copy) of ``x``: call ``.contiguous()`` if a copy in the new layout is needed.
    """
    x = _image_tensor(x, "x")
    return x.permute(0, 3, 1, 2) if x.ndim == 4 else x.permute(2, 0, 1)


def nchw_to_nhwc(x) -> torch.Tensor:
    """Channels-first to channels-last: (N, C, H, W) → (N, H, W, C), or (C, H, W) → (H, W, C). A view."""
    x = _image_tensor(x, "x")
    return x.permute(0, 2, 3, 1) if x.ndim == 4 else x.permute(1, 2, 0)


def describe(t) -> str:
    """"ndim=2 shape=(3, 2) dtype=int64" for a tensor or a NumPy array (no device, no values)."""
    if isinstance(t, torch.Tensor):
        dtype = str(t.dtype).removeprefix("torch.")
    elif hasattr(t, "shape") and hasattr(t, "dtype") and hasattr(t, "ndim"):
        dtype = str(t.dtype)
    else:
        raise TypeError(f"t must be a tensor or a NumPy array, got {type(t).__name__}")
    return f"ndim={t.ndim} shape={tuple(int(s) for s in t.shape)} dtype={dtype}"


def _plot_copy(t, name: str) -> torch.Tensor:
    """``t`` (a tensor on any device, an array or a number) as a detached CPU tensor of its own dtype."""
    t = torch.as_tensor(t.detach() if isinstance(t, torch.Tensor) else t)
    if t.is_complex():
        raise TypeError(f"{name} must hold real numbers to be drawn, got dtype {t.dtype}")
    return t.cpu()


def plot_broadcast(a, b, *, op: str = "+"):
    """Draw a, b stretched to the common shape, and a + b (or ``op`` "*"), as annotated grids.

    a and b are 0-, 1- or 2-D; the broadcast result must be at most 2-D. The stretched copies
    are drawn lighter: broadcasting repeats values without copying them. a and b may live on
    any devices (a 0-D tensor mixes with any): they are drawn from CPU copies. Returns the Figure.
    """
    import matplotlib.pyplot as plt

    a, b = _plot_copy(a, "a"), _plot_copy(b, "b")
    if op not in ("+", "*"):
        raise ValueError(f"op must be '+' or '*', got {op!r}")
    shape = broadcast_shape(tuple(a.shape), tuple(b.shape))
    if len(shape) > 2:
        raise ValueError(f"plot_broadcast draws at most 2-D results, got {shape}")
    grid = (1,) * (2 - len(shape)) + shape
    out = a + b if op == "+" else a * b
    panels = [(a, f"a {tuple(a.shape)}"), (b, f"b {tuple(b.shape)}"), (out, f"a {op} b {shape}")]
    fig, axes = plt.subplots(1, 3, figsize=(3.0 * 3, 0.9 + 0.55 * grid[0]))
    for ax, (t, title) in zip(axes, panels):
        own = (1,) * (2 - t.ndim) + tuple(t.shape)
        full = t.reshape(own).expand(grid)
        low, high = float(out.min()) - 1, float(out.max()) + 1
        ax.imshow(full.to(torch.float64).numpy(), cmap="Blues", vmin=low, vmax=high)
        for i in range(grid[0]):
            for j in range(grid[1]):
                original = (own[0] == grid[0] or i == 0) and (own[1] == grid[1] or j == 0)
                dark = (float(full[i, j]) - low) / (high - low) > 0.6
                ax.text(j, i, f"{full[i, j].item():g}", ha="center", va="center", fontsize=12,
                        color=("white" if dark else "black") if original else "0.6",
                        fontweight="bold" if original else "normal")
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.tight_layout()
    return fig


def plot_matmul(a_shape=(5, 3), b_shape=(3, 2), i: int = 1, j: int = 0):
    """Draw A (n, k) @ B (k, m) = C (n, m) as grids of cells, highlighting row i of A, column j of B
    and the entry C[i, j] = Σₖ A[i, k]·B[k, j] they make. Returns the Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    a, b = as_shape(a_shape, "a_shape"), as_shape(b_shape, "b_shape")
    if len(a) != 2 or len(b) != 2:
        raise ValueError(f"plot_matmul draws 2-D operands, got shapes {a} and {b}")
    c = matmul_shape(a, b)
    if not (0 <= i < a[0] and 0 <= j < b[1]):
        raise ValueError(f"i must be in [0, {a[0]}) and j in [0, {b[1]}), got i={i}, j={j}")
    width = a[1] + b[1] + c[1] + 2 * 1.2
    fig, ax = plt.subplots(figsize=(0.45 * width + 0.4, 0.6 + 0.45 * max(a[0], b[0])))
    x0 = 0.0
    grids = [(a, "A", lambda r, q: r == i), (b, "B", lambda r, q: q == j), (c, "C = AB", lambda r, q: r == i and q == j)]
    for n, (shape, name, lit) in enumerate(grids):
        rows, cols = shape
        for r in range(rows):
            for q in range(cols):
                ax.add_patch(Rectangle((x0 + q, -r - 1), 1, 1, facecolor="#4292c6" if lit(r, q) else "#deebf7",
                                       edgecolor="white", lw=2))
        ax.text(x0 + cols / 2, 0.35, f"{name}  {shape}", ha="center", fontsize=11)
        if n < 2:
            ax.text(x0 + cols + 0.6, -max(a[0], b[0]) / 2, "@" if n == 0 else "=", ha="center", va="center",
                    fontsize=18)
        x0 += cols + 1.2
    ax.set_xlim(-0.2, x0 - 1.0)
    ax.set_ylim(-max(a[0], b[0]) - 0.2, 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig
