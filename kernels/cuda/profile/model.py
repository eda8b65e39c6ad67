"""A per-step time model of the recurrent sweeps: modelled numbers, never measurements.

Per step of a sweep at batch B and hidden size H (G gates, GH = G*H):

  persistent   max(staging + compute, memory) + one grid.sync()
      staging    the operand every block reads from what the others wrote (forward h_{t-1},
                 B x H; backward the partial products of its units, B x H, plus its own B x H
                 partial written out), before any product can start: the larger of its
                 instructions (SASS per staged element x elements, issued as below) and its
                 waits, one L2 round trip per LOADS elements in flight per thread
      compute    max(issue, shared/L1), after the staging (a block barrier between them)
      issue      instructions on the busiest SM / (4 warp instructions per clock), and at least
                 one warp's own instructions at one per clock (no latency stalls counted:
                 a lower bound on time);
                 instructions = the product's FMAs x SASS instructions per FMA in its inner
                 loop + B * units x the pointwise step (the step kernel's SASS, an upper bound)
      shared/L1  bytes the inner loop's shared and global loads move through the SM's 128 B/clock
                 (no broadcast credit)
      memory     through L2: the staged operand of every block (backward: its partial products
                 written and read), plus the step's own inputs and outputs once; those also from
                 or to HBM
  step launch  per step a cuBLAS GEMM (max of FMAs at CUBLAS_EFFICIENCY of peak, W_hh read from
               L2) and the pointwise kernel (its bytes through L2 and HBM, its instructions over
               the chip),
               each also paying one launch

The recurrent FMAs per step are B * GH * H in both passes; the fraction of peak is those over the
modelled step time and the chip's FP32 FMA rate. gpus.py holds the device figures.
"""
from dataclasses import dataclass

from .. import dispatch
from ..products.stage import LOADS
from ..products.tile import row_tile
from . import budget
from .gpus import blocks_per_sm

CUBLAS_EFFICIENCY = 0.7       # assumed: cuBLAS SGEMM's fraction of FMA peak when compute-bound
POINTWISE = 1000              # SASS instructions of the largest step kernel (RNN backward: 1047), rounded
STAGING = 16                  # SASS instructions per staged element, the sweeps' largest (15.6), rounded


@dataclass(frozen=True)
class SweepCode:
    """What the model needs from one compiled sweep kernel pair (persistent and step)."""
    registers: int              # persistent kernel, per thread (sweeps at batch tile BT)
    static_shared: int          # persistent kernel, bytes per block
    per_fma: float              # persistent inner loop: instructions per FMA
    l1_bytes_per_fma: float     # persistent inner loop: bytes of shared + global loads per FMA
    pointwise: int              # the step kernel's SASS instructions: one (b, j) at most
    staging: float              # persistent staging loop: instructions per staged element


def typical_code(BT, registers=96, static_shared=1024):
    """A sweep kernel as the model sees it without compiling one: the inner loop at its budget
    (budget.py, the LSTM forward's), RT + BT loads of one element per k, the pointwise step at
    POINTWISE and the staging at STAGING. The dispatcher plans with it; on a GPU with the
    kernels' own registers."""
    return SweepCode(registers, static_shared, budget.INNER_LOOP[f"LSTM forward persistent BT={BT}"],
                     4 * (row_tile(BT) + BT) / (row_tile(BT) * BT), POINTWISE, STAGING)


def compare(gpu, codes, G, B, H, itemsize=4, passes=(False, True)):
    """plan -> (persistent us, step-launch us) per step, summed over `passes` (backward flags):
    dispatch.py's question to the model."""
    def times(plan):
        return (sum(persistent_step_us(gpu, codes[bw], G, B, H, itemsize, plan, bw) for bw in passes),
                sum(step_launch_us(gpu, codes[bw], G, B, H, itemsize) for bw in passes))
    return times


@dataclass(frozen=True)
class Estimate:
    persistent_us: float        # inf where the persistent kernel cannot run this shape
    step_us: float
    plan: object                # dispatch.Plan of the persistent strategy (None if impossible)
    chosen: str                 # what dispatch.py picks with the device's limits and this model

    @property
    def best_us(self):
        return min(self.persistent_us, self.step_us)


