"""The benchmark grid and the FLOP count every benchmark reports against.

FLOP count (GEMMs only; the pointwise work is O(T*B*G*H), a few percent at H >= 128):
    forward            input GEMM 2*T*B*G*H*I + recurrent GEMMs 2*T*B*G*H*H   = 2*T*B*G*H*(I + H)
    backward           dX and dW_ih 2 * 2*T*B*G*H*I + dh_{t-1} and dW_hh 2 * 2*T*B*G*H*H
                                                                              = 4*T*B*G*H*(I + H)
    forward+backward                                                          = 6*T*B*G*H*(I + H)
G gates: 4 LSTM, 3 GRU, 1 RNN (fastrnn/modes.py).
"""
import itertools

from ..modes import BENCH_CELLS, MODES

GATES = {cell: MODES[mode].gates for cell, mode in BENCH_CELLS.items()}
PASSES = {"forward": 2, "backward": 4, "forward+backward": 6}

T_VALUES = (1, 100, 500)
B_VALUES = (1, 8, 32, 64)
H_VALUES = (128, 256, 512, 1024)      # I = H throughout

# (T, B, I, H)
FULL = [(T, B, H, H) for T, B, H in itertools.product(T_VALUES, B_VALUES, H_VALUES)]
QUICK = [(100, B, 256, 256) for B in (1, 8, 32)] + [(100, 32, 512, 512)]

# GPU (backend cuda): where persistent kernels should win (B <= 8) and where cuDNN is strong.
GPU_FULL = [(100, B, H, H) for H in (256, 1024) for B in (1, 8, 64, 256)]
GPU_QUICK = [(100, B, 256, 256) for B in (1, 64)]


def flops(cell, T, B, I, H, passes="forward+backward"):
    return PASSES[passes] * T * B * GATES[cell] * H * (I + H)


def parse_shapes(text):
    """'100x32x256,1x1x512' -> [(100, 32, 256, 256), (1, 1, 512, 512)]; TxBxH or TxBxIxH."""
    shapes = []
    for item in text.replace(";", ",").split(","):
        if not item.strip():
            continue
        try:
            dims = tuple(int(v) for v in item.strip().lower().split("x"))
        except ValueError:
            dims = ()
        if len(dims) not in (3, 4) or min(dims) < 1:
            raise ValueError(f"--shapes: {item.strip()!r} is not TxBxH or TxBxIxH with positive sizes")
        shapes.append(dims if len(dims) == 4 else (dims[0], dims[1], dims[2], dims[2]))
    if not shapes:
        raise ValueError("--shapes: no shape given")
    return shapes
