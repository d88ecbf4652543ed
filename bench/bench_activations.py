"""dlbook activations (forward + derivative) against PyTorch's built-ins."""
import torch
import torch.nn.functional as F

from common import Row, seconds_per_call
from dlbook import activations as A

N = 1_000_000


def rows():
    x = torch.randn(N)
    xg = x.clone().requires_grad_()

    def torch_grad(fn):
        def run():
            (g,) = torch.autograd.grad(fn(xg).sum(), xg)
            return g
        return run

    pairs = [
        ("sigmoid", lambda: A.sigmoid(x), lambda: torch.sigmoid(x)),
        ("tanh", lambda: A.tanh(x), lambda: torch.tanh(x)),
        ("relu", lambda: A.relu(x), lambda: F.relu(x)),
        ("leaky_relu", lambda: A.leaky_relu(x, 0.01), lambda: F.leaky_relu(x, 0.01)),
        ("elu", lambda: A.elu(x), lambda: F.elu(x)),
        ("sigmoid_grad", lambda: A.sigmoid_grad(x), torch_grad(torch.sigmoid)),
        ("relu_grad", lambda: A.relu_grad(x), torch_grad(F.relu)),
        ("elu_grad", lambda: A.elu_grad(x), torch_grad(F.elu)),
    ]
    return [Row("activations", f"{name} 1M", seconds_per_call(ours), seconds_per_call(ref))
            for name, ours, ref in pairs]
