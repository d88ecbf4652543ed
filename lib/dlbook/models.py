"""Convolutional networks from LeNet-5 to DenseNet, built as ``nn.Module``\\ s.

Taught in chapter 14 (14_cnn_mnist); used in chapters 01, 15.

Images are ``(N, C, H, W)``; every model returns logits ``(N, num_classes)``. Each takes
``num_classes`` and ``in_channels``, and ends in adaptive pooling, so the ImageNet networks also run
on 32×32 or 28×28 inputs (``small_input=True`` swaps the ImageNet stem — a strided 7×7 or 11×11
convolution and a max pool — for a 3×3 convolution at stride 1, so small images are not shrunk
to nothing). At 1000 classes and 224×224 the parameter counts equal torchvision's:

============  ===========  =====================================================
model         parameters   built with
============  ===========  =====================================================
AlexNet       61,100,840   ``AlexNet()``
VGG-16        138,357,544  ``VGG(16)``
GoogLeNet     6,624,904    ``GoogLeNet(aux_logits=False, large_kernel=3)``
ResNet-18     11,689,512   ``ResNet(18)``
ResNet-50     25,557,032   ``ResNet(50)``
DenseNet-121  7,978,856    ``DenseNet121()``
============  ===========  =====================================================

The models use ``torch.nn`` layers (fast); ``from_scratch=True`` builds them with the im2col
layers of :mod:`dlbook.conv` instead (same parameters, same state-dict keys, slower). Every
constructor takes a keyword ``seed`` for a reproducible initialisation. To count the parameters
of a large model without allocating its weights, build it on the meta device::

    with torch.device("meta"):
        dlbook.summary.count_parameters(VGG(16))    # 138357544
"""
from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from . import activations as A
from . import conv
from ._checks import check_number, check_positive_int

__all__ = [
    "LeNet5", "MnistCNN", "AlexNet", "VGG", "VGG_CONFIGS",
    "GoogLeNet", "GoogLeNetOutput", "Inception", "InceptionAux", "INCEPTION_CONFIG", "googlenet_loss",
    "BasicBlock", "Bottleneck", "PreActBasicBlock", "PreActBottleneck", "ResNet", "RESNET_LAYERS",
    "DenseLayer", "DenseBlock", "Transition", "DenseNet", "DenseNet121",
    "CifarResNet", "plain_net", "resnet_cifar",
]


# ---------------------------------------------------------------- helpers
def _layers(from_scratch: bool) -> SimpleNamespace:
    """The convolution and pooling classes a model is built from (``torch.nn`` or ``dlbook.conv``)."""
    if from_scratch:
        return SimpleNamespace(Conv2d=conv.Conv2d, MaxPool2d=conv.MaxPool2d, AvgPool2d=conv.AvgPool2d)
    return SimpleNamespace(Conv2d=nn.Conv2d, MaxPool2d=nn.MaxPool2d, AvgPool2d=nn.AvgPool2d)


_CONVS = (nn.Conv2d, conv.Conv2d)


def _seeded(init):
    """Let a constructor take ``seed=``: the weights are drawn from a private, seeded RNG.

    Only the CPU generator is seeded, inside ``fork_rng`` (so its global state is restored after)
    — no CUDA or MPS generator is touched. The model is built on the CPU and then moved to the
    device new tensors go to (``torch.set_default_device`` or ``with torch.device(...)``), so a
    seed gives the same weights on every device. On the meta device it is built there directly.
    """
    @functools.wraps(init)
    def wrapper(self, *args, seed: int | None = None, **kwargs):
        if seed is None:
            return init(self, *args, **kwargs)
        seed = check_positive_int(seed, "seed", minimum=0)
        target = torch.empty(0).device                      # where factory functions put tensors now
        build_on = target if target.type == "meta" else torch.device("cpu")
        with torch.random.fork_rng(devices=[]), torch.device(build_on):
            torch.default_generator.manual_seed(seed)
            init(self, *args, **kwargs)
        if target != build_on:
            self.to(target)
    return wrapper


def _check_common(num_classes, in_channels):
    return check_positive_int(num_classes, "num_classes"), check_positive_int(in_channels, "in_channels")


def _kaiming_init(model: nn.Module) -> None:
    """He initialisation (fan-out, ReLU) for convolutions, γ = 1 and β = 0 for batch norm."""
    for m in model.modules():
        if isinstance(m, _CONVS):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _activation(name: str):
    """The ``torch.nn`` layer of a named activation, from the one registry :data:`dlbook.activations.ACTIVATIONS`."""
    return A.get(name, among=[n for n, a in A.ACTIVATIONS.items() if a.module is not None],
                 where="dlbook.models").module


