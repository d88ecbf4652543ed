"""Recurrent networks written from their equations: vanilla RNN, LSTM and GRU.

Taught in chapter 16 (16_rnn); used in chapter 17.

One time step of each cell, with x: (N, I) the input, h: (N, H) the hidden state
(``[h, x]`` is the concatenation the lectures write)::

    RNN   hₜ = tanh(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh)          (sₜ = f(Uxₜ + Wsₜ₋₁): U = W_ih, W = W_hh)

    LSTM  iₜ = σ(W_i[hₜ₋₁, xₜ] + b_i)      input gate
          fₜ = σ(W_f[hₜ₋₁, xₜ] + b_f)      forget gate
          C̃ₜ = tanh(W_C[hₜ₋₁, xₜ] + b_C)   candidate ("g" in PyTorch)
          oₜ = σ(W_o[hₜ₋₁, xₜ] + b_o)      output gate
          Cₜ = fₜ ∗ Cₜ₋₁ + iₜ ∗ C̃ₜ          the cell state: the "conveyor belt"
          hₜ = oₜ ∗ tanh(Cₜ)

    GRU   rₜ = σ(W_ir xₜ + b_ir + W_hr hₜ₋₁ + b_hr)             reset gate
          zₜ = σ(W_iz xₜ + b_iz + W_hz hₜ₋₁ + b_hz)             update gate
          nₜ = tanh(W_in xₜ + b_in + rₜ ∗ (W_hn hₜ₋₁ + b_hn))   candidate
          hₜ = (1 − zₜ) ∗ nₜ + zₜ ∗ hₜ₋₁

Parameter layout — identical to PyTorch, so ``cell.load_state_dict(torch_cell.state_dict())``
(or ``cell.load_from_torch(torch_cell)``) makes the two compute the same numbers:

* ``weight_ih``: (G·H, I), ``weight_hh``: (G·H, H), ``bias_ih`` and ``bias_hh``: (G·H,), with the
  G gate blocks stacked in PyTorch's order: RNN (G = 1); **LSTM (i, f, g, o)** with g = C̃;
  **GRU (r, z, n)**.
* W_f[h, x] + b_f of the lectures is ``W_hh[f] h + W_ih[f] x + (b_ih[f] + b_hh[f])``: PyTorch splits
  the concatenated weight into its h and x columns and keeps two bias vectors (their sum is what
  matters). :meth:`LSTMCell.gate_weights` returns the lecture's concatenated form.

The sequence wrapper :class:`RNN` stacks cells (``num_layers``) and loops over time, returning
outputs (N, T, H) and final states (L, N, H) exactly like ``nn.RNN``/``nn.LSTM``/``nn.GRU``.
:func:`gradient_norms_through_time` measures vanishing gradients; :class:`CharLanguageModel`,
:class:`SequenceRegressor` and :class:`SequenceClassifier` are the chapters' lab models.
σ and tanh are ``torch.sigmoid``/``torch.tanh`` (the same functions as
``dlbook.activations.sigmoid``/``tanh``, as fused kernels, so one step stays fast).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_number, check_positive_int
from .runtime import float64_device

__all__ = [
    "rnn_cell", "lstm_cell", "gru_cell", "RNNCell", "LSTMCell", "GRUCell", "RNN",
    "gradient_norms_through_time", "CharLanguageModel", "SequenceRegressor", "SequenceClassifier",
    "CELLS",
]


# ---------------------------------------------------------------- one step, as functions
def _affine(x, W, b):
    """x: (N, I), W: (G·H, I), b: (G·H,) or None → x Wᵀ + b: (N, G·H)."""
    return x @ W.t() if b is None else torch.addmm(b, x, W.t())


def rnn_cell(x, h, W_ih, W_hh, b_ih=None, b_hh=None, nonlinearity: str = "tanh") -> torch.Tensor:
    """One vanilla RNN step. x: (N, I), h: (N, H) → hₜ: (N, H)."""
    z = _affine(x, W_ih, b_ih) + _affine(h, W_hh, b_hh)
    return torch.tanh(z) if nonlinearity == "tanh" else torch.relu(z)


def lstm_cell(x, state, W_ih, W_hh, b_ih=None, b_hh=None) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step. x: (N, I), state = (h, C): (N, H) each → (hₜ, Cₜ). Gate blocks: i, f, g(=C̃), o."""
    h, C = state
    gates = _affine(x, W_ih, b_ih) + _affine(h, W_hh, b_hh)     # (N, 4H)
    i, f, _, o = torch.sigmoid(gates).chunk(4, dim=-1)
    C_tilde = torch.tanh(gates.chunk(4, dim=-1)[2])
    C = f * C + i * C_tilde                                      # forget some, add some
    h = o * torch.tanh(C)
    return h, C


