"""fastrnn: fused Numba kernels for LSTM, GRU and Elman RNN, forward and BPTT backward,
with torch's weight layout. See README.md; the float64 specification is fastrnn.reference."""
from . import functional, reference
from .cells import GRUCell, LSTMCell, RNNCell, gru_cell, lstm_cell, rnn_cell
from .modules import GRU, LSTM, RNN
from .workspace import workspace_bytes

__version__ = "0.1.0"

__all__ = ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell",
           "lstm_cell", "gru_cell", "rnn_cell", "functional", "reference", "workspace_bytes"]
