"""Where the CUDA kernels run: a GPU or numba's simulator, the one allocator (device.py), and the
grid sizes of grid-stride launches (launch.py)."""
