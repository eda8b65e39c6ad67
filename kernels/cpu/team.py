"""Who runs on which core: the CPU layer's own team of threads, with BLAS single-threaded inside it.

Why a team of our own: two thread pools on the same cores fight. The sweeps' small per-step
products are fastest in our own loop (recurrent.py), so if phases 1 and 3 left BLAS its own
threads, those threads would still be busy-waiting (OpenBLAS spins about 0.1 s after a call)
while our sweep wants the cores: measured 2.5x slower sweeps right after a BLAS call. So every
phase runs on this one team, and BLAS, called by each member on its share, is limited to one
thread for the duration of the call (and restored afterwards: the caller's BLAS settings are
theirs). On 2 cores, two single-threaded BLAS calls on halves of a 2048^3 sgemm also beat
OpenBLAS's own two threads (135 vs 155 ms).

A sweep splits the hidden units (and with them the rows of W_hh) among the members; they meet at
one barrier per step (barrier.py). Phases 1 and 3 split the rows of their GEMMs.
The split depends only on the problem's shape and the team size, so results are bit-identical
from run to run on one machine; FASTRNN_NUM_THREADS sets the team size (default: the cores this
process may run on).
"""
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext

import numpy as np

from .barrier import PAD

# A member gets at least MIN_UNITS hidden units, and a step at least MIN_WORK multiply-adds per
# member; below that the barrier (~0.1 us) and the shorter vector loops cost more than they save.
# A whole call (a sweep, or one GEMM) splits only if each member gets MIN_CALL_WORK multiply-adds:
# handing work to a sleeping thread costs tens of microseconds here, which a one-step (T=1)
# problem of a few hundred thousand multiply-adds does not repay (measured before this bound:
# GRU T=1 B=8 H=256 fwd+bwd 1.17 ms on the team against 0.44 ms on one thread).
MIN_UNITS = 16
MIN_WORK = 1 << 14
MIN_CALL_WORK = 1 << 21
# A sweep split by sequences gives each member at least MIN_ROWS of them: one register block of
# the recurrent product (recurrent.py) is 3 rows high.
MIN_ROWS = 3

_settings = {"threads": None, "min_units": MIN_UNITS, "min_work": MIN_WORK, "min_call_work": MIN_CALL_WORK,
             "min_rows": MIN_ROWS}
_lock = threading.Lock()       # one team: concurrent callers take turns
_pool = None                   # (executor, its number of workers)
_blas = None


def _after_fork_in_child():
    # A forked child has none of the parent's threads: start a new pool there, and a free lock.
    global _lock, _pool
    _lock = threading.Lock()
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def size():
    """Members of the team: FASTRNN_NUM_THREADS, or the cores this process may run on."""
    if _settings["threads"] is not None:
        return _settings["threads"]
    env = os.environ.get("FASTRNN_NUM_THREADS")
    if env:
        n = int(env)
        if n < 1:
            raise ValueError(f"FASTRNN_NUM_THREADS must be a positive integer; got {env!r}")
        return n
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@contextmanager
def configured(threads=None, min_units=None, min_work=None, min_call_work=None, min_rows=None):
    """Temporarily override the team size and the split thresholds (tests use this to split tiny
    problems over 2 and 3 members)."""
    new = {"threads": threads, "min_units": min_units, "min_work": min_work, "min_call_work": min_call_work,
           "min_rows": min_rows}
    old = dict(_settings)
    _settings.update({k: v for k, v in new.items() if v is not None})
    try:
        yield
    finally:
        _settings.update(old)


def ranges(n, parts):
    """[0, n) cut into `parts` contiguous ranges whose lengths differ by at most one."""
    edges = [n * p // parts for p in range(parts + 1)]
    return [(edges[p], edges[p + 1]) for p in range(parts)]


def batch_ranges(B, row_work, steps):
    """The sequences each member of a sweep owns when it splits the batch, for B sequences of
    row_work multiply-adds per step and `steps` steps."""
    return ranges(B, _parts(B // max(1, _settings["min_rows"]), steps * B * row_work))


def unit_ranges(H, step_work, steps):
    """The hidden units each member of a sweep owns, for H units, step_work multiply-adds per
    step and `steps` steps."""
    s = _settings
    most = min(H // max(1, s["min_units"]), _most(step_work, s["min_work"]))
    return ranges(H, _parts(most, steps * step_work))


def row_ranges(rows, work):
    """The rows of a phase-1/3 GEMM each member computes, for `work` multiply-adds in all."""
    return ranges(rows, _parts(rows, work))


def _most(work, min_work):
    # how many members `work` can feed, at least min_work each (no bound when min_work is 0)
    return work // min_work if min_work else sys.maxsize


def _parts(most, work):
    return max(1, min(size(), most, _most(work, _settings["min_call_work"])))


def new_sync(parts):
    """The barrier array of a sweep run by `parts` members (barrier.py)."""
    return np.zeros(parts * PAD + 1, dtype=np.int64)


def run(fn, args_per_member, sync=None, blas=True):
    """fn(*args) for every member's args, the first on this thread, all at once; BLAS single-threaded
    unless fn calls no BLAS (`blas=False`: the sweeps; setting it and back costs about 7 us).
    If a member raises, the others are told through sync's abort flag (so none waits forever at a
    barrier) and the first exception is raised here."""
    global _pool
    with _lock, (_single_threaded_blas() if blas else nullcontext()):
        if len(args_per_member) == 1:
            return [fn(*args_per_member[0])]
        workers = len(args_per_member) - 1
        if _pool is None or _pool[1] < workers:
            if _pool is not None:
                _pool[0].shutdown(wait=False)
            _pool = (ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fastrnn"), workers)

        def member(args):
            try:
                return fn(*args)
            except BaseException:
                if sync is not None:
                    sync[-1] = 1
                raise
        futures = [_pool[0].submit(member, args) for args in args_per_member[1:]]
        results, error = [], None
        try:
            results.append(member(args_per_member[0]))
        except BaseException as e:
            error = e
        for f in futures:
            try:
                results.append(f.result())
            except BaseException as e:
                error = error or e
        if error is not None:
            raise error
        return results


@contextmanager
def _single_threaded_blas():
    controllers = _blas_controllers()
    before = [c.get_num_threads() for c in controllers]
    for c in controllers:
        c.set_num_threads(1)
    try:
        yield
    finally:
        for c, n in zip(controllers, before):
            c.set_num_threads(n)


def _blas_controllers():
    # The BLAS libraries loaded in this process, scipy's among them (numba's np.dot calls it).
    global _blas
    if _blas is None:
        import scipy.linalg.cython_blas  # noqa: F401  (load it before looking)
        from threadpoolctl import ThreadpoolController
        _blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
    return _blas
