"""Which phase-2 strategy runs a sweep, and with what launch configuration.

    persistent   one cooperative launch for all T steps; W_hh lives in shared memory, split over
                 blocks by hidden unit. Wins when per-step launches dominate: small batch.
    step         per step a cuBLAS GEMM plus one pointwise launch. Always possible; wins at
                 large batch, where the GEMM dominates and cuBLAS tiles it better.

The persistent kernel needs every block resident at once (a cooperative grid) and each block's
rows of W_hh in shared memory (about G * H * itemsize bytes per hidden unit, at most
SHARED_LIMIT per block; sweep.shared_elements has the exact size). The plan says which
strategy it chose and why; `last_plan` keeps the latest one for benchmarks and debugging, and
FASTRNN_CUDA_STRATEGY=step|persistent forces one (the tests and the benchmarks use it to run both).
FASTRNN_CUDA_BLOCKS=N asks the persistent grid for N blocks: ceil(H / N) hidden units each, so
the grid has N blocks or, where H does not divide that way, fewer, the last one short (the
tests and tuning use it; a plan that cannot keep them co-resident falls back, or fails if the
persistent strategy is forced).
"""
import os
from dataclasses import dataclass

from .runtime.device import SIMULATOR
from .sweep import shared_elements

SHARED_LIMIT = 48 * 1024       # dynamic shared memory a block gets without an opt-in
PERSISTENT_MAX_BATCH = 32      # above it the per-step GEMM dominates (to calibrate on a GPU)
PERSISTENT_THREADS = 128
SIM_PERSISTENT_THREADS = 4     # the simulator runs one thread per Python thread
STRATEGIES = ("auto", "step", "persistent")


@dataclass(frozen=True)
class Plan:
    strategy: str          # "step" or "persistent"
    blocks: int            # persistent: blocks in the cooperative grid
    threads: int           # persistent: threads per block
    units_per_block: int   # persistent: hidden units each block owns
    shared_bytes: int      # persistent: dynamic shared memory per block
    reason: str

    def __str__(self):
        if self.strategy == "step":
            return f"step launch ({self.reason})"
        return (f"persistent: {self.blocks} blocks x {self.threads} threads, {self.units_per_block} "
                f"hidden units and {self.shared_bytes} B of W_hh per block ({self.reason})")


last_plan = None


def choose(G, B, H, itemsize, cooperative_limit, forced=None):
    """The plan for one sweep. cooperative_limit(threads, shared_bytes) -> the most blocks that
    can be co-resident for the persistent kernel (the device's answer, or 1 on the simulator)."""
    global last_plan
    forced = forced or os.environ.get("FASTRNN_CUDA_STRATEGY", "auto")
    if forced not in STRATEGIES:
        raise ValueError(f"FASTRNN_CUDA_STRATEGY must be one of {', '.join(STRATEGIES)}; got {forced!r}")
    threads = SIM_PERSISTENT_THREADS if SIMULATOR else PERSISTENT_THREADS
    blocks = os.environ.get("FASTRNN_CUDA_BLOCKS")
    if blocks is not None and (not blocks.isdigit() or int(blocks) < 1):
        raise ValueError(f"FASTRNN_CUDA_BLOCKS must be a positive integer; got {blocks!r}")
    last_plan = plan = plan_for(G, B, H, itemsize, cooperative_limit, forced, threads,
                                int(blocks) if blocks else None)
    if forced == "persistent" and plan.strategy != "persistent":
        raise ValueError(f"the persistent kernel was asked for but cannot run this shape: {plan.reason}")
    return plan


def _step(reason):
    return Plan("step", 0, 0, 0, 0, reason)


def plan_for(G, B, H, itemsize, cooperative_limit, forced, threads, blocks=None):
    """choose() for a given strategy request, block size and (optionally) number of blocks, with
    no side effects (the static profile's model plans for GPUs that are not here)."""
    if forced == "step":
        return _step("forced by FASTRNN_CUDA_STRATEGY")
    if forced == "auto" and B > PERSISTENT_MAX_BATCH:
        return _step(f"batch {B} > {PERSISTENT_MAX_BATCH}")
    per_unit = shared_elements(G, H, 1, 0) * itemsize
    most_units = (SHARED_LIMIT - threads * itemsize) // per_unit
    if most_units == 0:
        return _step(f"one hidden unit's W_hh rows ({per_unit} B) exceed {SHARED_LIMIT} B of shared memory")
    # Fewer units per block means more blocks working; the co-residency limit caps the blocks.
    # Asking with the largest shared size a plan could use keeps the answer conservative.
    limit = cooperative_limit(threads, shared_elements(G, H, min(H, most_units), threads) * itemsize)
    asked = blocks
    units = max(-(-H // max(asked or limit, 1)), 1)
    if asked is not None and -(-H // units) > limit:
        return _step(f"FASTRNN_CUDA_BLOCKS={asked}: only {limit} blocks can be co-resident")
    if units > most_units:
        return _step(f"{H} hidden units need more than the {limit} co-resident blocks "
                     f"of at most {most_units} units each")
    blocks = -(-H // units)
    reason = "forced by FASTRNN_CUDA_STRATEGY" if forced == "persistent" else f"batch {B} <= {PERSISTENT_MAX_BATCH}"
    if asked is not None:
        reason += f"; {asked} blocks asked by FASTRNN_CUDA_BLOCKS"
    return Plan("persistent", blocks, threads, units, shared_elements(G, H, units, threads) * itemsize, reason)
