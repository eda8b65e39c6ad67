"""Static profile of every CUDA kernel, and the modelled sweep times: no GPU needed.

    NUMBA_ENABLE_CUDASIM=0 python -m fastrnn.kernels.cuda.profile [--cc 9.0 8.0] [--out FILE]

Each kernel is compiled and linked as numba would before a launch (build.py), for float32 and
float64 and each target. Printed, as markdown:
  resources    registers, spills, local memory, stack, static shared memory, blocks per SM
  inner loops  each persistent sweep's recurrent-product loop in SASS, per FMA (sass.py)
  staging      each persistent sweep's staging loop in SASS, per element staged
  model        per-step time of both strategies on H100 and H200 at B 1/8/32/64/256 x
               H 256/1024 (model.py): every figure there is modelled, not measured
It fails (exit 1) when a kernel does not compile or link, when a float32 kernel has a float64
instruction (PTX or SASS), when a sweep kernel spills or uses local memory, or when a persistent
inner loop goes above its budget (budget.py). The persistent kernels' 16-byte stack frame is the
call into cudadevrt for grid.sync(), outside every loop, and is reported, not failed.
"""
import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from . import budget, build, sass, targets
from .gpus import GPUS, H100, H200, blocks_per_sm
from ..persistent import batch_tile
from .model import SweepCode, estimate, fraction_of_peak

DTYPES = ("float32", "float64")
BATCHES = (1, 8, 32, 64, 256)
HIDDEN = (256, 1024)
GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _compile(job):
    """(dtype, name, ccs) -> {cc: Build or error text}; one process compiles one kernel."""
    dtype, name, ccs = job
    targets.pretend_device(ccs[0])
    kernel, sig = {n: (k, s) for n, k, s in targets.kernels(dtype)}[name]
    out = {}
    try:
        lib = build.library(kernel, sig)
        for cc in ccs:
            out[cc] = build.build(lib, cc)
    except Exception as e:    # report every kernel, then fail
        for cc in ccs:
            out.setdefault(cc, f"{type(e).__name__}: {str(e).strip().splitlines()[0]}")
    return out


def compile_all(ccs, workers):
    targets.pretend_device(ccs[0])
    jobs = [(dt, name, ccs) for dt in DTYPES for name, _, _ in targets.kernels(dt)]
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(_compile, jobs))
    return {(dt, name, cc): r[cc] for (dt, name, _), r in zip(jobs, results) for cc in ccs}


def _threads(name):
    from .. import dispatch
    from ..runtime import launch
    return dispatch.PERSISTENT_THREADS if "persistent" in name else launch.THREADS


def _is_sweep(name):
    return "forward" in name or "backward" in name


def resources(builds, ccs, failures):
    rows = ["| kernel | dtype | sm | registers | spill st/ld B | local B | stack B | static shared B "
            "| blocks/SM H100, A100 * | float64 PTX, SASS |", "|" + " --- |" * 10]
    for (dt, name, cc), b in builds.items():
        if isinstance(b, str):
            failures.append(f"{name} {dt} sm_{cc[0]}{cc[1]}: {b}")
            rows.append(f"| {name} | {dt} | {cc[0]}{cc[1]} | FAILED: {b} |" + " |" * 6)
            continue
        sass_f64, ptx_f64 = sass.float64_instructions(b.sass), _ptx_f64(b.ptx)
        if dt == "float32" and (sass_f64 or ptx_f64):
            failures.append(f"{name} float32 sm_{cc[0]}{cc[1]}: float64 instructions (PTX {ptx_f64}, SASS {sass_f64})")
        if _is_sweep(name) and (b.spill_stores or b.spill_loads or b.local):
            failures.append(f"{name} {dt} sm_{cc[0]}{cc[1]}: spills {b.spill_stores}/{b.spill_loads} B, "
                            f"local {b.local} B")
        occ = ", ".join(str(blocks_per_sm(g, b.registers, _threads(name), b.shared)) for g in (H100, GPUS[2]))
        rows.append(f"| {name} | {dt} | {cc[0]}{cc[1]} | {b.registers} | {b.spill_stores}/{b.spill_loads} | "
                    f"{b.local} | {b.stack} | {b.shared} | {occ} | {ptx_f64}, {sass_f64} |")
    rows.append("\n\\* at the launch's threads per block (persistent: dispatch.PERSISTENT_THREADS; others: "
                "runtime/launch.THREADS) with no dynamic shared memory; the model below adds each plan's.")
    return rows


def _ptx_f64(ptx):
    return sum(1 for line in ptx.splitlines() if ".f64" in line and not line.lstrip().startswith("//"))


def inner_loops(builds, cc, failures):
    rows = ["| kernel | dtype | instructions per FMA | shared per FMA | global+generic per FMA "
            "| load B per FMA | budget |", "|" + " --- |" * 7]
    loops = {}
    for (dt, name, c), b in builds.items():
        if c != cc or "persistent" not in name or isinstance(b, str):
            continue
        loop = sass.inner_loop(b.sass, "FFMA" if dt == "float32" else "DFMA")
        if loop is None:
            failures.append(f"{name} {dt}: no multiply-add loop found in its SASS")
            continue
        loops[dt, name] = loop
        cap = budget.INNER_LOOP.get(name) if dt == "float32" else None
        if cap is not None and loop.per_fma > cap + 1e-9:
            failures.append(f"{name}: inner loop {loop.per_fma:.2f} instructions per FMA > budget {cap}")
        rows.append(f"| {name} | {dt} | {loop.per_fma:.3f} | {loop.shared / loop.fmas:.2f} | "
                    f"{loop.global_ / loop.fmas:.2f} | {loop.load_bytes / loop.fmas:.1f} | "
                    f"{'' if cap is None else cap} |")
    return rows, loops


