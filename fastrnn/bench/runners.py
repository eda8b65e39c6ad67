"""One forward+backward of one layer, as a zero-argument callable, for each side of the table."""
import numpy as np

import fastrnn

LAYERS = {"lstm": fastrnn.LSTM, "gru": fastrnn.GRU, "rnn": fastrnn.RNN}


def fastrnn_step(cell, T, B, I, H, backend, rng):
    """-> (step, layer): step() runs forward then backward (T, B, I) float32 with random data."""
    layer = LAYERS[cell](I, H, dtype="float32", backend=backend, seed=0)
    x = rng.standard_normal((T, B, I), dtype=np.float32)
    gy = rng.standard_normal((T, B, H), dtype=np.float32)

    def step():
        layer(x)
        layer.backward(gy)
    return step, layer


def torch_layer(cell, I, H):
    """torch.nn.LSTM / GRU / RNN (I, H) for a cell name; ImportError without torch."""
    import torch
    return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell](I, H)


def torch_step(cell, T, B, I, H, layer, rng):
    """The same problem in torch (the same weights), or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    module = torch_layer(cell, I, H)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    x = torch.from_numpy(rng.standard_normal((T, B, I), dtype=np.float32)).requires_grad_()
    gy = torch.from_numpy(rng.standard_normal((T, B, H), dtype=np.float32))

    def step():
        y, _ = module(x)
        y.backward(gy)
    return step
