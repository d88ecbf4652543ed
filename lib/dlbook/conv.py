"""Convolution and pooling written from the formulas (im2col), forward and backward.

Taught in chapter 13 (13_convolution); used in chapters 14, 15.

Shapes follow PyTorch: images are ``(N, C, H, W)`` (batch, channels = depth, height, width) and a
bank of K filters is ``W: (K, C, FH, FW)`` with biases ``b: (K,)``. Every filter spans the whole
input depth (``W.shape[1] == C``); K filters give an output of depth K.

The size of an output is ``W₂ = (W₁ − F + 2P)/S + 1`` (:func:`conv_output_size`) and a layer has
``(F·F·D₁)·K`` weights plus ``K`` biases (:func:`conv_param_count`).

**im2col.** Every receptive field of the (zero-padded) input is copied into one column::

    cols[n, (c, i, j), (y, x)] = x_pad[n, c, S·y + i, S·x + j]

so the convolution becomes one matrix product ``W.reshape(K, C·FH·FW) @ cols``. :func:`im2col`
fills the columns with one strided slice of the input per filter offset (i, j) (FH·FW vectorised
copies); :func:`col2im` is its adjoint, the same loop with ``+=``: it adds every column entry back
to the pixel it came from, so pixels shared by overlapping windows collect the sum of their
gradients (weight sharing: gradients sum). Pooling is built on the same two functions: a window
is a column, its max or mean a reduction over the column.

The layers (``conv2d_forward``/``conv2d_backward``, max/average pooling) are checked against
``F.conv2d``, ``F.max_pool2d`` and ``F.avg_pool2d`` in ``tests/test_conv.py``, and are wrapped as
``torch.autograd.Function``\\ s and ``nn.Module``\\ s (:class:`Conv2d`, :class:`MaxPool2d`,
:class:`AvgPool2d`) so that models can be built from them. Like PyTorch, the layers drop the last
rows/columns that a window cannot reach when ``(W₁ − F + 2P)`` is not a multiple of S; the strict
formula with its error lives in :func:`conv_output_size`.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from ._checks import as_float_tensor, check_ndim, check_number, check_positive_int
from .init import uniform_ as _uniform

__all__ = [
    "conv_output_size", "same_padding", "conv_param_count", "receptive_field",
    "im2col", "col2im",
    "conv2d_forward", "conv2d_backward", "ConvCache",
    "max_pool2d_forward", "max_pool2d_backward", "MaxPoolCache",
    "avg_pool2d_forward", "avg_pool2d_backward", "AvgPoolCache",
    "conv2d", "max_pool2d", "avg_pool2d", "lp_pool2d",
    "Conv2d", "MaxPool2d", "AvgPool2d", "LPPool2d",
    "local_response_norm", "local_response_norm_paper", "LocalResponseNorm",
    "edge_kernel", "filter2d",
]


# ---------------------------------------------------------------- sizes and counts
def _int(value, name: str, minimum: int) -> int:
    return check_positive_int(value, name, minimum=minimum)


def conv_output_size(W, F, S=1, P=0, *, floor: bool = False) -> int:
    """Output width ``W₂ = (W₁ − F + 2P)/S + 1`` of a convolution or pooling window.

    ``W`` input width, ``F`` filter width, ``S`` stride, ``P`` zero padding on each side.
    The windows must tile the padded input exactly, so ``(W − F + 2P)`` must be a multiple of S
    and the result positive; otherwise a ValueError shows the formula and the numbers.
    With ``floor=True`` the division is floored as PyTorch does (the last pixels that no window
    reaches are dropped); a non-positive size is still an error.
    """
    W, F = _int(W, "W", 1), _int(F, "F", 1)
    S, P = _int(S, "S", 1), _int(P, "P", 0)
    span = W - F + 2 * P
    formula = f"W₂ = (W − F + 2P)/S + 1 = ({W} − {F} + 2·{P})/{S} + 1 = {span}/{S} + 1"
    if span < 0:
        raise ValueError(
            f"the filter does not fit: F={F} is larger than the padded input W + 2P = {W + 2 * P}; "
            f"{formula} = {span / S + 1:g} is not a positive size"
        )
    if span % S and not floor:
        raise ValueError(
            f"invalid convolution settings: {formula} = {span / S + 1:g} is not an integer; "
            f"choose S, P and F so that S divides W − F + 2P"
        )
    return span // S + 1


def same_padding(F) -> int:
    """Zero padding ``P = (F − 1)/2`` that keeps the size at stride 1 ("SAME"); F must be odd.

    ``"VALID"`` is P = 0. For an even F no symmetric padding keeps the size (a ValueError).
    """
    F = _int(F, "F", 1)
    if F % 2 == 0:
        raise ValueError(
            f"F must be odd for 'same' padding: P = (F − 1)/2 = {(F - 1) / 2:g} is not an integer for F={F}"
        )
    return (F - 1) // 2


def conv_param_count(F, D_in, K, bias: bool = True) -> int:
    """Learnable parameters of a conv layer: ``(F·F·D₁)·K`` weights plus ``K`` biases."""
    F, D_in, K = _int(F, "F", 1), _int(D_in, "D_in", 1), _int(K, "K", 1)
    return F * F * D_in * K + (K if bias else 0)


def receptive_field(kernel_sizes, strides=None) -> int:
    """Receptive field (in input pixels) of a stack of layers: ``r = 1 + Σ_l (F_l − 1)·Π_{i<l} S_i``.

    Three stacked 3×3 convolutions at stride 1 see 7×7: ``receptive_field([3, 3, 3]) == 7``.
    """
    kernel_sizes = list(kernel_sizes)
    strides = [1] * len(kernel_sizes) if strides is None else list(strides)
    if len(strides) != len(kernel_sizes):
        raise ValueError(
            f"strides must have one entry per layer ({len(kernel_sizes)}), got {len(strides)}"
        )
    r, jump = 1, 1
    for l, (f, s) in enumerate(zip(kernel_sizes, strides)):
        r += (_int(f, f"kernel_sizes[{l}]", 1) - 1) * jump
        jump *= _int(s, f"strides[{l}]", 1)
    return r


# ---------------------------------------------------------------- argument helpers
def _pair(value, name: str, minimum: int) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}")
        return _int(value[0], name, minimum), _int(value[1], name, minimum)
    v = _int(value, name, minimum)
    return v, v


def _padding(padding, kernel: tuple[int, int], stride: tuple[int, int]) -> tuple[int, int]:
    """``padding``: int, pair, ``"valid"`` (0) or ``"same"`` ((F − 1)/2, stride 1 and odd F)."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0
        if mode == "same":
            if stride != (1, 1):
                raise ValueError(f"padding='same' needs stride 1, got stride={stride}")
            return same_padding(kernel[0]), same_padding(kernel[1])
        raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    return _pair(padding, "padding", 0)


