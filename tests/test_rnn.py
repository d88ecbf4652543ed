import copy

import pytest
import torch
from torch import nn

from dlbook import rnn
from dlbook.text import CharVocab

F64 = torch.float64
TORCH_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
TORCH_SEQ = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _h(state):
    return state[0] if isinstance(state, tuple) else state


def _pair(cell_type, device, bias=True, **kw):
    theirs = TORCH_CELLS[cell_type](3, 5, bias=bias, **kw).to(device, F64)
    ours = rnn.CELLS[cell_type](3, 5, bias=bias, **kw).to(device, F64).load_from_torch(theirs)
    return ours, theirs


def _loss(state):
    """A scalar that depends on every output of a step (h, and C for the LSTM)."""
    if isinstance(state, tuple):
        return (state[0] ** 2).sum() + (state[1] * torch.arange(state[1].numel(), dtype=F64,
                                                                device=state[1].device).reshape(state[1].shape)).sum()
    return (state ** 2).sum() + state.sum()


# ---------------------------------------------------------------- cells vs torch.nn
@pytest.mark.parametrize("cell_type", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_torch_values_and_gradients(cell_type, bias, device):
    ours, theirs = _pair(cell_type, device, bias)
    x = torch.randn(4, 3, dtype=F64, device=device, requires_grad=True)
    h0 = torch.randn(4, 5, dtype=F64, device=device, requires_grad=True)
    state = (h0, torch.randn(4, 5, dtype=F64, device=device, requires_grad=True)) if cell_type == "lstm" else h0
    out_ours, out_theirs = ours(x, state), theirs(x, state)
    if cell_type == "lstm":
        torch.testing.assert_close(out_ours[0], out_theirs[0], rtol=0, atol=1e-12)
        torch.testing.assert_close(out_ours[1], out_theirs[1], rtol=0, atol=1e-12)
    else:
        torch.testing.assert_close(out_ours, out_theirs, rtol=0, atol=1e-12)
    inputs = [x, *(state if isinstance(state, tuple) else (state,))]
    g_ours = torch.autograd.grad(_loss(out_ours), inputs + list(ours.parameters()))
    g_theirs = torch.autograd.grad(_loss(out_theirs), inputs + list(theirs.parameters()))
    assert len(g_ours) == len(g_theirs)
    for a, b in zip(g_ours, g_theirs):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell_type", ["rnn", "lstm", "gru"])
def test_cell_default_state_is_zero_and_unbatched_input_works(cell_type):
    ours, theirs = _pair(cell_type, "cpu")
    x = torch.randn(3, dtype=F64)
    torch.testing.assert_close(_h(ours(x)), _h(theirs(x)), rtol=0, atol=1e-12)
    assert _h(ours(x)).shape == (5,)
    zeros = torch.zeros(2, 5, dtype=F64)
    xb = torch.randn(2, 3, dtype=F64)
    zero_state = (zeros, zeros) if cell_type == "lstm" else zeros
    torch.testing.assert_close(_h(ours(xb)), _h(ours(xb, zero_state)))


def test_rnn_cell_relu_matches_torch():
    ours, theirs = _pair("rnn", "cpu", nonlinearity="relu")
    x, h = torch.randn(6, 3, dtype=F64), torch.randn(6, 5, dtype=F64)
    torch.testing.assert_close(ours(x, h), theirs(x, h), rtol=0, atol=1e-12)


def test_state_dict_is_interchangeable_with_torch():
    theirs = nn.LSTMCell(3, 5).double()
    ours = rnn.LSTMCell(3, 5).double()
    ours.load_state_dict(theirs.state_dict())        # same names, same shapes
    x = torch.randn(2, 3, dtype=F64)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0])
    back = ours.to_torch()
    assert isinstance(back, nn.LSTMCell)
    torch.testing.assert_close(back(x)[1], theirs(x)[1])
    mirror = rnn.GRUCell.from_torch(nn.GRUCell(3, 5).double())
    assert mirror.weight_ih.dtype == F64 and mirror.weight_ih.shape == (15, 3)


