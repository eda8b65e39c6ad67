"""fastrnn's kernels, installed as fastrnn.kernels: cpu/ (@njit, one file per cell and pass)."""
