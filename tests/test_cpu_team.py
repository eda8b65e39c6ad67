"""The CPU layer on teams of 1, 2 and 3 threads (kernels/cpu/runtime/team.py), forced to split even these
small problems: every split of the hidden units, the per-step barrier, and the split GEMMs of
phases 1 and 3, against the reference. Three members on two cores also exercise the barrier's
yield path. The recurrent product itself is checked at every block configuration."""
import numpy as np
import pytest
from helpers import MODES, assert_close64, assert_within_rule, jittered, make_problem, run

from fastrnn.kernels.cpu.products import blas
from fastrnn.kernels.cpu.products import few_rows
from fastrnn.kernels.cpu import layer
from fastrnn.kernels.cpu.runtime import team
from fastrnn.kernels.cpu.runtime.barrier import PAD, barrier
from fastrnn.kernels.cpu.runtime.jit import kernel
from fastrnn.kernels.cpu.products.in_place import columns_dot, rows_dot

SHAPES = {
    # name: (T, B, I, H, options) -- each with its reason
    "H=7":           (5, 3, 4, 7, {}),                  # 3 members own 2, 2 and 3 units: odd row ranges
    "B=5 H=9":       (4, 5, 3, 9, {}),                  # a 4-row block of the batch plus a remainder row
    "B=1":           (6, 1, 4, 8, {}),                  # GEMV per step, split by units
    "H=2":           (3, 2, 3, 2, {}),                  # fewer units than members: a team of 2 at most
    "T=1":           (1, 3, 4, 7, {}),                  # one step, one barrier
    "2layers-bidir": (4, 3, 5, 6, dict(num_layers=2, bidirectional=True)),
}


@pytest.fixture(params=["units", "batch"])
def split(request, monkeypatch):
    """How a sweep shares its work (kernels/cpu/layer.BATCH_SPLIT_*): hidden units with a barrier
    every step, or sequences, each member on its own."""
    monkeypatch.setattr(layer, "BATCH_SPLIT_BYTES", -1 if request.param == "units" else 1 << 62)
    monkeypatch.setattr(layer, "BATCH_SPLIT_SHARED_BYTES", -1 if request.param == "units" else 1 << 62)
    return request.param


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("mode", MODES)
def test_team_matches_reference(rng, members, split, weight_form, mode, shape):
    T, B, I, H, opts = SHAPES[shape]
    assert len(team.unit_ranges(H, 1, 1)) == min(members, H)
    assert len(team.batch_ranges(B, 1, 1)) == min(members, B)
    p = make_problem(rng, mode, T, B, I, H, **opts)
    ref64 = run(p, "reference", np.float64)
    assert_close64(run(p, "cpu", np.float64), ref64)
    assert_within_rule(run(p, "cpu", np.float32), ref64, run(p, "reference", np.float32),
                       run(jittered(p), "reference", np.float64))


