import random

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
        dlbook.nonexistent
