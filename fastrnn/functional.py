"""Functional layer API: arrays in, arrays and a saved context out, no state kept.

    y, hx_n, ctx = forward(mode, x, hx, weights, num_layers=..., bidirectional=..., ...)
    grad_x, grad_hx0, grads = backward(ctx, grad_y, grad_hx_n)

mode is "LSTM", "GRU", "RNN_TANH" or "RNN_RELU". Shapes (torch's): T steps, B batch, I input
size, H hidden size, L layers, D directions (2 if bidirectional):
    x   (T, B, I), or (B, T, I) with batch_first, or (T, I) unbatched
    hx  tuple of (L*D, B, H) arrays, (h0, c0) for LSTM and (h0,) otherwise, or None for zeros;
        (L*D, H) when unbatched
    y   like x with D*H features
    weights  dict with torch's state_dict keys: weight_ih_l{k}[_reverse] (G*H, I or D*H),
             weight_hh_l{k}[_reverse] (G*H, H), bias_ih_l{k}[_reverse], bias_hh_l{k}[_reverse]
The layers and directions are stacked here, backend-independently; each backend supplies one
layer in one direction (fastrnn/backends.py states that contract).

Arrays: numpy (or array-likes, torch CPU tensors) for every backend; CUDA arrays (numba device
arrays, CuPy arrays, torch CUDA tensors) for backend "cuda", which "auto" picks for them. The
results are of the kind x was, without a copy on the device.
"""
import functools

import numpy as np

from . import backends
from ._arrays import CUDA_KINDS, DeviceOps, HostOps, kind_of, to_kind
from ._checks import dtype_of, named_arrays, probability, shape_is
from .modes import MODES, mode_of
from .workspace import format_bytes, workspace_bytes


def param_names(num_layers, bidirectional, bias=True):
    """torch's parameter names, in torch's order."""
    return list(_param_names(num_layers, bidirectional, bias))


def param_shapes(mode, input_size, hidden_size, num_layers, bidirectional, bias=True):
    """{name: shape} for every parameter, torch's layout."""
    return dict(_param_shapes(mode, input_size, hidden_size, num_layers, bidirectional, bias))


# Every call builds these from its arguments; cached, as the strings cost about 10 us a call.
@functools.lru_cache(maxsize=256)
def _param_names(num_layers, bidirectional, bias):
    names = []
    for layer in range(num_layers):
        for suffix in ("", "_reverse")[: 2 if bidirectional else 1]:
            kinds = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if bias else ())
            names += [f"{kind}_l{layer}{suffix}" for kind in kinds]
    return tuple(names)


@functools.lru_cache(maxsize=256)
def _param_shapes(mode, input_size, hidden_size, num_layers, bidirectional, bias):
    GH = MODES[mode].gates * hidden_size
    D = 2 if bidirectional else 1
    shapes = []
    for name in _param_names(num_layers, bidirectional, bias):
        layer = int(name.split("_l")[1].split("_")[0])
        if name.startswith("weight_ih"):
            shapes.append((name, (GH, input_size if layer == 0 else D * hidden_size)))
        elif name.startswith("weight_hh"):
            shapes.append((name, (GH, hidden_size)))
        else:
            shapes.append((name, (GH,)))
    return tuple(shapes)


class Context:
    """What forward saves for backward: per (layer, direction), the backend's saved arrays."""

    def __init__(self, mode, backend, saved, layout, x_shape, bias, num_layers, directions, hidden_size, dtype,
                 kind="numpy"):
        self.mode = mode
        self.kind = kind                # the caller's array kind (fastrnn/_arrays.py)
        self.backend = backend
        self.saved = saved              # list over layer * D + direction
        self.layout = layout            # (batch_first, unbatched): how to turn grad_x back
        self.x_shape = x_shape          # (T, B, I), time-major
        self.bias = bias
        self.num_layers = num_layers
        self.directions = directions
        self.hidden_size = hidden_size
        self.dtype = dtype
        self.masks = []                 # dropout masks between layers, if any