def test_lstm_equations_by_hand():
    """Cₜ = f∗Cₜ₋₁ + i∗C̃, hₜ = o∗tanh(Cₜ) with W_g[h, x] + b_g from gate_weights (gate order i, f, g, o)."""
    cell = rnn.LSTMCell(3, 4).double()
    x, h, C = torch.randn(2, 3, dtype=F64), torch.randn(2, 4, dtype=F64), torch.randn(2, 4, dtype=F64)
    hx = torch.cat([h, x], dim=1)

    def gate(name):
        W, b = cell.gate_weights(name)
        return hx @ W.T + b

    f, i, o = torch.sigmoid(gate("f")), torch.sigmoid(gate("i")), torch.sigmoid(gate("o"))
    C_tilde = torch.tanh(gate("C"))
    C_new = f * C + i * C_tilde
    h_new = o * torch.tanh(C_new)
    got_h, got_C = cell(x, (h, C))
    torch.testing.assert_close(got_C, C_new)
    torch.testing.assert_close(got_h, h_new)


def test_gru_equations_by_hand():
    cell = rnn.GRUCell(3, 4).double()
    x, h = torch.randn(2, 3, dtype=F64), torch.randn(2, 4, dtype=F64)
    Wi, Wh = cell.weight_ih.detach().chunk(3), cell.weight_hh.detach().chunk(3)
    bi, bh = cell.bias_ih.detach().chunk(3), cell.bias_hh.detach().chunk(3)
    r = torch.sigmoid(x @ Wi[0].T + bi[0] + h @ Wh[0].T + bh[0])
    z = torch.sigmoid(x @ Wi[1].T + bi[1] + h @ Wh[1].T + bh[1])
    n = torch.tanh(x @ Wi[2].T + bi[2] + r * (h @ Wh[2].T + bh[2]))
    torch.testing.assert_close(cell(x, h), (1 - z) * n + z * h)


