"""Small device kernels around the sweeps: layout changes, elementwise ops, variable-length rows."""
