"""dlbook batch norm vs nn.BatchNorm1d/2d: forward + backward in training mode."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from common import Row, seconds_per_call
from dlbook.batchnorm import BatchNorm1d, BatchNorm2d, batchnorm_backward, batchnorm_forward


def _module_step(layer, x, dout):
    def run():
        layer(x).backward(dout)
    return run


def rows() -> list[Row]:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    g = torch.Generator().manual_seed(0)
    out = []
    for name, shape, ours_cls, ref_cls in [
        ("BatchNorm2d fwd+bwd (32, 64, 32, 32)", (32, 64, 32, 32), BatchNorm2d, nn.BatchNorm2d),
        ("BatchNorm1d fwd+bwd (256, 1024)", (256, 1024), BatchNorm1d, nn.BatchNorm1d),
    ]:
        x = torch.randn(shape, generator=g).to(device).requires_grad_(True)
        dout = torch.randn(shape, generator=g).to(device)
        ours, ref = ours_cls(shape[1]).to(device), ref_cls(shape[1]).to(device)
        out.append(Row("batchnorm", name, seconds_per_call(_module_step(ours, x, dout), sync=sync),
                       seconds_per_call(_module_step(ref, x, dout), sync=sync), "nn.BatchNorm"))

    # the explicit, hand-derived forward/backward vs F.batch_norm + autograd
    shape = (32, 64, 32, 32)
    x = torch.randn(shape, generator=g).to(device)
    dout = torch.randn(shape, generator=g).to(device)
    gamma, beta = torch.ones(64, device=device), torch.zeros(64, device=device)

    def manual():
        y, cache = batchnorm_forward(x, gamma, beta)
        return batchnorm_backward(dout, cache)

    xr = x.clone().requires_grad_(True)
    gr, br = gamma.clone().requires_grad_(True), beta.clone().requires_grad_(True)

    def reference():
        torch.autograd.grad(F.batch_norm(xr, None, None, gr, br, training=True), (xr, gr, br), dout)

    out.append(Row("batchnorm", "batchnorm_forward+backward (32, 64, 32, 32)", seconds_per_call(manual, sync=sync),
                   seconds_per_call(reference, sync=sync), "F.batch_norm + autograd"))
    return out
