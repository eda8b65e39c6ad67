"""The GEMMs and reductions of phases 1 and 3 and of the step-launch sweep (cuBLAS through CuPy)."""
