"""CUDA kernels (numba.cuda): layer.py runs the three phases like kernels/cpu/layer.py; sweep.py
builds both phase-2 strategies (step launch, persistent) from each cell's pointwise step in
cells/; dispatch.py picks the strategy for a shape; products/ holds the GEMMs, arrays/ the small
kernels around the sweeps, runtime/ the device and launch sizes (kernels/README.md)."""
