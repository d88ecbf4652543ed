"""Data augmentation for batches of images ``(N, C, H, W)``: flips, random crops and noise.

Taught in chapter 11 (11_regularization).

Each transformation comes twice:

* a function that transforms a batch, every image with its own random draw
  (``random_flip``, ``random_crop``, ``add_noise``; ``flip`` is the deterministic mirror);
* an ``nn.Module`` that does the same **only in training mode** and passes the batch
  through unchanged in evaluation mode (``RandomFlip``, ``RandomCrop``, ``GaussianNoise``),
  so an augmentation can sit at the front of a model (as Keras' preprocessing layers
  do) and the book's training loop switches it on and off with ``model.train()`` /
  ``model.eval()``.

Every random draw comes from ``generator`` when one is given (else PyTorch's global
generator), in a documented order, so results are reproducible. All operations are
vectorised over the batch; they run on the device of the input and keep its dtype.

Not every augmentation suits every data set: mirroring a cat gives a cat, but mirroring
a 2 or a 7 gives a shape that is no digit at all.
"""
from __future__ import annotations

import torch
from torch import nn

from ._checks import as_float_tensor, check_ndim, check_number, check_positive_int

__all__ = ["flip", "random_flip", "random_crop", "add_noise", "RandomFlip", "RandomCrop", "GaussianNoise"]

_FLIP_DIMS = {"horizontal": -1, "vertical": -2}


def _images(x, name: str = "x") -> torch.Tensor:
    return check_ndim(as_float_tensor(x, name), name, 4)


def _check_generator(generator) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")


def _draw_device(x: torch.Tensor, generator) -> torch.device:
    """Draw on the generator's device (a CPU generator for a GPU batch is fine), else on x's."""
    return x.device if generator is None else generator.device


def _flip_dim(direction: str) -> int:
    if direction not in _FLIP_DIMS:
        raise ValueError(f"direction must be 'horizontal' or 'vertical', got {direction!r}")
    return _FLIP_DIMS[direction]


def flip(x, direction: str = "horizontal") -> torch.Tensor:
    """Mirror every image: ``"horizontal"`` swaps left and right, ``"vertical"`` top and bottom.

    x: (N, C, H, W) → (N, C, H, W).
    """
    return _images(x).flip(_flip_dim(direction))


def random_flip(x, p: float = 0.5, direction: str = "horizontal", *, generator=None) -> torch.Tensor:
    """Mirror each image independently with probability ``p``. x: (N, C, H, W) → (N, C, H, W).

    Draws N uniform numbers (one per image); image i is flipped where its number is < p.
    """
    x = _images(x)
    p = check_number(p, "p", low=0.0, high=1.0)
    dim = _flip_dim(direction)
    _check_generator(generator)
    chosen = torch.rand(x.shape[0], generator=generator, device=_draw_device(x, generator)) < p
    chosen = chosen.to(x.device).view(-1, 1, 1, 1)
    return torch.where(chosen, x.flip(dim), x)


