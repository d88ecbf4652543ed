"""Where code runs and how it is seeded: the same call on CPU, CUDA or Apple MPS.

Taught in chapter 02 (02_tensors); used in chapters 01, 03–18.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch

from ._checks import check_positive_int

# cuBLAS reads this once, when it creates its first handle; setting it inside seed_everything
# can be too late (any earlier matrix product on the GPU has already fixed the workspace).
# So it is set when dlbook is imported, before dlbook or a notebook touches CUDA. A value the
# user exported is kept.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

#: Device types without float64 support: float64 work for their tensors is done on the CPU.
NO_FLOAT64 = frozenset({"mps"})


def device(prefer: str | None = None) -> torch.device:
    """The best available device: CUDA, then Apple's MPS, then the CPU.

    ``prefer`` ("cpu", "cuda", "mps") forces a choice and fails clearly when it is
    not available. The environment variable ``DLBOOK_DEVICE`` does the same
    without editing a notebook.
    """
    prefer = prefer or os.environ.get("DLBOOK_DEVICE") or None
    if prefer is not None:
        if prefer not in ("cpu", "cuda", "mps"):
            raise ValueError(f"prefer must be 'cpu', 'cuda' or 'mps', got {prefer!r}")
        if prefer == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("CUDA was requested but torch.cuda.is_available() is False")
        if prefer == "mps" and not _mps_available():
            raise RuntimeError("MPS was requested but torch.backends.mps.is_available() is False")
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def float64_device(device=None) -> torch.device:
    """The device on which dlbook does float64 work for data that lives on ``device``.

    ``device`` itself (a ``torch.device``, a string, or ``None`` for the CPU), except on
    Apple's MPS, which has no float64: there the CPU. Every float64 computation in dlbook
    goes through this function, so nothing creates a float64 tensor on an MPS device::

        float64_device("cuda")   # device(type='cuda')
        float64_device("mps")    # device(type='cpu')
    """
    device = torch.device("cpu") if device is None else torch.device(device)
    return torch.device("cpu") if device.type in NO_FLOAT64 else device


def seed_everything(seed: int = 0, *, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU, every CUDA device, MPS); return a CPU generator seeded the same.

    With ``deterministic=True`` (the default) PyTorch is also set up to give the same numbers
    on every run on the same machine:

    * ``torch.use_deterministic_algorithms(True, warn_only=True)``: deterministic kernels
      wherever PyTorch has one;
    * cuDNN: ``deterministic = True`` and ``benchmark = False`` (no timing-based choice of
      convolution algorithm);
    * TF32 off (``torch.backends.cuda.matmul.allow_tf32``, ``torch.backends.cudnn.allow_tf32``,
      ``torch.set_float32_matmul_precision("highest")``): float32 products on an Ampere-or-later
      GPU are computed in float32, not with a 10-bit mantissa;
    * ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` (which cuBLAS needs for deterministic products) is set
      when dlbook is imported, before CUDA is first used.

    Why ``warn_only=True``: a few operations have no deterministic CUDA kernel at all and would
    raise instead of run — among them the backward pass of ``nn.AdaptiveAvgPool2d`` (which ends
    every network in :mod:`dlbook.models`), ``torch.cumsum`` on floats and ``nn.NLLLoss`` on
    CUDA. With ``warn_only=True`` they run and PyTorch warns that their last digits may change
    from run to run; everything else is deterministic.

    What still differs between CPU and GPU (and between GPU models or library versions):
    the order in which floating-point sums are rounded, so the last digits of losses and
    weights, and after many training steps somewhat more. The book's printed facts are
    therefore checked with margins, not to the last digit. ``deterministic=False`` only seeds
    and leaves these settings as they are.
    """
    seed = check_positive_int(seed, "seed", minimum=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)              # the CPU generator (and, lazily, CUDA's and MPS's)
    torch.cuda.manual_seed_all(seed)     # explicit: every CUDA device, even before CUDA starts
    if deterministic:
        _deterministic_kernels()
    return torch.Generator().manual_seed(seed)


def _deterministic_kernels() -> None:
    """The settings of ``seed_everything(deterministic=True)`` (see there)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
