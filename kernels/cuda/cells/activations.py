"""Activations as CUDA device functions, in the argument's own precision.

`type(x)(1)` keeps float32 math in float32: a bare 1.0 would promote it to float64, which the
GPU runs at a fraction of the float32 rate. math.exp/math.tanh map to libdevice's expf/tanhf
for float32 arguments.
"""
import math

from numba import cuda


@cuda.jit(device=True, inline="always")
def sigmoid(x):
    # exp of a non-positive number only: no overflow for any x (the simulator's math.exp raises
    # on overflow where the GPU's expf returns inf), and NaN falls through to the second branch.
    one = type(x)(1)
    if x >= 0:
        return one / (one + math.exp(-x))
    e = math.exp(x)
    return e / (one + e)


@cuda.jit(device=True, inline="always")
def tanh(x):
    return math.tanh(x)