def forward(mode, x, hx, weights, *, num_layers=1, bidirectional=False, batch_first=False,
            backend="auto", need_grad=True, dtype=None, lengths=None, dropout=0.0, dropout_rng=None,
            own_weights=False):
    """Run a stack of recurrent layers. Returns y, hx_n (tuple like hx), and a Context
    (None when need_grad is False: nothing that only backward reads is kept).
    dropout: probability of zeroing each output of every layer but the last (scaled by 1/(1-p)
    otherwise), masks drawn from dropout_rng (a numpy Generator, or a seed).
    own_weights: weights is a layer's own parameter dict (fastrnn/modules.py), C-contiguous numpy
    arrays of dtype with the right shapes, as loading them checked; host calls then skip checking
    them again (a few microseconds per array, which a one-step call notices)."""
    mode_of(mode)
    dropout = probability("dropout", dropout)
    kind = kind_of(x)
    backend = _backend_for(backend, kind)
    ops = DeviceOps if kind in CUDA_KINDS else HostOps
    impl = backends.get(backend)
    D = 2 if bidirectional else 1
    if "weight_hh_l0" not in weights:
        raise ValueError("weights must contain 'weight_hh_l0' (torch's state_dict keys)")
    w_hh_shape = tuple(np.shape(weights["weight_hh_l0"]))
    if len(w_hh_shape) != 2:
        raise ValueError(f"weight_hh_l0 must be 2-D (G*H, H); got shape {w_hh_shape}")
    dt = dtype_of(dtype if dtype is not None else _dtype_name(weights["weight_hh_l0"]))
    H = w_hh_shape[1]
    bias = "bias_ih_l0" in weights

    x = ops.array("x", x, dt)
    if x.ndim not in (2, 3):
        raise ValueError(f"x must be 3-D ({'B, T' if batch_first else 'T, B'}, I) or 2-D unbatched (T, I); "
                         f"got shape {x.shape}")
    unbatched = x.ndim == 2
    xt = ops.time_major(x, batch_first, unbatched)
    T, B, I = xt.shape
    if T < 1 or B < 1:
        raise ValueError(f"x must have at least one step and one sequence; got shape {x.shape}")
    if "weight_ih_l0" in weights and I != np.shape(weights["weight_ih_l0"])[1]:
        raise ValueError(f"x must have input_size={np.shape(weights['weight_ih_l0'])[1]} features "
                         f"in its last dimension; got shape {x.shape}")
    shapes = param_shapes(mode, I, H, num_layers, bidirectional, bias)
    w = weights if own_weights and not ops.on_device else named_arrays("weights", weights, shapes, dt,
                                                                        convert=ops.array)
    state0 = _initial_state(ops, mode, hx, num_layers * D, B, H, dt, unbatched)
    lengths = _lengths(lengths, T, B, unbatched)

    try:
        states = [[] for _ in state0]       # per state, one (B, H) per layer and direction
        saved = []
        masks = []
        if dropout and not isinstance(dropout_rng, np.random.Generator):
            dropout_rng = np.random.default_rng(dropout_rng)     # one stream for all the layers
        layer_in = xt
        for layer in range(num_layers):
            if layer and dropout:
                masks.append(_dropout_mask(ops, layer_in.shape, dropout, dropout_rng, dt))
                layer_in = ops.mul(layer_in, masks[-1])
            outs = []
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                k = layer * D + d
                no_bias = ops.zeros(shapes["weight_hh" + sfx][0], dt) if not bias else None
                y, st, sv = impl.forward(mode, layer_in, tuple(s[k] for s in state0),
                                         w["weight_ih" + sfx], w["weight_hh" + sfx],
                                         w.get("bias_ih" + sfx, no_bias), w.get("bias_hh" + sfx, no_bias),
                                         reverse=bool(d), need_grad=need_grad, lengths=lengths)
                for parts, s in zip(states, st):
                    parts.append(s)
                outs.append(y)
                saved.append(sv)
            layer_in = ops.concat_features(outs)
        state_n = tuple(ops.stack(parts) for parts in states)
    except MemoryError as e:
        raise _workspace_error(e, mode=mode, T=T, B=B, I=I, H=H, num_layers=num_layers,
                               bidirectional=bidirectional, dtype=dt, need_grad=need_grad) from None

    y = to_kind(ops.caller_layout(layer_in, batch_first, unbatched), kind)
    hx_n = tuple(to_kind(_squeeze_batch(ops, s, unbatched), kind) for s in state_n)
    ctx = None
    if need_grad:
        ctx = Context(mode, backend, saved, (batch_first, unbatched), xt.shape, bias,
                      num_layers, D, H, dt, kind)
        ctx.masks = masks
    return y, hx_n, ctx


