"""im2col convolution and pooling (dlbook.conv) against PyTorch's built-in kernels, on the CPU.

Each row times a forward *and* backward pass (``out.sum().backward()``) unless its name says
"fwd". Goal: the from-scratch convolution within 3× of ``F.conv2d``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from common import Row, seconds_per_call
from dlbook import conv

# (label, N, C, H, K, F, stride, padding): layers of the book's networks
CONV_CASES = [
    ("conv1 MNIST 5×5 1→32", 32, 1, 28, 32, 5, 1, 2),
    ("conv2 MNIST 5×5 32→64", 32, 32, 14, 64, 5, 1, 2),
    ("ResNet 3×3 64→64 16²", 16, 64, 16, 64, 3, 1, 1),
    ("ResNet 3×3/2 64→128 16²", 16, 64, 16, 128, 3, 2, 1),
]

# (label, N, C, H, kernel, stride, padding)
POOL_CASES = [
    ("2×2/2 32@28²", 64, 32, 28, 2, 2, 0),
    ("3×3/2 pad 1 64@32²", 32, 64, 32, 3, 2, 1),
]


def _fwd_bwd(fn, *inputs):
    def run():
        for t in inputs:
            t.grad = None
        fn(*inputs).sum().backward()
    return run


def _conv_rows(generator) -> list[Row]:
    rows = []
    for label, N, C, H, K, F_, S, P in CONV_CASES:
        x = torch.randn(N, C, H, H, generator=generator).requires_grad_()
        w = (torch.randn(K, C, F_, F_, generator=generator) * 0.1).requires_grad_()
        b = torch.zeros(K).requires_grad_()
        ours = seconds_per_call(_fwd_bwd(lambda x, w, b: conv.conv2d(x, w, b, S, P), x, w, b))
        ref = seconds_per_call(_fwd_bwd(lambda x, w, b: F.conv2d(x, w, b, S, P), x, w, b))
        rows.append(Row("conv", f"{label} fwd+bwd", ours, ref, "F.conv2d"))
    label, N, C, H, K, F_, S, P = CONV_CASES[1]
    x, w = torch.randn(N, C, H, H, generator=generator), torch.randn(K, C, F_, F_, generator=generator)
    with torch.no_grad():
        ours = seconds_per_call(lambda: conv.conv2d_forward(x, w, None, S, P))
        ref = seconds_per_call(lambda: F.conv2d(x, w, None, S, P))
    rows.append(Row("conv", f"{label} fwd", ours, ref, "F.conv2d"))
    return rows


def _pool_rows(generator) -> list[Row]:
    rows = []
    for label, N, C, H, k, S, P in POOL_CASES:
        x = torch.randn(N, C, H, H, generator=generator).requires_grad_()
        ours = seconds_per_call(_fwd_bwd(lambda x: conv.max_pool2d(x, k, S, P), x))
        ref = seconds_per_call(_fwd_bwd(lambda x: F.max_pool2d(x, k, S, P), x))
        rows.append(Row("conv", f"max pool {label} fwd+bwd", ours, ref, "F.max_pool2d"))
    label, N, C, H, k, S, P = POOL_CASES[0]
    x = torch.randn(N, C, H, H, generator=generator).requires_grad_()
    ours = seconds_per_call(_fwd_bwd(lambda x: conv.avg_pool2d(x, k, S, P), x))
    ref = seconds_per_call(_fwd_bwd(lambda x: F.avg_pool2d(x, k, S, P), x))
    rows.append(Row("conv", f"avg pool {label} fwd+bwd", ours, ref, "F.avg_pool2d"))
    return rows


def rows() -> list[Row]:
    generator = torch.Generator().manual_seed(0)
    return _conv_rows(generator) + _pool_rows(generator)
