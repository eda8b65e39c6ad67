"""The time-loop skeleton shared by every sweep: which t a step visits, and the state before it.

A sweep in direction `reverse` visits t = 0 .. T-1 (or T-1 .. 0); backward sweeps walk the
same visits in the opposite order. "Before t" always means in the forward sweep's own order.
"""
from .jit import kernel


@kernel
def time_index(step, T, reverse):
    """t visited at the `step`-th step of a sweep running forward in time unless `reverse`."""
    return T - 1 - step if reverse else step


@kernel
def state_before(seq, first, t, reverse):
    """seq (T, B, H): the state that step t starts from: seq[t-1] (seq[t+1] if reverse), or
    `first` (B, H) at the sweep's first step."""
    if t == (seq.shape[0] - 1 if reverse else 0):
        return first
    return seq[t + 1] if reverse else seq[t - 1]
