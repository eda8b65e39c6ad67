"""fastrnn's kernels, installed as fastrnn.kernels: cpu/ (@njit) and cuda/ (numba.cuda), each split
into cells/ (the step math), sweep.py (the time loop), products/ and runtime/; kernels/README.md
maps them."""