@pytest.mark.parametrize("mode", MODES)
def test_team_with_lengths_matches_reference(rng, members, split, weight_form, mode):
    # Ragged batches: padded rows keep their state in every member's units; reverse rows start late.
    T, B = 5, 4
    p = make_problem(rng, mode, T, B, 3, 7, bidirectional=True)
    lens = np.array([5, 2, 4, 1])
    ref64 = run(p, "reference", np.float64, lens)
    assert_close64(run(p, "cpu", np.float64, lens), ref64)
    assert_within_rule(run(p, "cpu", np.float32, lens), ref64, run(p, "reference", np.float32, lens),
                       run(jittered(p), "reference", np.float64, lens))


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_team_results_repeat_bit_for_bit(rng, members, split, mode):
    p = make_problem(rng, mode, 6, 3, 4, 9, bidirectional=True)
    first = run(p, "cpu", np.float32)
    for _ in range(3):
        again = run(p, "cpu", np.float32)
        for k in first:
            np.testing.assert_array_equal(again[k], first[k], err_msg=k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B", [1, 2, 3, 4, 5, 7, 8, 9])
@pytest.mark.parametrize("rows", [(0, 1), (0, 2), (2, 6), (3, 8), (5, 12), (0, 13)])
def test_rows_dot_every_block(rng, dtype, B, rows):
    # 4 x 3, 4 x 2 and 4 x 1 register blocks (B = 1, 2, 4, 7: every mix of them), the last 1-3 rows
    # of W; written at an offset c0.
    r0, r1 = rows
    K, c0 = 37, 2
    a = rng.standard_normal((B, K)).astype(dtype)
    w = rng.standard_normal((13, K)).astype(dtype)
    out = np.full((B, c0 + r1 - r0 + 1), np.nan, dtype=dtype)
    rows_dot(a, w, r0, r1, out, c0)
    want = a.astype(np.float64) @ w[r0:r1].T.astype(np.float64)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out[:, c0:c0 + r1 - r0], want, rtol=tol, atol=tol * K)
    assert np.isnan(out[:, :c0]).all() and np.isnan(out[:, c0 + r1 - r0:]).all()   # nothing else written


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B", [1, 2, 5])
@pytest.mark.parametrize("cols", [(0, 1), (0, 13), (3, 11), (12, 13)])
def test_columns_dot(rng, dtype, B, cols, accumulate):
    # a @ w[:, c0:c1] into (or, accumulating, added to) out[:, c0:c1], w read in place; nothing else
    # of out written. a is some columns of a wider array, as GRU's dG_i[:, :2H] (sweep.py).
    c0, c1 = cols
    G = 37
    a = rng.standard_normal((B, G + 4)).astype(dtype)[:, 2:G + 2]
    w = rng.standard_normal((G, 13)).astype(dtype)
    out = np.full((B, 13), np.nan, dtype=dtype)
    start = rng.standard_normal((B, c1 - c0)).astype(dtype)
    if accumulate:
        out[:, c0:c1] = start
    columns_dot(a, w, c0, c1, out, accumulate)
    want = a.astype(np.float64) @ w[:, c0:c1].astype(np.float64) + (start if accumulate else 0)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out[:, c0:c1], want, rtol=tol, atol=tol * G)
    assert np.isnan(out[:, :c0]).all() and np.isnan(out[:, c1:]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(9, 4, 5), (3, 9, 5), (1, 13, 7), (2, 11, 2), (800, 803, 3)])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_blas_matmul_every_split(rng, members, dtype, m, k, n, layout):
    # the sgemm peak's BLAS GEMM: a's rows split over the members, b C- or F-contiguous
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    b = np.asfortranarray(b) if layout == "F" else b
    tol = 1e-12 if dtype == np.float64 else 1e-5
    want = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(blas.matmul(a, b), want, rtol=tol, atol=tol * k)
    out = np.full((m, n), np.nan, dtype)
    assert blas.matmul(a, b, out) is out
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol * k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, m, n", [(1, 9, 5), (3, 7, 13), (2, 1, 40)])
def test_outer_products_match_numpy(rng, members, dtype, k, m, n):
    # dW = dG^T X for T*B <= OUTER_K rows, the members splitting the output rows
    a = rng.standard_normal((k, m)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    want = a.astype(np.float64).T @ b.astype(np.float64)
    np.testing.assert_allclose(few_rows.outer_products(a, b), want, rtol=tol, atol=tol * k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(1, 13, 7), (2, 11, 37), (5, 9, 3), (7, 40, 17), (16, 3, 1)])
def test_few_rows_products_match_numpy(rng, members, dtype, m, k, n):
    # X W^T with W's rows split over the members (rows_dot's 4 x 3, 4 x 2 and 4 x 1 blocks and
    # its last rows), and dG W with the sum split (columns_dot's 8 rows at a time and its last
    # rows, the members' partial sums added); a is some rows of a wider array, as dG's
    a = rng.standard_normal((m, k + 3)).astype(dtype)[:, 1:k + 1]
    w = rng.standard_normal((n, k)).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(few_rows.matmul_bt(np.ascontiguousarray(a), w),
                               a.astype(np.float64) @ w.T.astype(np.float64), rtol=tol, atol=tol * k)
    v = rng.standard_normal((k, n)).astype(dtype)
    np.testing.assert_allclose(few_rows.matmul(a, v), a.astype(np.float64) @ v.astype(np.float64),
                               rtol=tol, atol=tol * k)


def test_rows_dot_propagates_nan_and_inf():
    # reduction_kernel's fast-math flags allow reassociation only: NaN and inf must survive.
    a = np.ones((5, 9), np.float32)
    w = np.ones((3, 9), np.float32)
    a[1, 4] = np.nan
    a[3, 2] = np.inf
    out = np.zeros((5, 3), np.float32)
    rows_dot(a, w, 0, 3, out, 0)
    assert np.isnan(out[1]).all() and np.isposinf(out[3]).all()
    np.testing.assert_array_equal(out[[0, 2, 4]], 9)


@kernel
def _member(out, blocks, p):
    # writes its block's rows of out, except a member whose block starts at row 2: it fails
    if blocks[p, 0] == 2:
        raise MemoryError("the member of rows 2.. failed")
    out[blocks[p, 0]:blocks[p, 1]] = p + 1



def test_a_failing_member_is_an_error():
    # numba's parallel loop drops a member's exception: team.run must not return as if all ran.
    out = np.zeros(6)
    with pytest.raises(RuntimeError, match="1 of 3 team members failed"):
        team.run(_member, (out,), [(0, 2), (2, 4), (4, 6)])
    np.testing.assert_array_equal(out[[0, 1, 4, 5]], [1, 1, 3, 3])
    with pytest.raises(MemoryError, match="rows 2.. failed"):      # a team of one: the member's own error
        team.run(_member, (out,), [(2, 6)])


def test_team_runs_every_member_at_once():
    # Members of a sweep split by units wait for each other at every step (barrier.py): the
    # threading layer must give each its own thread, or this hangs.
    sync = team.new_sync(1, 3)
    out = np.zeros(3)
    team.run(_barrier_member, (sync, out), [(0, 1), (1, 2), (2, 3)])
    np.testing.assert_array_equal(out, [3, 3, 3])


