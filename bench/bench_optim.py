"""dlbook optimisers vs torch.optim: one step, timed on two sets of parameter tensors.

* ``2.9M``: a 784-1024-1024-10 MLP's eight tensors (the update is a few passes over memory);
* ``ch06``: the 2-8-8-8-3 network of chapter 06's ``fit_mlp`` (tiny tensors: the time is the
  per-operation overhead, which is where a vectorised update would gain most).

Each row compares our readable update (a Python loop over the tensors, one formula per line)
with ``torch.optim``'s for-loop implementation (``foreach=False``, the same loop written in
PyTorch) and with its vectorised one (``foreach=True``, fused ``torch._foreach_*`` kernels).
It prints ratios; it asserts nothing about time. ``python bench/bench_optim.py`` or
``python bench/run.py optim``.
"""
from __future__ import annotations

import torch

from common import Row, seconds_per_call
from dlbook import optim as O

SHAPES = {
    "2.9M": [(1024, 784), (1024,), (1024, 1024), (1024,), (1024, 1024), (1024,), (10, 1024), (10,)],
    "ch06": [(2, 8), (8,), (8, 8), (8,), (8, 8), (8,), (8, 3), (3,)],
}

# name: (ours, torch.optim given its foreach setting)
CASES = {
    "SGD": (lambda p: O.SGD(p, lr=1e-3), lambda p, fe: torch.optim.SGD(p, lr=1e-3, foreach=fe)),
    "Momentum": (lambda p: O.Momentum(p, lr=1e-3, momentum=0.9),
                 lambda p, fe: torch.optim.SGD(p, lr=1e-3, momentum=0.9, foreach=fe)),
    "Nesterov+wd": (lambda p: O.Nesterov(p, lr=1e-3, momentum=0.9, weight_decay=1e-4),
                    lambda p, fe: torch.optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True, weight_decay=1e-4,
                                                  foreach=fe)),
    "AdaGrad": (lambda p: O.AdaGrad(p, lr=1e-2), lambda p, fe: torch.optim.Adagrad(p, lr=1e-2, foreach=fe)),
    "RMSProp": (lambda p: O.RMSProp(p, lr=1e-3), lambda p, fe: torch.optim.RMSprop(p, lr=1e-3, foreach=fe)),
    "Adam": (lambda p: O.Adam(p, lr=1e-3), lambda p, fe: torch.optim.Adam(p, lr=1e-3, foreach=fe)),
    "AdamW": (lambda p: O.AdamW(p, lr=1e-3), lambda p, fe: torch.optim.AdamW(p, lr=1e-3, foreach=fe)),
}


def _params(shapes, device, dtype):
    g = torch.Generator().manual_seed(0)
    params = [torch.randn(s, generator=g, dtype=dtype).to(device).requires_grad_(True) for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g, dtype=dtype).to(device) * 1e-2
    return params


def rows() -> list[Row]:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    out = []
    for size, shapes in SHAPES.items():
        dtype = torch.float64 if size == "ch06" else torch.float32  # as the chapters use them
        for name, (ours, ref) in CASES.items():
            ours_s = seconds_per_call(ours(_params(shapes, device, dtype)).step, min_time=0.15, warmup=1, sync=sync)
            for foreach in (False, True):
                ref_s = seconds_per_call(ref(_params(shapes, device, dtype), foreach).step,
                                         min_time=0.15, warmup=1, sync=sync)
                out.append(Row("optim", f"{name} step, {size} params", ours_s, ref_s,
                               f"torch.optim foreach={foreach}"))
    return out


if __name__ == "__main__":
    from run import print_rows

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print_rows(rows())
