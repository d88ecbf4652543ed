"""How big a network is and what shape flows through it: ``count_parameters`` and ``summary``.

Taught in chapter 08 (08_pytorch); used in chapters 01, 12, 14, 15.

``count_parameters(model)`` adds up ``p.numel()`` over ``model.parameters()`` — the number a
paper quotes for a model's size. ``summary(model, (C, H, W))`` pushes one zero image through the
model and lists, per sub-module, its output shape and its parameters, as Keras' ``model.summary()``
does. Both take any ``torch.nn.Module`` (the CNNs of :mod:`dlbook.models` or your own), and both
work on the meta device, where a model's weights are never allocated::

    with torch.device("meta"):
        count_parameters(dlbook.models.VGG(16))    # 138357544
"""
from __future__ import annotations

import torch
from torch import nn

from ._checks import check_positive_int

__all__ = ["count_parameters", "summary"]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters of ``model`` (only those with ``requires_grad`` if asked).

    Works on the meta device, so a model need not be allocated to be counted.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def summary(model: nn.Module, input_shape, depth: int = 1) -> list[tuple[str, str, tuple, int]]:
    """One row ``(name, layer type, output shape, parameters)`` per sub-module down to ``depth``.

    ``input_shape`` is one image's ``(C, H, W)``; a batch of one zero image goes through the
    model in eval mode without gradients (the model's mode is restored).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be one image's (C, H, W), got {input_shape}")
    depth = check_positive_int(depth, "depth")
    rows, hooks = [], []

    def record(name):
        def hook(module, inputs, output):
            shape = tuple(output.shape[1:]) if isinstance(output, torch.Tensor) else None
            rows.append((name, type(module).__name__, shape, count_parameters(module)))
        return hook

    for name, module in model.named_modules():
        if name and name.count(".") < depth:
            hooks.append(module.register_forward_hook(record(name)))
    param = next(model.parameters(), None)
    x = torch.zeros(1, *input_shape, device=param.device if param is not None else None,
                    dtype=param.dtype if param is not None else None)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return rows
