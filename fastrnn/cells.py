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
from ._arrays import kind_of
from ._checks import dtype_of, float_array, positive_int, shape_is
from ._params import HasParameters, init_uniform
from .modes import MODES, rnn_mode

_STATE_NAMES = ("h", "c")


def _step(mode, x, state, weights, backend, need_grad, dtype):
    """One step: x (B, I) or (I,); state a tuple of (B, H) or (H,) arrays, entries None for zeros,
    or None; weights (w_ih (G*H, I), w_hh (G*H, H), b_ih, b_hh (G*H,) or both None), checked.
    -> (new state tuple, saved). Host arrays on a host backend go straight to the backend's layer
    (one layer, one direction, one step: a cell is exactly that), past functional.forward's
    stacking of layers, whose Python costs more than the step's kernel at B=1."""
    if kind_of(x) != "numpy" or backends.resolve(backend) == "cuda":
        return _step_functional(mode, x, state, weights, backend, need_grad, dtype)
    x = float_array("x", x, dtype)
    w_ih, w_hh, b_ih, b_hh = weights
    I, H = w_ih.shape[1], w_hh.shape[1]
    _check_x(x, I)
    B = x.shape[0] if x.ndim == 2 else 1
    state0 = []
    for name, s in zip(_STATE_NAMES, state or (None,) * MODES[mode].states):
        if s is None:
            state0.append(np.zeros((B, H), dtype))
            continue
        s = float_array(name, s, dtype)
        shape_is(name, s, x.shape[:-1] + (H,))
        state0.append(s.reshape(B, H))
    if b_ih is None:
        b_ih = b_hh = np.zeros(w_hh.shape[0], dtype)
    _, state_n, saved = backends.get(backend).forward(mode, x.reshape(1, B, I), tuple(state0), w_ih, w_hh,
                                                      b_ih, b_hh, need_grad=need_grad)
    return tuple(s.reshape(x.shape[:-1] + (H,)) for s in state_n), saved


def _check_x(x, I):
    if x.ndim not in (1, 2):
        raise ValueError(f"x must be 2-D (B, I) or 1-D (I,); got shape {x.shape}")
    if x.shape[-1] != I:
        raise ValueError(f"x must have input_size={I} features in its last dimension; got shape {x.shape}")


def _step_functional(mode, x, state, weights, backend, need_grad, dtype):
    """_step through functional.forward, for CUDA arrays and backend "cuda" (functional.forward
    moves numpy arrays to the device and back): the saved context is functional's."""
    dt = dtype_of(dtype)
    x = _array("x", x, dt)
    w_ih, w_hh, b_ih, b_hh = weights
    _check_x(x, w_ih.shape[1])
    state_shape = x.shape[:-1] + (w_hh.shape[1],)
    hx = None
    if state is not None:
        hx = []
        for n, s in zip(_STATE_NAMES, state):
            if s is not None:
                s = _array(n, s, dt)
                shape_is(n, s, state_shape)
                s = _lead(s)
            hx.append(s)
        hx = tuple(hx)
    w = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh}
    if b_ih is not None:
        w.update(bias_ih_l0=b_ih, bias_hh_l0=b_hh)
    y, hx_n, ctx = functional.forward(mode, _lead(x), hx, w, backend=backend, need_grad=need_grad, dtype=dt)
    return tuple(s.reshape(s.shape[1:]) for s in hx_n), ctx


def _array(name, a, dtype):
    # host arrays as numpy of dtype; CUDA arrays as numba device arrays, dtype checked
    return float_array(name, a, dtype) if kind_of(a) == "numpy" else functional.DeviceOps.array(name, a, dtype)


def _lead(a):
    """a with a leading axis of 1 (the layer's T or L*D), for any kind of array."""
    return a.reshape((1,) + tuple(a.shape))


