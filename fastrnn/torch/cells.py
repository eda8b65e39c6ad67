"""fastrnn.torch.LSTMCell, GRUCell, RNNCell: torch.nn's cells, one step of the layer kernels."""
import math

import torch

from .. import functional
from .._checks import positive_int
from ..modes import rnn_mode
from .function import Spec, apply
from .modules import _same_dtype

_CELL_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class _CellBase(torch.nn.Module):
    def __init__(self, mode, input_size, hidden_size, bias, device, dtype, backend):
        super().__init__()
        from .. import backends
        self.mode = mode
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.bias = bool(bias)
        backends.resolve(backend)
        self.backend = backend
        shapes = functional.param_shapes(mode, self.input_size, self.hidden_size, 1, False, self.bias)
        for cell_name, (layer_name, shape) in zip(_CELL_NAMES, shapes.items()):
            setattr(self, cell_name, torch.nn.Parameter(torch.empty(shape, device=device, dtype=dtype)))
        # A cell is one step of a one-layer layer: the layer's parameter names, for the Function.
        self._spec = Spec(mode, 1, False, False, backend, tuple(shapes))
        self.reset_parameters()

    def reset_parameters(self):
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            torch.nn.init.uniform_(p, -k, k)

    def forward(self, input, hx=None):
        """input (B, I) or (I,); hx (B, H) (LSTM: a tuple of two) or None for zeros."""
        weights = [getattr(self, n) for n in _CELL_NAMES[:len(self._spec.names)]]
        _same_dtype("input", input, weights[0])
        if input.dim() not in (1, 2):
            raise ValueError(f"input must be 2-D (B, I) or 1-D (I,); got shape {tuple(input.shape)}")
        batched = input.dim() == 2
        x = input.unsqueeze(0) if batched else input.unsqueeze(0).unsqueeze(0)     # (1, B, I)
        state = []
        if hx is not None:
            parts = hx if self.mode == "LSTM" else (hx,)
            if self.mode == "LSTM" and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise ValueError("hx for LSTMCell must be a tuple (h, c)")
            for name, s in zip(("h", "c"), parts):
                _same_dtype(name, s, weights[0])
                state.append(s.unsqueeze(0) if batched else s.unsqueeze(0).unsqueeze(0))  # (1, B, H)
        h0, c0 = (state + [None, None])[:2]
        outs = apply(self._spec, x, h0, c0, *weights)
        new = tuple(s[0] if batched else s[0, 0] for s in outs[1:])
        return new if self.mode == "LSTM" else new[0]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode.startswith("RNN_"):
            s += f", nonlinearity={self.mode[4:].lower()!r}"
        return s + f", backend={self.backend!r}"


class LSTMCell(_CellBase):
    """torch.nn.LSTMCell on fastrnn's kernels: forward(input, (h, c)=None) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None, *, backend="auto"):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype, backend)


class GRUCell(_CellBase):
    """torch.nn.GRUCell on fastrnn's kernels: forward(input, h=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None, *, backend="auto"):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype, backend)


class RNNCell(_CellBase):
    """torch.nn.RNNCell (tanh or relu) on fastrnn's kernels: forward(input, h=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None, *,
                 backend="auto"):
        super().__init__(rnn_mode(nonlinearity), input_size, hidden_size, bias, device, dtype, backend)
        self.nonlinearity = nonlinearity
