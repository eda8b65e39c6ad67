"""Static profile of the CUDA kernels for real GPU targets, and a per-step model of the sweeps.

`python -m fastrnn.kernels.cuda.profile` (with NUMBA_ENABLE_CUDASIM=0) runs it; __main__.py says
what it reports and when it fails. No GPU or driver is needed: only NVVM, nvJitLink and the CUDA
binary utilities from the nvidia-cuda-* wheels.
"""
