"""The cell math on the GPU: one file per cell and pass, each the pointwise step of one hidden
unit, from which kernels/cuda/sweep.py builds the kernels."""
