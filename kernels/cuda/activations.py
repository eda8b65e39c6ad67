"""Activations as CUDA device functions, in the argument's own precision.

`type(x)(1)` keeps float32 math in float32: a bare 1.0 would promote it to float64, which the
GPU runs at a fraction of the float32 rate. math.exp/math.tanh map to libdevice's expf/tanhf
for float32 arguments.
"""
import math

from numba import cuda


@cuda.jit(device=True, inline="always")
def sigmoid(x):
    one = type(x)(1)
    return one / (one + math.exp(-x))


@cuda.jit(device=True, inline="always")
def tanh(x):
    return math.tanh(x)
