"""dlbook optimisers vs torch.optim (foreach=True): one step on a ~2.9M-parameter MLP's tensors."""
from __future__ import annotations

import torch

from common import Row, seconds_per_call
from dlbook import optim as O

SHAPES = [(1024, 784), (1024,), (1024, 1024), (1024,), (1024, 1024), (1024,), (10, 1024), (10,)]

CASES = {
    "SGD": (lambda p: O.SGD(p, lr=1e-3), lambda p: torch.optim.SGD(p, lr=1e-3, foreach=True)),
    "Momentum": (lambda p: O.Momentum(p, lr=1e-3, momentum=0.9),
                 lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, foreach=True)),
    "Nesterov+wd": (lambda p: O.Nesterov(p, lr=1e-3, momentum=0.9, weight_decay=1e-4),
                    lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True, weight_decay=1e-4,
                                              foreach=True)),
    "AdaGrad": (lambda p: O.AdaGrad(p, lr=1e-2), lambda p: torch.optim.Adagrad(p, lr=1e-2, foreach=True)),
    "RMSProp": (lambda p: O.RMSProp(p, lr=1e-3), lambda p: torch.optim.RMSprop(p, lr=1e-3, foreach=True)),
    "Adam": (lambda p: O.Adam(p, lr=1e-3), lambda p: torch.optim.Adam(p, lr=1e-3, foreach=True)),
    "AdamW": (lambda p: O.AdamW(p, lr=1e-3), lambda p: torch.optim.AdamW(p, lr=1e-3, foreach=True)),
}


def _params(device):
    g = torch.Generator().manual_seed(0)
    params = [torch.randn(s, generator=g).to(device).requires_grad_(True) for s in SHAPES]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g).to(device) * 1e-2
    return params


def rows() -> list[Row]:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    n = sum(torch.Size(s).numel() for s in SHAPES)
    out = []
    for name, (ours, ref) in CASES.items():
        mine, theirs = ours(_params(device)), ref(_params(device))
        ours_s = seconds_per_call(mine.step, min_time=0.15, warmup=1, sync=sync)
        ref_s = seconds_per_call(theirs.step, min_time=0.15, warmup=1, sync=sync)
        out.append(Row("optim", f"{name} step, {n / 1e6:.1f}M params", ours_s, ref_s, "torch.optim foreach"))
    return out
