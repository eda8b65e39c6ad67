"""The recurrent modes and the facts about each that every layer, backend and benchmark reads.

    mode        gates (G)     states     kept for backward besides y and the gates
    LSTM        i, f, g, o    h, c       c_t
    GRU         r, z, n       h          hn_t = h_{t-1} W_hn^T + b_hn
    RNN_TANH    one           h          nothing
    RNN_RELU    one           h          nothing
"""
from typing import NamedTuple


class Mode(NamedTuple):
    name: str            # torch's mode string
    gates: int           # G: W_ih and W_hh have G*H rows, one block of H per gate
    states: int          # arrays in the state: (h, c) for LSTM, (h,) otherwise
    saved_states: int    # (T, B, H) sequences forward keeps for backward besides y and the gates
    nonlinearity: str    # the Elman RNN's, or "" for the gated cells


MODES = {m.name: m for m in (
    Mode("LSTM", 4, 2, 1, ""),
    Mode("GRU", 3, 1, 1, ""),
    Mode("RNN_TANH", 1, 1, 0, "tanh"),
    Mode("RNN_RELU", 1, 1, 0, "relu"),
)}

# fastrnn bench's cell names
BENCH_CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN_TANH"}


def mode_of(name):
    """The Mode called name; a ValueError naming the choices otherwise."""
    mode = MODES.get(name)
    if mode is None:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {name!r}")
    return mode


def rnn_mode(nonlinearity):
    """The Elman RNN's mode name for torch's `nonlinearity` argument."""
    for mode in MODES.values():
        if mode.nonlinearity and mode.nonlinearity == nonlinearity:
            return mode.name
    raise ValueError(f"nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