def gru_cell(x, h, W_ih, W_hh, b_ih=None, b_hh=None) -> torch.Tensor:
    """One GRU step. x: (N, I), h: (N, H) → hₜ: (N, H). Gate blocks: r, z, n."""
    gx_r, gx_z, gx_n = _affine(x, W_ih, b_ih).chunk(3, dim=-1)
    gh_r, gh_z, gh_n = _affine(h, W_hh, b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(gx_r + gh_r)                               # how much of the past the candidate sees
    z = torch.sigmoid(gx_z + gh_z)                               # how much of the past is kept as it is
    n = torch.tanh(gx_n + r * gh_n)
    return (1 - z) * n + z * h


# ---------------------------------------------------------------- cells as modules
def _check_input(x, size: int, who: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a tensor of shape (N, {size}) or ({size},), got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
    if x.ndim not in (1, 2) or x.shape[-1] != size:
        raise ValueError(
            f"{who}: x must have shape (N, {size}) or ({size},) (input_size={size}), got shape {tuple(x.shape)}"
        )
    return x


def _check_state(h, name: str, n: int, size: int) -> torch.Tensor:
    if not isinstance(h, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of shape ({n}, {size}), got {type(h).__name__}")
    if tuple(h.shape) != (n, size):
        raise ValueError(f"{name} must have shape ({n}, {size}) (batch, hidden_size), got shape {tuple(h.shape)}")
    return h


def _draw_device(generator) -> torch.device:
    """Where random numbers are drawn: on ``generator``'s device, else on the CPU (the same
    numbers for a model on any device); they are then copied to the parameters' device."""
    return torch.device("cpu") if generator is None else generator.device


class _Cell(nn.Module):
    """Shared parameter handling. Subclasses set ``gates`` and ``torch_type``."""

    gates = 1
    gate_names: tuple[str, ...] = ("h",)
    torch_type: type = nn.RNNCell

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, generator=None):
        super().__init__()
        self.input_size = check_positive_int(input_size, "input_size")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        G, H = self.gates, self.hidden_size
        self.weight_ih = nn.Parameter(torch.empty(G * H, self.input_size))
        self.weight_hh = nn.Parameter(torch.empty(G * H, H))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(G * H))
            self.bias_hh = nn.Parameter(torch.empty(G * H))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters(generator=generator)

    def reset_parameters(self, *, generator=None) -> None:
        """PyTorch's initialisation: every entry ~ U(−1/√H, 1/√H)."""
        bound = 1 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                r = torch.rand(p.shape, generator=generator, dtype=p.dtype, device=_draw_device(generator))
                p.copy_((2 * r - 1) * bound)

    def _params(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _zeros(self, x):
        return x.new_zeros(x.shape[0], self.hidden_size)

    # -- moving weights between this cell and PyTorch's
    def load_from_torch(self, cell: nn.Module) -> "_Cell":
        """Copy the weights of ``cell`` (a ``torch.nn`` cell of the same kind and sizes) into this one."""
        _copy_parameters(self, cell, self.torch_type, "cell", suffix="")
        return self

    @classmethod
    def from_torch(cls, cell: nn.Module) -> "_Cell":
        """A new cell holding the weights (device and dtype too) of a ``torch.nn`` cell."""
        if not isinstance(cell, cls.torch_type):
            raise TypeError(f"cell must be a torch.nn.{cls.torch_type.__name__}, got {type(cell).__name__}")
        kwargs = dict(nonlinearity=cell.nonlinearity) if cls is RNNCell else {}
        ours = cls(cell.input_size, cell.hidden_size, bias=cell.bias, **kwargs)
        ours.to(device=cell.weight_ih.device, dtype=cell.weight_ih.dtype)
        return ours.load_from_torch(cell)

    def to_torch(self) -> nn.Module:
        """The equivalent ``torch.nn`` cell with a copy of these weights."""
        kwargs = dict(nonlinearity=self.nonlinearity) if isinstance(self, RNNCell) else {}
        cell = self.torch_type(self.input_size, self.hidden_size, bias=self.bias_ih is not None, **kwargs)
        cell.to(device=self.weight_ih.device, dtype=self.weight_ih.dtype)
        cell.load_state_dict(self.state_dict())
        return cell

    def gate_weights(self, gate: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The lecture's form of one gate: (W: (H, H + I) acting on [h, x], b: (H,) = b_ih + b_hh).

        Gate names: RNN "h"; LSTM "i", "f", "g" (alias "C"), "o"; GRU "r", "z", "n". For the GRU's
        "n" the h-part is applied after the reset gate, so [h, x] is only a bookkeeping form there.
        """
        names = self.gate_names
        key = "g" if gate == "C" and "g" in names else gate
        if key not in names:
            raise ValueError(f"gate must be one of {list(names)}, got {gate!r}")
        k, H = names.index(key), self.hidden_size
        rows = slice(k * H, (k + 1) * H)
        W = torch.cat([self.weight_hh[rows], self.weight_ih[rows]], dim=1)
        if self.bias_ih is None:
            b = self.weight_ih.new_zeros(H)
        else:
            b = self.bias_ih[rows] + self.bias_hh[rows]
        return W.detach(), b.detach()

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"


def _copy_parameters(ours: nn.Module, theirs: nn.Module, kind: type, name: str, suffix: str) -> None:
    if not isinstance(theirs, kind):
        raise TypeError(f"{name} must be a torch.nn.{kind.__name__}, got {type(theirs).__name__}")
    for attr in ("input_size", "hidden_size"):
        if getattr(theirs, attr) != getattr(ours, attr):
            raise ValueError(f"{name}.{attr} is {getattr(theirs, attr)}, but this module has {attr}={getattr(ours, attr)}")
    if isinstance(ours, RNNCell) and theirs.nonlinearity != ours.nonlinearity:
        raise ValueError(f"{name}.nonlinearity is {theirs.nonlinearity!r}, but this cell uses {ours.nonlinearity!r}")
    with torch.no_grad():
        for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            mine, src = getattr(ours, p), getattr(theirs, p + suffix, None)
            if (mine is None) != (src is None):
                raise ValueError(f"{name} has bias={src is not None}, but this module has bias={mine is not None}")
            if mine is not None:
                mine.copy_(src)


class RNNCell(_Cell):
    """Vanilla RNN cell hₜ = tanh(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh) (or ReLU); matches ``nn.RNNCell``.

    x: (N, I) or (I,), h: (N, H) or None (zeros) → hₜ: (N, H).
    """

    torch_type = nn.RNNCell

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", *,
                 generator=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, generator=generator)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        x = _check_input(x, self.input_size, "RNNCell")
        batched = x.ndim == 2
        x = x if batched else x.unsqueeze(0)
        h = self._zeros(x) if h is None else _check_state(h if batched else h.unsqueeze(0), "h", x.shape[0], self.hidden_size)
        h = rnn_cell(x, h, *self._params(), nonlinearity=self.nonlinearity)
        return h if batched else h.squeeze(0)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"


class LSTMCell(_Cell):
    """LSTM cell from the gate equations; matches ``nn.LSTMCell`` (gate blocks i, f, g = C̃, o).

    x: (N, I) or (I,), state = (h, C) with (N, H) each, or None (zeros) → (hₜ, Cₜ).

    Initialisation of the gate biases (the weights always follow PyTorch, U(−1/√H, 1/√H)):

    * ``forget_bias=b`` adds b to the forget gate's bias (PyTorch: 0, so fₜ ≈ σ(0) = ½ and a memory
      fades like ½ᵏ; b = 1 is the classic choice, σ(1) ≈ 0.73).
    * ``chrono=T`` — chrono initialisation (Tallec & Ollivier, 2018) for dependencies up to T steps:
      b_f ~ ln U(1, T − 1) per unit and b_i = −b_f, so unit j forgets on a time scale of about
      e^{b_f,j} steps and writes little at each step. It is what lets an LSTM learn
      ``dlbook.text.long_range_memory_task`` with T = 100 reliably.
    """

    gates = 4
    gate_names = ("i", "f", "g", "o")
    torch_type = nn.LSTMCell

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, forget_bias: float = 0.0,
                 chrono: int | None = None, generator=None):
        self.forget_bias = check_number(forget_bias, "forget_bias")
        self.chrono = None if chrono is None else check_positive_int(chrono, "chrono", minimum=3)
        if (self.forget_bias or self.chrono) and not bias:
            raise ValueError(f"forget_bias and chrono need bias=True, got forget_bias={forget_bias}, chrono={chrono}")
        if self.forget_bias and self.chrono:
            raise ValueError(f"give forget_bias or chrono, not both (got forget_bias={forget_bias}, chrono={chrono})")
        super().__init__(input_size, hidden_size, bias, generator=generator)

    def reset_parameters(self, *, generator=None) -> None:
        super().reset_parameters(generator=generator)
        if self.bias_ih is None:
            return
        H = self.hidden_size
        with torch.no_grad():
            if self.forget_bias:
                self.bias_ih[H:2 * H] += self.forget_bias
            if self.chrono:
                u = 1 + (self.chrono - 2) * torch.rand(H, generator=generator, dtype=self.bias_ih.dtype,
                                                       device=_draw_device(generator))
                b_f = torch.log(u).to(self.bias_ih.device)        # ln U(1, T − 1)
                self.bias_ih[H:2 * H], self.bias_hh[H:2 * H] = b_f, 0.0
                self.bias_ih[:H], self.bias_hh[:H] = -b_f, 0.0

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        x = _check_input(x, self.input_size, "LSTMCell")
        batched = x.ndim == 2
        x = x if batched else x.unsqueeze(0)
        if state is None:
            h = C = self._zeros(x)
        else:
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise TypeError(f"state must be a pair (h, C) of tensors, got {type(state).__name__}")
            h, C = (s if batched else s.unsqueeze(0) for s in state)
            _check_state(h, "h", x.shape[0], self.hidden_size)
            _check_state(C, "C", x.shape[0], self.hidden_size)
        h, C = lstm_cell(x, (h, C), *self._params())
        return (h, C) if batched else (h.squeeze(0), C.squeeze(0))


class GRUCell(_Cell):
    """GRU cell (reset gate r, update gate z, candidate n); matches ``nn.GRUCell``.

    x: (N, I) or (I,), h: (N, H) or None (zeros) → hₜ: (N, H).
    """

    gates = 3
    gate_names = ("r", "z", "n")
    torch_type = nn.GRUCell

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> torch.Tensor:
        x = _check_input(x, self.input_size, "GRUCell")
        batched = x.ndim == 2
        x = x if batched else x.unsqueeze(0)
        h = self._zeros(x) if h is None else _check_state(h if batched else h.unsqueeze(0), "h", x.shape[0], self.hidden_size)
        h = gru_cell(x, h, *self._params())
        return h if batched else h.squeeze(0)


CELLS: dict[str, type[_Cell]] = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
_TORCH_SEQUENCE = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _cell_class(cell_type) -> tuple[str, type[_Cell]]:
    if isinstance(cell_type, str) and cell_type.lower() in CELLS:
        return cell_type.lower(), CELLS[cell_type.lower()]
    raise ValueError(f"cell_type must be one of {sorted(CELLS)}, got {cell_type!r}")


# ---------------------------------------------------------------- many steps, many layers
class RNN(nn.Module):
    """A stack of ``num_layers`` cells unrolled over time; matches ``nn.RNN``/``nn.LSTM``/``nn.GRU``.

    x: (N, T, I) with ``batch_first=True`` ((T, N, I) otherwise; (T, I) unbatched) →
    ``(outputs, state)``: outputs (N, T, H) are the top layer's hₜ for every t; state is h_T of every
    layer, (L, N, H) — for the LSTM the pair (h_T, C_T). An initial ``state`` has the same shapes.
    Layer ℓ > 0 reads the outputs of layer ℓ − 1. Loops over layers and time steps (one cell call each).
    ``nonlinearity`` is for ``"rnn"`` cells, ``forget_bias`` and ``chrono`` (see :class:`LSTMCell`) for ``"lstm"`` cells.
    """

    def __init__(self, cell_type: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 batch_first: bool = True, bias: bool = True, *, nonlinearity: str = "tanh",
                 forget_bias: float = 0.0, chrono: int | None = None, generator=None):
        super().__init__()
        self.cell_type, cell_class = _cell_class(cell_type)
        self.input_size = check_positive_int(input_size, "input_size")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.num_layers = check_positive_int(num_layers, "num_layers")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first must be True or False, got {batch_first!r}")
        self.batch_first = batch_first
        extra = dict(nonlinearity=nonlinearity) if self.cell_type == "rnn" else {}
        if nonlinearity != "tanh" and self.cell_type != "rnn":
            raise ValueError(f"nonlinearity is for 'rnn' cells only, got nonlinearity={nonlinearity!r} with cell_type={cell_type!r}")
        if self.cell_type == "lstm":
            extra = dict(forget_bias=forget_bias, chrono=chrono)
        elif forget_bias or chrono is not None:
            raise ValueError(f"forget_bias and chrono are for LSTM cells only, got forget_bias={forget_bias}, "
                             f"chrono={chrono} with cell_type={cell_type!r}")
        self.cells = nn.ModuleList(
            cell_class(self.input_size if layer == 0 else self.hidden_size, self.hidden_size, bias,
                       generator=generator, **extra)
            for layer in range(self.num_layers)
        )

    @property
    def is_lstm(self) -> bool:
        return self.cell_type == "lstm"

    def forward(self, x: torch.Tensor, state=None):
        x, batched = self._check_sequence(x)                    # (N, T, I)
        N, T, _ = x.shape
        layer_states = self._split_state(state, N, batched)
        finals = []
        for cell, s in zip(self.cells, layer_states):
            outputs = []
            for t in range(T):
                s = cell(x[:, t], s)
                outputs.append(s[0] if self.is_lstm else s)
            x = torch.stack(outputs, dim=1)                     # (N, T, H): the next layer's input
            finals.append(s)
        out = x if self.batch_first else x.transpose(0, 1)
        if self.is_lstm:
            final = (torch.stack([s[0] for s in finals]), torch.stack([s[1] for s in finals]))
        else:
            final = torch.stack(finals)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
            final = tuple(f.squeeze(1) for f in final) if self.is_lstm else final.squeeze(1)
        return out, final

    def _check_sequence(self, x):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            got = f"dtype {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
            raise TypeError(f"x must be a floating-point tensor, got {got}")
        layout = "(N, T, I)" if self.batch_first else "(T, N, I)"
        if x.ndim not in (2, 3):
            raise ValueError(f"x must have shape {layout} or (T, I), got shape {tuple(x.shape)}")
        batched = x.ndim == 3
        if not batched:
            x = x.unsqueeze(0)
        elif not self.batch_first:
            x = x.transpose(0, 1)
        if x.shape[1] == 0:
            raise ValueError(f"x must have at least one time step (T >= 1), got shape {tuple(x.shape)} with T = 0")
        if x.shape[2] != self.input_size:
            raise ValueError(
                f"x must have input_size={self.input_size} features in its last dimension, got shape {tuple(x.shape)}"
            )
        return x, batched

    def _split_state(self, state, N: int, batched: bool):
        L, H = self.num_layers, self.hidden_size
        if state is None:
            return [None] * L
        parts = state if self.is_lstm else (state,)
        if self.is_lstm and (not isinstance(state, (tuple, list)) or len(state) != 2):
            raise TypeError(f"state must be a pair (h0, C0) for an LSTM, got {type(state).__name__}")
        checked = []
        for name, s in zip(("h0", "C0") if self.is_lstm else ("h0",), parts):
            if not isinstance(s, torch.Tensor):
                raise TypeError(f"{name} must be a tensor of shape ({L}, {N}, {H}), got {type(s).__name__}")
            s = s if batched else s.unsqueeze(1)
            if tuple(s.shape) != (L, N, H):
                raise ValueError(f"{name} must have shape ({L}, {N}, {H}) (num_layers, batch, hidden_size), got {tuple(s.shape)}")
            checked.append(s)
        return [tuple(s[layer] for s in checked) if self.is_lstm else checked[0][layer] for layer in range(L)]

    def load_from_torch(self, module: nn.Module) -> "RNN":
        """Copy the weights of an ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (unidirectional, no projection)."""
        kind = _TORCH_SEQUENCE[self.cell_type]
        if not isinstance(module, kind):
            raise TypeError(f"module must be a torch.nn.{kind.__name__}, got {type(module).__name__}")
        if module.num_layers != self.num_layers:
            raise ValueError(f"module.num_layers is {module.num_layers}, but this RNN has num_layers={self.num_layers}")
        if module.bidirectional or getattr(module, "proj_size", 0):
            raise ValueError("bidirectional or projected PyTorch RNNs have no counterpart here")
        if self.cell_type == "rnn" and module.nonlinearity != self.cells[0].nonlinearity:
            raise ValueError(f"module.nonlinearity is {module.nonlinearity!r}, this RNN uses {self.cells[0].nonlinearity!r}")
        with torch.no_grad():
            for layer, cell in enumerate(self.cells):
                for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    mine, src = getattr(cell, p), getattr(module, f"{p}_l{layer}", None)
                    if (mine is None) != (src is None):
                        raise ValueError(f"module has bias={src is not None}, this RNN has bias={mine is not None}")
                    if mine is not None:
                        mine.copy_(src)
        return self

    def extra_repr(self) -> str:
        return (f"{self.cell_type!r}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"batch_first={self.batch_first}")


# ---------------------------------------------------------------- vanishing gradients
def _is_lstm(cell) -> bool:
    return isinstance(cell, (LSTMCell, nn.LSTMCell))


def gradient_norms_through_time(cell: nn.Module, seq_len: int, *, batch_size: int = 32, input_scale: float = 1.0,
                                wrt: str = "h", generator: torch.Generator | None = None) -> torch.Tensor:
    """Back-propagation through time, measured: ‖∂L/∂hₖ‖ against the distance T − k.

    Runs ``cell`` (ours or a ``torch.nn`` RNN/LSTM/GRU cell) over ``seq_len`` = T random inputs
    xₜ ~ N(0, input_scale²) from h₀ = 0, takes L = Σᵢ h_T,i and returns a tensor of shape (T,) whose
    entry d is the batch mean of ‖∂L/∂h_{T−d}‖₂ (entry 0 is ‖1‖ = √H). For a vanilla RNN it shrinks
    roughly geometrically — the product of T − k Jacobians ∂hₜ/∂hₜ₋₁ — while an LSTM's cell state
    carries gradient along Cₜ = fₜ∗Cₜ₋₁ + … with factor fₜ per step. ``wrt="C"`` measures ‖∂L/∂Cₖ‖
    (LSTM only). The cell's parameters are not changed and get no ``.grad``.
    """
    if not isinstance(cell, nn.Module) or not hasattr(cell, "hidden_size") or not hasattr(cell, "input_size"):
        raise TypeError(f"cell must be an RNN, LSTM or GRU cell module, got {type(cell).__name__}")
    T = check_positive_int(seq_len, "seq_len")
    N = check_positive_int(batch_size, "batch_size")
    scale = check_number(input_scale, "input_scale", low=0.0)
    lstm = _is_lstm(cell)
    if wrt not in ("h", "C") or (wrt == "C" and not lstm):
        raise ValueError(f"wrt must be 'h' (any cell) or 'C' (LSTM only), got {wrt!r} for {type(cell).__name__}")
    p = next(cell.parameters())
    x = torch.randn(N, T, cell.input_size, generator=generator, dtype=p.dtype,
                    device=_draw_device(generator)).to(p.device) * scale
    states = []
    with torch.enable_grad():
        s = None
        for t in range(T):
            s = cell(x[:, t], s)
            states.append((s[0] if wrt == "h" else s[1]) if lstm else s)
        h_T = s[0] if lstm else s
        grads = torch.autograd.grad(h_T.sum(), states)
    norms = torch.stack([g.norm(dim=1).mean() for g in grads])  # index k − 1
    return norms.flip(0).detach()                               # index T − k


# ---------------------------------------------------------------- lab models
class _Encoder(nn.Module):
    """Token ids (N, T) → inputs (N, T, E): one-hot (E = vocab_size) or a learned embedding."""

    def __init__(self, vocab_size: int, embedding_dim: int | None):
        super().__init__()
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        if embedding_dim is None:
            self.embedding = None
            self.dim = self.vocab_size
        else:
            self.dim = check_positive_int(embedding_dim, "embedding_dim")
            self.embedding = nn.Embedding(self.vocab_size, self.dim)

    def forward(self, ids: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        if not isinstance(ids, torch.Tensor) or ids.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
            got = f"dtype {ids.dtype}" if isinstance(ids, torch.Tensor) else type(ids).__name__
            raise TypeError(f"ids must be an integer tensor of token ids, got {got}")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size):
            raise ValueError(f"ids must lie in [0, {self.vocab_size}) (vocab_size={self.vocab_size}), "
                             f"got values in [{int(ids.min())}, {int(ids.max())}]")
        ids = ids.long()
        if self.embedding is None:
            return nn.functional.one_hot(ids, self.vocab_size).to(dtype)
        return self.embedding(ids)


class CharLanguageModel(nn.Module):
    """Character-level language model: ids → one-hot (or embedding) → RNN → logits over the next character.

    ``forward(ids, state=None)``: ids (N, T) or (T,) → (logits (N, T, V), state); logits[:, t] scores
    the character at t + 1. Train with cross-entropy against the ids shifted by one
    (``dlbook.text.next_token_pairs``).
    """

    def __init__(self, vocab_size: int, hidden_size: int = 128, cell: str = "lstm", num_layers: int = 1,
                 embedding_dim: int | None = None, *, forget_bias: float = 0.0, chrono: int | None = None,
                 generator=None):
        super().__init__()
        self.encoder = _Encoder(vocab_size, embedding_dim)
        self.vocab_size = self.encoder.vocab_size
        self.rnn = RNN(cell, self.encoder.dim, hidden_size, num_layers, batch_first=True, forget_bias=forget_bias,
                       chrono=chrono, generator=generator)
        self.head = nn.Linear(self.rnn.hidden_size, self.vocab_size)

    def forward(self, ids: torch.Tensor, state=None):
        if isinstance(ids, torch.Tensor) and ids.ndim == 1:
            ids = ids.unsqueeze(0)
        if not isinstance(ids, torch.Tensor) or ids.ndim != 2:
            got = tuple(ids.shape) if isinstance(ids, torch.Tensor) else type(ids).__name__
            raise ValueError(f"ids must have shape (N, T) or (T,), got {got}")
        x = self.encoder(ids, self.head.weight.dtype)
        out, state = self.rnn(x, state)
        return self.head(out), state

    @torch.no_grad()
    def generate(self, prefix, n: int, temperature: float = 1.0, generator: torch.Generator | None = None,
                 vocab=None):
        """Sample ``n`` characters after ``prefix``; return prefix + continuation.

        ``prefix``: a non-empty str (then ``vocab``, a ``dlbook.text.CharVocab``, encodes it and the
        result is a str) or a sequence/1-D tensor of ids (the result is a LongTensor of ids).
        Each next id ~ softmax(logits / temperature); ``temperature=0`` picks the most likely one
        (greedy); small temperatures sharpen, large ones flatten. ``generator`` makes sampling
        repeatable (a CPU generator works for a model on any device).
        """
        n = check_positive_int(n, "n", minimum=0)
        temperature = check_number(temperature, "temperature", low=0.0)
        as_text = isinstance(prefix, str)
        if as_text:
            if vocab is None:
                raise ValueError("prefix is a str, so vocab (a CharVocab) is needed to encode it")
            ids = vocab.encode(prefix)
        else:
            ids = torch.as_tensor(prefix)
        if ids.ndim != 1 or ids.numel() == 0:
            raise ValueError(f"prefix must be a non-empty 1-D sequence of ids, got shape {tuple(ids.shape)}")
        device = self.head.weight.device
        logits, state = self(ids.to(device).unsqueeze(0))
        last = logits[0, -1]
        new = []
        for _ in range(n):
            nxt = self._sample(last, temperature, generator)
            new.append(nxt)
            logits, state = self(torch.tensor([[nxt]], device=device), state)
            last = logits[0, -1]
        out = torch.cat([ids.cpu().long(), torch.tensor(new, dtype=torch.long)])
        return vocab.decode(out) if as_text else out

    @staticmethod
    def _sample(logits: torch.Tensor, temperature: float, generator) -> int:
        """One id ~ softmax(logits / temperature), logits: (V,), with the softmax in float64.

        Drawn on the generator's device; without one, on ``float64_device`` of the logits'
        (the logits' own device, or the CPU for MPS).
        """
        if temperature == 0:
            return int(logits.argmax())
        if generator is None:
            work = float64_device(logits.device)
        else:
            work = generator.device
            if float64_device(work) != work:
                raise ValueError(f"generator must live on a device with float64 (the CPU or CUDA), got {work}: "
                                 "pass a CPU generator, torch.Generator()")
        probs = torch.softmax(logits.to(device=work, dtype=torch.float64) / temperature, dim=-1)
        return int(torch.multinomial(probs, 1, generator=generator))


class SequenceRegressor(nn.Module):
    """Many-to-one forecaster: a window x (N, T, I) — or (N, T) when I = 1 — → next ``horizon`` values (N, horizon).

    RNN over the window, then a linear map of the last hidden state h_T. For sunspots:
    ``SequenceRegressor(1, 32)`` on ``dlbook.text.sliding_windows(series, window)``.
    """

    def __init__(self, input_size: int = 1, hidden_size: int = 32, cell: str = "lstm", num_layers: int = 1,
                 horizon: int = 1, *, forget_bias: float = 0.0, chrono: int | None = None,
                 generator=None):
        super().__init__()
        self.horizon = check_positive_int(horizon, "horizon")
        self.rnn = RNN(cell, input_size, hidden_size, num_layers, batch_first=True, forget_bias=forget_bias,
                       chrono=chrono, generator=generator)
        self.head = nn.Linear(self.rnn.hidden_size, self.horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(x, torch.Tensor) and x.ndim == 2 and self.rnn.input_size == 1:
            x = x.unsqueeze(-1)
        if isinstance(x, torch.Tensor) and x.ndim != 3:
            raise ValueError(f"x must have shape (N, T, {self.rnn.input_size}), got shape {tuple(x.shape)}")
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class SequenceClassifier(nn.Module):
    """Many-to-one classifier: token ids (N, T) → class logits (N, num_classes) from the last hidden state.

    The model of the long-range memory task (``dlbook.text.long_range_memory_task``).
    """

    def __init__(self, vocab_size: int, hidden_size: int, num_classes: int, cell: str = "lstm",
                 num_layers: int = 1, embedding_dim: int | None = None, *, forget_bias: float = 0.0, chrono: int | None = None,
                 generator=None):
        super().__init__()
        self.encoder = _Encoder(vocab_size, embedding_dim)
        self.rnn = RNN(cell, self.encoder.dim, hidden_size, num_layers, batch_first=True, forget_bias=forget_bias,
                       chrono=chrono, generator=generator)
        self.head = nn.Linear(self.rnn.hidden_size, check_positive_int(num_classes, "num_classes"))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if not isinstance(ids, torch.Tensor) or ids.ndim != 2:
            got = tuple(ids.shape) if isinstance(ids, torch.Tensor) else type(ids).__name__
            raise ValueError(f"ids must have shape (N, T), got {got}")
        out, _ = self.rnn(self.encoder(ids, self.head.weight.dtype))
        return self.head(out[:, -1])
