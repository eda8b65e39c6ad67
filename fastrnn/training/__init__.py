"""Training tools over fastrnn's layers and their `.grads`: gradient clipping (clip.py),
SGD and Adam (optim.py), truncated BPTT over long sequences (tbptt.py), a dense output layer
with softmax cross-entropy (linear.py), and an encoder-decoder with teacher forcing (seq2seq.py).

A trainable object is anything with `named_parameters()` (live arrays, updated in place) and a
`grads` dict with the same names, as fastrnn.LSTM/GRU/RNN and the cells have.
"""
from .clip import clip_grad_norm, clip_grad_value
from .linear import Linear, softmax_cross_entropy
from .optim import SGD, Adam
from .seq2seq import Seq2Seq
from .tbptt import truncated_bptt

__all__ = ["clip_grad_norm", "clip_grad_value", "Linear", "softmax_cross_entropy", "SGD", "Adam",
           "Seq2Seq", "truncated_bptt"]
