"""Which phase-2 strategy runs a sweep, and with what launch configuration.

    persistent   one cooperative launch for all T steps (persistent.py); W_hh lives in shared
                 memory, split over blocks by hidden unit. Wins when per-step launches dominate.
    step         per step a cuBLAS GEMM plus one pointwise launch. Always possible; wins where
                 the GEMM dominates and cuBLAS tiles it better.

Where both can run, the per-step model (profile/model.py, `compare`) picks the one it times
faster, for each pass on its own, on the device's figures (profile/gpus.current).

The persistent kernels need every block resident at once (a cooperative grid) and each block's
share of W_hh in shared memory, at most `shared_limit` bytes per block (48 KiB without the
opt-in; a GPU's opt-in limit, 227 KiB on Hopper, when layer.py can raise the kernel's cap). A
persistent plan holds both passes' layouts for the same blocks and units, and is made
only when both kernels' layouts (persistent.Layout) fit and both can be co-resident.

The plan says which strategy it chose and why; `last_plan` keeps the latest one for benchmarks
and debugging, and FASTRNN_CUDA_STRATEGY=step|persistent forces one (the tests and the
benchmarks use it to run both). FASTRNN_CUDA_BLOCKS=N asks the persistent grid for N blocks:
ceil(H / N) hidden units each, so the grid has N blocks or, where H does not divide that way,
fewer, the last one short (the tests and tuning use it; a plan that cannot keep them
co-resident falls back, or fails if the persistent strategy is forced).
"""
import os
from dataclasses import dataclass, replace
from typing import Optional

from .persistent import Layout, batch_tile, fitting_layout
from .runtime.device import SIMULATOR

SHARED_LIMIT = 48 * 1024       # dynamic shared memory a block gets without an opt-in
PERSISTENT_THREADS = 128
SIM_PERSISTENT_THREADS = 4     # the simulator runs one thread per Python thread
STRATEGIES = ("auto", "step", "persistent")
CANDIDATES = 6                 # persistent plans the model times: the fewest units per block, x2, ... x32


@dataclass(frozen=True)
class Plan:
    strategy: str                  # "step" or "persistent"
    blocks: int                    # persistent: blocks in the cooperative grid
    threads: int                   # persistent: threads per block
    units_per_block: int           # persistent: hidden units each block owns
    forward: Optional[Layout]      # persistent: each kernel's shared memory, in elements
    backward: Optional[Layout]
    itemsize: int
    reason: str

    def shared_bytes(self, backward=False):
        """Dynamic shared memory per block of one pass's kernel."""
        return (self.backward if backward else self.forward).elements * self.itemsize

    def __str__(self):
        if self.strategy == "step":
            return f"step launch ({self.reason})"
        return (f"persistent: {self.blocks} blocks x {self.threads} threads, {self.units_per_block} "
                f"hidden units and {self.shared_bytes()}/{self.shared_bytes(True)} B of shared memory "
                f"per block, forward/backward ({self.reason})")


last_plan = None


def choose(G, B, H, itemsize, cooperative_limit, forced=None, shared_limit=SHARED_LIMIT, compare=None):
    """The plan for one sweep. cooperative_limit(threads, shared_bytes) -> the most blocks of
    both persistent kernels that can be co-resident (the device's answer, or the simulator's);
    compare(plan) -> modelled (persistent, step) microseconds per step; None: the model on an
    H100 with typical kernels (profile/model.typical_code)."""
    global last_plan
    forced = forced or os.environ.get("FASTRNN_CUDA_STRATEGY", "auto")
    if forced not in STRATEGIES:
        raise ValueError(f"FASTRNN_CUDA_STRATEGY must be one of {', '.join(STRATEGIES)}; got {forced!r}")
    threads = SIM_PERSISTENT_THREADS if SIMULATOR else PERSISTENT_THREADS
    blocks = os.environ.get("FASTRNN_CUDA_BLOCKS")
    if blocks is not None and (not blocks.isdigit() or int(blocks) < 1):
        raise ValueError(f"FASTRNN_CUDA_BLOCKS must be a positive integer; got {blocks!r}")
    if compare is None:
        from .profile import gpus, model
        BT = batch_tile(B)
        compare = model.compare(gpus.H100, (model.typical_code(BT), model.typical_code(BT)), G, B, H, itemsize)
    last_plan = plan = plan_for(G, B, H, itemsize, cooperative_limit, forced, threads,
                                int(blocks) if blocks else None, shared_limit, compare)
    if forced == "persistent" and plan.strategy != "persistent":
        raise ValueError(f"the persistent kernel was asked for but cannot run this shape: {plan.reason}")
    return plan


