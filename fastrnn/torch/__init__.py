"""fastrnn's kernels as torch.nn modules with autograd: a one-line swap in a torch model.

    model.rnn = fastrnn.torch.LSTM(256, 512, num_layers=2, batch_first=True)   # was torch.nn.LSTM
    model.rnn.load_state_dict(old_rnn.state_dict())                           # same names, same shapes

LSTM, GRU, RNN and LSTMCell, GRUCell, RNNCell take torch's constructor arguments, forward
signature (PackedSequence input included) and parameter names. Forward and backward run fastrnn's kernels through one
torch.autograd.Function (function.py): CPU tensors go through numpy without copies, CUDA tensors
to the CUDA backend without copies. `import fastrnn` does not import torch; this package does.
"""
from .cells import GRUCell, LSTMCell, RNNCell
from .modules import GRU, LSTM, RNN

__all__ = ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"]