def test_initialisation_is_pytorchs_range_and_repeatable():
    a = rnn.LSTMCell(3, 16, generator=torch.Generator().manual_seed(1))
    b = rnn.LSTMCell(3, 16, generator=torch.Generator().manual_seed(1))
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
        assert p.abs().max() <= 0.25 + 1e-7          # 1/√16
    fb = rnn.LSTMCell(3, 16, forget_bias=1.0, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(fb.bias_ih[16:32], a.bias_ih[16:32] + 1)
    torch.testing.assert_close(fb.bias_ih[:16], a.bias_ih[:16])


def test_chrono_initialisation():
    cell = rnn.LSTMCell(3, 64, chrono=100, generator=torch.Generator().manual_seed(2))
    b_i, b_f = cell.bias_ih[:64].detach(), cell.bias_ih[64:128].detach()
    assert bool((b_f >= 0).all()) and bool((b_f <= torch.log(torch.tensor(99.0))).all())
    assert b_f.std() > 0.5                                   # spread over time scales 1 … 99
    torch.testing.assert_close(b_i, -b_f)
    assert not cell.bias_hh[:128].any()
    W_f, b = cell.gate_weights("f")
    torch.testing.assert_close(b, b_f)
    with pytest.raises(ValueError, match="not both"):
        rnn.LSTMCell(3, 4, forget_bias=1.0, chrono=10)
    with pytest.raises(ValueError, match="chrono must be an integer >= 3, got 2"):
        rnn.LSTMCell(3, 4, chrono=2)
    with pytest.raises(ValueError, match="for LSTM cells only"):
        rnn.RNN("rnn", 3, 4, chrono=10)


# ---------------------------------------------------------------- sequences and layers
@pytest.mark.parametrize("cell_type", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("batch_first", [True, False])
def test_multilayer_rnn_matches_torch(cell_type, batch_first, device):
    theirs = TORCH_SEQ[cell_type](3, 5, num_layers=2, batch_first=batch_first).to(device, F64)
    ours = rnn.RNN(cell_type, 3, 5, num_layers=2, batch_first=batch_first).to(device, F64).load_from_torch(theirs)
    shape = (4, 6, 3) if batch_first else (6, 4, 3)
    x = torch.randn(*shape, dtype=F64, device=device, requires_grad=True)
    h0 = torch.randn(2, 4, 5, dtype=F64, device=device)
    state = (h0, torch.randn(2, 4, 5, dtype=F64, device=device)) if cell_type == "lstm" else h0
    out_ours, final_ours = ours(x, state)
    out_theirs, final_theirs = theirs(x, state)
    assert out_ours.shape == out_theirs.shape == shape[:2] + (5,)
    torch.testing.assert_close(out_ours, out_theirs, rtol=0, atol=1e-12)
    if cell_type == "lstm":
        for a, b in zip(final_ours, final_theirs):
            assert a.shape == (2, 4, 5)
            torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    else:
        torch.testing.assert_close(final_ours, final_theirs, rtol=0, atol=1e-12)
    loss_ours = (out_ours ** 2).sum() + _h(final_ours).sum()
    loss_theirs = (out_theirs ** 2).sum() + _h(final_theirs).sum()
    g_ours = torch.autograd.grad(loss_ours, [x, *ours.parameters()])
    g_theirs = torch.autograd.grad(loss_theirs, [x, *theirs.parameters()])
    for a, b in zip(g_ours, g_theirs):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-11)


def test_unbatched_sequence_and_default_state():
    theirs = nn.GRU(3, 5, num_layers=3, batch_first=True).double()
    ours = rnn.RNN("gru", 3, 5, num_layers=3).double().load_from_torch(theirs)
    x = torch.randn(7, 3, dtype=F64)
    out, h = ours(x)
    assert out.shape == (7, 5) and h.shape == (3, 5)
    torch.testing.assert_close(out, theirs(x)[0])


# ---------------------------------------------------------------- errors
def test_empty_sequence_is_a_clear_error():
    model = rnn.RNN("lstm", 3, 5)
    with pytest.raises(ValueError, match=r"at least one time step.*T = 0"):
        model(torch.randn(2, 0, 3))


def test_mismatched_input_size_is_a_clear_error():
    with pytest.raises(ValueError, match=r"input_size=3 features.*\(2, 6, 4\)"):
        rnn.RNN("gru", 3, 5)(torch.randn(2, 6, 4))
    with pytest.raises(ValueError, match=r"LSTMCell: x must have shape \(N, 3\).*\(2, 4\)"):
        rnn.LSTMCell(3, 5)(torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"h must have shape \(2, 5\).*\(2, 4\)"):
        rnn.RNNCell(3, 5)(torch.randn(2, 3), torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"h0 must have shape \(2, 4, 5\)"):
        rnn.RNN("rnn", 3, 5, num_layers=2)(torch.randn(4, 6, 3), torch.randn(1, 4, 5))
    with pytest.raises(TypeError, match=r"pair \(h0, C0\)"):
        rnn.RNN("lstm", 3, 5)(torch.randn(4, 6, 3), torch.randn(1, 4, 5))


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell_type must be one of"):
        rnn.RNN("transformer", 3, 5)
    with pytest.raises(ValueError, match="hidden_size must be an integer >= 1, got 0"):
        rnn.LSTMCell(3, 0)
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        rnn.GRUCell(3, 5)(torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        rnn.RNNCell(3, 5, nonlinearity="sigmoid")
    with pytest.raises(TypeError, match="cell must be a torch.nn.LSTMCell, got GRUCell"):
        rnn.LSTMCell(3, 5).load_from_torch(nn.GRUCell(3, 5))
    with pytest.raises(ValueError, match="hidden_size is 6, but this module has hidden_size=5"):
        rnn.LSTMCell(3, 5).load_from_torch(nn.LSTMCell(3, 6))
    with pytest.raises(ValueError, match="num_layers is 1, but this RNN has num_layers=2"):
        rnn.RNN("lstm", 3, 5, num_layers=2).load_from_torch(nn.LSTM(3, 5))
    with pytest.raises(ValueError, match="gate must be one of"):
        rnn.GRUCell(3, 5).gate_weights("f")
    with pytest.raises(ValueError, match="for LSTM cells only"):
        rnn.RNN("gru", 3, 5, forget_bias=1.0)


# ---------------------------------------------------------------- vanishing gradients
def test_gradient_norms_through_time_matches_a_manual_jacobian_product():
    """For a vanilla RNN ∂L/∂h_k = (∂h_{k+1}/∂h_k)ᵀ ∂L/∂h_{k+1}: check the probe against that recursion."""
    torch.manual_seed(3)
    cell = rnn.RNNCell(2, 4).double()
    T = 6
    g = torch.Generator().manual_seed(7)
    norms = rnn.gradient_norms_through_time(cell, T, batch_size=1, generator=g)
    x = torch.randn(1, T, 2, generator=torch.Generator().manual_seed(7), dtype=F64)
    hs, h = [], torch.zeros(1, 4, dtype=F64)
    for t in range(T):
        h = cell(x[:, t], h).detach()
        hs.append(h)
    grad = torch.ones(4, dtype=F64)
    expected = [grad.norm()]
    W = cell.weight_hh.detach()
    for k in range(T - 1, 0, -1):                 # back from h_T to h_1
        d_tanh = 1 - hs[k][0] ** 2                 # h_{k+1} = tanh(z): ∂h_{k+1}/∂h_k = diag(1 − h²) W
        grad = W.T @ (d_tanh * grad)
        expected.append(grad.norm())
    assert norms.shape == (T,)
    torch.testing.assert_close(norms, torch.stack(expected))


def test_vanishing_gradients_rnn_vs_lstm_with_open_forget_gate():
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    probe = lambda cell: rnn.gradient_norms_through_time(cell, 40, batch_size=8, generator=g())  # noqa: E731
    vanilla = probe(rnn.RNNCell(4, 16, generator=g()))
    lstm = probe(rnn.LSTMCell(4, 16, forget_bias=3.0, generator=g()))
    chrono = probe(rnn.LSTMCell(4, 16, chrono=40, generator=g()))
    assert vanilla[-1] / vanilla[0] < 1e-6          # geometric decay
    assert lstm[-1] / lstm[0] > 1e-3                # carried along the cell state
    assert chrono[-1] / chrono[0] > 1e-3
    c_norms = rnn.gradient_norms_through_time(nn.LSTMCell(4, 16), 5, wrt="C", generator=g())
    assert c_norms.shape == (5,) and torch.all(c_norms >= 0)
    with pytest.raises(ValueError, match="wrt must be 'h'"):
        rnn.gradient_norms_through_time(rnn.GRUCell(4, 16), 5, wrt="C")
    with pytest.raises(ValueError, match="seq_len must be an integer >= 1, got 0"):
        rnn.gradient_norms_through_time(rnn.GRUCell(4, 16), 0)


# ---------------------------------------------------------------- lab models
def test_char_language_model_shapes_and_generation():
    vocab = CharVocab("hello world")
    model = rnn.CharLanguageModel(len(vocab), 16, cell="gru", generator=torch.Generator().manual_seed(0))
    ids = vocab.encode("hello").unsqueeze(0).repeat(3, 1)
    logits, state = model(ids)
    assert logits.shape == (3, 5, len(vocab)) and state.shape == (1, 3, 16)
    a = model.generate("he", 12, temperature=0.8, generator=torch.Generator().manual_seed(1), vocab=vocab)
    b = model.generate("he", 12, temperature=0.8, generator=torch.Generator().manual_seed(1), vocab=vocab)
    assert isinstance(a, str) and len(a) == 14 and a.startswith("he") and a == b
    ids_out = model.generate([0, 1], 5, temperature=0)
    assert ids_out.dtype == torch.long and ids_out.shape == (7,)
    # greedy continuation = argmax of the logits step by step
    logits, _ = model(ids_out[:-1].unsqueeze(0))
    assert torch.equal(logits[0, 1:].argmax(-1), ids_out[2:])
    with pytest.raises(ValueError, match="vocab"):
        model.generate("he", 3)
    with pytest.raises(ValueError, match="non-empty"):
        model.generate([], 3)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 8\)"):
        model(torch.tensor([[0, 9]]))


def test_sequence_regressor_and_classifier_shapes():
    reg = rnn.SequenceRegressor(1, 8, cell="lstm", horizon=3)
    assert reg(torch.randn(5, 12)).shape == (5, 3)
    assert reg(torch.randn(5, 12, 1)).shape == (5, 3)
    clf = rnn.SequenceClassifier(8, 16, 4, cell="rnn")
    assert clf(torch.randint(0, 8, (6, 10))).shape == (6, 4)


# ---------------------------------------------------------------- devices
@pytest.mark.parametrize("cell_type", ["rnn", "lstm", "gru"])
def test_cells_built_on_any_device_from_a_cpu_generator_match_the_cpu(cell_type, device):
    kw = dict(chrono=20) if cell_type == "lstm" else {}
    with torch.device(device):
        ours = rnn.CELLS[cell_type](3, 5, generator=torch.Generator().manual_seed(4), **kw)
    cpu = rnn.CELLS[cell_type](3, 5, generator=torch.Generator().manual_seed(4), **kw)
    for (name, p), q in zip(ours.named_parameters(), cpu.parameters()):
        assert p.device.type == device.type, name
        torch.testing.assert_close(p.detach().cpu(), q.detach(), rtol=0, atol=0)


def test_gradient_norms_through_time_on_the_cells_device(device):
    cell = rnn.LSTMCell(3, 8, generator=torch.Generator().manual_seed(0)).to(device, F64)
    on_device = rnn.gradient_norms_through_time(cell, 6, batch_size=2, generator=torch.Generator().manual_seed(1))
    on_cpu = rnn.gradient_norms_through_time(cell.cpu(), 6, batch_size=2, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(torch.as_tensor(on_device).cpu(), torch.as_tensor(on_cpu), rtol=1e-9, atol=1e-12)


def test_generate_on_any_device_samples_as_on_the_cpu(device):
    vocab = CharVocab("hello world")
    cpu = rnn.CharLanguageModel(len(vocab), 16, cell="lstm", generator=torch.Generator().manual_seed(0))
    model = copy.deepcopy(cpu).to(device)
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731 — a CPU generator works for a model on any device
    assert model.generate("he", 10, generator=g(), vocab=vocab) == cpu.generate("he", 10, generator=g(), vocab=vocab)
    out = model.generate([0, 1], 4)
    assert out.device.type == "cpu" and out.shape == (6,)


def test_generate_does_its_float64_softmax_on_float64_device(monkeypatch):
    seen = []

    def spy(device):
        seen.append(torch.device(device))
        return torch.device("cpu")

    monkeypatch.setattr(rnn, "float64_device", spy)
    model = rnn.CharLanguageModel(5, 8, generator=torch.Generator().manual_seed(0))
    model.generate([0, 1], 3)                                             # no generator: the logits' device
    model.generate([0, 1], 2, generator=torch.Generator().manual_seed(0))  # a generator: its device
    assert seen == [torch.device("cpu")] * 5
    monkeypatch.setattr(rnn, "float64_device", lambda device: torch.device("meta"))  # as if the CPU had no float64
    with pytest.raises(ValueError, match="generator must live on a device with float64"):
        model.generate([0, 1], 2, generator=torch.Generator().manual_seed(0))