def _images(x, name: str = "x") -> torch.Tensor:
    return check_ndim(as_float_tensor(x, name), name, 4)


def _out_size(H, W, kernel, stride, padding) -> tuple[int, int]:
    OH = conv_output_size(H, kernel[0], stride[0], padding[0], floor=True)
    OW = conv_output_size(W, kernel[1], stride[1], padding[1], floor=True)
    return OH, OW


def _pad(x: torch.Tensor, padding: tuple[int, int], value: float = 0.0) -> torch.Tensor:
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x.contiguous()
    return F.pad(x, (pw, pw, ph, ph), value=value)


# ---------------------------------------------------------------- im2col / col2im
def im2col(x, kernel_size, stride=1, padding=0, pad_value: float = 0.0) -> torch.Tensor:
    """Unroll every receptive field of x into one column.

    x: (N, C, H, W) → cols: (N, C·FH·FW, OH·OW) with
    ``cols[n, (c, i, j), (y, x)] = x_pad[n, c, S·y + i, S·x + j]``: rows ordered (c, i, j) like
    ``W.reshape(K, -1)``, columns ordered (y, x) row by row. Equals
    ``F.unfold(x, kernel_size, padding=…, stride=…)``. ``pad_value`` fills the border (−∞ for max
    pooling).

    The loop runs over the FH·FW offsets (i, j) inside the window only: offset (i, j) of every
    window, for all images, channels and output positions at once, is one strided slice of x_pad.
    """
    x = _images(x)
    kernel = _pair(kernel_size, "kernel_size", 1)
    stride = _pair(stride, "stride", 1)
    padding = _padding(padding, kernel, stride)
    N, C, H, W = x.shape
    (FH, FW), (SH, SW) = kernel, stride
    OH, OW = _out_size(H, W, kernel, stride, padding)
    x_pad = _pad(x, padding, pad_value)                           # (N, C, H + 2P, W + 2P)
    cols = x.new_empty(N, C, FH, FW, OH, OW)
    for i in range(FH):
        for j in range(FW):                                       # rows S·y + i, columns S·x + j
            cols[:, :, i, j] = x_pad[:, :, i:i + SH * OH:SH, j:j + SW * OW:SW]
    return cols.view(N, C * FH * FW, OH * OW)


