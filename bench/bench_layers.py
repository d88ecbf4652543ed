"""Hand-written backprop vs torch.autograd, numerical vs analytic gradients, and fit's overhead.

Rows:
* a two-layer network's forward + backward (dlbook.mlp.MLP.gradient) vs the same
  computation through torch.autograd;
* the numerical gradient (2 loss evaluations per parameter) vs back-propagation, on a small
  net — the chapter's "why not numerical gradients" in seconds;
* one epoch of dlbook.train.fit vs a bare PyTorch loop over the same batches (forward,
  loss, backward, step, loss.item()): the cost of the history, NaN guard and bookkeeping,
  then with the default accuracy metric on top.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from common import Row, seconds_per_call


def _two_layer_rows() -> list[Row]:
    from dlbook.mlp import MLP

    n, d, h, c = 100, 784, 50, 10
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)
    t = torch.randint(0, c, (n,), generator=g)
    net = MLP([d, h, c], weight_init_std=0.01, seed=0, dtype=torch.float32)
    p = {k: v.clone().requires_grad_() for k, v in net.params.items()}

    def autograd():
        loss = F.cross_entropy(F.relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"], t)
        return torch.autograd.grad(loss, list(p.values()))

    ours = seconds_per_call(lambda: net.gradient(x, t))
    ref = seconds_per_call(autograd)
    return [Row("layers", f"two-layer fwd+bwd {n}×{d}-{h}-{c}", ours, ref, "torch.autograd")]


def _numerical_row() -> list[Row]:
    from dlbook.mlp import MLP

    net = MLP([10, 8, 3], weight_init_std=0.5, seed=0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 10, generator=g, dtype=torch.float64)
    t = torch.randint(0, 3, (32,), generator=g)
    ours = seconds_per_call(lambda: net.numerical_gradient(x, t), warmup=0, min_time=0.1)
    ref = seconds_per_call(lambda: net.gradient(x, t))
    return [Row("layers", f"numerical gradient, {net.num_parameters()} params", ours, ref, "backprop")]


def _fit_row() -> list[Row]:
    from dlbook.train import fit

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2048, 32, generator=g)
    y = (x[:, :2].sum(1) > 0).long()
    loader = DataLoader(TensorDataset(x, y), batch_size=64)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def bare_epoch():
        model.train()
        total = 0.0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        return total

    def fit_epoch(metrics):
        return lambda: fit(model, loader, loss_fn=loss_fn, optimizer=opt, epochs=1, device="cpu",
                           progress=False, metrics=metrics)

    ref = seconds_per_call(bare_epoch, min_time=0.3)
    bare = seconds_per_call(fit_epoch({}), min_time=0.3)
    with_accuracy = seconds_per_call(fit_epoch(None), min_time=0.3)
    name = "1 epoch of 32 batches (MLP 32-64-2)"
    return [Row("train", f"fit, no metrics, {name}", bare, ref, "bare loop"),
            Row("train", f"fit, + accuracy, {name}", with_accuracy, ref, "bare loop")]


def rows() -> list[Row]:
    return _two_layer_rows() + _numerical_row() + _fit_row()
