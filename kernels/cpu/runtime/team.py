"""Who runs on which core: the CPU layer's own team of threads.

Why a team of our own: two thread pools on the same cores fight. The sweeps' small per-step
products are fastest in our own loop (products/recurrent.py), and a pool that another library
leaves busy-waiting (OpenBLAS spins about 0.1 s after a call) slows them while it spins (2.5x
slower sweeps right after a BLAS call: kernels/TUNING.md). So every phase runs on this one team,
and none calls BLAS (the GEMMs are products/tile_gemm.py's and few_rows.py's; products/blas.py,
which the sgemm peak measures, makes BLAS single-threaded around its own runs).

A sweep splits the batch, or the hidden units (and with them the rows of W_hh) among the members,
who then meet at one barrier per step (barrier.py). Phases 1 and 3 split their GEMMs (tile_gemm.py,
few_rows.py).

The members are the threads of numba's parallel loops: one `prange` over the members, each calling
the kernel the team runs (launch.py). Why numba's threads and not Python threads of our own: on the
OpenMP threading layer, a parallel loop hands work to threads that are still spinning from the last
one, so starting 2 members costs about 2 us; handing a call to a Python thread (a lock, then the
GIL) wakes a sleeping thread, 20-70 us, and a layer call makes six such hand-overs.
The members of a sweep split by units wait for each other at a barrier, so they must all run at
once: OpenMP and numba's workqueue layer give every member its own thread; TBB may run two members
one after the other on one thread (a deadlock). So this module puts TBB last in numba's layer order
(unless the user chose a layer), and runs a team of one on TBB. GNU OpenMP cannot be used again in a
child forked after it ran: there, too, the team has one member.

The split depends only on the problem's shape and the team size, so results are bit-identical
from run to run on one machine; FASTRNN_NUM_THREADS sets the team size (default: the cores this
process may run on, and at most numba's thread count, NUMBA_NUM_THREADS).
"""
import os
import sys
import threading
from contextlib import ContextDecorator, contextmanager

import numba
import numpy as np
from numba.core import config

from . import launch
from .barrier import PAD

if config.THREADING_LAYER == "default":
    # Not chosen by the user: prefer the layers that run every member at once (module docstring).
    config.THREADING_LAYER_PRIORITY = ["omp", "workqueue", "tbb"]

# A member gets at least MIN_UNITS hidden units, and a step at least MIN_WORK multiply-adds per
# member; below that the barrier and the shorter vector loops cost more than they save. A whole
# call (a sweep, or one GEMM) splits only if each member gets MIN_CALL_WORK multiply-adds (about
# 30 us on one core): a member also pays for reading its share of the weights alone.
# Measurements: kernels/TUNING.md.
MIN_UNITS = 16
MIN_WORK = 1 << 14
MIN_CALL_WORK = 1 << 20
# A sweep split by sequences gives each member at least MIN_ROWS of them: one register block of
# the in-place recurrent product (products/in_place.py) is 3 rows high.
MIN_ROWS = 3

_settings = {"threads": None, "min_units": MIN_UNITS, "min_work": MIN_WORK, "min_call_work": MIN_CALL_WORK,
             "min_rows": MIN_ROWS}
_lock = threading.RLock()      # one team: concurrent callers take turns (a session, or one run)
# guarded by _lock; "threads": numba's thread count when the session began (restored when it ends),
# "now": what it is during the session (numba.get_num_threads costs 2 us, and run() asks each time)
_session = {"depth": 0, "size": None, "threads": None, "now": None}
_layer = {"most": None}        # members numba's threading layer can run at once (_most_members)


def _after_fork_in_child():
    # A free lock; and GNU OpenMP, if the parent ran it, must not be used again (module docstring).
    global _lock
    _lock = threading.RLock()
    _session.update(depth=0, size=None, threads=None, now=None)
    if _layer["most"] is not None and numba.threading_layer() == "omp":
        _layer["most"] = 1