def col2im(cols, input_shape, kernel_size, stride=1, padding=0) -> torch.Tensor:
    """Adjoint of :func:`im2col`: add every column entry back onto the pixel it was read from.

    cols: (N, C·FH·FW, OH·OW) → (N, C, H, W) for ``input_shape = (N, C, H, W)``. A pixel covered
    by several windows receives the sum of their entries (the gradients of a shared pixel add
    up); the padding is cut off. The same loop over offsets (i, j) as :func:`im2col`, with ``+=``
    where im2col copies. Equals ``F.fold(cols, (H, W), kernel_size, padding=…, stride=…)``.
    """
    cols = as_float_tensor(cols, "cols")
    check_ndim(cols, "cols", 3)
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (N, C, H, W), got {tuple(input_shape)}")
    N, C, H, W = (int(s) for s in input_shape)
    kernel = _pair(kernel_size, "kernel_size", 1)
    stride = _pair(stride, "stride", 1)
    padding = _padding(padding, kernel, stride)
    (FH, FW), (SH, SW), (ph, pw) = kernel, stride, padding
    OH, OW = _out_size(H, W, kernel, stride, padding)
    if tuple(cols.shape) != (N, C * FH * FW, OH * OW):
        raise ValueError(
            f"cols must have shape (N, C·FH·FW, OH·OW) = {(N, C * FH * FW, OH * OW)} for input_shape "
            f"{(N, C, H, W)}, got {tuple(cols.shape)}"
        )
    c6 = cols.reshape(N, C, FH, FW, OH, OW)
    x_pad = cols.new_zeros(N, C, H + 2 * ph, W + 2 * pw)
    for i in range(FH):
        for j in range(FW):                                       # overlapping windows add up
            x_pad[:, :, i:i + SH * OH:SH, j:j + SW * OW:SW] += c6[:, :, i, j]
    return x_pad[:, :, ph:ph + H, pw:pw + W]


# ---------------------------------------------------------------- convolution
class ConvCache(NamedTuple):
    """What :func:`conv2d_backward` needs from the forward pass."""

    cols: torch.Tensor          # im2col(x): (N, C·FH·FW, OH·OW)
    W: torch.Tensor             # (K, C, FH, FW)
    input_shape: tuple          # (N, C, H, W)
    stride: tuple
    padding: tuple
    has_bias: bool


def _check_filters(x: torch.Tensor, W, b):
    W = check_ndim(as_float_tensor(W, "W"), "W", 4)
    if W.shape[1] != x.shape[1]:
        raise ValueError(
            f"the filter depth must equal the input depth: W has shape {tuple(W.shape)} (depth "
            f"{W.shape[1]}) but x has {x.shape[1]} channel(s), shape {tuple(x.shape)}"
        )
    if b is not None:
        b = as_float_tensor(b, "b")
        if tuple(b.shape) != (W.shape[0],):
            raise ValueError(f"b must have shape (K,) = ({W.shape[0]},), one bias per filter, got {tuple(b.shape)}")
    for name, t in (("W", W), ("b", b)):
        if t is not None and (t.dtype != x.dtype or t.device != x.device):
            raise TypeError(f"{name} must have x's dtype and device ({x.dtype}, {x.device}), "
                            f"got {t.dtype} on {t.device}")
    return W, b


