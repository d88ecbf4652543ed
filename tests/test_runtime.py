import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

import dlbook


def test_device_falls_back_to_what_exists(monkeypatch):
    monkeypatch.delenv("DLBOOK_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert dlbook.device().type == expected
    assert dlbook.device("cpu") == torch.device("cpu")


def test_device_env_override_and_errors(monkeypatch):
    monkeypatch.setenv("DLBOOK_DEVICE", "cpu")
    assert dlbook.device().type == "cpu"
    with pytest.raises(ValueError, match="prefer must be 'cpu', 'cuda' or 'mps'"):
        dlbook.device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA was requested"):
            dlbook.device("cuda")


def test_seed_everything_repeats_all_generators():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3).tolist()

    g = dlbook.seed_everything(7)
    first = draw() + (torch.rand(2, generator=g).tolist(),)
    g = dlbook.seed_everything(7)
    assert draw() + (torch.rand(2, generator=g).tolist(),) == first
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        dlbook.seed_everything(-1)


def test_unknown_submodule_is_a_clear_attribute_error():
    with pytest.raises(AttributeError, match="no attribute or submodule 'nonexistent'"):
        dlbook.nonexistent  # noqa: B018 — the attribute access is the test


# ---------------------------------------------------------------- float64 and devices
@pytest.mark.parametrize("given, expected", [
    (torch.device("mps"), "cpu"), ("mps", "cpu"), ("mps:0", "cpu"),
    ("cpu", "cpu"), ("cuda", "cuda"), (torch.device("cuda", 1), "cuda:1"), (None, "cpu"),
])
def test_float64_device_sends_mps_to_the_cpu(given, expected):
    # torch.device("mps") and torch.device("cuda") can be built without the hardware
    assert dlbook.runtime.float64_device(given) == torch.device(expected)


def test_float64_device_keeps_the_fixture_device(device):
    assert dlbook.runtime.float64_device(device) == device


# ---------------------------------------------------------------- determinism
@pytest.fixture
def restore_determinism():
    """seed_everything changes process-wide settings: put them back after the test."""
    saved = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32,
             torch.backends.cuda.matmul.allow_tf32, torch.get_float32_matmul_precision())
    yield
    torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
    (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32,
     torch.backends.cuda.matmul.allow_tf32) = saved[2:6]
    torch.set_float32_matmul_precision(saved[6])


def test_seed_everything_asks_for_deterministic_kernels_and_no_tf32(restore_determinism):
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    torch.set_float32_matmul_precision("high")
    dlbook.seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()  # see seed_everything's docstring for why
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
    assert torch.get_float32_matmul_precision() == "highest"
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"


def test_seed_everything_without_determinism_only_seeds(restore_determinism):
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark = True
    dlbook.seed_everything(0, deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.benchmark


def test_seed_everything_seeds_every_cuda_device(monkeypatch, restore_determinism):
    seen = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", seen.append)
    dlbook.seed_everything(11)
    assert seen and set(seen) == {11}


def _import_dlbook_and_print_cublas_config(env):
    code = "import os, dlbook; print(os.environ.get('CUBLAS_WORKSPACE_CONFIG'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_sets_the_cublas_workspace_before_any_cuda_use():
    env = {k: v for k, v in os.environ.items() if k != "CUBLAS_WORKSPACE_CONFIG"}
    assert _import_dlbook_and_print_cublas_config(env) == ":4096:8"
    assert _import_dlbook_and_print_cublas_config({**env, "CUBLAS_WORKSPACE_CONFIG": ":16:8"}) == ":16:8"
