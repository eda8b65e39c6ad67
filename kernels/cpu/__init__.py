"""CPU kernels: the fused @njit sweeps (one file per cell and pass) and the three-phase layer.py."""
