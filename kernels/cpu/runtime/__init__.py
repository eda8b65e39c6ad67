"""Where the CPU kernels run: the team of threads (team.py, launch.py, barrier.py), numba's
options and disk cache (jit.py, cache.py), and the one allocator (memory.py)."""
