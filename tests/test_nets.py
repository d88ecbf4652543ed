import pytest
import torch

from dlbook.nets import train_xor, xor_data, xor_gate, xor_network


def test_xor_by_gates_and_by_hand_weights():
    x, t = xor_data()
    assert xor_gate(x).tolist() == [0.0, 1.0, 1.0, 0.0]
    net = xor_network()
    assert net.classify(x).tolist() == [0, 1, 1, 0]
    assert net.accuracy(x, t) == 1.0
    p = torch.sigmoid(net.predict(x))[:, 0]
    assert (p[[0, 3]] < 1e-3).all() and (p[[1, 2]] > 1 - 1e-3).all()


def test_xor_is_learned_deterministically():
    net, losses = train_xor(seed=0, epochs=400)
    x, t = xor_data()
    assert net.accuracy(x, t) == 1.0
    assert losses[-1] < 0.1 < losses[0]
    _, again = train_xor(seed=0, epochs=400)
    assert again == losses


def test_xor_data_refuses_float64_on_mps():
    with pytest.raises(ValueError, match=r"float64 is not supported on mps"):
        xor_data(device=torch.device("mps"))
