"""Argument checks shared by the whole library.

This is the one home of what several modules need and no chapter teaches: the argument checks,
the same-shape check of a prediction and its target (losses, metrics) and the one seeding idiom,
:func:`generator_for` (a fresh CPU ``torch.Generator`` seeded with ``seed``, or the caller's own
generator, or None for PyTorch's global one). Modules import these from here, never each other's
private helpers.

Every public function validates what it is given and raises an error that names
the argument, what was expected and what arrived, so a reader sees the mistake
rather than a stack of PyTorch internals.
"""
from __future__ import annotations

import math
import numbers

import torch

_ARRAY_LIKE = (torch.Tensor, numbers.Number, list, tuple)


def _kind(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    return type(x).__name__


def as_float_tensor(x, name: str = "x") -> torch.Tensor:
    """Return ``x`` as a floating-point tensor (ints become the default float dtype).

    Accepts tensors, NumPy arrays, Python numbers and (nested) lists or tuples.
    """
    if isinstance(x, torch.Tensor):
        t = x
    elif isinstance(x, bool) or x is None or isinstance(x, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be a tensor, an array or a number, got {_kind(x)}")
    elif isinstance(x, _ARRAY_LIKE) or hasattr(x, "__array__"):
        try:
            t = torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"{name} must be numeric (a tensor, an array or a number), got {_kind(x)}: {err}") from None
    else:
        raise TypeError(f"{name} must be a tensor, an array or a number, got {_kind(x)}")
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {t.dtype}")
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    return t


def check_number(value, name: str, *, low=None, high=None, low_inclusive=True, high_inclusive=True) -> float:
    """Return ``value`` as a float after checking it is a finite real number in range."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    if low is not None and (value < low or (value == low and not low_inclusive)):
        bracket = "[" if low_inclusive else "("
        raise ValueError(f"{name} must be {'>=' if low_inclusive else '>'} {low} (interval {bracket}{low}, …), got {value}")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        raise ValueError(f"{name} must be {'<=' if high_inclusive else '<'} {high}, got {value}")
    return value


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` after checking it is an int ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_ndim(t: torch.Tensor, name: str, ndim) -> torch.Tensor:
    """Check ``t.ndim`` is ``ndim`` (an int or a tuple of allowed ints)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if t.ndim not in allowed:
        want = " or ".join(str(n) for n in allowed)
        raise ValueError(f"{name} must have {want} dimension(s), got shape {tuple(t.shape)} ({t.ndim} dimension(s))")
    return t


def check_dtype_on_device(dtype, device) -> None:
    """Refuse float64 on a device without it (Apple's MPS), naming the fix, before anything is allocated."""
    from .runtime import float64_device  # runtime imports this module

    if dtype == torch.float64 and device is not None and float64_device(device) != torch.device(device):
        raise ValueError(f"dtype torch.float64 is not supported on {torch.device(device)} (no float64 there): "
                         "pass dtype=torch.float32, or device='cpu' for float64")


def fraction_true(mask: torch.Tensor) -> float:
    """The fraction of True entries of a bool tensor (an accuracy), counted in integers.

    Exact on every device and needs no float64 (which Apple's MPS lacks). Raises ValueError
    for an empty mask, whose fraction is undefined.
    """
    if mask.numel() == 0:
        raise ValueError("cannot take a fraction of 0 samples: the inputs are empty")
    return mask.sum().item() / mask.numel()


def check_non_empty(t: torch.Tensor, name: str) -> torch.Tensor:
    """Refuse a tensor with no elements, naming it: a loss or a metric needs at least one sample."""
    if t.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)}): need at least one sample")
    return t


def same_shape_floats(pred, target, pred_name: str, target_name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Both as float tensors of the same shape, the target moved to the prediction's device and dtype."""
    pred = as_float_tensor(pred, pred_name)
    target = as_float_tensor(target, target_name).to(device=pred.device, dtype=pred.dtype)
    if pred.shape != target.shape:
        raise ValueError(
            f"{pred_name} and {target_name} must have the same shape, got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}"
        )
    check_non_empty(pred, pred_name)
    return pred, target


def generator_for(seed, generator=None) -> torch.Generator | None:
    """The library's one seeding idiom: the generator to draw from.

    ``generator`` itself when given (then ``seed`` must be None), else a fresh CPU generator seeded
    with ``seed`` (an int >= 0), else None: PyTorch's global generator, which
    :func:`dlbook.runtime.seed_everything` seeds for a whole notebook. A function that draws
    random numbers takes ``seed=`` (and, where useful, ``generator=``) and calls this.
    """
    from .runtime import float64_device  # runtime imports this module

    if generator is not None:
        if seed is not None:
            raise ValueError(f"pass seed or generator, not both (got seed={seed!r} and a generator)")
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        if float64_device(generator.device) != generator.device:  # the draws are float64, on its device
            raise ValueError(f"generator must live on a device with float64 (the CPU or CUDA), got "
                             f"{generator.device}: pass a CPU generator, torch.Generator(), and device=")
        return generator
    if seed is None:
        return None
    seed = check_positive_int(seed, "seed", minimum=0)
    return torch.Generator().manual_seed(seed)