def backward(ctx, grad_y, grad_hx=None):
    """Backpropagate through the stack saved in ctx.

    grad_y  like y (or None for zeros); grad_hx tuple like hx_n, any entry None for zeros.
    Returns grad_x (like x), grad_hx0 (tuple like hx), grads (dict keyed like weights).
    """
    if not isinstance(ctx, Context):
        raise ValueError("backward needs the context returned by a forward with need_grad=True; "
                         f"got {type(ctx).__name__}")
    impl = backends.get(ctx.backend)
    ops = DeviceOps if ctx.kind in CUDA_KINDS else HostOps
    batch_first, unbatched = ctx.layout
    T, B, I = ctx.x_shape
    H, D, L, dt = ctx.hidden_size, ctx.directions, ctx.num_layers, ctx.dtype
    n_state = MODES[ctx.mode].states

    y_shape = (T, B, D * H)
    if grad_y is None:
        gy = ops.zeros(y_shape, dt)
    else:
        gy = ops.array("grad_y", grad_y, dt)
        shape_is("grad_y", gy, _caller_shape(y_shape, batch_first, unbatched))
        gy = ops.time_major(gy, batch_first, unbatched)
    grad_hx = tuple(grad_hx) if grad_hx is not None else (None,) * n_state
    if len(grad_hx) != n_state:
        raise ValueError(f"grad_hx must hold {n_state} array(s) for {ctx.mode}; got {len(grad_hx)}")
    gstate = _initial_state(ops, ctx.mode, grad_hx, L * D, B, H, dt, unbatched, name="grad_h_n")

    try:
        grads = {}
        states = [[None] * (L * D) for _ in range(n_state)]    # per state, per layer and direction
        g_out = gy
        for layer in reversed(range(L)):
            g_in = None
            for d in range(D):
                k = layer * D + d
                dy = g_out if D == 1 else ops.features(g_out, d * H, (d + 1) * H)
                dx, ds, (dw_ih, dw_hh, db_ih, db_hh) = impl.backward(
                    ctx.saved[k], dy, tuple(g[k] for g in gstate))
                for parts, s in zip(states, ds):
                    parts[k] = s
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                grads["weight_ih" + sfx], grads["weight_hh" + sfx] = dw_ih, dw_hh
                if ctx.bias:
                    grads["bias_ih" + sfx], grads["bias_hh" + sfx] = db_ih, db_hh
                g_in = dx if g_in is None else ops.add(g_in, dx)
            g_out = ops.mul(g_in, ctx.masks[layer - 1]) if layer and ctx.masks else g_in
        dstate0 = tuple(ops.stack(parts) for parts in states)
    except MemoryError as e:
        raise _workspace_error(e, mode=ctx.mode, T=T, B=B, I=I, H=H, num_layers=L, bidirectional=D == 2,
                               dtype=dt, need_grad=True) from None
    names = param_names(L, D == 2, ctx.bias)
    grads = {name: to_kind(grads[name], ctx.kind) for name in names}
    grad_x = to_kind(ops.caller_layout(g_out, batch_first, unbatched), ctx.kind)
    grad_hx0 = tuple(to_kind(_squeeze_batch(ops, s, unbatched), ctx.kind) for s in dstate0)
    return grad_x, grad_hx0, grads