# ---------------------------------------------------------------- LeNet-5 and the MNIST network
class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al., 1998): C1 conv 5×5·6 → S2 pool → C3 conv 5×5·16 → S4 pool →
    C5 120 → F6 84 → output. The paper's C5 is a 5×5 convolution over S4's 5×5 maps, the same as a
    full connection, so it is built as ``nn.Linear(16·5·5, 120)``.

    The 1998 network used squashing activations (``activation="sigmoid"`` or ``"tanh"``) and
    average "subsampling" (``pooling="avg"``). It read 32×32 images; ``padding=2`` on C1 gives
    28×28 MNIST digits the same 28×28 C1 maps. 61,706 parameters for 10 classes.
    """

    @_seeded
    def __init__(self, num_classes: int = 10, in_channels: int = 1, *, activation: str = "sigmoid",
                 pooling: str = "avg", padding: int = 2, from_scratch: bool = False):
        super().__init__()
        num_classes, in_channels = _check_common(num_classes, in_channels)
        Act, L = _activation(activation), _layers(from_scratch)
        if pooling not in ("avg", "max"):
            raise ValueError(f"pooling must be 'avg' or 'max', got {pooling!r}")
        Pool = L.AvgPool2d if pooling == "avg" else L.MaxPool2d
        self.features = nn.Sequential(
            L.Conv2d(in_channels, 6, 5, padding=padding), Act(), Pool(2, 2),   # C1, S2: 6@28×28 → 6@14×14
            L.Conv2d(6, 16, 5), Act(), Pool(2, 2),                            # C3, S4: 16@10×10 → 16@5×5
        )
        self.pool = nn.AdaptiveAvgPool2d((5, 5))                               # a no-op for 28×28 digits
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), Act(), nn.Linear(120, 84), Act(), nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, 28, 28) → logits (N, num_classes)."""
        return self.classifier(self.pool(self.features(x)))