def conv2d_forward(x, W, b=None, stride=1, padding=0) -> tuple[torch.Tensor, ConvCache]:
    """Convolution (cross-correlation, as in every deep-learning library) by im2col.

    x: (N, C, H, W), W: (K, C, FH, FW), b: (K,) or None → out: (N, K, OH, OW) and a cache.
    ``out[n, k] = Σ_{c,i,j} W[k, c, i, j] · x_pad[n, c, S·y + i, S·x + j] + b[k]``, i.e.
    ``out = W.reshape(K, C·FH·FW) @ im2col(x)``. ``padding``: int, pair, ``"same"`` or ``"valid"``.
    """
    x = _images(x)
    W, b = _check_filters(x, W, b)
    kernel = tuple(W.shape[2:])
    stride = _pair(stride, "stride", 1)
    padding = _padding(padding, kernel, stride)
    N, C, H, Wd = x.shape
    OH, OW = _out_size(H, Wd, kernel, stride, padding)
    W_rows = W.reshape(W.shape[0], -1)                                   # (K, C·FH·FW)
    cols = im2col(x, kernel, stride, padding)                            # (N, C·FH·FW, L = OH·OW)
    out = W_rows @ cols                                                  # (N, K, L)
    if b is not None:
        out += b.view(-1, 1)
    cache = ConvCache(cols, W, tuple(x.shape), stride, padding, b is not None)
    return out.view(N, -1, OH, OW), cache


def conv2d_backward(dout, cache: ConvCache, *, input_grad: bool = True):
    """Gradients of :func:`conv2d_forward`: dout (N, K, OH, OW) → (dx, dW, db).

    dW = Σ_n dout_n · cols_nᵀ (each weight is shared by every window, so its gradients sum),
    db = Σ dout over n, y, x, and dx = col2im(Wᵀ · dout). ``db`` is None when there was no bias;
    ``dx`` is None with ``input_grad=False`` (a first layer needs no gradient for its images).
    """
    dout = as_float_tensor(dout, "dout")
    cols, W, input_shape, stride, padding, has_bias = cache
    N, K, L = input_shape[0], W.shape[0], cols.shape[2]
    if dout.ndim != 4 or tuple(dout.shape[:2]) != (N, K) or dout[0, 0].numel() != L:
        raise ValueError(f"dout must be the shape of the forward output, (N, K, OH, OW) with N={N}, K={K} and "
                         f"OH·OW={L}, got {tuple(dout.shape)}")
    d = dout.reshape(N, K, L)
    W_rows = W.reshape(K, -1)                                            # (K, C·FH·FW)
    dW = (d @ cols.mT).sum(dim=0).view(W.shape)                          # Σ_n dout_n · cols_nᵀ
    db = d.sum(dim=(0, 2)) if has_bias else None
    dx = col2im(W_rows.t() @ d, input_shape, W.shape[2:], stride, padding) if input_grad else None
    return dx, dW, db


# ---------------------------------------------------------------- pooling
def _pool_args(x, kernel_size, stride, padding):
    x = _images(x)
    kernel = _pair(kernel_size, "kernel_size", 1)
    stride = kernel if stride is None else _pair(stride, "stride", 1)
    padding = _pair(padding, "padding", 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"padding must be at most half the kernel size {kernel}, got {padding}")
    return x, kernel, stride, padding


class MaxPoolCache(NamedTuple):
    argmax: torch.Tensor        # (N, C, OH, OW): position i·FW + j of the winner inside its window
    input_shape: tuple
    kernel: tuple
    stride: tuple
    padding: tuple