def _most_members():
    """How many members numba's threads can run at once: its thread count, or 1 on TBB."""
    if _layer["most"] is None:
        numba.get_num_threads()      # starts numba's threads, choosing the layer
        _layer["most"] = 1 if numba.threading_layer() == "tbb" else config.NUMBA_NUM_THREADS
    return _layer["most"]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def size():
    """Members of the team: FASTRNN_NUM_THREADS, or the cores this process may run on, and at most
    what numba's threads can run at once (_most_members). Read once per session: looking them up
    costs about 2 us, and a layer call splits a dozen times."""
    if _session["size"] is not None:
        return _session["size"]
    return min(_wanted(), _most_members())


def _wanted():
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


def one_member(work):
    """Whether a call of `work` multiply-adds in all runs on one member, whatever the team's size
    (not looked up: outside a session that costs 2 us)."""
    return _most(work, _settings["min_call_work"]) < 2


def _most(work, min_work):
    # how many members `work` can feed, at least min_work each (no bound when min_work is 0)
    return work // min_work if min_work else sys.maxsize


def _parts(most, work):
    if one_member(work) or most < 2:
        return 1
    return min(size(), most, _most(work, _settings["min_call_work"]))


def new_sync(groups, members):
    """The barrier array of a sweep run by groups of `members` members that wait for each other
    (barrier.py)."""
    return np.zeros((groups, members * PAD), dtype=np.int64)


def run(member, args, blocks):
    """member(*args, blocks, p) for every member p at once, p = 0 .. len(blocks) - 1: blocks (P, k)
    int64, row p the share of member p (its ranges). member is a `kernel` (jit.py) returning None;
    the members are numba's threads in one parallel loop (launch.py). A member that calls BLAS
    needs it single-threaded for the run (blas.py does that).

    A member that raises inside the parallel loop does not stop it (numba drops the exception), so
    done[] tells: a member that did not finish is raised here as an error. The layer's members
    allocate nothing, so none of them can fail that way (and leave the others at a barrier)."""
    blocks = np.asarray(blocks, dtype=np.int64)
    parts = blocks.shape[0]
    if parts == 1:      # on the calling thread: nothing of the team's to hold (a session costs 4-6 us)
        member(*args, blocks, 0)
        return
    with session():
        s = _session
        if s["now"] != parts:       # thread-local: this thread's launches only
            numba.set_num_threads(parts)
            s["now"] = parts
        done = np.zeros(parts, dtype=np.int8)
        leaves = launch.flat(args)
        launch.team_loop(launch.address(member, args, blocks), leaves, blocks, done)
        failed = done.tobytes().count(0)      # a tenth of done.all()'s cost on so few elements
        if failed:
            raise RuntimeError(f"{member.__name__}: {failed} of {parts} team members failed; "
                               "numba does not pass on an error raised inside a parallel loop: "
                               "FASTRNN_NUM_THREADS=1 runs the kernel on this thread, where it raises")


class session(ContextDecorator):
    """Holds the team for a sequence of runs (a layer's forward: two; its backward: four): other
    threads' calls wait for the whole sequence, and the team's size is looked up once. Sessions
    nest; run() opens one of its own when it runs more than one member. Also a decorator.

    A class, not a generator: a layer call enters a dozen nested sessions, and a generator's
    context manager costs about 1.5 us more each time. Its state lives in _session, guarded by
    _lock, so one instance (a decorator's) may be entered by several threads in turn, or again
    inside itself."""

    def __enter__(self):
        _lock.acquire()
        try:
            s = _session
            if s["depth"] == 0:
                s["size"] = size()
                s["threads"] = s["now"] = numba.get_num_threads()   # run() changes it; restored on leaving
            s["depth"] += 1
        except BaseException:
            _lock.release()
            raise
        return self

    def __exit__(self, *exc):
        s = _session
        try:
            s["depth"] -= 1
            if s["depth"] == 0:
                s["size"] = None
                if s["now"] != s["threads"]:
                    numba.set_num_threads(s["threads"])
        finally:
            _lock.release()
        return False

