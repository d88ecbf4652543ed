"""dlbook — the library of *딥러닝, 이론에서 실습까지 · Deep Learning from Theory to Practice*.

Reference implementations written from scratch and checked against PyTorch.
Each module is named after the concept a chapter teaches; submodules load on
first use, so ``import dlbook`` stays fast::

    import dlbook
    dlbook.activations.sigmoid(1.0)     # tensor(0.7311)
    dlbook.device()                     # cuda → mps → cpu
    dlbook.tr("에포크", "epoch")          # the edition's language (set by a chapter's setup cell)
"""
from __future__ import annotations

import importlib

from .language import set_language, tr
from .runtime import device, seed_everything

__version__ = "0.1.0"
__all__ = ["device", "seed_everything", "set_language", "tr", "__version__"]


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        module = importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as err:
        if err.name == f"{__name__}.{name}":
            raise AttributeError(f"module 'dlbook' has no attribute or submodule {name!r}") from None
        raise
    globals()[name] = module
    return module
