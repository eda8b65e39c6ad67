"""Who runs on which core: the CPU layer's own team of threads, with BLAS single-threaded inside it.

Why a team of our own: two thread pools on the same cores fight. The sweeps' small per-step
products are fastest in our own loop (recurrent.py), so if phases 1 and 3 left BLAS its own
threads, those threads would still be busy-waiting (OpenBLAS spins about 0.1 s after a call)
while our sweep wants the cores: measured 2.5x slower sweeps right after a BLAS call. So every
phase runs on this one team, and BLAS, called by each member on its share, is limited to one
thread for the duration of a layer's forward or backward (a session; restored afterwards: the
caller's BLAS settings are theirs). On 2 cores, two single-threaded BLAS calls on halves of a
2048^3 sgemm also beat OpenBLAS's own two threads (135 vs 155 ms).

A sweep splits the batch, or the hidden units (and with them the rows of W_hh) among the members,
who then meet at one barrier per step (barrier.py). Phases 1 and 3 split their GEMMs (blas.py).
The members other than the calling thread are long-lived threads (_Worker).
The split depends only on the problem's shape and the team size, so results are bit-identical
from run to run on one machine; FASTRNN_NUM_THREADS sets the team size (default: the cores this
process may run on).
"""
import os
import sys
import threading
from contextlib import contextmanager, nullcontext

import numpy as np

from .barrier import PAD

# A member gets at least MIN_UNITS hidden units, and a step at least MIN_WORK multiply-adds per
# member; below that the barrier (~0.1 us) and the shorter vector loops cost more than they save.
# A whole call (a sweep, or one GEMM) splits only if each member gets MIN_CALL_WORK multiply-adds
# (about 30 us on one core): handing work to a sleeping thread and back costs about 20 us here
# (_Worker), which a one-step (T=1) problem of a few hundred thousand multiply-adds does not repay.
# Measured fwd+bwd on 2 cores, bounds 2M / 1M / 512K: LSTM T=1 B=32 H=128 0.79 / 0.75 / 0.79 ms,
# B=8 H=256 1.03 / 0.89 / 0.88 ms; RNN T=1 B=64 H=128 0.49 / 0.48 / 0.56 ms.
MIN_UNITS = 16
MIN_WORK = 1 << 14
MIN_CALL_WORK = 1 << 20
# A sweep split by sequences gives each member at least MIN_ROWS of them: one register block of
# the recurrent product (recurrent.py) is 3 rows high.
MIN_ROWS = 3

_settings = {"threads": None, "min_units": MIN_UNITS, "min_work": MIN_WORK, "min_call_work": MIN_CALL_WORK,
             "min_rows": MIN_ROWS}
_lock = threading.RLock()      # one team: concurrent callers take turns (a session, or one run)
_pool = []                     # the _Workers, added as calls need them
_blas = None
_session = {"depth": 0, "size": None, "blas": False}   # guarded by _lock


def _after_fork_in_child():
    # A forked child has none of the parent's threads: start a new pool there, and a free lock.
    global _lock, _pool
    _lock = threading.RLock()
    _pool = []
    _session.update(depth=0, size=None, blas=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def size():
    """Members of the team: FASTRNN_NUM_THREADS, or the cores this process may run on (read once
    per session: looking them up costs about 2 us, and a layer call splits a dozen times)."""
    if _settings["threads"] is not None:
        return _settings["threads"]
    if _session["size"] is not None:
        return _session["size"]
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
    with session(blas):
        if len(args_per_member) == 1:
            return [fn(*args_per_member[0])]
        workers = len(args_per_member) - 1
        _pool += [_Worker(i) for i in range(len(_pool), workers)]

        def member(*args):
            try:
                return fn(*args)
            except BaseException:
                if sync is not None:
                    sync[-1] = 1
                raise
        for worker, args in zip(_pool, args_per_member[1:]):
            worker.start(member, args)
        results, error = [], None
        try:
            results.append(member(*args_per_member[0]))
        except BaseException as e:
            error = e
        for worker in _pool[:workers]:
            result, e = worker.wait()
            results.append(result)
            error = error or e
        if error is not None:
            raise error
        return results


class _Worker:
    """A thread that runs one member's call at a time. Two plain locks hand the call over and back
    (one futex wake each way): a round trip costs about 12 us here, against 33 us through a
    concurrent.futures executor (a queue, a condition and a future per call)."""

    def __init__(self, index):
        self._go = threading.Lock()
        self._done = threading.Lock()
        self._go.acquire()
        self._done.acquire()
        self._call = None
        self._outcome = None
        self._pending = False       # a call was handed over and its outcome not yet taken
        threading.Thread(target=self._loop, name=f"fastrnn-{index}", daemon=True).start()

    def start(self, fn, args):
        if self._pending:
            # The last caller stopped waiting (a KeyboardInterrupt in wait()): let that call finish
            # first, so that the outcome the next wait() takes is this call's own.
            self.wait()
        self._call = (fn, args)
        self._pending = True
        self._go.release()

    def wait(self):
        """(result, None) or (None, the exception) of the call start() handed over."""
        self._done.acquire()
        self._pending = False
        outcome, self._outcome = self._outcome, None
        return outcome

    def _loop(self):
        while True:
            self._go.acquire()
            fn, args = self._call
            self._call = None
            try:
                outcome = (fn(*args), None)
            except BaseException as e:
                outcome = (None, e)
            # Hold nothing of this call while waiting for the next: its arguments are views of the
            # layer's buffers, which must be freed when the layer is done with them.
            fn = args = None
            self._outcome, outcome = outcome, None
            self._done.release()


@contextmanager
def session(blas=True):
    """Holds the team for a sequence of runs (a layer's forward: two; its backward: four): other
    threads' calls wait for the whole sequence, the team's size is looked up once, and BLAS is made
    single-threaded once, if `blas` and not already (about 7 us each time, restored on leaving the
    session that set it). Sessions nest; run() opens one of its own."""
    with _lock:
        outer = _session["depth"] == 0
        if outer:
            _session["size"] = size()
        _session["depth"] += 1
        limit = blas and not _session["blas"]    # this session sets BLAS, and restores it
        if limit:
            _session["blas"] = True
        try:
            with _single_threaded_blas() if limit else nullcontext():
                yield
        finally:
            if limit:
                _session["blas"] = False
            _session["depth"] -= 1
            if outer:
                _session["size"] = None


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
