"""One torch.autograd.Function for every recurrent layer: fastrnn.functional's forward and
backward, with torch tensors in and out.

CPU tensors cross as numpy views (no copy) and come back through torch.from_numpy (no copy);
CUDA tensors go to the CUDA backend as they are (__cuda_array_interface__) and come back as
CUDA tensors. x, the weights and the output are also saved with ctx.save_for_backward, so that
torch's version counters catch an in-place change to any of them before backward, as they do
for torch's own modules: fastrnn's saved context holds those same buffers.
"""
from dataclasses import dataclass

import torch

from .. import functional


@dataclass(frozen=True)
class Spec:
    """What the layer is: everything forward needs besides tensors."""
    mode: str                 # "LSTM", "GRU", "RNN_TANH", "RNN_RELU"
    num_layers: int
    bidirectional: bool
    batch_first: bool
    backend: str
    names: tuple              # parameter names, in the order the weights are passed


def _host_or_device(t):
    if t is None:
        return None
    t = t.detach()
    return t if t.is_cuda else t.numpy()


def _tensor(a):
    return a if isinstance(a, torch.Tensor) else torch.from_numpy(a)


def apply(spec, x, h0, c0, *weights, lengths=None, dropout=0.0):
    """(y, h_n) or (y, h_n, c_n) for LSTM; h0 and c0 may be None (zeros), c0 is None except for
    LSTM; lengths (B,) for a padded batch of variable-length sequences; dropout between layers,
    its masks seeded from torch's generator (torch.manual_seed makes them repeat). Under
    torch.no_grad(), or when nothing requires grad, nothing is kept for backward."""
    need_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, h0, c0, *weights))
    seed = int(torch.randint(2**62, ())) if dropout else None
    return Recurrent.apply(spec, need_grad, (lengths, dropout, seed), x, h0, c0, *weights)


class Recurrent(torch.autograd.Function):
    """Use through apply(): inside forward, grad mode is always off and needs_input_grad does
    not know about torch.no_grad(), so whether to keep a context is decided before."""

    @staticmethod
    def forward(ctx, spec, need_grad, options, x, h0, c0, *weights):
        lengths, dropout, seed = options
        ctx.set_materialize_grads(False)       # an unused output's gradient stays None: no zeros made
        hx = None
        if h0 is not None:
            hx = tuple(map(_host_or_device, (h0, c0) if spec.mode == "LSTM" else (h0,)))
        y, hx_n, fctx = functional.forward(
            spec.mode, _host_or_device(x), hx,
            dict(zip(spec.names, map(_host_or_device, weights))),
            num_layers=spec.num_layers, bidirectional=spec.bidirectional, batch_first=spec.batch_first,
            backend=spec.backend, need_grad=need_grad, dtype=str(x.dtype).replace("torch.", ""),
            lengths=lengths, dropout=dropout, dropout_rng=seed)
        outs = (_tensor(y),) + tuple(_tensor(s) for s in hx_n)
        ctx.fctx = fctx
        ctx.spec = spec
        ctx.has_h0 = h0 is not None
        if need_grad:
            ctx.save_for_backward(x, outs[0], *weights)
        return outs

    @staticmethod
    def backward(ctx, grad_y, *grad_state):
        if ctx.fctx is None:
            raise RuntimeError("fastrnn.torch: backward through a forward that kept no context")
        ctx.saved_tensors            # torch checks here that nothing saved was modified in place
        grad_x, grad_hx0, grads = functional.backward(
            ctx.fctx, _host_or_device(grad_y), tuple(map(_host_or_device, grad_state)))
        state_grads = tuple(_tensor(g) for g in grad_hx0) if ctx.has_h0 else (None,) * len(grad_hx0)
        if len(state_grads) == 1:
            state_grads += (None,)                       # c0 of a non-LSTM layer
        return (None, None, None, _tensor(grad_x)) + state_grads + tuple(_tensor(grads[n]) for n in ctx.spec.names)