def max_pool2d_forward(x, kernel_size, stride=None, padding=0) -> tuple[torch.Tensor, MaxPoolCache]:
    """Max pooling: x (N, C, H, W) → (N, C, OH, OW), the largest value of every window.

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows, e.g. 2×2 stride 2); padding
    is −∞ so it never wins. On ties the first maximum (row by row) wins, as in PyTorch.
    """
    x, kernel, stride, padding = _pool_args(x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    OH, OW = _out_size(H, W, kernel, stride, padding)
    windows = im2col(x, kernel, stride, padding, pad_value=-math.inf).view(N, C, kernel[0] * kernel[1], -1)
    out, argmax = windows.max(dim=2)
    cache = MaxPoolCache(argmax.view(N, C, OH, OW), tuple(x.shape), kernel, stride, padding)
    return out.view(N, C, OH, OW), cache


def max_pool2d_backward(dout, cache: MaxPoolCache) -> torch.Tensor:
    """Route each output gradient to the arg-max of its window; everything else gets 0.

    dout: (N, C, OH, OW) → dx: (N, C, H, W). A pixel that wins several overlapping windows
    collects the sum.
    """
    dout = as_float_tensor(dout, "dout")
    argmax, input_shape, kernel, stride, padding = cache
    if dout.shape != argmax.shape:
        raise ValueError(f"dout must have the forward output's shape {tuple(argmax.shape)}, got {tuple(dout.shape)}")
    (N, C), m, L = input_shape[:2], kernel[0] * kernel[1], argmax[0, 0].numel()
    dcols = dout.new_zeros(N, C, m, L).scatter_(                  # (N, C, m, L): dout at each window's winner
        2, argmax.view(N, C, 1, L), dout.reshape(N, C, 1, L))
    return col2im(dcols.view(N, C * m, L), input_shape, kernel, stride, padding)


class AvgPoolCache(NamedTuple):
    divisor: torch.Tensor       # (OH·OW,): m, the number of values averaged per window
    input_shape: tuple
    kernel: tuple
    stride: tuple
    padding: tuple


def _avg_divisor(x, kernel, stride, padding, count_include_pad):
    H, W = x.shape[2:]
    if count_include_pad:
        OH, OW = _out_size(H, W, kernel, stride, padding)
        return x.new_full((OH * OW,), float(kernel[0] * kernel[1]))
    ones = x.new_ones(1, 1, H, W)
    return im2col(ones, kernel, stride, padding).sum(dim=1).view(-1)


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0, count_include_pad: bool = True):
    """Average pooling: x (N, C, H, W) → (N, C, OH, OW), the mean of every window of m values.

    With ``count_include_pad`` (PyTorch's default) padded zeros count in m = FH·FW; otherwise m
    is the number of real pixels in the window.
    """
    x, kernel, stride, padding = _pool_args(x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    OH, OW = _out_size(H, W, kernel, stride, padding)
    windows = im2col(x, kernel, stride, padding).view(N, C, kernel[0] * kernel[1], -1)   # (N, C, m, OH·OW)
    divisor = _avg_divisor(x, kernel, stride, padding, count_include_pad)
    out = windows.sum(dim=2) / divisor
    return out.view(N, C, OH, OW), AvgPoolCache(divisor, tuple(x.shape), kernel, stride, padding)


def avg_pool2d_backward(dout, cache: AvgPoolCache) -> torch.Tensor:
    """Spread each output gradient evenly, 1/m to every value of its window: (N, C, OH, OW) → (N, C, H, W)."""
    dout = as_float_tensor(dout, "dout")
    divisor, (N, C, H, W), kernel, stride, padding = cache
    if dout.ndim != 4 or dout.shape[:2] != (N, C) or dout[0, 0].numel() != divisor.numel():
        raise ValueError(f"dout must have the forward output's shape (N={N}, C={C}, OH·OW={divisor.numel()}), "
                         f"got {tuple(dout.shape)}")
    OH, OW = _out_size(H, W, kernel, stride, padding)
    m = kernel[0] * kernel[1]
    share = (dout.reshape(N, C, 1, OH * OW) / divisor).expand(N, C, m, OH * OW)   # δ/m for every value of a window
    return col2im(share.reshape(N, C * m, OH * OW), (N, C, H, W), kernel, stride, padding)


# ---------------------------------------------------------------- autograd wrappers
class _Conv2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, W, b, stride, padding):
        out, cache = conv2d_forward(x, W, b, stride, padding)
        ctx.save_for_backward(W)
        ctx.cols, ctx.meta = cache.cols, cache[2:]
        return out.detach()     # not a view: in-place ops (ReLU(inplace=True)) may follow

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dout):
        (W,) = ctx.saved_tensors
        dx, dW, db = conv2d_backward(dout, ConvCache(ctx.cols, W, *ctx.meta), input_grad=ctx.needs_input_grad[0])
        return dx, dW, db, None, None