class MnistCNN(nn.Module):
    """The lectures' MNIST network.

    28×28×1 → conv 5×5, 32, SAME → ReLU → max-pool 2 → 14×14×32 → conv 5×5, 64, SAME → ReLU →
    max-pool 2 → 7×7×64 → FC 1024 + ReLU + dropout → 10 logits (softmax lives in the loss).
    The lectures' dropout *keeps* 75 % of the units (TensorFlow's ``keep_prob = 0.75``); PyTorch's
    ``p`` is the fraction *dropped*, so ``dropout=0.25``. 3,274,634 parameters.
    """

    @_seeded
    def __init__(self, num_classes: int = 10, in_channels: int = 1, *, input_size: int = 28,
                 dropout: float = 0.25, from_scratch: bool = False):
        super().__init__()
        num_classes, in_channels = _check_common(num_classes, in_channels)
        self.input_size = check_positive_int(input_size, "input_size", minimum=4)
        self.in_channels, self.num_classes = in_channels, num_classes
        dropout = check_number(dropout, "dropout", low=0.0, high=1.0, high_inclusive=False)
        L = _layers(from_scratch)
        self.conv1 = L.Conv2d(in_channels, 32, 5, padding=2)   # SAME: P = (5 − 1)/2
        self.pool1 = L.MaxPool2d(2)
        self.conv2 = L.Conv2d(32, 64, 5, padding=2)
        self.pool2 = L.MaxPool2d(2)
        _, (c, h, w) = self.feature_shapes()[-3]
        self.fc1 = nn.Linear(c * h * w, 1024)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(1024, num_classes)

    def feature_shapes(self) -> list[tuple[str, tuple]]:
        """``(layer, shape of one example)`` from the input to the logits, computed with
        ``W₂ = (W₁ − F + 2P)/S + 1``: 28 → 28 → 14 → 14 → 7 for MNIST."""
        side = self.input_size
        shapes = [("input", (self.in_channels, side, side))]
        for name, layer in [("conv1", self.conv1), ("pool1", self.pool1), ("conv2", self.conv2), ("pool2", self.pool2)]:
            side = conv.conv_output_size(side, _first(layer.kernel_size), _first(layer.stride),
                                         _first(layer.padding), floor=True)
            channels = layer.out_channels if hasattr(layer, "out_channels") else shapes[-1][1][0]
            shapes.append((name, (channels, side, side)))
        return shapes + [("fc1", (1024,)), ("logits", (self.num_classes,))]

    def feature_maps(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The activations after each stage (for plotting): conv1, pool1, conv2, pool2 (after ReLU)."""
        maps = {"conv1": F.relu(self.conv1(x))}
        maps["pool1"] = self.pool1(maps["conv1"])
        maps["conv2"] = F.relu(self.conv2(maps["pool1"]))
        maps["pool2"] = self.pool2(maps["conv2"])
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 1, 28, 28) → logits (N, 10)."""
        h = self.feature_maps(x)["pool2"].flatten(1)
        return self.fc2(self.dropout(F.relu(self.fc1(h))))


def _first(v):
    return v[0] if isinstance(v, (tuple, list)) else v


# ---------------------------------------------------------------- AlexNet
class AlexNet(nn.Module):
    """AlexNet (Krizhevsky, Sutskever & Hinton, 2012) in torchvision's single-GPU layout.

    conv 11×11/4·64 → pool → conv 5×5·192 → pool → conv 3×3·384 → conv 3×3·256 → conv 3×3·256 →
    pool → 6×6 adaptive average → FC 4096 → FC 4096 → classes, with ReLU and dropout 0.5.
    ``lrn=True`` adds the paper's local response normalisation (k=2, n=5, α=1e-4, β=0.75, the
    paper's convention) after the first two ReLUs. (The paper split 96/256/384/384/256 filters over
    two GPUs; torchvision's widths are those of Krizhevsky's 2014 "one weird trick".)
    ``hidden`` and ``pool_size`` shrink the classifier for small experiments.
    """

    @_seeded
    def __init__(self, num_classes: int = 1000, in_channels: int = 3, *, lrn: bool = False, dropout: float = 0.5,
                 hidden: int = 4096, pool_size: int = 6, small_input: bool = False, from_scratch: bool = False):
        super().__init__()
        num_classes, in_channels = _check_common(num_classes, in_channels)
        hidden, pool_size = check_positive_int(hidden, "hidden"), check_positive_int(pool_size, "pool_size")
        L = _layers(from_scratch)
        stem = L.Conv2d(in_channels, 64, 3, 1, 1) if small_input else L.Conv2d(in_channels, 64, 11, 4, 2)
        norm = [conv.LocalResponseNorm(5, 1e-4, 0.75, 2.0, convention="paper")] if lrn else []
        self.features = nn.Sequential(
            stem, nn.ReLU(inplace=True), *norm, L.MaxPool2d(3, 2),
            L.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), *norm, L.MaxPool2d(3, 2),
            L.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            L.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            L.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), L.MaxPool2d(3, 2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * pool_size * pool_size, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ---------------------------------------------------------------- VGG
#: Filters per 3×3 convolution, "M" = 2×2 max pool (Simonyan & Zisserman, 2014, configurations A, B, D, E).
VGG_CONFIGS: dict[int, list] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """VGG-11/13/16/19: stacks of 3×3 convolutions (padding 1) and 2×2 max pools, then 3 FC layers.

    Two stacked 3×3 convolutions see 5×5 and three see 7×7 (``conv.receptive_field``) with fewer
    weights and more non-linearities. ``width`` scales every conv's filters, ``hidden`` and
    ``pool_size`` shrink the classifier (e.g. ``VGG(11, 10, width=0.25, hidden=256, pool_size=1)``
    for CIFAR-10).
    """

    @_seeded
    def __init__(self, depth: int = 16, num_classes: int = 1000, in_channels: int = 3, *, batch_norm: bool = False,
                 width: float = 1.0, hidden: int = 4096, pool_size: int = 7, dropout: float = 0.5,
                 from_scratch: bool = False):
        super().__init__()
        if depth not in VGG_CONFIGS:
            raise ValueError(f"depth must be one of {sorted(VGG_CONFIGS)}, got {depth!r}")
        num_classes, in_channels = _check_common(num_classes, in_channels)
        width = check_number(width, "width", low=0.0, low_inclusive=False)
        hidden, pool_size = check_positive_int(hidden, "hidden"), check_positive_int(pool_size, "pool_size")
        L, layers, c = _layers(from_scratch), [], in_channels
        for v in VGG_CONFIGS[depth]:
            if v == "M":
                layers.append(L.MaxPool2d(2, 2))
                continue
            out = max(1, round(v * width))
            layers.append(L.Conv2d(c, out, 3, padding=1))
            layers += [nn.BatchNorm2d(out), nn.ReLU(inplace=True)] if batch_norm else [nn.ReLU(inplace=True)]
            c = out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.classifier = nn.Sequential(
            nn.Linear(c * pool_size * pool_size, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ---------------------------------------------------------------- GoogLeNet
class _ConvBNReLU(nn.Sequential):
    """conv → batch norm (ε = 0.001) → ReLU, or conv (with bias) → ReLU without batch norm."""

    def __init__(self, L, c_in, c_out, kernel_size, stride=1, padding=0, batch_norm=True):
        if batch_norm:
            super().__init__(L.Conv2d(c_in, c_out, kernel_size, stride, padding, bias=False),
                             nn.BatchNorm2d(c_out, eps=0.001), nn.ReLU(inplace=True))
        else:
            super().__init__(L.Conv2d(c_in, c_out, kernel_size, stride, padding), nn.ReLU(inplace=True))


#: The GoogLeNet table (Szegedy et al., 2014): name, input depth, #1×1, #3×3 reduce, #3×3,
#: #5×5 reduce, #5×5, pool proj. The module's output depth is #1×1 + #3×3 + #5×5 + pool proj.
INCEPTION_CONFIG: list[tuple] = [
    ("3a", 192, 64, 96, 128, 16, 32, 32),
    ("3b", 256, 128, 128, 192, 32, 96, 64),
    ("4a", 480, 192, 96, 208, 16, 48, 64),
    ("4b", 512, 160, 112, 224, 24, 64, 64),
    ("4c", 512, 128, 128, 256, 24, 64, 64),
    ("4d", 512, 112, 144, 288, 32, 64, 64),
    ("4e", 528, 256, 160, 320, 32, 128, 128),
    ("5a", 832, 256, 160, 320, 32, 128, 128),
    ("5b", 832, 384, 192, 384, 48, 128, 128),
]


class Inception(nn.Module):
    """Four parallel branches concatenated along depth: 1×1 | 1×1 → 3×3 | 1×1 → 5×5 | 3×3 max pool → 1×1.

    The 1×1 "reduce" convolutions shrink the depth before the expensive 3×3 and 5×5 filters.
    x: (N, c_in, H, W) → (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).
    """

    def __init__(self, c_in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, *, large_kernel: int = 5,
                 batch_norm: bool = True, from_scratch: bool = False):
        super().__init__()
        L = _layers(from_scratch)
        block = functools.partial(_ConvBNReLU, L, batch_norm=batch_norm)
        pad = conv.same_padding(large_kernel)
        self.branch1 = block(c_in, ch1x1, 1)
        self.branch2 = nn.Sequential(block(c_in, ch3x3red, 1), block(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(block(c_in, ch5x5red, 1), block(ch5x5red, ch5x5, large_kernel, padding=pad))
        self.branch4 = nn.Sequential(L.MaxPool2d(3, 1, 1), block(c_in, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


class InceptionAux(nn.Module):
    """Auxiliary classifier on an intermediate map: 4×4 average → 1×1 conv 128 → FC 1024 → dropout 0.7 → classes."""

    def __init__(self, c_in, num_classes, *, batch_norm: bool = True, from_scratch: bool = False):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d((4, 4))
        self.conv = _ConvBNReLU(_layers(from_scratch), c_in, 128, 1, batch_norm=batch_norm)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.dropout = nn.Dropout(0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.conv(self.avgpool(x)), 1)
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


class GoogLeNetOutput(NamedTuple):
    """What GoogLeNet returns in training mode when it has auxiliary heads."""

    logits: torch.Tensor
    aux1: torch.Tensor   # head after inception 4a
    aux2: torch.Tensor   # head after inception 4d


class GoogLeNet(nn.Module):
    """GoogLeNet / Inception v1 (Szegedy et al., 2014) with the configuration :data:`INCEPTION_CONFIG`.

    Stem 7×7/2 → pool → 1×1 → 3×3 → pool → 3a, 3b → pool → 4a … 4e → pool → 5a, 5b → global
    average → dropout 0.2 → FC. In training mode with ``aux_logits`` the forward pass returns
    :class:`GoogLeNetOutput` (the auxiliary heads after 4a and 4d, see :func:`googlenet_loss`); in
    eval mode only the logits, as the heads serve training alone.

    Like torchvision, every convolution is followed by batch norm (``batch_norm=False`` gives the
    2014 network). torchvision's "5×5" branch actually uses a 3×3 kernel (a known quirk); pass
    ``large_kernel=3`` to reproduce its 6,624,904 parameters, the default 5 follows the paper.
    """

    @_seeded
    def __init__(self, num_classes: int = 1000, in_channels: int = 3, *, aux_logits: bool = True,
                 large_kernel: int = 5, batch_norm: bool = True, dropout: float = 0.2,
                 small_input: bool = False, from_scratch: bool = False):
        super().__init__()
        num_classes, in_channels = _check_common(num_classes, in_channels)
        L = _layers(from_scratch)
        block = functools.partial(_ConvBNReLU, L, batch_norm=batch_norm)
        options = dict(large_kernel=large_kernel, batch_norm=batch_norm, from_scratch=from_scratch)
        # "padding=1" pools give the sizes of torchvision's ceil-mode pools (112 → 56 → 28 → 14 → 7)
        if small_input:
            self.conv1, self.maxpool1 = block(in_channels, 64, 3, padding=1), nn.Identity()
        else:
            self.conv1, self.maxpool1 = block(in_channels, 64, 7, stride=2, padding=3), L.MaxPool2d(3, 2, 1)
        self.conv2 = block(64, 64, 1)
        self.conv3 = block(64, 192, 3, padding=1)
        self.maxpool2 = L.MaxPool2d(3, 2, 1)
        cfg = {name: args for name, *args in INCEPTION_CONFIG}
        self.inception3a = Inception(*cfg["3a"], **options)
        self.inception3b = Inception(*cfg["3b"], **options)
        self.maxpool3 = L.MaxPool2d(3, 2, 1)
        self.inception4a = Inception(*cfg["4a"], **options)
        self.inception4b = Inception(*cfg["4b"], **options)
        self.inception4c = Inception(*cfg["4c"], **options)
        self.inception4d = Inception(*cfg["4d"], **options)
        self.inception4e = Inception(*cfg["4e"], **options)
        self.maxpool4 = L.MaxPool2d(2, 2)
        self.inception5a = Inception(*cfg["5a"], **options)
        self.inception5b = Inception(*cfg["5b"], **options)
        self.aux_logits = bool(aux_logits)
        aux = dict(batch_norm=batch_norm, from_scratch=from_scratch)
        self.aux1 = InceptionAux(512, num_classes, **aux) if aux_logits else None
        self.aux2 = InceptionAux(528, num_classes, **aux) if aux_logits else None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor):
        """x: (N, C, H, W) → logits (N, classes), or :class:`GoogLeNetOutput` in training with aux heads."""
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux_logits and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux_logits and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        logits = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        if aux1 is not None:
            return GoogLeNetOutput(logits, aux1, aux2)
        return logits


def googlenet_loss(output, target: torch.Tensor, aux_weight: float = 0.3) -> torch.Tensor:
    """Cross-entropy of the main head plus ``aux_weight`` (0.3 in the paper) times each auxiliary head's."""
    aux_weight = check_number(aux_weight, "aux_weight", low=0.0)
    if isinstance(output, GoogLeNetOutput):
        main = F.cross_entropy(output.logits, target)
        return main + aux_weight * (F.cross_entropy(output.aux1, target) + F.cross_entropy(output.aux2, target))
    if isinstance(output, torch.Tensor):
        return F.cross_entropy(output, target)
    raise TypeError(f"output must be logits or a GoogLeNetOutput, got {type(output).__name__}")


# ---------------------------------------------------------------- ResNet
def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels)


class _ZeroPadShortcut(nn.Module):
    """Parameter-free shortcut (option A of He et al.): subsample by the stride, pad new channels with zeros."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.extra, self.stride = c_out - c_in, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))


def _shortcut(kind, L, c_in, c_out, stride, batch_norm=True):
    """None when the shapes match (identity); otherwise a projection ("B") or zero padding ("A")."""
    if stride == 1 and c_in == c_out:
        return None
    if kind == "A":
        return _ZeroPadShortcut(c_in, c_out, stride)
    if kind == "B":
        projection = L.Conv2d(c_in, c_out, 1, stride, bias=False)
        return nn.Sequential(projection, _bn(c_out)) if batch_norm else projection
    raise ValueError(f"shortcut must be 'A' (zero padding), 'B' (1×1 projection) or None (plain), got {kind!r}")


class _PostActivation(nn.Module):
    """The forward pass shared by the original blocks: ``y = ReLU(F(x) + shortcut(x))``.

    Subclasses define ``residual(x)`` (= F(x)), ``downsample`` and ``residual_connection``
    (False gives the plain block of the degradation experiment).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.residual_connection:
            return F.relu(self.residual(x))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(self.residual(x) + identity)


class BasicBlock(_PostActivation):
    """The original residual block: ``y = ReLU(F(x) + x)`` with F = conv3×3 → BN → ReLU → conv3×3 → BN.

    When depth or size change, the shortcut is a 1×1 projection (``shortcut="B"``, torchvision) or
    zero padding (``"A"``, the CIFAR experiments); ``shortcut=None`` drops it: a *plain* block.
    """

    expansion = 1

    def __init__(self, c_in: int, planes: int, stride: int = 1, *, shortcut: str | None = "B",
                 from_scratch: bool = False):
        super().__init__()
        L = _layers(from_scratch)
        self.conv1 = L.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = _bn(planes)
        self.conv2 = L.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = _bn(planes)
        self.residual_connection = shortcut is not None
        self.downsample = _shortcut(shortcut, L, c_in, planes, stride) if shortcut else None

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """F(x) = H(x) − x, the part the block learns."""
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn2


class Bottleneck(_PostActivation):
    """Bottleneck block for ResNet-50+: 1×1 (reduce to ``planes``) → 3×3 → 1×1 (expand to 4·planes).

    ``y = ReLU(F(x) + shortcut(x))``; the stride sits on the 3×3 convolution (torchvision's "v1.5").
    """

    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int = 1, *, shortcut: str | None = "B",
                 from_scratch: bool = False):
        super().__init__()
        L, c_out = _layers(from_scratch), planes * self.expansion
        self.conv1 = L.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = _bn(planes)
        self.conv2 = L.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = _bn(planes)
        self.conv3 = L.Conv2d(planes, c_out, 1, bias=False)
        self.bn3 = _bn(c_out)
        self.residual_connection = shortcut is not None
        self.downsample = _shortcut(shortcut, L, c_in, c_out, stride) if shortcut else None

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        return self.bn3(self.conv3(h))

    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn3


class _PreActivation(nn.Module):
    """The forward pass shared by full pre-activation blocks: BN → ReLU first, then the branch.

    Subclasses define ``bn1`` (the first normalisation), ``_branch(a)``, ``downsample`` and
    ``residual_connection``; with the shortcut, the projection sees the activated input ``a``.
    """

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self._branch(F.relu(self.bn1(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = F.relu(self.bn1(x))
        if not self.residual_connection:
            return self._branch(a)
        identity = x if self.downsample is None else self.downsample(a)
        return self._branch(a) + identity


class PreActBasicBlock(_PreActivation):
    """Full pre-activation block (He et al., 2016): ``y = x + F(x)`` with
    F = BN → ReLU → conv3×3 → BN → ReLU → conv3×3; nothing follows the addition, so the identity
    path is clean from block to block. A projection shortcut reads the pre-activated input."""

    expansion = 1

    def __init__(self, c_in: int, planes: int, stride: int = 1, *, shortcut: str | None = "B",
                 from_scratch: bool = False):
        super().__init__()
        L = _layers(from_scratch)
        self.bn1 = _bn(c_in)
        self.conv1 = L.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn2 = _bn(planes)
        self.conv2 = L.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.residual_connection = shortcut is not None
        self.downsample = _shortcut(shortcut, L, c_in, planes, stride, batch_norm=False) if shortcut else None

    def _branch(self, a: torch.Tensor) -> torch.Tensor:
        return self.conv2(F.relu(self.bn2(self.conv1(a))))

    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn2


class PreActBottleneck(_PreActivation):
    """Full pre-activation bottleneck: ``y = x + F(x)``, F = (BN → ReLU → conv) × 3 with 1×1, 3×3, 1×1."""

    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int = 1, *, shortcut: str | None = "B",
                 from_scratch: bool = False):
        super().__init__()
        L, c_out = _layers(from_scratch), planes * self.expansion
        self.bn1 = _bn(c_in)
        self.conv1 = L.Conv2d(c_in, planes, 1, bias=False)
        self.bn2 = _bn(planes)
        self.conv2 = L.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn3 = _bn(planes)
        self.conv3 = L.Conv2d(planes, c_out, 1, bias=False)
        self.residual_connection = shortcut is not None
        self.downsample = _shortcut(shortcut, L, c_in, c_out, stride, batch_norm=False) if shortcut else None

    def _branch(self, a: torch.Tensor) -> torch.Tensor:
        h = self.conv1(a)
        h = self.conv2(F.relu(self.bn2(h)))
        return self.conv3(F.relu(self.bn3(h)))

    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn3


#: depth → (block kind, blocks per stage) (He et al., 2015, Table 1).
RESNET_LAYERS: dict[int, tuple[str, list[int]]] = {
    18: ("basic", [2, 2, 2, 2]),
    34: ("basic", [3, 4, 6, 3]),
    50: ("bottleneck", [3, 4, 6, 3]),
    101: ("bottleneck", [3, 4, 23, 3]),
    152: ("bottleneck", [3, 8, 36, 3]),
}

_BLOCKS = {("basic", False): BasicBlock, ("bottleneck", False): Bottleneck,
           ("basic", True): PreActBasicBlock, ("bottleneck", True): PreActBottleneck}


def _zero_init_residual(model: nn.Module) -> None:
    """γ = 0 in each block's last batch norm (or its last conv for pre-activation blocks): F(x) = 0 at start."""
    for m in model.modules():
        if isinstance(m, (BasicBlock, Bottleneck)):
            nn.init.zeros_(m.last_norm().weight)
        elif isinstance(m, PreActBasicBlock):
            nn.init.zeros_(m.conv2.weight)
        elif isinstance(m, PreActBottleneck):
            nn.init.zeros_(m.conv3.weight)


class ResNet(nn.Module):
    """ResNet-18/34/50/101/152 (He et al., 2015): stem → 4 stages of residual blocks → global average → FC.

    Stem: conv 7×7/2·64 → BN → ReLU → 3×3/2 max pool (``small_input``: conv 3×3/1, no pool).
    Stage s has ``width·2^s`` planes and starts with stride 2 (except the first). ``preact=True``
    uses full pre-activation blocks and adds a final BN → ReLU before pooling.
    ``zero_init_residual`` starts every block as the identity (γ = 0 in its last batch norm).
    """

    @_seeded
    def __init__(self, depth: int = 18, num_classes: int = 1000, in_channels: int = 3, *, preact: bool = False,
                 width: int = 64, small_input: bool = False, zero_init_residual: bool = False,
                 from_scratch: bool = False):
        super().__init__()
        if depth not in RESNET_LAYERS:
            raise ValueError(f"depth must be one of {sorted(RESNET_LAYERS)}, got {depth!r}")
        num_classes, in_channels = _check_common(num_classes, in_channels)
        width = check_positive_int(width, "width")
        kind, blocks = RESNET_LAYERS[depth]
        Block, L = _BLOCKS[kind, bool(preact)], _layers(from_scratch)
        if small_input:
            self.conv1, self.maxpool = L.Conv2d(in_channels, width, 3, 1, 1, bias=False), nn.Identity()
        else:
            self.conv1, self.maxpool = L.Conv2d(in_channels, width, 7, 2, 3, bias=False), L.MaxPool2d(3, 2, 1)
        self.bn1 = _bn(width)
        c = width
        for s, n in enumerate(blocks):
            planes, stride = width * 2 ** s, 1 if s == 0 else 2
            stage = []
            for b in range(n):
                stage.append(Block(c, planes, stride if b == 0 else 1, from_scratch=from_scratch))
                c = planes * Block.expansion
            setattr(self, f"layer{s + 1}", nn.Sequential(*stage))
        self.final_norm = _bn(c) if preact else None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(c, num_classes)
        _kaiming_init(self)
        if zero_init_residual:
            _zero_init_residual(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        if self.final_norm is not None:
            x = F.relu(self.final_norm(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ---------------------------------------------------------------- DenseNet
class DenseLayer(nn.Module):
    """BN → ReLU → conv 1×1 (bn_size·k) → BN → ReLU → conv 3×3 (k): adds k new feature maps.

    x: (N, c, H, W) → (N, c + k, H, W), the input concatenated with the new maps.
    """

    def __init__(self, c_in: int, growth_rate: int, bn_size: int = 4, drop_rate: float = 0.0,
                 *, from_scratch: bool = False):
        super().__init__()
        L = _layers(from_scratch)
        self.norm1 = _bn(c_in)
        self.conv1 = L.Conv2d(c_in, bn_size * growth_rate, 1, bias=False)
        self.norm2 = _bn(bn_size * growth_rate)
        self.conv2 = L.Conv2d(bn_size * growth_rate, growth_rate, 3, 1, 1, bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.relu(self.norm1(x)))
        new = self.conv2(F.relu(self.norm2(h)))
        if self.drop_rate > 0:
            new = F.dropout(new, self.drop_rate, self.training)
        return torch.cat([x, new], dim=1)


class DenseBlock(nn.Sequential):
    """``num_layers`` dense layers: every layer sees all earlier maps; depth grows c → c + num_layers·k."""

    def __init__(self, num_layers: int, c_in: int, growth_rate: int, bn_size: int = 4, drop_rate: float = 0.0,
                 *, from_scratch: bool = False):
        super().__init__(*[
            DenseLayer(c_in + i * growth_rate, growth_rate, bn_size, drop_rate, from_scratch=from_scratch)
            for i in range(num_layers)
        ])
        self.out_channels = c_in + num_layers * growth_rate


class Transition(nn.Sequential):
    """Between dense blocks: BN → ReLU → conv 1×1 (compress the depth) → 2×2 average pool (halve the size)."""

    def __init__(self, c_in: int, c_out: int, *, from_scratch: bool = False):
        L = _layers(from_scratch)
        super().__init__(_bn(c_in), nn.ReLU(inplace=True), L.Conv2d(c_in, c_out, 1, bias=False), L.AvgPool2d(2, 2))


class DenseNet(nn.Module):
    """DenseNet-BC (Huang et al., 2017): stem → dense blocks joined by transition layers → BN → ReLU →
    global average → FC.

    ``growth_rate`` k maps per layer, bottleneck width ``bn_size·k``, transitions keep a
    ``compression`` θ of the depth. ``block_config=(6, 12, 24, 16)`` with k = 32 is DenseNet-121.
    """

    @_seeded
    def __init__(self, block_config=(6, 12, 24, 16), growth_rate: int = 32, num_init_features: int = 64,
                 bn_size: int = 4, compression: float = 0.5, drop_rate: float = 0.0, num_classes: int = 1000,
                 in_channels: int = 3, *, small_input: bool = False, from_scratch: bool = False):
        super().__init__()
        num_classes, in_channels = _check_common(num_classes, in_channels)
        growth_rate = check_positive_int(growth_rate, "growth_rate")
        num_init_features = check_positive_int(num_init_features, "num_init_features")
        bn_size = check_positive_int(bn_size, "bn_size")
        compression = check_number(compression, "compression", low=0.0, low_inclusive=False, high=1.0)
        block_config = [check_positive_int(n, "block_config entries") for n in block_config]
        L = _layers(from_scratch)
        if small_input:
            stem = [("conv0", L.Conv2d(in_channels, num_init_features, 3, 1, 1, bias=False)),
                    ("norm0", _bn(num_init_features)), ("relu0", nn.ReLU(inplace=True))]
        else:
            stem = [("conv0", L.Conv2d(in_channels, num_init_features, 7, 2, 3, bias=False)),
                    ("norm0", _bn(num_init_features)), ("relu0", nn.ReLU(inplace=True)),
                    ("pool0", L.MaxPool2d(3, 2, 1))]
        self.features = nn.Sequential()
        for name, module in stem:
            self.features.add_module(name, module)
        c = num_init_features
        for i, n in enumerate(block_config):
            block = DenseBlock(n, c, growth_rate, bn_size, drop_rate, from_scratch=from_scratch)
            self.features.add_module(f"denseblock{i + 1}", block)
            c = block.out_channels
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", Transition(c, int(c * compression), from_scratch=from_scratch))
                c = int(c * compression)
        self.features.add_module("norm5", _bn(c))
        self.classifier = nn.Linear(c, num_classes)
        _kaiming_init(self)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.features(x))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))


class DenseNet121(DenseNet):
    """DenseNet-121: blocks of 6, 12, 24, 16 layers, k = 32, 64 stem maps, θ = 0.5 (7,978,856 parameters)."""

    @_seeded
    def __init__(self, num_classes: int = 1000, in_channels: int = 3, *, drop_rate: float = 0.0,
                 small_input: bool = False, from_scratch: bool = False):
        super().__init__((6, 12, 24, 16), 32, 64, 4, 0.5, drop_rate, num_classes, in_channels,
                         small_input=small_input, from_scratch=from_scratch)


# ---------------------------------------------------------------- CIFAR-style plain vs residual
class CifarResNet(nn.Module):
    """The CIFAR-10 networks of He et al. (2015, §4.2): depth 6n + 2.

    conv 3×3·16 → 3 stages of n blocks (two 3×3 convs each) with 16, 32, 64 filters on 32×32,
    16×16, 8×8 maps → global average → FC. ``residual=False`` removes every shortcut (the *plain*
    net); residual nets use parameter-free zero-padding shortcuts (option A), so both have the same
    parameters (ResNet-20: 269,722 — "0.27M" in the paper).
    """

    @_seeded
    def __init__(self, depth: int = 20, num_classes: int = 10, in_channels: int = 3, *, residual: bool = True,
                 shortcut: str = "A", width: int = 16, from_scratch: bool = False):
        super().__init__()
        depth = check_positive_int(depth, "depth", minimum=8)
        if (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 (20, 32, 44, 56, 110, …), got {depth}")
        num_classes, in_channels = _check_common(num_classes, in_channels)
        width = check_positive_int(width, "width")
        n, L = (depth - 2) // 6, _layers(from_scratch)
        self.conv1 = L.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = _bn(width)
        c, stages = width, []
        for s in range(3):
            planes = width * 2 ** s
            for b in range(n):
                stride = 2 if s > 0 and b == 0 else 1
                stages.append(BasicBlock(c, planes, stride, shortcut=shortcut if residual else None,
                                         from_scratch=from_scratch))
                c = planes
        self.layers = nn.Sequential(*stages)
        self.fc = nn.Linear(c, num_classes)
        _kaiming_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))


def plain_net(depth: int = 20, num_classes: int = 10, in_channels: int = 3, **kwargs) -> CifarResNet:
    """The plain CIFAR network of depth 6n + 2 (no shortcuts): deeper is *worse* (degradation)."""
    return CifarResNet(depth, num_classes, in_channels, residual=False, **kwargs)


def resnet_cifar(depth: int = 20, num_classes: int = 10, in_channels: int = 3, **kwargs) -> CifarResNet:
    """The residual CIFAR network of depth 6n + 2 (option-A shortcuts): deeper is better."""
    return CifarResNet(depth, num_classes, in_channels, residual=True, **kwargs)
