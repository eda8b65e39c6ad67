"""Truncated backpropagation through time over a long sequence, chunk by chunk.

The state is carried from one chunk to the next; the gradient is not: each chunk's backward
starts from zero at its last step, so nothing flows across a chunk boundary. With one chunk as
long as the sequence this is full BPTT.
"""
import numpy as np


def truncated_bptt(layer, x, chunk, grad_y, hx=None, on_chunk=None):
    """Run `layer` over x (T, B, I) (time-major) in chunks of `chunk` steps.

    grad_y: (T, B, D*H) array, or a function (y_chunk, t0) -> gradient of y_chunk, called as
    each chunk's output is known (a loss over that chunk, say).
    on_chunk: optional function (layer, t0) called after each chunk's backward, with the chunk's
    gradients in layer.grads (an optimiser step and clipping go there).
    Returns y (T, B, D*H), the final state, and grads summed over the chunks.
    """
    if getattr(layer, "batch_first", False):
        raise ValueError("truncated_bptt takes time-major x (T, B, I); the layer has batch_first=True")
    chunk = int(chunk)
    if chunk < 1:
        raise ValueError(f"chunk must be a positive number of steps; got {chunk}")
    T = np.shape(x)[0]
    ys, total = [], {}
    for t0 in range(0, T, chunk):
        y, hx = layer(x[t0:t0 + chunk], hx)
        g = grad_y(y, t0) if callable(grad_y) else grad_y[t0:t0 + chunk]
        layer.backward(g)                              # no gradient into the carried state
        for k, v in layer.grads.items():
            total[k] = v.copy() if k not in total else total[k] + v
        if on_chunk is not None:
            on_chunk(layer, t0)
        ys.append(y)
    return np.concatenate(ys, axis=0), hx, total