@kernel
def _barrier_member(sync, out, blocks, p):
    # out[p] = how many members had arrived at the barrier when p left it
    barrier(sync, p, 1)
    n = 0
    for q in range(3):
        n += sync[0, q * PAD] >= 1
    out[p] = n



def test_blas_matmul_runs_blas_single_threaded_and_restores_it():
    # blas.matmul's members call BLAS side by side: BLAS is single-threaded while they run and
    # restored after. The team's own sessions and runs (the layer's, which call no BLAS) leave it as
    # the caller set it. (BLAS's thread count is read in the main thread only: this OpenBLAS
    # ignores a thread's openblas_set_num_threads after the main thread's.)
    from threadpoolctl import threadpool_limits
    controllers = blas.controllers()
    a = np.ones((64, 64), np.float32)
    seen = []
    real_run = team.run

    def run(*args):
        seen.append([c.get_num_threads() for c in controllers])
        return real_run(*args)

    with threadpool_limits(limits=2, user_api="blas"):
        with pytest.MonkeyPatch.context() as m:
            m.setattr(team, "run", run)
            np.testing.assert_array_equal(blas.matmul(a, a), a @ a)
        assert seen == [[1] * len(controllers)]
        assert [c.get_num_threads() for c in controllers] == [2] * len(controllers)
        with team.session():
            team.run(_member, (np.zeros(1),), [(0, 1)])
            assert [c.get_num_threads() for c in controllers] == [2] * len(controllers)


def test_one_session_instance_nests_and_is_shared_by_threads():
    # layer.py decorates with one instance: entered inside itself, and by threads in turn, it
    # must count its depth per entry and leave no state behind.
    import threading

    held = team.session()
    seen = []

    @held
    def call(depth):
        seen.append(team._session["depth"])
        if depth:
            call(depth - 1)

    call(2)
    assert seen == [1, 2, 3]
    seen.clear()
    threads = [threading.Thread(target=call, args=(1,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == [1] * 3 + [2] * 3
    assert team._session["depth"] == 0 and team._session["size"] is None


def test_a_session_that_fails_to_start_releases_the_team(monkeypatch):
    monkeypatch.setenv("FASTRNN_NUM_THREADS", "0")
    with pytest.raises(ValueError, match="FASTRNN_NUM_THREADS"):
        with team.session():
            pass
    monkeypatch.delenv("FASTRNN_NUM_THREADS")
    ok = []
    import threading
    t = threading.Thread(target=lambda: team.run(_member, (np.zeros(1),), [(0, 1)]) or ok.append(1))
    t.start()
    t.join(timeout=30)
    assert ok == [1], "the team's lock was left held"


def test_session_reads_the_team_size_once(monkeypatch):
    monkeypatch.setenv("FASTRNN_NUM_THREADS", "3")
    with team.session():
        monkeypatch.setenv("FASTRNN_NUM_THREADS", "2")
        assert team.size() == 3
    assert team.size() == 2


def test_team_size_from_environment(monkeypatch):
    monkeypatch.setenv("FASTRNN_NUM_THREADS", "3")
    assert team.size() == 3
    monkeypatch.setenv("FASTRNN_NUM_THREADS", "0")
    with pytest.raises(ValueError, match="FASTRNN_NUM_THREADS"):
        team.size()


def test_ranges_cover_once():
    for n in (1, 7, 64, 129):
        for parts in (1, 2, 3, 5):
            if parts > n:
                continue
            got = team.ranges(n, parts)
            assert got[0][0] == 0 and got[-1][1] == n and len(got) == parts
            assert all(a[1] == b[0] for a, b in zip(got, got[1:]))
            assert max(e - s for s, e in got) - min(e - s for s, e in got) <= 1


def _layer_in_child(queue):
    import fastrnn
    lstm = fastrnn.LSTM(8, 64, seed=0)
    y, _ = lstm(np.ones((8, 4, 8), np.float32))
    queue.put((float(y.sum()), team.size()))


def test_team_works_in_a_forked_child():
    # GNU OpenMP cannot start again in a child forked after it ran (numba kills a child that
    # tries): there the team has one member, and the layer still runs, to the same bits. (x has
    # T*B = 32 rows, below layer.FORWARD_PACK_ROWS, so phase 1 runs on few_rows.matmul_bt, whose
    # members split W_ih's 256 rows into multiples of 4: every output is summed by the same code
    # on one member or two.)
    import multiprocessing
    ctx = multiprocessing.get_context("fork")
    with team.configured(threads=2, min_units=1, min_work=0, min_call_work=0):
        import fastrnn
        lstm = fastrnn.LSTM(8, 64, seed=0)
        want, _ = lstm(np.ones((8, 4, 8), np.float32))
        queue = ctx.Queue()
        child = ctx.Process(target=_layer_in_child, args=(queue,))
        child.start()
        child.join(timeout=60)
        if child.is_alive():
            child.kill()
        assert child.exitcode == 0, "the forked child hung or failed"
        got, child_size = queue.get(timeout=5)
        assert got == float(want.sum())
        import numba
        assert child_size == (1 if numba.threading_layer() == "omp" else 2)