def random_crop(x, size=None, padding: int = 0, *, fill: float = 0.0, generator=None) -> torch.Tensor:
    """Cut a random ``size`` window out of each image, after padding it by ``padding`` pixels.

    x: (N, C, H, W) → (N, C, h, w) with ``size = (h, w)`` (an int means a square; ``None``
    keeps H×W, so the crop of the padded image is a random **shift** of up to ``padding``
    pixels, the border filled with ``fill``: torchvision's ``RandomCrop(H, padding=p)``).

    Offsets: N row offsets ``randint(0, H + 2·padding − h + 1)`` are drawn first, then N
    column offsets, so one generator seed fixes every window.
    """
    x = _images(x)
    padding = check_positive_int(padding, "padding", minimum=0)
    fill = check_number(fill, "fill")
    _check_generator(generator)
    n, c, H, W = x.shape
    if size is None:
        h, w = H, W
    elif isinstance(size, int) and not isinstance(size, bool):
        h = w = check_positive_int(size, "size")
    elif isinstance(size, (tuple, list)) and len(size) == 2:
        h, w = (check_positive_int(s, "size") for s in size)
    else:
        raise TypeError(f"size must be None, an int or a pair (h, w), got {size!r}")
    Hp, Wp = H + 2 * padding, W + 2 * padding
    if h > Hp or w > Wp:
        raise ValueError(f"size ({h}, {w}) does not fit in the padded image of size ({Hp}, {Wp})")
    if padding:
        x = nn.functional.pad(x, (padding,) * 4, value=fill)
    draw = _draw_device(x, generator)
    top = torch.randint(0, Hp - h + 1, (n,), generator=generator, device=draw).to(x.device)
    left = torch.randint(0, Wp - w + 1, (n,), generator=generator, device=draw).to(x.device)
    rows = (top[:, None] + torch.arange(h, device=x.device))[:, None, :, None]    # (N, 1, h, 1)
    cols = (left[:, None] + torch.arange(w, device=x.device))[:, None, None, :]   # (N, 1, 1, w)
    batch = torch.arange(n, device=x.device)[:, None, None, None]                # (N, 1, 1, 1)
    channel = torch.arange(c, device=x.device)[None, :, None, None]              # (1, C, 1, 1)
    return x[batch, channel, rows, cols]                                         # (N, C, h, w)


def add_noise(x, std: float = 0.1, *, clip: tuple[float, float] | None = (0.0, 1.0), generator=None) -> torch.Tensor:
    """Add Gaussian noise N(0, std²) to every pixel, then clip to ``clip`` (``None``: no clipping).

    x: any shape → the same shape (pixel values in [0, 1] by default).
    """
    x = as_float_tensor(x)
    std = check_number(std, "std", low=0.0)
    _check_generator(generator)
    if clip is not None:
        if not (isinstance(clip, (tuple, list)) and len(clip) == 2):
            raise TypeError(f"clip must be None or a pair (low, high), got {clip!r}")
        low, high = check_number(clip[0], "clip[0]"), check_number(clip[1], "clip[1]")
        if not high > low:
            raise ValueError(f"clip must be (low, high) with high > low, got {clip!r}")
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=_draw_device(x, generator))
    out = x + std * noise.to(x.device)
    return out if clip is None else out.clamp(low, high)


# ---------------------------------------------------------------- as layers (training mode only)
class RandomFlip(nn.Module):
    """:func:`random_flip` in training mode; the identity in evaluation mode. (N, C, H, W) → same."""

    def __init__(self, p: float = 0.5, direction: str = "horizontal", *, generator: torch.Generator | None = None):
        super().__init__()
        self.p = check_number(p, "p", low=0.0, high=1.0)
        _flip_dim(direction)
        _check_generator(generator)
        self.direction, self.generator = direction, generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return random_flip(x, self.p, self.direction, generator=self.generator) if self.training else x

    def extra_repr(self) -> str:
        return f"p={self.p}, direction={self.direction!r}"


class RandomCrop(nn.Module):
    """:func:`random_crop` in training mode; the identity in evaluation mode.

    With the default ``size=None`` the output has the input's size (a random shift of up to
    ``padding`` pixels), so the rest of the model sees the same shape in both modes.
    """

    def __init__(self, size=None, padding: int = 0, *, fill: float = 0.0, generator: torch.Generator | None = None):
        super().__init__()
        self.size = size
        self.padding = check_positive_int(padding, "padding", minimum=0)
        self.fill = check_number(fill, "fill")
        _check_generator(generator)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        return random_crop(x, self.size, self.padding, fill=self.fill, generator=self.generator)

    def extra_repr(self) -> str:
        return f"size={self.size}, padding={self.padding}"


class GaussianNoise(nn.Module):
    """:func:`add_noise` in training mode; the identity in evaluation mode. Any shape → same."""

    def __init__(self, std: float = 0.1, *, clip: tuple[float, float] | None = (0.0, 1.0),
                 generator: torch.Generator | None = None):
        super().__init__()
        self.std = check_number(std, "std", low=0.0)
        self.clip = clip
        _check_generator(generator)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return add_noise(x, self.std, clip=self.clip, generator=self.generator) if self.training else x

    def extra_repr(self) -> str:
        return f"std={self.std}, clip={self.clip}"
