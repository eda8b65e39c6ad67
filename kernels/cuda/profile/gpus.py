"""The GPUs the model targets, and how many blocks of a kernel one SM holds.

Figures are NVIDIA's published ones, except those marked assumed, which no datasheet gives:
L2 bandwidth and latency, the cost of one grid.sync() and of a launch. Every time computed from
them is modelled.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Gpu:
    name: str
    cc: tuple
    sms: int
    clock_ghz: float          # boost clock
    fp32_lanes: int           # FP32 FMA lanes per SM
    registers: int            # 32-bit registers per SM
    shared_per_sm: int        # bytes of shared memory per SM
    shared_per_block: int     # bytes a block may have after the opt-in above 48 KiB
    l2_tb_s: float            # assumed: sustained L2 read bandwidth
    hbm_tb_s: float

    max_threads = 2048        # per SM
    max_blocks = 32           # per SM
    schedulers = 4            # warp instructions issued per clock per SM
    shared_bytes_per_clock = 128   # per SM
    grid_sync_us = 1.5        # assumed: one cooperative-groups grid.sync() across all SMs
    l2_latency_clocks = 400   # assumed: one L2 hit, loaded, far partition included
    launch_us = 2.0           # assumed: one dependent kernel launch on the GPU's timeline

    @property
    def fma_peak(self):
        """FP32 FMA per second, whole chip."""
        return self.sms * self.fp32_lanes * self.clock_ghz * 1e9


H100 = Gpu("H100 SXM", (9, 0), 132, 1.98, 128, 65536, 228 * 1024, 227 * 1024, 5.5, 3.35)
H200 = Gpu("H200 SXM", (9, 0), 132, 1.98, 128, 65536, 228 * 1024, 227 * 1024, 5.5, 4.8)
A100 = Gpu("A100 SXM", (8, 0), 108, 1.41, 64, 65536, 164 * 1024, 163 * 1024, 4.0, 2.04)
GPUS = (H100, H200, A100)


def blocks_per_sm(gpu, registers, threads, shared_bytes):
    """Resident blocks per SM: the least of the register, shared-memory, thread and block limits.
    Registers are allocated per warp in units of 256; each block also holds 1 KiB of shared
    memory for the system."""
    warps = -(-threads // 32)
    per_warp = -(-max(registers, 1) * 32 // 256) * 256
    by_registers = (gpu.registers // per_warp) // warps
    by_shared = gpu.shared_per_sm // (shared_bytes + 1024)
    return max(0, min(by_registers, by_shared, gpu.max_threads // (warps * 32), gpu.max_blocks))


def current():
    """The GPU this process runs on, as the model sees it (the simulator models an H100). From
    the device's attributes; L2 bandwidth is assumed as for the H100, FP32 lanes per SM known
    by compute capability (64 on sm_80, 128 from sm_86 on)."""
    from ..runtime.device import SIMULATOR
    if SIMULATOR:
        return H100
    from numba import cuda
    d = cuda.get_current_device()
    cc = tuple(d.compute_capability)
    hbm = 2 * d.MEMORY_CLOCK_RATE * 1e3 * d.GLOBAL_MEMORY_BUS_WIDTH / 8 / 1e12
    return Gpu(str(d.name), cc, d.MULTIPROCESSOR_COUNT, d.CLOCK_RATE / 1e6, 64 if cc == (8, 0) else 128,
               d.MAX_REGISTERS_PER_MULTIPROCESSOR, d.MAX_SHARED_MEMORY_PER_MULTIPROCESSOR,
               d.MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, H100.l2_tb_s, hbm)
