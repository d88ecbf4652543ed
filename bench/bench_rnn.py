"""Recurrent cells: one time step of dlbook.rnn.LSTMCell / GRUCell vs torch.nn's fused cells.

Goal for the LSTM cell: ratio ≤ 2 (forward, and forward + backward). The sequence wrapper
dlbook.rnn.RNN loops over time in Python, so it is also timed against cuDNN/oneDNN-backed nn.LSTM
for reference (no goal: that gap is the price of readability).

Timed with one intra-op thread (restored afterwards): at these sizes a step costs tens of
microseconds, and on a shared 2-core machine thread contention would swamp that.
"""
from __future__ import annotations

import torch
from torch import nn

from common import Row, seconds_per_call

N, I, H, T = 32, 64, 128, 20


def _step_rows(name, ours, theirs, x, state):
    rows = []
    with torch.no_grad():
        t_ours = seconds_per_call(lambda: ours(x, state))
        t_ref = seconds_per_call(lambda: theirs(x, state))
    rows.append(Row("rnn", f"{name} step fwd N={N} I={I} H={H}", t_ours, t_ref))

    xg = x.clone().requires_grad_(True)

    def fwd_bwd(cell):
        def run():
            out = cell(xg, state)
            (out[0] if isinstance(out, tuple) else out).sum().backward()
        return run

    rows.append(Row("rnn", f"{name} step fwd+bwd N={N} I={I} H={H}",
                    seconds_per_call(fwd_bwd(ours)), seconds_per_call(fwd_bwd(theirs))))
    return rows


def rows() -> list[Row]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _rows()
    finally:
        torch.set_num_threads(threads)


def _rows() -> list[Row]:
    from dlbook import rnn

    torch.manual_seed(0)
    x = torch.randn(N, I)
    h, c = torch.randn(N, H), torch.randn(N, H)
    out = []
    lstm = nn.LSTMCell(I, H)
    out += _step_rows("LSTMCell", rnn.LSTMCell.from_torch(lstm), lstm, x, (h, c))
    gru = nn.GRUCell(I, H)
    out += _step_rows("GRUCell", rnn.GRUCell.from_torch(gru), gru, x, h)

    seq = torch.randn(N, T, I)
    theirs = nn.LSTM(I, H, batch_first=True)
    ours = rnn.RNN("lstm", I, H).load_from_torch(theirs)
    with torch.no_grad():
        out.append(Row("rnn", f"LSTM sequence fwd T={T} (Python loop vs nn.LSTM)",
                       seconds_per_call(lambda: ours(seq)), seconds_per_call(lambda: theirs(seq))))
    return out
