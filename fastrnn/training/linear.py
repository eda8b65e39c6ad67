"""A dense output layer and the softmax cross-entropy loss: what a recurrent model needs on top
to classify or regress, with the same named_parameters()/grads interface as the layers."""
import numpy as np


class Linear:
    """y = x W^T + b over the last axis: W (out, in), b (out,), torch's layout and init."""

    def __init__(self, in_features, out_features, dtype="float32", seed=None):
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(in_features)
        self.params = {"weight": rng.uniform(-k, k, (out_features, in_features)).astype(dtype),
                       "bias": rng.uniform(-k, k, out_features).astype(dtype)}
        self.grads = {}
        self._x = None

    def named_parameters(self):
        return list(self.params.items())

    def __call__(self, x):
        self._x = x
        return x @ self.params["weight"].T + self.params["bias"]

    def backward(self, grad_y):
        """-> grad_x; fills self.grads."""
        x2 = self._x.reshape(-1, self._x.shape[-1])
        g2 = grad_y.reshape(-1, grad_y.shape[-1])
        self.grads = {"weight": g2.T @ x2, "bias": g2.sum(0)}
        return grad_y @ self.params["weight"]


def softmax_cross_entropy(logits, targets):
    """Mean cross-entropy of logits (N, C) against integer targets (N,) -> (loss, grad_logits)."""
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    n = logits.shape[0]
    loss = -float(logp[np.arange(n), targets].mean())
    grad = np.exp(logp)
    grad[np.arange(n), targets] -= 1
    return loss, (grad / n).astype(logits.dtype)
