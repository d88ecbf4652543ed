"""Shared timing helpers for the benchmarks in bench/ (never used by tests)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class Row:
    group: str   # e.g. "activations"
    name: str    # e.g. "sigmoid 1M"
    ours: float  # seconds per call, dlbook
    ref: float   # seconds per call, the reference (PyTorch built-in, scikit-learn, ...)
    ref_name: str = "torch"

    @property
    def ratio(self) -> float:
        return self.ours / self.ref


def seconds_per_call(fn: Callable[[], object], *, min_time: float = 0.2, warmup: int = 2, sync=None) -> float:
    """Best-of-3 mean time per call of ``fn``; ``sync`` (e.g. torch.cuda.synchronize) is called around timings."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(3):
        n, start = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            if sync:
                sync()
            elapsed = time.perf_counter() - start
            if elapsed >= min_time / 3:
                break
        best = min(best, elapsed / n)
    return best
