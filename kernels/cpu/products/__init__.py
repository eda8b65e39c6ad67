"""The CPU matrix products: a sweep step's recurrent product (recurrent.py, on panels.py's packed
matrices with microkernel.py's register tile, or in_place.py's), and the GEMMs of phases 1 and 3
(tile_gemm.py; few_rows.py over few rows; bias_grad.py; blas.py for the benchmark's sgemm peak)."""
