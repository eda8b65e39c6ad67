"""The cell math on the CPU: one file per cell and pass, each a fused pointwise step that
kernels/cpu/sweep.py runs; activations.py has the vectorisable sigmoid and tanh."""