def _workspace_error(e, **problem):
    """A failed allocation inside the kernels as a MemoryError that says what the whole problem
    needs (fastrnn.workspace_bytes), not only which array did not fit."""
    need = workspace_bytes(**problem)
    what = "training" if problem["need_grad"] else "inference"
    shape = ", ".join(f"{k}={problem[k]}" for k in ("T", "B", "I", "H", "num_layers"))
    return MemoryError(
        f"fastrnn: {problem['mode']} ({shape}{', bidirectional' if problem['bidirectional'] else ''}, "
        f"{np.dtype(problem['dtype']).name}, {what}) needs about {format_bytes(need)} of workspace "
        f"(fastrnn.workspace_bytes) and an allocation failed: {e}")


def _backend_for(backend, kind):
    """The concrete backend for x's kind: CUDA arrays go to "cuda"; host arrays anywhere."""
    if kind in CUDA_KINDS:
        if backend == "auto":
            return backends.resolve("cuda")
        if backends.resolve(backend) != "cuda":
            raise ValueError(f"x is a CUDA array ({kind}) but backend={backend!r} computes on the host: "
                             "use backend='cuda' (or 'auto'), or copy x to the host")
        return "cuda"
    return backends.resolve(backend)


def _dropout_mask(ops, shape, p, rng, dt):
    """Inverted dropout: 0 with probability p, else 1/(1-p); rng a numpy Generator."""
    mask = (rng.random(shape) >= p).astype(dt) / dt(1 - p)
    return ops.array("dropout mask", mask, dt)


def _lengths(lengths, T, B, unbatched):
    """None, or (B,) int64 sequence lengths in 1..T; None also when every length is T."""
    if lengths is None:
        return None
    if unbatched:
        raise ValueError("lengths needs batched input (T, B, I); an unbatched sequence has one length: slice it")
    lens = np.asarray(lengths.cpu() if hasattr(lengths, "cpu") else lengths)
    if lens.shape != (B,) or not (np.issubdtype(lens.dtype, np.integer) or lens.size == 0):
        raise ValueError(f"lengths must be {B} integers, one per sequence; got shape {lens.shape}, dtype {lens.dtype}")
    if lens.min() < 1 or lens.max() > T:
        raise ValueError(f"lengths must lie in 1..T={T}; got min {lens.min()}, max {lens.max()}")
    lens = lens.astype(np.int64)
    return None if (lens == T).all() else lens


def _dtype_name(a):
    dtype = getattr(a, "dtype", None)
    if dtype is None:
        return np.asarray(a).dtype
    if isinstance(dtype, np.dtype):
        return dtype
    return str(dtype).replace("torch.", "")     # torch.float32 -> 'float32'


def _squeeze_batch(ops, s, unbatched):
    # (L*D, 1, H) -> (L*D, H) for unbatched input
    if not unbatched:
        return s
    return s.reshape(s.shape[0], s.shape[2]) if ops.on_device else s[:, 0, :]


def _caller_shape(shape, batch_first, unbatched):
    T, B, F = shape
    if unbatched:
        return (T, F)
    return (B, T, F) if batch_first else (T, B, F)


def _initial_state(ops, mode, hx, LD, B, H, dt, unbatched, name="h0"):
    """hx (tuple of (L*D, B, H), entries may be None) -> tuple of contiguous (L*D, B, H) arrays."""
    names = (name, name.replace("h", "c", 1)) if mode == "LSTM" else (name,)
    if hx is None:
        hx = (None,) * len(names)
    if len(hx) != len(names):
        raise ValueError(f"the state for {mode} is ({', '.join(names)}); got {len(hx)} array(s)")
    expected = (LD, H) if unbatched else (LD, B, H)
    state = []
    for n, s in zip(names, hx):
        if s is None:
            state.append(ops.zeros((LD, B, H), dt))
            continue
        s = ops.array(n, s, dt)
        shape_is(n, s, expected)
        state.append(s.reshape(LD, 1, H) if unbatched else s)
    return tuple(state)
