"""fastrnn.torch.LSTM, GRU, RNN: torch.nn.LSTM's constructor, forward, parameters and state_dict."""
import math

import torch

from .. import functional
from .._checks import probability, set_layer_options
from ..modes import rnn_mode
from .function import Spec, apply


class _RNNBase(torch.nn.Module):
    mode = None

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None, backend="auto"):
        super().__init__()
        self.mode = mode
        set_layer_options(self, input_size, hidden_size, num_layers, bias, batch_first, bidirectional, backend)
        self.dropout = probability("dropout", dropout)
        if proj_size:
            raise ValueError(f"proj_size={proj_size!r}: LSTM projections are not supported yet; "
                             "fastrnn.torch.LSTM takes proj_size=0")
        self.proj_size = 0
        shapes = functional.param_shapes(mode, self.input_size, self.hidden_size, self.num_layers,
                                         self.bidirectional, self.bias)
        for name, shape in shapes.items():       # torch's names, in torch's order
            setattr(self, name, torch.nn.Parameter(torch.empty(shape, device=device, dtype=dtype)))
        self._spec = Spec(mode, self.num_layers, self.bidirectional, self.batch_first, backend, tuple(shapes))
        self.reset_parameters()

    def reset_parameters(self):
        """torch's initialisation: every parameter uniform in +-1/sqrt(hidden_size)."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            torch.nn.init.uniform_(p, -k, k)

    def flatten_parameters(self):
        """Accepted for drop-in compatibility; the weights are used where they are."""

    def forward(self, input, hx=None):
        if isinstance(input, torch.nn.utils.rnn.PackedSequence):
            return self._forward_packed(input, hx)
        return self._forward(input, hx, None)

    def _forward_packed(self, packed, hx):
        # fastrnn runs the padded batch with its lengths (no packing inside the kernels); the
        # output is packed back in the input's order, so it has the input's batch_sizes and indices.
        rnn = torch.nn.utils.rnn
        padded, lengths = rnn.pad_packed_sequence(packed, batch_first=self.batch_first)
        out, state = self._forward(padded, hx, lengths.numpy())
        order = packed.sorted_indices
        if order is not None:
            out = out.index_select(0 if self.batch_first else 1, order)
            lengths = lengths[order.cpu()]
        repacked = rnn.pack_padded_sequence(out, lengths, batch_first=self.batch_first, enforce_sorted=True)
        return rnn.PackedSequence(repacked.data, repacked.batch_sizes, packed.sorted_indices,
                                  packed.unsorted_indices), state

    def _forward(self, input, hx, lengths):
        weights = [getattr(self, n) for n in self._spec.names]
        _same_dtype("input", input, weights[0])
        h0 = c0 = None
        if hx is not None:
            if self.mode == "LSTM":
                if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                    raise ValueError("hx for LSTM must be a tuple (h_0, c_0)")
                h0, c0 = hx
                _same_dtype("c_0", c0, weights[0])
            else:
                h0 = hx
            _same_dtype("h_0", h0, weights[0])
        outs = apply(self._spec, input, h0, c0, *weights, lengths=lengths,
                     dropout=self.dropout if self.training else 0.0)
        return (outs[0], (outs[1], outs[2])) if self.mode == "LSTM" else (outs[0], outs[1])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode.startswith("RNN_"):
            s += f", nonlinearity={self.mode[4:].lower()!r}"
        for name in ("batch_first", "bidirectional"):
            if getattr(self, name):
                s += f", {name}=True"
        if not self.bias:
            s += ", bias=False"
        return s + f", backend={self.backend!r}"


def _same_dtype(name, t, weight):
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(t).__name__}")
    if t.dtype != weight.dtype:
        raise TypeError(f"{name} is {t.dtype} but the layer's parameters are {weight.dtype}: "
                        f"convert one of them (e.g. layer.to({t.dtype}))")


class LSTM(_RNNBase):
    """torch.nn.LSTM on fastrnn's kernels: forward(input, (h_0, c_0)=None) -> output, (h_n, c_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None, *, backend="auto"):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype, backend)


class GRU(_RNNBase):
    """torch.nn.GRU on fastrnn's kernels: forward(input, h_0=None) -> output, h_n."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, *, backend="auto"):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype, backend)


class RNN(_RNNBase):
    """torch.nn.RNN (tanh or relu) on fastrnn's kernels: forward(input, h_0=None) -> output, h_n."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None, *, backend="auto"):
        super().__init__(rnn_mode(nonlinearity), input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype, backend)
        self.nonlinearity = nonlinearity
