"""Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_, over `grads` dicts."""
import numpy as np


def _arrays(grads):
    """A grads dict, a trainable object, or a list of either -> list of gradient arrays."""
    items = grads if isinstance(grads, (list, tuple)) else [grads]
    out = []
    for g in items:
        d = g.grads if hasattr(g, "grads") else g
        if not isinstance(d, dict):
            raise TypeError(f"expected a grads dict or an object with .grads; got {type(g).__name__}")
        out += [a for a in d.values() if a is not None]
    return out


def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """Scale every gradient in place so that their joint norm is at most max_norm; returns the
    norm before clipping. norm_type 2 (default), any p >= 1, or inf."""
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive; got {max_norm!r}")
    arrays = _arrays(grads)
    if not arrays:
        return 0.0
    if norm_type == np.inf:
        total = max(float(np.abs(a).max()) for a in arrays)
    else:
        if not norm_type >= 1:
            raise ValueError(f"norm_type must be >= 1 or inf; got {norm_type!r}")
        total = float(sum(float(np.sum(np.abs(a, dtype=np.float64) ** norm_type)) for a in arrays)) ** (1.0 / norm_type)
    scale = max_norm / (total + 1e-6)          # torch's epsilon
    if scale < 1:
        for a in arrays:
            a *= a.dtype.type(scale)
    return total


def clip_grad_value(grads, clip_value):
    """Clip every gradient element into [-clip_value, clip_value], in place."""
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be non-negative; got {clip_value!r}")
    for a in _arrays(grads):
        np.clip(a, -clip_value, clip_value, out=a)
