import pytest
import torch

from dlbook import perceptron as P


@pytest.mark.parametrize("gate, outputs", [
    (P.AND, [0, 0, 0, 1]),
    (P.NAND, [1, 1, 1, 0]),
    (P.OR, [0, 1, 1, 1]),
    (P.NOR, [1, 0, 0, 0]),
])
def test_gate_truth_tables(gate, outputs):
    table = P.truth_table(gate)
    assert [row[:2] for row in table] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [row[2] for row in table] == outputs


def test_xor_from_two_layers_of_gates():
    xor = lambda x: P.AND(torch.stack([P.NAND(x), P.OR(x)], dim=1))  # noqa: E731
    assert [row[2] for row in P.truth_table(xor)] == [0, 1, 1, 0]


def test_single_and_batched_inputs(device):
    x = P.gate_inputs().to(device)
    assert P.AND(x).device.type == device.type
    assert P.AND(x[3]).item() == 1.0 and P.AND(x[3]).shape == ()


def test_learning_rule_converges_on_and_not_on_xor():
    x = P.gate_inputs()
    learned, mistakes = P.train_perceptron(x, torch.tensor([0.0, 0, 0, 1]), lr=0.1, epochs=50)
    assert mistakes[-1] == 0
    assert [r[2] for r in P.truth_table(learned)] == [0, 0, 0, 1]
    _, mistakes = P.train_perceptron(x, torch.tensor([0.0, 1, 1, 0]), lr=0.1, epochs=50)
    assert len(mistakes) == 50 and min(mistakes) > 0


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"2 features.*shape \(4, 3\)"):
        P.AND(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="only 0 and 1"):
        P.train_perceptron(P.gate_inputs(), torch.tensor([0.0, 2, 1, 0]))
    with pytest.raises(ValueError, match="4 rows but y has 3"):
        P.train_perceptron(P.gate_inputs(), torch.tensor([0.0, 1, 1]))
    with pytest.raises(TypeError, match="gate must be callable"):
        P.truth_table("AND")
    with pytest.raises(TypeError, match="theta must be a finite real number"):
        P.Perceptron([1.0, 1.0], theta=None)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_learning_rule_runs_on_the_inputs_device_and_dtype(device, dtype):
    x = P.gate_inputs(dtype=dtype).to(device)
    y = torch.tensor([0.0, 0, 0, 1], device=device)
    learned, mistakes = P.train_perceptron(x, y, lr=0.1, epochs=50)
    assert learned.weights.device == x.device and learned.weights.dtype == dtype
    reference, cpu_mistakes = P.train_perceptron(x.cpu(), y.cpu(), lr=0.1, epochs=50)
    assert mistakes == cpu_mistakes
    torch.testing.assert_close(learned.weights.cpu(), reference.weights)
    assert learned(x).device == x.device and learned(x).tolist() == [0.0, 0.0, 0.0, 1.0]
