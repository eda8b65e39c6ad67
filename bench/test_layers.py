"""pytest-benchmark suite: forward, backward and forward+backward of one layer, per cell, shape
and backend, with torch (oneDNN on CPU) in the same comparison group.

    pytest bench/ --benchmark-only                          # the quick grid
    FASTRNN_BENCH_GRID=full pytest bench/ --benchmark-only  # T x B x H of fastrnn.bench.grid
    pytest bench/ --benchmark-only -k "gru and forward+backward" --benchmark-columns=median

FLOP count, as in fastrnn/bench/grid.py (GEMMs only):
    forward 2*T*B*G*H*(I+H), backward 4*T*B*G*H*(I+H), forward+backward 6*T*B*G*H*(I+H);
each result carries it and its GFLOP/s in extra_info. The CUDA backend is benchmarked against
cuDNN by `fastrnn bench --backend cuda` (bench/gpu_suite.sh runs it), not here.
"""
import os

import numpy as np
import pytest

from fastrnn.bench import grid, runners

SHAPES = grid.FULL if os.environ.get("FASTRNN_BENCH_GRID") == "full" else grid.QUICK
REFERENCE_MAX = 100 * 32 * 256   # T*B*H above which the plain-numpy reference takes minutes
SIDES = ["cpu", "reference", "torch"]


def _problem(side, cell, T, B, I, H):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, B, I), dtype=np.float32)
    gy = rng.standard_normal((T, B, H), dtype=np.float32)
    if side == "torch":
        torch = pytest.importorskip("torch", reason="torch is the comparison side; pip install fastrnn[bench]")
        module = runners.torch_layer(cell, I, H)
        xt = torch.from_numpy(x).requires_grad_()
        gyt = torch.from_numpy(gy)

        def forward():
            with torch.no_grad():
                module(xt)

        def backward_only():
            # torch has no separate backward call; retain_graph lets one graph be replayed.
            y, _ = module(xt)
            return lambda: y.backward(gyt, retain_graph=True)

        def both():
            module(xt)[0].backward(gyt)
        return forward, backward_only, both
    layer = runners.LAYERS[cell](I, H, dtype="float32", backend=side, seed=0)

    def forward():
        layer(x, need_grad=False)

    def backward_only():
        layer(x)
        return lambda: layer.backward(gy)

    def both():
        layer(x)
        layer.backward(gy)
    return forward, backward_only, both


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}-B{}-I{}-H{}".format(*s))
@pytest.mark.parametrize("passes", list(grid.PASSES))
@pytest.mark.parametrize("cell", list(grid.GATES))
@pytest.mark.parametrize("side", SIDES)
def test_layer(benchmark, side, cell, passes, shape):
    T, B, I, H = shape
    if side == "reference" and T * B * H > REFERENCE_MAX:
        pytest.skip("the float64-style numpy reference is a specification, too slow to time at this size")
    forward, backward_only, both = _problem(side, cell, T, B, I, H)
    fn = {"forward": forward, "backward": backward_only(), "forward+backward": both}[passes]
    fn()                                     # compile / warm up outside the timing
    benchmark.group = f"{cell} {passes} T={T} B={B} I={I} H={H}"
    benchmark(fn)
    flops = grid.flops(cell, T, B, I, H, passes)
    benchmark.extra_info["flops"] = flops
    if benchmark.stats:          # None under --benchmark-disable (a single untimed run)
        benchmark.extra_info["gflops"] = flops / benchmark.stats.stats.median / 1e9