def _step_backward(saved, backend, grads, dtype):
    """Backward of one _step: grads tuple of (B, H) or (H,) gradients of the new state (entries
    None for zeros) -> grad_x, grad_state0 (tuple), (dw_ih, dw_hh, db_ih, db_hh)."""
    if isinstance(saved, functional.Context):
        # h1 is both the step's output and its final state: its gradient goes in once, as grad_y.
        gh = grads[0]
        rest = tuple(None if g is None else _lead(g) for g in grads[1:])
        grad_x, grad_hx0, g = functional.backward(saved, None if gh is None else _lead(gh), (None,) + rest)
        drop = lambda a: a.reshape(a.shape[1:])     # noqa: E731
        names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
        return drop(grad_x), tuple(map(drop, grad_hx0)), tuple(g.get(k) for k in names)
    shape = next(g.shape for g in grads if g is not None)
    B, H = (shape[0] if len(shape) == 2 else 1), shape[-1]
    dstate = tuple(np.zeros((B, H), dtype) if g is None else g.reshape(B, H) for g in grads)
    dy = np.zeros((1, B, H), dtype)
    dx, dstate0, wgrads = backends.get(backend).backward(saved, dy, dstate)
    lead = shape[:-1]
    return dx.reshape(lead + (dx.shape[2],)), tuple(s.reshape(lead + (H,)) for s in dstate0), wgrads


def _functional_step(mode, x, state, w_ih, w_hh, b_ih, b_hh, backend):
    """A functional cell call: the weights checked here for the host path (the cells' classes
    own theirs), by functional.forward otherwise."""
    if (b_ih is None) != (b_hh is None):
        raise ValueError("give both b_ih and b_hh, or neither")
    dtype = dtype_of(functional._dtype_name(w_hh))
    weights = (w_ih, w_hh, b_ih, b_hh)
    if kind_of(x) == "numpy" and backends.resolve(backend) != "cuda":
        weights = _host_weights(mode, weights, dtype)
    new, _ = _step(mode, x, state, weights, backend, False, dtype)
    return new


def _host_weights(mode, weights, dtype):
    names = ("w_ih", "w_hh", "b_ih", "b_hh")
    ws = [None if w is None else float_array(n, w, dtype) for n, w in zip(names, weights)]
    for n, w in zip(names[:2], ws):
        if w.ndim != 2:
            raise ValueError(f"{n} must be 2-D; got shape {w.shape}")
    GH, H = ws[1].shape
    if GH != MODES[mode].gates * H:
        raise ValueError(f"w_hh must be ({MODES[mode].gates}*H, H) for {mode}; got shape {ws[1].shape}")
    if ws[0].shape[0] != GH:
        raise ValueError(f"w_ih must have {GH} rows, as w_hh; got shape {ws[0].shape}")
    for n, b in zip(names[2:], ws[2:]):
        if b is not None:
            shape_is(n, b, (GH,))
    return tuple(ws)


def lstm_cell(x, hx, w_ih, w_hh, b_ih=None, b_hh=None, *, backend="auto"):
    """One LSTM step: x (B, I), hx = (h, c) each (B, H) or None -> (h1, c1)."""
    h1, c1 = _functional_step("LSTM", x, hx, w_ih, w_hh, b_ih, b_hh, backend)
    return h1, c1


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, *, backend="auto"):
    """One GRU step: x (B, I), h (B, H) or None -> h1."""
    (h1,) = _functional_step("GRU", x, None if h is None else (h,), w_ih, w_hh, b_ih, b_hh, backend)
    return h1


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, *, nonlinearity="tanh", backend="auto"):
    """One Elman step: x (B, I), h (B, H) or None -> h1."""
    (h1,) = _functional_step(rnn_mode(nonlinearity), x, None if h is None else (h,), w_ih, w_hh, b_ih, b_hh,
                             backend)
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
        p = self._params
        weights = (p["weight_ih"], p["weight_hh"], p.get("bias_ih"), p.get("bias_hh"))
        new_state, self._ctx = _step(self.mode, x, state, weights, self.backend, need_grad, self.dtype)
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
        if all(g is None for g in grads):
            grads[0] = np.zeros(self._state_shape, self.dtype)
        grad_x, grad_state0, wgrads = _step_backward(self._ctx, self.backend, tuple(grads), self.dtype)
        self.grads = dict(zip(self._params, wgrads))
        return grad_x, grad_state0


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
