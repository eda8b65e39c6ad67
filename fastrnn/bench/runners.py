"""One forward+backward of one layer, as a zero-argument callable, for each side of the table."""
import numpy as np

import fastrnn

LAYERS = {"lstm": fastrnn.LSTM, "gru": fastrnn.GRU, "rnn": fastrnn.RNN}


MODES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN_TANH"}


def fastrnn_step(cell, T, B, I, H, backend, rng):
    """-> (step, layer): step() runs forward then backward (T, B, I) float32 with random data."""
    layer = LAYERS[cell](I, H, dtype="float32", backend=backend, seed=0)
    x = rng.standard_normal((T, B, I), dtype=np.float32)
    gy = rng.standard_normal((T, B, H), dtype=np.float32)
    if backend == "cuda":
        return _cuda_step(cell, layer, x, gy), layer

    def step():
        layer(x)
        layer.backward(gy)
    return step, layer


def _cuda_step(cell, layer, x, gy):
    # The layer kernels on device arrays, as torch is timed on CUDA tensors: no host copies.
    from numba import cuda

    from fastrnn.kernels.cuda import layer as cuda_layer
    w = {k: cuda.to_device(v) for k, v in layer.state_dict().items()}
    B, H = x.shape[1], gy.shape[2]
    n_state = 2 if cell == "lstm" else 1
    state0 = tuple(cuda.to_device(np.zeros((B, H), np.float32)) for _ in range(n_state))
    dstate = tuple(cuda.to_device(np.zeros((B, H), np.float32)) for _ in range(n_state))
    x, gy = cuda.to_device(x), cuda.to_device(gy)
    args = (w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"], w["bias_hh_l0"])

    def step():
        _, _, saved = cuda_layer.forward(MODES[cell], x, state0, *args)
        cuda_layer.backward(saved, gy, dstate)
        cuda.synchronize()
    return step


def torch_layer(cell, I, H):
    """torch.nn.LSTM / GRU / RNN (I, H) for a cell name; ImportError without torch."""
    import torch
    return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell](I, H)


def torch_step(cell, T, B, I, H, layer, rng, device="cpu"):
    """The same problem in torch (the same weights), or None without torch. On "cuda" it runs
    cuDNN in strict float32 (no TF32), as fastrnn computes."""
    try:
        import torch
    except ImportError:
        return None
    if device == "cuda":
        strict_float32_cudnn()
    module = torch_layer(cell, I, H)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    module.to(device)
    x = torch.from_numpy(rng.standard_normal((T, B, I), dtype=np.float32)).to(device).requires_grad_()
    gy = torch.from_numpy(rng.standard_normal((T, B, H), dtype=np.float32)).to(device)

    def step():
        y, _ = module(x)
        y.backward(gy)
        if device == "cuda":
            torch.cuda.synchronize()
    return step


def strict_float32_cudnn():
    """cuDNN RNNs default to TF32 in recent torch; turn it off for a float32-to-float32 comparison."""
    import torch
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    rnn = getattr(torch.backends.cudnn, "rnn", None)
    if rnn is not None and hasattr(rnn, "fp32_precision"):
        rnn.fp32_precision = "ieee"
