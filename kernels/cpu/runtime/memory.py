"""Where the CPU kernels' outputs and scratch come from.

Every array a CPU kernel writes is allocated by `empty`, which the tests replace with a NaN-filled
allocator (tests/conftest.py), so an element that a kernel forgets to write cannot pass unnoticed.
"""
import numpy as np


def empty(shape, dtype):
    return np.empty(shape, dtype=dtype)
