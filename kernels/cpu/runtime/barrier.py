"""The team's per-step barrier, for kernels running on several threads at once (team.py).

sync (groups, members*PAD) int64, zeroed before the sweep: the team's members p = 0, 1, ... form
groups of `members` that share sequences (one group of all of them when a sweep splits the hidden
units; groups of one when it splits the batch, so that no one waits). Member p publishes how many
barriers it has reached in its slot of its group's row (its own cache line, written by it alone,
so no atomic read-modify-write is needed). A sweep's members allocate nothing (layer.py hands them
their buffers), so none can fail before a barrier and leave the others waiting.
A release fence before publishing and an acquire fence after seeing the others make every write
before the barrier visible to every read after it, on any architecture (on x86 both are free;
they still stop the compiler from moving loads and stores across the barrier).
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .jit import kernel

PAD = 16        # int64 slots per member: 128 bytes, so no two members' counters share a cache line
SPINS = 2000    # busy checks before yielding the core (the partner may have been descheduled)


def _fence(ordering):
    @intrinsic
    def fence(typingctx):
        def codegen(context, builder, signature, args):
            builder.fence(ordering)
            return context.get_dummy_value()
        return types.none(), codegen
    return fence


release_fence = _fence("release")
acquire_fence = _fence("acquire")


@intrinsic
def sched_yield(typingctx):
    """POSIX sched_yield(): let another runnable thread have this core."""
    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []),
                                            "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()
    return types.none(), codegen


@kernel
def group(sync, p):
    """The group (the row of sync) that member p belongs to."""
    return p // (sync.shape[1] // PAD)


@kernel
def barrier(sync, p, count):
    """Member p has finished its work before its `count`-th barrier (count = 1, 2, ...); wait until
    every member of its group has."""
    members = sync.shape[1] // PAD
    slots = sync[group(sync, p)]
    release_fence()
    slots[p % members * PAD] = count
    for q in range(members):
        spins = 0
        while True:
            acquire_fence()
            if slots[q * PAD] >= count:
                break
            spins += 1
            if spins > SPINS:
                sched_yield()
    acquire_fence()
