"""The float64 numpy reference: the specification every kernel is tested against.

Readable time loops over one-step cells (lstm.py, gru.py, rnn.py), each with a hand-written
backward; layer.py runs a cell over a sequence and back through time. Select it for a whole
model with backend="reference".
"""
from . import gru, layer, lstm, rnn

__all__ = ["gru", "layer", "lstm", "rnn"]