class _MaxPool2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        out, ctx.cache = max_pool2d_forward(x, kernel_size, stride, padding)
        return out.detach()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dout):
        return max_pool2d_backward(dout, ctx.cache), None, None, None


class _AvgPool2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, count_include_pad):
        out, ctx.cache = avg_pool2d_forward(x, kernel_size, stride, padding, count_include_pad)
        return out.detach()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dout):
        return avg_pool2d_backward(dout, ctx.cache), None, None, None, None


def conv2d(x, W, b=None, stride=1, padding=0) -> torch.Tensor:
    """Differentiable from-scratch convolution (autograd calls :func:`conv2d_backward`)."""
    return _Conv2dFunction.apply(_images(x), W, b, stride, padding)


def max_pool2d(x, kernel_size, stride=None, padding=0) -> torch.Tensor:
    """Differentiable from-scratch max pooling (autograd calls :func:`max_pool2d_backward`)."""
    return _MaxPool2dFunction.apply(_images(x), kernel_size, stride, padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad: bool = True) -> torch.Tensor:
    """Differentiable from-scratch average pooling (autograd calls :func:`avg_pool2d_backward`)."""
    return _AvgPool2dFunction.apply(_images(x), kernel_size, stride, padding, count_include_pad)


def lp_pool2d(x, p: float, kernel_size, stride=None) -> torch.Tensor:
    """Lᵖ pooling: ``(Σ_window xᵖ)^{1/p}`` — p = 1 is sum pooling, p = 2 the L2 norm, p → ∞ max pooling.

    x: (N, C, H, W) → (N, C, OH, OW); no padding, like ``F.lp_pool2d`` (which it matches for
    non-negative sums). Built on the from-scratch average pooling, so it is differentiable.
    """
    x = _images(x)
    p = check_number(p, "p", low=0.0, low_inclusive=False)
    kernel = _pair(kernel_size, "kernel_size", 1)
    m = kernel[0] * kernel[1]
    return (avg_pool2d(x.pow(p), kernel, stride) * m).pow(1.0 / p)


# ---------------------------------------------------------------- modules
class Conv2d(torch.nn.Module):
    """A convolution layer on the from-scratch :func:`conv2d`; same arguments, parameter names
    (``weight`` (K, C, FH, FW), ``bias`` (K,)) and initialisation as ``nn.Conv2d``, so state dicts
    can be exchanged."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias: bool = True,
                 *, generator: torch.Generator | None = None, device=None, dtype=None):
        super().__init__()
        self.in_channels = _int(in_channels, "in_channels", 1)
        self.out_channels = _int(out_channels, "out_channels", 1)
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = _pair(stride, "stride", 1)
        self.padding = _padding(padding, self.kernel_size, self.stride)
        factory = dict(device=device, dtype=dtype)
        self.weight = torch.nn.Parameter(torch.empty(self.out_channels, self.in_channels, *self.kernel_size, **factory))
        self.bias = torch.nn.Parameter(torch.empty(self.out_channels, **factory)) if bias else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """U(−1/√fan_in, 1/√fan_in) for weights and biases, as ``nn.Conv2d``.

        The numbers are drawn on ``generator``'s device and copied to the layer's, so a CPU
        generator initialises a GPU layer (with the same numbers as on the CPU).
        """
        bound = 1 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        _uniform(self.weight, bound, generator=generator)
        if self.bias is not None:
            _uniform(self.bias, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, H, W) → (N, K, OH, OW)."""
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}")


