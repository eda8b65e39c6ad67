"""CPU kernels (@njit): layer.py runs the three phases; sweep.py is phase 2's time loop, running
a cell's step from cells/; products/ holds the matrix products, runtime/ the threads and numba's
settings (kernels/README.md)."""
