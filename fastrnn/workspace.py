"""How much memory a layer stack needs beyond its inputs and weights, before it is asked for.

    fastrnn.workspace_bytes("LSTM", T=1000, B=64, I=256, H=512, num_layers=2, need_grad=True)

The count follows the CPU and CUDA backends' buffers (kernels/*/layer.py), with T steps, B batch,
H hidden size, G gates, D directions, I_l a layer's input size (I, then D*H), in elements:
    input projection, one direction at a time     T*B*G*H   (LSTM and GRU keep it, as the
                                                             gate activations, when training)
    h_t of each direction, and the layer output    T*B*D*H twice (once when D = 1)
    saved state sequence when training             T*B*D*H   (LSTM c_t, GRU hn_t)
    backward, one layer at a time                  T*B*(G*H*(1 + [GRU]) + 2*I_l)   dG, dx, their sum
                                                   (GRU's second dG is H wide on the CPU, G*H on CUDA)
                                                   + the CPU weight-gradient GEMM's scratch:
                                                             its panels and blocks of dG
Training holds every layer's kept buffers until backward has passed it; inference (need_grad
False) holds one layer's and the previous layer's output. Weights' gradients are added too.
Measured against tracemalloc on the CPU backend, the estimate is at most 1.6x the peak and
never under 0.9x of it (tests/test_memory.py checks the band).
"""
import numpy as np

from .modes import mode_of


def workspace_bytes(mode, T, B, I, H, num_layers=1, bidirectional=False, dtype="float32", need_grad=True):
    """Bytes of host or device memory one forward (and, if need_grad, backward) allocates."""
    spec = mode_of(mode)
    G = spec.gates
    D = 2 if bidirectional else 1
    TB = T * B
    layer_in = [I] + [D * H] * (num_layers - 1)
    outputs = TB * D * H * (2 if D == 2 else 1)     # each direction's h_t, and their concatenation
    projection = TB * G * H                          # one direction's input projection
    weights = sum(D * G * H * (i + H + 2) for i in layer_in)
    if not need_grad:
        return int(np.dtype(dtype).itemsize * (projection + outputs + max(layer_in) * TB + weights))
    gates_kept = D * projection if mode in ("LSTM", "GRU") else 0
    states_kept = TB * D * H * spec.saved_states
    backward = max(TB * (G * H * (2 if mode == "GRU" else 1) + 2 * i) + _weight_grad_scratch(TB, G * H, i, np.dtype(dtype).itemsize)
                   for i in layer_in)
    transient = 0 if gates_kept else projection
    total = num_layers * (gates_kept + states_kept + outputs) + transient + backward + weights
    return int(np.dtype(dtype).itemsize * total)


def _weight_grad_scratch(k, m, n, itemsize):
    # what the CPU weight-gradient GEMM dG^T X allocates besides its output: panels, slabs of dG,
    # partial sums
    from fastrnn.kernels.cpu.products.tile_gemm import extra_elements
    return extra_elements(k, m, n, itemsize)


def format_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