class MaxPool2d(torch.nn.Module):
    """Max pooling layer on :func:`max_pool2d` (arguments as ``nn.MaxPool2d``)."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(torch.nn.Module):
    """Average pooling layer on :func:`avg_pool2d` (arguments as ``nn.AvgPool2d``)."""

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True):
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class LPPool2d(torch.nn.Module):
    """Lᵖ pooling layer on :func:`lp_pool2d`."""

    def __init__(self, p: float, kernel_size, stride=None):
        super().__init__()
        self.p = check_number(p, "p", low=0.0, low_inclusive=False)
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return lp_pool2d(x, self.p, self.kernel_size, self.stride)


# ---------------------------------------------------------------- local response normalisation
def local_response_norm(x, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
                        *, convention: str = "torch") -> torch.Tensor:
    """Local response normalisation across channels (AlexNet, 2012).

    x: (N, C, ...) → same shape. For channel c, with the sum over the ``size`` neighbouring
    channels ``c − ⌊size/2⌋ … c + ⌊(size−1)/2⌋`` (channels past the edges count as 0):

    * ``convention="torch"`` (default, = ``F.local_response_norm``):
      ``b_c = a_c / (k + (α/n) Σ a²)^β`` — PyTorch divides α by n = size;
    * ``convention="paper"`` (Krizhevsky et al.): ``b_c = a_c / (k + α Σ a²)^β``.

    The paper's constants k=2, n=5, α=1e-4, β=0.75 are the defaults here (PyTorch's k is 1).
    The same network therefore needs ``alpha_torch = size · alpha_paper`` to agree.
    """
    x = as_float_tensor(x)
    if x.ndim < 3:
        raise ValueError(f"x must have at least 3 dimensions (N, C, ...), got shape {tuple(x.shape)}")
    size = _int(size, "size", 1)
    alpha = check_number(alpha, "alpha", low=0.0)
    beta = check_number(beta, "beta", low=0.0)
    k = check_number(k, "k")
    if convention not in ("torch", "paper"):
        raise ValueError(f"convention must be 'torch' or 'paper', got {convention!r}")
    square = x * x
    before, after = size // 2, (size - 1) // 2
    padded = F.pad(square, (0, 0) * (x.ndim - 2) + (before, after))    # zeros on the channel axis
    neighbours = padded.unfold(1, size, 1).sum(dim=-1)                  # (N, C, ...)
    scale = alpha / size if convention == "torch" else alpha
    return x / (k + scale * neighbours).pow(beta)


def local_response_norm_paper(x, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0):
    """LRN exactly as written in the AlexNet paper: ``b = a / (k + α Σ a²)^β`` (α not divided by n)."""
    return local_response_norm(x, size, alpha, beta, k, convention="paper")


class LocalResponseNorm(torch.nn.Module):
    """Layer form of :func:`local_response_norm` (no parameters)."""

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
                 convention: str = "torch"):
        super().__init__()
        self.size, self.alpha, self.beta, self.k, self.convention = size, alpha, beta, k, convention
        local_response_norm(torch.zeros(1, 1, 1), size, alpha, beta, k, convention=convention)  # validate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k, convention=self.convention)

    def extra_repr(self) -> str:
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}, convention={self.convention!r}"


# ---------------------------------------------------------------- kernels on single images
def edge_kernel(dtype=None, device=None) -> torch.Tensor:
    """The 3×3 edge-detection (Laplacian-like) kernel [[−1,−1,−1],[−1,8,−1],[−1,−1,−1]]; sums to 0."""
    return torch.tensor([[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]], dtype=dtype, device=device)


def filter2d(image, kernel, stride=1, padding=0) -> torch.Tensor:
    """Slide one 2-D kernel over one grey image: (H, W) with kernel (FH, FW) → (OH, OW).

    Cross-correlation, as in CNNs. ``padding="same"`` keeps the size for an odd kernel.
    """
    image = check_ndim(as_float_tensor(image, "image"), "image", 2)
    kernel = check_ndim(as_float_tensor(kernel, "kernel"), "kernel", 2).to(image)
    out, _ = conv2d_forward(image[None, None], kernel[None, None], None, stride, padding)
    return out[0, 0]