def fraction_of_peak(gpu, G, B, H, step_us):
    return B * G * H * H / (step_us * 1e-6) / gpu.fma_peak


def _own_bytes(G, B, H, itemsize):
    # a step's own traffic, either strategy: gates in, activations or dG out, three states
    return (B * G * H * 3 + B * H * 3) * itemsize


def persistent_step_us(gpu, code, G, B, H, itemsize, plan, backward):
    f = gpu.clock_ghz * 1e3                      # clocks per microsecond
    U = plan.units_per_block
    lay = plan.backward if backward else plan.forward
    on_sm = -(-plan.blocks // gpu.sms)           # blocks of the cooperative grid on the busiest SM

    def issued(instructions):                    # per block -> clocks on the busiest SM
        return max(on_sm * instructions / 32 / gpu.schedulers, instructions / plan.threads)

    staged = B * H * (2 if backward else 1)      # per block: elements in from L2 (and out, backward)
    staging = max(issued(staged * code.staging),
                  -(-B * H // (plan.threads * LOADS)) * gpu.l2_latency_clocks) / f
    fmas = lay.rows_p * lay.batch_p * lay.K      # per block, the tiles' padding included
    issue = issued(fmas * code.per_fma + B * U * code.pointwise) / f
    l1 = on_sm * fmas * code.l1_bytes_per_fma / gpu.shared_bytes_per_clock / f
    own = _own_bytes(G, B, H, itemsize)
    memory = max((plan.blocks * staged * itemsize + own) / (gpu.l2_tb_s * 1e6), own / (gpu.hbm_tb_s * 1e6))
    return max(staging + max(issue, l1), memory) + gpu.grid_sync_us


def step_launch_us(gpu, code, G, B, H, itemsize):
    f = gpu.clock_ghz * 1e3
    gemm = max(B * G * H * H / (gpu.fma_peak * CUBLAS_EFFICIENCY) * 1e6,
               G * H * H * itemsize / (gpu.l2_tb_s * 1e6)) + gpu.launch_us
    own = _own_bytes(G, B, H, itemsize)
    pointwise = max(B * H * code.pointwise / 32 / gpu.schedulers / gpu.sms / f,
                    own / (gpu.l2_tb_s * 1e6), own / (gpu.hbm_tb_s * 1e6)) + gpu.launch_us
    return gemm + pointwise


def _resident(gpu, code, threads, shared):
    return blocks_per_sm(gpu, code.registers, threads, shared + code.static_shared) * gpu.sms


def estimate(gpu, codes, G, B, H, itemsize=4, backward=False):
    """The model's two step times for one pass. codes: (forward, backward) SweepCode: a plan is
    made for both kernels' limits, with the blocks the model times fastest for this pass, as
    layer.py makes it; a plan the kernel cannot keep co-resident with its own layout would fail
    to launch, and counts as impossible."""
    code = codes[backward]

    def limit(threads, shared):
        return min(_resident(gpu, c, threads, shared) for c in codes)

    threads, shared = dispatch.PERSISTENT_THREADS, gpu.shared_per_block - max(c.static_shared for c in codes)
    timing = compare(gpu, codes, G, B, H, itemsize, passes=(backward,))
    plan = dispatch.plan_for(G, B, H, itemsize, limit, "persistent", threads, shared_limit=shared, compare=timing)
    chosen = dispatch.plan_for(G, B, H, itemsize, limit, "auto", threads, shared_limit=shared,
                               compare=timing).strategy
    step = step_launch_us(gpu, code, G, B, H, itemsize)
    if plan.strategy != "persistent" or _resident(gpu, code, plan.threads, plan.shared_bytes(backward)) < plan.blocks:
        return Estimate(float("inf"), step, None, chosen)
    return Estimate(persistent_step_us(gpu, code, G, B, H, itemsize, plan, backward), step, plan, chosen)
