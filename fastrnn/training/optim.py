"""SGD (with momentum) and Adam over fastrnn's trainable objects, with torch.optim's update rules.

    opt = fastrnn.training.Adam([lstm, head], lr=1e-3)
    y, _ = lstm(x); ...; lstm.backward(grad_y); opt.step()      # updates the parameters in place
"""
import numpy as np


class _Optimizer:
    def __init__(self, trainables, lr):
        self.trainables = list(trainables) if isinstance(trainables, (list, tuple)) else [trainables]
        for t in self.trainables:
            if not (hasattr(t, "named_parameters") and hasattr(t, "grads")):
                raise TypeError(f"{type(t).__name__} has no named_parameters() and grads to optimise")
        if not lr > 0:
            raise ValueError(f"lr must be positive; got {lr!r}")
        self.lr = lr
        self.state = {}          # (id of the trainable, name) -> per-parameter state

    def step(self):
        """One update of every parameter that has a gradient in its trainable's `grads`."""
        for t in self.trainables:
            for name, p in t.named_parameters():
                g = t.grads.get(name)
                if g is None:
                    continue
                if g.shape != p.shape:
                    raise ValueError(f"grads[{name!r}] has shape {g.shape}; the parameter has {p.shape}")
                self._update(p, g, self.state.setdefault((id(t), name), {}))


class SGD(_Optimizer):
    """p -= lr * v, v = momentum * v + (g + weight_decay * p) (torch's form; v = g on the first step)."""

    def __init__(self, trainables, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(trainables, lr)
        self.momentum, self.weight_decay = momentum, weight_decay

    def _update(self, p, g, state):
        d = g + self.weight_decay * p if self.weight_decay else g
        if self.momentum:
            v = state.get("v")
            state["v"] = v = d.copy() if v is None else self.momentum * v + d
            d = v
        p -= p.dtype.type(self.lr) * d


class Adam(_Optimizer):
    """Adam (Kingma & Ba), bias-corrected, as torch.optim.Adam without amsgrad."""

    def __init__(self, trainables, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(trainables, lr)
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay

    def _update(self, p, g, state):
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * p
        if not state:
            state.update(t=0, m=np.zeros_like(p), v=np.zeros_like(p))
        state["t"] += 1
        m, v, t = state["m"], state["v"], state["t"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2 ** t)) + self.eps
        p -= (self.lr / (1 - b1 ** t) * m / denom).astype(p.dtype)
