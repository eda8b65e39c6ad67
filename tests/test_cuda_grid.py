"""Persistent sweeps as multi-block grids, every block running at once (tests/grid_simulator.py).

On the plain simulator a persistent kernel runs as one block; here FASTRNN_CUDA_BLOCKS splits the
hidden units over 2-5 blocks, the last one short, and the blocks meet at a real grid barrier.
FASTRNN_TEST_GRID_SYNC=block plants the bug these tests exist for (grid.sync() syncing only the
block): every test here but the one that plants it on purpose should then fail.
"""
import os

import numpy as np
import pytest
from grid_simulator import concurrent_grid
from helpers import MODES, assert_close64, make_problem, run

from fastrnn.kernels.cuda import dispatch
from fastrnn.kernels.cuda.runtime.device import SIMULATOR

pytestmark = pytest.mark.skipif(not SIMULATOR, reason="a simulator mode; on a GPU the grid is real")

H = 7     # 2 blocks: 4 + 3 units; 3 blocks: 3 + 3 + 1; 5 asked: 4 blocks of 2 + 2 + 2 + 1
BLOCKS = {2: (2, 4), 3: (3, 3), 5: (4, 2)}     # asked -> (blocks, units per block)
PROBLEMS = {
    # name: (T, B, threads per block, lengths) -- B=1 with 16 threads: several threads share
    # each dot product; B=3 with 3 threads: each thread takes several dots; ragged lengths in
    # both directions (a reverse sweep starts each sequence at its own last step); B=5 and B=9:
    # the batch-tile variants for B >= 4 and B >= 8, their second tile padded
    "bidir-B1": (4, 1, 16, None),
    "bidir-ragged": (4, 3, 3, [4, 1, 3]),
    "bidir-B5-ragged": (3, 5, 8, [3, 1, 2, 3, 2]),     # batch tiles of 4 (the kernels for B >= 4)
    "bidir-B9-ragged": (2, 9, 8, [2, 1, 2, 2, 1, 2, 2, 1, 2]),   # batch tiles of 8 (for B >= 8)
}


@pytest.fixture
def grid(monkeypatch):
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "persistent")
    with concurrent_grid(os.environ.get("FASTRNN_TEST_GRID_SYNC", "grid")):
        yield


def _run_persistent(monkeypatch, rng, mode, problem, asked, grid_sync=None):
    T, B, threads, lengths = PROBLEMS[problem]
    monkeypatch.setattr(dispatch, "SIM_PERSISTENT_THREADS", threads)
    monkeypatch.setenv("FASTRNN_CUDA_BLOCKS", str(asked))
    p = make_problem(rng, mode, T, B, 3, H, bidirectional=True)
    return p, run(p, "cuda", np.float64, lengths=lengths), lengths


@pytest.mark.parametrize("asked", list(BLOCKS))
@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("mode", MODES)
def test_multi_block_persistent_matches_reference(rng, monkeypatch, grid, mode, problem, asked):
    p, got, lengths = _run_persistent(monkeypatch, rng, mode, problem, asked)
    plan = dispatch.last_plan
    assert (plan.strategy, plan.blocks, plan.units_per_block) == ("persistent",) + BLOCKS[asked]
    assert_close64(got, run(p, "reference", np.float64, lengths=lengths))


def test_a_block_barrier_for_grid_sync_is_caught(rng, monkeypatch):
    # The bug planted on purpose: blocks run ahead of each other and read h_{t-1} (or dG_t)
    # before its owner wrote it, which the NaN-poisoned outputs make visible.
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "persistent")
    with concurrent_grid("block"):
        p, got, lengths = _run_persistent(monkeypatch, rng, "LSTM", "bidir-ragged", 3)
    with pytest.raises(AssertionError):
        assert_close64(got, run(p, "reference", np.float64, lengths=lengths))


def test_blocks_knob_is_checked(monkeypatch):
    monkeypatch.setenv("FASTRNN_CUDA_BLOCKS", "0")
    with pytest.raises(ValueError, match="FASTRNN_CUDA_BLOCKS"):
        dispatch.choose(4, 1, 7, 8, lambda threads, shared: 64)
    monkeypatch.setenv("FASTRNN_CUDA_BLOCKS", "9")      # more than can be co-resident
    monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", "persistent")
    with pytest.raises(ValueError, match="only 4 blocks can be co-resident"):
        dispatch.choose(4, 1, 64, 8, lambda threads, shared: 4)


@pytest.mark.parametrize("mode", MODES)
def test_multi_block_chunked_and_split_products(rng, monkeypatch, grid, mode):
    # Forward, h_{t-1} staged in chunks of 16 columns (the last one short) and up to 4 threads
    # splitting each tile's columns, which tiny shapes never need on their own: H=33 puts 36
    # padded columns through the chunk loop. Backward, the product's 36 rows in passes of 16,
    # and the 3 blocks' partial products gathered one block per pass.
    from fastrnn.kernels.cuda import persistent
    monkeypatch.setattr(persistent, "MIN_PART", 4)
    monkeypatch.setattr(dispatch, "fitting_layout",
                        lambda G, H, B, U, threads, backward, limit: persistent.layout(G, H, B, U, threads,
                                                                                       backward, chunk=16))
    monkeypatch.setattr(dispatch, "SIM_PERSISTENT_THREADS", 64)
    monkeypatch.setenv("FASTRNN_CUDA_BLOCKS", "3")
    p = make_problem(rng, mode, 3, 2, 3, 33, bidirectional=True)
    lengths = [3, 2]
    got = run(p, "cuda", np.float64, lengths=lengths)
    plan = dispatch.last_plan
    assert (plan.blocks, plan.units_per_block) == (3, 11)
    assert plan.forward.chunk == plan.backward.chunk == 16 and max(plan.forward.S, plan.backward.S) > 1
    assert plan.backward.per == 1
    assert_close64(got, run(p, "reference", np.float64, lengths=lengths))