def _step(reason, itemsize=4):
    return Plan("step", 0, 0, 0, None, None, itemsize, reason)


def _layouts(G, H, B, U, threads, limit_elements):
    fwd = fitting_layout(G, H, B, U, threads, False, limit_elements)
    bwd = fitting_layout(G, H, B, U, threads, True, limit_elements)
    return (fwd, bwd) if fwd and bwd else None


def _spread(G, H, B, threads, itemsize, shared_limit, cooperative_limit, blocks):
    """[(units per block, (forward, backward) layouts)] of persistent plans, or (None, why not).
    The fewest units per block whose layouts fit and whose blocks of both kernels are all
    co-resident, so the most blocks working, then twice as many units while they fit, up to
    CANDIDATES plans: fewer blocks, each staging the same operand, may take less time (two
    blocks on one SM stage it twice), and the model decides; FASTRNN_CUDA_BLOCKS names the one
    candidate. Layouts only grow with units: past the first that does not fit, none will."""
    elements = shared_limit // itemsize
    if not _layouts(G, H, B, 1, threads, elements):
        return None, f"one hidden unit's share of W_hh does not fit {shared_limit} B of shared memory"
    asked = f"FASTRNN_CUDA_BLOCKS={blocks}: " if blocks is not None else ""
    found = []
    units = -(-H // blocks) if blocks is not None else 1
    while units <= H and len(found) < CANDIDATES:
        lays = _layouts(G, H, B, units, threads, elements)
        if lays is None:
            break
        resident = cooperative_limit(threads, max(lay.elements for lay in lays) * itemsize)
        if resident >= -(-H // units):
            found.append((units, lays))
            if blocks is not None:
                break
            units *= 2
        elif blocks is not None:
            return None, asked + f"only {resident} blocks can be co-resident"
        else:
            units += 1
    if found:
        return found, None
    if blocks is not None:
        return None, asked + f"{units} units per block do not fit {shared_limit} B of shared memory"
    return None, f"{H} hidden units cannot be spread over co-resident blocks of at most {shared_limit} B of shared memory"


def plan_for(G, B, H, itemsize, cooperative_limit, forced, threads, blocks=None, shared_limit=SHARED_LIMIT,
             compare=None):
    """choose() for a given strategy request, block size, number of blocks (None: as many as
    can be co-resident), shared-memory limit and model (needed for "auto"), with no side
    effects (the static profile's model plans for GPUs that are not here)."""
    if forced == "step":
        return _step("forced by FASTRNN_CUDA_STRATEGY", itemsize)
    found, why = _spread(G, H, B, threads, itemsize, shared_limit, cooperative_limit, blocks)
    if found is None:
        return _step(why, itemsize)
    plans = [Plan("persistent", -(-H // units), threads, units, fwd, bwd, itemsize, "forced by FASTRNN_CUDA_STRATEGY")
             for units, (fwd, bwd) in found]
    timed = [(compare(p), p) for p in plans] if compare is not None else [((0.0, 0.0), plans[0])]
    (persistent_us, step_us), plan = min(timed, key=lambda tp: tp[0][0])
    if forced == "auto":
        if step_us < persistent_us:
            return _step(f"modelled {step_us:.1f} us per step against persistent {persistent_us:.1f} us", itemsize)
        plan = replace(plan, reason=f"modelled {persistent_us:.1f} us per step against step launch {step_us:.1f} us")
    if blocks is not None:
        plan = replace(plan, reason=plan.reason + f"; {blocks} blocks asked by FASTRNN_CUDA_BLOCKS")
    return plan
