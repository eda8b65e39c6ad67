"""fastrnn.LSTM, GRU and RNN: torch.nn's constructor, call, parameter names and state_dict.

    lstm = fastrnn.LSTM(input_size=8, hidden_size=16, num_layers=2, seed=0)
    y, (h_n, c_n) = lstm(x)                      # x (T, B, 8), numpy
    grad_x, (grad_h0, grad_c0) = lstm.backward(grad_y)
    lstm.grads["weight_hh_l1"]                   # same keys as lstm.state_dict()
"""
import numpy as np

from . import functional
from ._checks import dtype_of, probability, set_layer_options
from ._params import HasParameters, init_uniform
from .modes import rnn_mode


class _RNNBase(HasParameters):
    """Variable-length batches: pass lengths (B,) with a padded x. Steps past a sequence's length
    give zero output, leave its state as it was and take no gradient; h_n is each sequence's
    state after its own last step. torch's packed sequences compute the same, without packing.

    dropout: as torch, on the outputs of every layer but the last, while training (train(),
    the default; eval() turns it off). The masks come from a generator seeded by `seed`, so a
    seeded layer drops the same units on every run."""
    mode = None

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, *, backend="auto", dtype="float32", seed=None):
        set_layer_options(self, input_size, hidden_size, num_layers, bias, batch_first, bidirectional, backend)
        self.dropout = probability("dropout", dropout)
        self.training = True
        self._dropout_rng = np.random.default_rng(None if seed is None else [seed, 1])
        self.dtype = dtype_of(dtype)
        shapes = functional.param_shapes(self.mode, self.input_size, self.hidden_size,
                                         self.num_layers, self.bidirectional, self.bias)
        self._params = init_uniform(shapes, self.hidden_size, self.dtype, seed)
        self.grads = {}
        self._ctx = None

    # -- forward / backward -----------------------------------------------------
    def _forward(self, x, hx, need_grad, lengths=None):
        y, hx_n, ctx = functional.forward(
            self.mode, x, hx, self._params, num_layers=self.num_layers,
            bidirectional=self.bidirectional, batch_first=self.batch_first,
            dropout=self.dropout if self.training else 0.0, dropout_rng=self._dropout_rng,
            backend=self.backend, need_grad=need_grad, dtype=self.dtype, lengths=lengths, own_weights=True)
        self._ctx = ctx
        return y, hx_n

    def _backward(self, grad_y, grad_hx):
        if self._ctx is None:
            raise ValueError("backward() needs a forward call first (with need_grad=True): "
                             "there is no saved forward to backpropagate through")
        grad_x, grad_hx0, self.grads = functional.backward(self._ctx, grad_y, grad_hx)
        return grad_x, grad_hx0

    def train(self, mode=True):
        """Training mode (dropout on, if any); returns self, as torch."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Inference mode: no dropout."""
        return self.train(False)

    def __repr__(self):
        extra = "".join(f", {k}={getattr(self, k)}" for k in ("num_layers", "bidirectional", "batch_first")
                        if getattr(self, k) not in (1, False))
        return (f"{type(self).__name__}({self.input_size}, {self.hidden_size}{extra}, "
                f"backend={self.backend!r}, dtype={np.dtype(self.dtype).name!r})")


class LSTM(_RNNBase):
    """Long short-term memory layers; gate order i, f, g, o as torch."""
    mode = "LSTM"

    def __call__(self, x, hx=None, *, need_grad=True, lengths=None):
        """x (T, B, I) -> y (T, B, D*H), (h_n, c_n) each (L*D, B, H). hx = (h0, c0) or None.
        lengths (B,): each sequence's length in a padded batch (see _RNNBase)."""
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise ValueError(f"hx for LSTM is a pair (h0, c0), each (L*D, B, H); got {type(hx).__name__}"
                             + (f" of shape {np.shape(hx)}" if hasattr(hx, "shape") else ""))
        y, (h_n, c_n) = self._forward(x, hx, need_grad, lengths)
        return y, (h_n, c_n)

    def backward(self, grad_y, grad_hx=None):
        """grad_y like y; grad_hx = (grad_h_n, grad_c_n), either may be None.
        Returns grad_x, (grad_h0, grad_c0) and fills self.grads."""
        grad_x, (gh, gc) = self._backward(grad_y, grad_hx)
        return grad_x, (gh, gc)


class _SingleState(_RNNBase):
    def __call__(self, x, hx=None, *, need_grad=True, lengths=None):
        """x (T, B, I), hx = h0 (L*D, B, H) or None -> y (T, B, D*H), h_n (L*D, B, H).
        lengths (B,): each sequence's length in a padded batch (see _RNNBase)."""
        if isinstance(hx, (tuple, list)) and hx and all(hasattr(s, "shape") for s in hx):
            raise ValueError(f"hx for {type(self).__name__} is h0, one array (L*D, B, H); "
                             f"got a {type(hx).__name__} of {len(hx)} arrays (only LSTM takes (h0, c0))")
        y, (h_n,) = self._forward(x, None if hx is None else (hx,), need_grad, lengths)
        return y, h_n

    def backward(self, grad_y, grad_h_n=None):
        """grad_y like y; grad_h_n like h_n or None. Returns grad_x, grad_h0; fills self.grads."""
        grad_x, (gh,) = self._backward(grad_y, None if grad_h_n is None else (grad_h_n,))
        return grad_x, gh


class GRU(_SingleState):
    """Gated recurrent unit layers; gate order r, z, n, torch's variant."""
    mode = "GRU"


class RNN(_SingleState):
    """Elman RNN layers: h' = tanh or relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, **kwargs):
        self.mode = rnn_mode(nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, **kwargs)
