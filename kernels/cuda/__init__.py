"""CUDA kernels (numba.cuda): the recurrent sweeps of LSTM, GRU and the Elman RNN, forward and BPTT.

layer.py runs one layer in one direction in three phases, like kernels/cpu/layer.py; sweep.py holds
the skeleton shared by every cell (step-launch and persistent kernels); each *_forward.py and
*_backward.py holds one cell's pointwise step; dispatch.py picks the strategy for a shape.
"""