def staging_loops(builds, cc):
    rows = ["| kernel | dtype | instructions per staged element | global loads per pass |", "|" + " --- |" * 4]
    stages = {}
    for (dt, name, c), b in builds.items():
        if c != cc or "persistent" not in name or isinstance(b, str):
            continue
        stage = sass.staging_loop(b.sass)
        if stage is not None:
            stages[dt, name] = stage
            rows.append(f"| {name} | {dt} | {stage.instructions / stage.global_:.1f} | {stage.global_} |")
    return rows, stages


def sweep_codes(builds, loops, stages, cc):
    """(mode, pass, BT) -> SweepCode for float32 on `cc`."""
    out = {}
    for mode in GATES:
        for pas in ("forward", "backward"):
            s = builds.get(("float32", f"{mode} {pas} step", cc))
            for BT in (1, 4, 8):
                name = f"{mode} {pas} persistent BT={BT}"
                p = builds.get(("float32", name, cc))
                loop, stage = loops.get(("float32", name)), stages.get(("float32", name))
                if isinstance(p, str) or isinstance(s, str) or None in (p, s, loop, stage):
                    continue
                out[mode, pas, BT] = SweepCode(p.registers, p.shared, loop.per_fma, loop.load_bytes / loop.fmas,
                                               sass.count(s.sass), stage.instructions / stage.global_)
    return out


def model(codes):
    rows = ["All times are MODELLED per step (model.py), float32; % peak: the recurrent FMAs over the "
            "modelled time at the chip's FP32 FMA rate. Persistent plans as dispatch.py makes them "
            "(the backward runs the forward's).", "",
            "| GPU | cell | pass | B | H | persistent plan | persistent us (modelled) | persistent % peak "
            "(modelled) | step launch us (modelled) | step % peak (modelled) | dispatch picks | model prefers |",
            "|" + " --- |" * 12]
    for gpu in (H100, H200):
        for mode in GATES:
            G = GATES[mode]
            for pas in ("forward", "backward"):
                for H in HIDDEN:
                    for B in BATCHES:
                        BT = batch_tile(B)
                        pair = codes.get((mode, "forward", BT)), codes.get((mode, "backward", BT))
                        if None in pair:
                            continue
                        e = estimate(gpu, pair, G, B, H, backward=pas == "backward")
                        prefer = "persistent" if e.persistent_us < e.step_us else "step"
                        plan = (f"{e.plan.blocks}x{e.plan.threads}, {e.plan.units_per_block} units"
                                if e.plan else "cannot run")
                        rows.append(f"| {gpu.name} | {mode} | {pas} | {B} | {H} | {plan} | {e.persistent_us:.1f} | "
                                    f"{100 * fraction_of_peak(gpu, G, B, H, e.persistent_us):.1f} | {e.step_us:.1f} | "
                                    f"{100 * fraction_of_peak(gpu, G, B, H, e.step_us):.1f} | {e.chosen} | {prefer} |")
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cc", nargs="+", default=["9.0", "8.0"], help="targets (default 9.0 8.0); the first is modelled")
    p.add_argument("--out", help="also write the report to this markdown file")
    p.add_argument("--workers", type=int, default=2, help="compiling processes (default 2)")
    args = p.parse_args(argv)
    from numba.core import config
    if config.ENABLE_CUDASIM:
        p.error("run with NUMBA_ENABLE_CUDASIM=0: the simulator compiles nothing")
    ccs = [tuple(int(v) for v in cc.split(".")) for cc in args.cc]
    start = time.perf_counter()
    builds = compile_all(ccs, args.workers)
    failures = []
    report = [f"# Static profile of the CUDA kernels (sm_{', sm_'.join(f'{a}{b}' for a, b in ccs)})", "",
              "## Resources", ""]
    report += resources(builds, ccs, failures)
    cc = ccs[0]
    report += ["", f"## Persistent sweeps' inner loops (SASS, sm_{cc[0]}{cc[1]})", ""]
    rows, loops = inner_loops(builds, cc, failures)
    report += rows
    rows, stages = staging_loops(builds, cc)
    report += ["", f"## Persistent sweeps' staging loops (SASS, sm_{cc[0]}{cc[1]}): the operand from L2 "
               "into shared memory, every step", ""] + rows
    if cc == (9, 0):
        report += ["", "## Per-step model (MODELLED, not measured)", ""] + model(sweep_codes(builds, loops, stages, cc))
    report += ["", f"{len(failures)} failure(s) in {time.perf_counter() - start:.0f} s"] + \
              [f"- FAIL {f}" for f in failures]
    text = "\n".join(report) + "\n"
    print(text, end="")
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
