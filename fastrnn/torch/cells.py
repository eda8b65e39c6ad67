"""fastrnn.torch.LSTMCell, GRUCell, RNNCell: torch.nn's cells, one step of the layer kernels."""
import math

import torch

from .. import cells as _cells
from .. import functional
from .._checks import positive_int
from ..modes import rnn_mode
from .function import Spec, apply
from .modules import _same_dtype

_CELL_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


# torch's dtypes by numpy's names (str(torch.float32)[6:] costs 1 us; other dtypes fail in _step)
_DTYPES = {torch.float32: "float32", torch.float64: "float64"}


def _numpy(t):
    # a CPU tensor's numpy view; one that requires grad refuses .numpy() without detach()
    return t.detach().numpy() if t.requires_grad else t.numpy()


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
        self._views = None      # _numpy_weights
        self.reset_parameters()

    def reset_parameters(self):
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            torch.nn.init.uniform_(p, -k, k)

    def forward(self, input, hx=None):
        """input (B, I) or (I,); hx (B, H) (LSTM: a tuple of two) or None for zeros."""
        params = self._parameters
        weights = [params[n] for n in _CELL_NAMES[:len(self._spec.names)]]
        _same_dtype("input", input, weights[0])
        if input.dim() not in (1, 2):
            raise ValueError(f"input must be 2-D (B, I) or 1-D (I,); got shape {tuple(input.shape)}")
        parts = ()
        if hx is not None:
            parts = hx if self.mode == "LSTM" else (hx,)
            if self.mode == "LSTM" and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise ValueError("hx for LSTMCell must be a tuple (h, c)")
            for name, s in zip(("h", "c"), parts):
                _same_dtype(name, s, weights[0])
        if not input.is_cuda and not (torch.is_grad_enabled() and any(
                t.requires_grad for t in (input, *parts, *weights))):
            return self._infer(input, parts, weights)
        batched = input.dim() == 2
        lead = (lambda t: t.unsqueeze(0)) if batched else (lambda t: t.unsqueeze(0).unsqueeze(0))
        state = [lead(s) for s in parts]                        # (1, B, H)
        h0, c0 = (state + [None, None])[:2]
        outs = apply(self._spec, lead(input), h0, c0, *weights)   # input (1, B, I)
        new = tuple(s[0] if batched else s[0, 0] for s in outs[1:])
        return new if self.mode == "LSTM" else new[0]

    def _infer(self, input, parts, weights):
        """A step that keeps nothing for backward, on CPU tensors: straight to the numpy cells' one-step
        path (fastrnn/cells.py), past the autograd Function and functional.forward, whose Python
        costs more than the step itself at B=1. The tensors cross as numpy views, no copies."""
        state = tuple(map(_numpy, parts)) or None
        new, _ = _cells._step(self.mode, _numpy(input), state, self._numpy_weights(weights), self.backend, False,
                              _DTYPES.get(weights[0].dtype) or str(weights[0].dtype)[6:])
        new = tuple(torch.from_numpy(s) for s in new)
        return new if self.mode == "LSTM" else new[0]

    def __getstate__(self):
        # pickle and deepcopy leave out the numpy views: a copy's parameters are new tensors
        state = super().__getstate__()
        return dict(state, _views=None)

    def _numpy_weights(self, weights):
        """(w_ih, w_hh, b_ih, b_hh) as numpy views (biases None without bias), made again only when
        a parameter is replaced or moved to new memory (.to(), .data = ...): the views see every
        in-place update, as an optimiser's step, and the check costs a fifth of making them."""
        key = tuple((id(w), w.data_ptr()) for w in weights)
        if self._views is None or self._views[0] != key:
            self._views = (key, tuple(w.detach().numpy() for w in weights) + (None, None))
        return self._views[1][:4]

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
