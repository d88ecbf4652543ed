import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """Run a test on the CPU, and on the GPU too when CUDA is present."""
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


class Float64Recorder(TorchDispatchMode):
    """Inside ``with Float64Recorder() as rec:``, ``rec.ops`` lists every operation that produced a
    float64 tensor — on MPS each would fail, so code meant for MPS must leave it empty."""

    def __init__(self):
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if any(isinstance(t, torch.Tensor) and t.dtype == torch.float64 for t in tree_leaves(out)):
            self.ops.append(str(func))
        return out


@pytest.fixture
def record_float64():
    """``with record_float64() as rec: …`` then ``rec.ops``: see :class:`Float64Recorder`."""
    return Float64Recorder
