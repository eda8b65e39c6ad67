"""Fused single-step cells with torch.nn.LSTMCell / GRUCell / RNNCell semantics.

Functional, like torch's cell functions (no state kept):
    h1, c1 = fastrnn.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    h1 = fastrnn.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)
Classes, with a backward:
    cell = fastrnn.LSTMCell(input_size, hidden_size)
    h1, c1 = cell(x, (h, c));  grad_x, (grad_h, grad_c) = cell.backward(grad_h1, grad_c1)
Shapes: x (B, I) or (I,); h, c (B, H) or (H,). A cell is a one-step layer: the same kernels
(one input GEMM, one fused step) and the same checks as fastrnn.LSTM.
"""
import numpy as np

from . import backends, functional
from ._checks import dtype_of, float_array, positive_int, shape_is
from ._params import HasParameters, init_uniform
from .modes import rnn_mode


def _as_layer_weights(cell_params):
    return {f"{k}_l0": v for k, v in cell_params.items()}


def _step(mode, x, state, weights, backend, need_grad, dtype=None):
    """One step through functional.forward: x (B, I) or (I,), state tuple of (B, H) or (H,)."""
    if dtype is None:
        dtype = np.asarray(weights["weight_hh_l0"]).dtype
    x = float_array("x", x, dtype_of(dtype))
    if x.ndim not in (1, 2):
        raise ValueError(f"x must be 2-D (B, I) or 1-D (I,); got shape {x.shape}")
    # Checked here, in the caller's shapes: functional.forward would name its (1, B, .) layout.
    for key in ("weight_ih_l0", "weight_hh_l0"):
        if len(np.shape(weights[key])) != 2:
            raise ValueError(f"{key} must be 2-D; got shape {np.shape(weights[key])}")
    I, H = np.shape(weights["weight_ih_l0"])[1], np.shape(weights["weight_hh_l0"])[1]
    if x.shape[-1] != I:
        raise ValueError(f"x must have input_size={I} features in its last dimension; got shape {x.shape}")
    state_shape = x.shape[:-1] + (H,)
    hx = None
    if state is not None:
        hx = []
        for n, s in zip(("h", "c"), state):
            if s is not None:
                s = float_array(n, s, dtype_of(dtype))
                shape_is(n, s, state_shape)
                s = s[None]
            hx.append(s)
        hx = tuple(hx)
    y, hx_n, ctx = functional.forward(mode, x[None], hx, weights, backend=backend,
                                      need_grad=need_grad, dtype=dtype)
    return tuple(s[0] for s in hx_n), ctx


def _functional_weights(w_ih, w_hh, b_ih, b_hh):
    w = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh}
    if (b_ih is None) != (b_hh is None):
        raise ValueError("give both b_ih and b_hh, or neither")
    if b_ih is not None:
        w.update(bias_ih_l0=b_ih, bias_hh_l0=b_hh)
    return w


def lstm_cell(x, hx, w_ih, w_hh, b_ih=None, b_hh=None, *, backend="auto"):
    """One LSTM step: x (B, I), hx = (h, c) each (B, H) or None -> (h1, c1)."""
    (h1, c1), _ = _step("LSTM", x, hx, _functional_weights(w_ih, w_hh, b_ih, b_hh), backend, False)
    return h1, c1


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, *, backend="auto"):
    """One GRU step: x (B, I), h (B, H) or None -> h1."""
    (h1,), _ = _step("GRU", x, None if h is None else (h,),
                     _functional_weights(w_ih, w_hh, b_ih, b_hh), backend, False)
    return h1


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, *, nonlinearity="tanh", backend="auto"):
    """One Elman step: x (B, I), h (B, H) or None -> h1."""
    (h1,), _ = _step(rnn_mode(nonlinearity), x, None if h is None else (h,),
                     _functional_weights(w_ih, w_hh, b_ih, b_hh), backend, False)
    return h1




class _CellBase(HasParameters):
    mode = None

    def __init__(self, input_size, hidden_size, bias=True, *, backend="auto", dtype="float32", seed=None):
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.bias = bool(bias)
        backends.resolve(backend)
        self.backend = backend
        self.dtype = dtype_of(dtype)
        shapes = functional.param_shapes(self.mode, self.input_size, self.hidden_size, 1, False, self.bias)
        params = init_uniform(shapes, self.hidden_size, self.dtype, seed)
        self._params = {k[:-3]: v for k, v in params.items()}      # torch's cell names drop "_l0"
        self.grads = {}
        self._ctx = None

    def _call(self, x, state, need_grad):
        new_state, self._ctx = _step(self.mode, x, state, _as_layer_weights(self._params),
                                     self.backend, need_grad, self.dtype)
        self._state_shape = new_state[0].shape
        return new_state

    def _backward(self, grad_state):
        if self._ctx is None:
            raise ValueError("backward() needs a forward call first (with need_grad=True): "
                             "there is no saved step to backpropagate through")
        grads = []
        for name, g in zip(("grad_h", "grad_c"), grad_state):
            if g is not None:
                g = float_array(name, g, self.dtype)
                shape_is(name, g, self._state_shape)
            grads.append(g)
        # h1 is both the step's output and its final state: feed its gradient in once, as grad_y.
        gh = grads[0]
        rest = tuple(None if g is None else g[None] for g in grads[1:])
        grad_y = None if gh is None else gh[None]
        grad_x, grad_hx0, grads = functional.backward(self._ctx, grad_y, (None,) + rest)
        self.grads = {k[:-3]: v for k, v in grads.items()}
        return grad_x[0], tuple(g[0] for g in grad_hx0)


class LSTMCell(_CellBase):
    """One LSTM step with torch.nn.LSTMCell's parameters and call."""
    mode = "LSTM"

    def __call__(self, x, hx=None, *, need_grad=True):
        h1, c1 = self._call(x, hx, need_grad)
        return h1, c1

    def backward(self, grad_h, grad_c=None):
        """-> grad_x, (grad_h0, grad_c0); fills self.grads."""
        grad_x, (gh, gc) = self._backward((grad_h, grad_c))
        return grad_x, (gh, gc)


class _SingleStateCell(_CellBase):
    def __call__(self, x, hx=None, *, need_grad=True):
        (h1,) = self._call(x, None if hx is None else (hx,), need_grad)
        return h1

    def backward(self, grad_h):
        """-> grad_x, grad_h0; fills self.grads."""
        grad_x, (gh,) = self._backward((grad_h,))
        return grad_x, gh


class GRUCell(_SingleStateCell):
    """One GRU step with torch.nn.GRUCell's parameters and call."""
    mode = "GRU"


class RNNCell(_SingleStateCell):
    """One Elman step with torch.nn.RNNCell's parameters and call."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", **kwargs):
        self.mode = rnn_mode(nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, **kwargs)
