"""Measure on a GPU what the per-step model (kernels/cuda/profile/model.py) assumes, and each
strategy's time per pass beside cuDNN's, in one process.

    NUMBA_ENABLE_CUDASIM=0 python bench/gpu_calibrate.py [--json FILE] > calibrate.md

Printed, as markdown:
  fixed costs   one grid.sync() across a cooperative grid of 1 and 2 blocks per SM (the model
                assumes gpus.grid_sync_us), and one kernel launch from Python, back to back
                (the model assumes gpus.launch_us on the GPU's timeline)
  passes        LSTM and GRU, float32, for each B x H: forward alone and backward alone with each
                strategy forced (FASTRNN_CUDA_STRATEGY), the dispatcher's choice for
                forward+backward, and torch (cuDNN, strict float32) forward and forward+backward.
                Per step = (time at T=100 - time at T=50) / 50: the sweep's step with the GEMM
                phases' share of a step, without the fixed costs of a call; for the persistent
                kernel also its own GPU time per step (CUDA events around its launch). Modelled
                per step beside it (the model the dispatcher asks, with these kernels' registers)
  threads       the persistent sweeps' kernel time per step at 128, 256 and 512 threads per block
  host          where one persistent forward+backward call's host time goes (cProfile, LSTM)
  candidates    the persistent plans the dispatcher weighs at B=8 H=1024 (FASTRNN_CUDA_BLOCKS),
                each measured and modelled per step
Times are medians of REPEATS calls, each synchronised; the GPU is warmed by one call first.
On numba's simulator (NUMBA_ENABLE_CUDASIM=1) it runs tiny shapes without torch: a check of the
script, not a measurement.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

SIM = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
REPEATS = 3 if SIM else 15
T_LONG, T_SHORT = (4, 2) if SIM else (100, 50)
CELLS = ("LSTM", "GRU")
SHAPES = [(1, 8), (2, 8)] if SIM else [(B, H) for H in (1024, 256) for B in (1, 8, 64, 256)]
CANDIDATE_SHAPE = (2, 8) if SIM else (8, 1024)
THREAD_SHAPES = [(2, 8)] if SIM else [(1, 1024), (8, 1024), (64, 256)]


def median_us(fn, repeats=REPEATS):
    from numba import cuda
    fn()
    cuda.synchronize()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


# -- fixed costs ---------------------------------------------------------------------------------

def grid_sync_us(blocks_per_sm):
    """us per grid.sync() of a cooperative grid of blocks_per_sm x SMs blocks of 128 threads;
    None on the simulator, which has no grid group."""
    from numba import cuda
    if SIM:
        return None

    @cuda.jit
    def syncs(n, out):
        g = cuda.cg.this_grid()
        for _ in range(n):
            g.sync()
        if cuda.grid(1) == 0:
            out[0] = n

    out = cuda.device_array(1, np.int64)
    blocks = cuda.get_current_device().MULTIPROCESSOR_COUNT * blocks_per_sm
    n_long, n_short = 4000, 1000
    long = median_us(lambda: syncs[blocks, 128](n_long, out))
    short = median_us(lambda: syncs[blocks, 128](n_short, out))
    return (long - short) / (n_long - n_short)


def launch_us():
    """us per launch of an empty kernel from Python, 2000 back to back, then one synchronise."""
    from numba import cuda

    @cuda.jit
    def empty(out):
        pass

    out = cuda.device_array(1, np.float32)
    n = 20 if SIM else 2000

    def many():
        for _ in range(n):
            empty[1, 32](out)
    return median_us(many, 5) / n


# -- one layer's passes ---------------------------------------------------------------------------

class Layer:
    """One float32 layer on device arrays (T_LONG and T_SHORT inputs), torch beside it."""

    def __init__(self, mode, B, H, rng):
        from numba import cuda

        from fastrnn.modes import MODES
        self.mode, self.B, self.H = mode, B, H
        G = MODES[mode].gates
        s = 1 / np.sqrt(H)
        self.w = [rng.uniform(-s, s, shape).astype(np.float32) for shape in ((G * H, H), (G * H, H), (G * H,), (G * H,))]
        self.dw = [cuda.to_device(a) for a in self.w]
        n_state = 2 if mode == "LSTM" else 1
        self.state0 = tuple(cuda.to_device(np.zeros((B, H), np.float32)) for _ in range(n_state))
        self.dstate = tuple(cuda.to_device(np.zeros((B, H), np.float32)) for _ in range(n_state))
        self.x = {T: cuda.to_device(rng.standard_normal((T, B, H), dtype=np.float32)) for T in (T_LONG, T_SHORT)}
        self.gy = {T: cuda.to_device(rng.standard_normal((T, B, H), dtype=np.float32)) for T in (T_LONG, T_SHORT)}

    def forward(self, T):
        from fastrnn.kernels.cuda import layer
        return layer.forward(self.mode, self.x[T], self.state0, *self.dw)[2]

    def backward(self, T, saved):
        from fastrnn.kernels.cuda import layer
        layer.backward(saved, self.gy[T], self.dstate)

    def both(self, T):
        self.backward(T, self.forward(T))

    def torch_steps(self):
        """{T: (forward, forward+backward)} callables on cuDNN, or None without torch's CUDA."""
        if SIM:
            return None
        try:
            import torch
            if not torch.cuda.is_available():
                return None
        except ImportError:
            return None
        from fastrnn.bench.runners import strict_float32_cudnn, torch_layer
        strict_float32_cudnn()
        module = torch_layer(self.mode.lower(), self.H, self.H)
        names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
        module.load_state_dict({n: torch.from_numpy(a) for n, a in zip(names, self.w)})
        module.cuda()
        out = {}
        for T in (T_LONG, T_SHORT):
            x = torch.as_tensor(self.x[T].copy_to_host(), device="cuda").requires_grad_()
            gy = torch.as_tensor(self.gy[T].copy_to_host(), device="cuda")

            def fwd(x=x):
                module(x)
                torch.cuda.synchronize()

            def both(x=x, gy=gy):
                module(x)[0].backward(gy)
                torch.cuda.synchronize()
            out[T] = (fwd, both)
        return out


class SweepTimer:
    """Times each persistent sweep kernel's launches with CUDA events, by wrapping the kernel
    factories layer.py launches through (layer.KERNELS): the sweep alone, without the call's
    host work and GEMMs. Each factory's kernel is wrapped once, so layer.py's per-kernel caches
    see the same object every call."""

    def __init__(self):
        from fastrnn.kernels.cuda import layer
        self.layer, self.saved, self.events, self.wrapped = layer, dict(layer.KERNELS), [], {}

    def __enter__(self):
        def factory(make):
            def wrapped(dt, B):
                k = make(dt, B)
                if k not in self.wrapped:
                    self.wrapped[k] = _Timed(k, self.events)
                return self.wrapped[k]
            return wrapped
        for mode, (fs, fp, bs, bp) in self.saved.items():
            self.layer.KERNELS[mode] = (fs, factory(fp), bs, factory(bp))
        return self

    def __exit__(self, *exc):
        self.layer.KERNELS.update(self.saved)

    def median_us(self, fn, repeats=REPEATS):
        """Median GPU time of the sweep kernel launched inside fn(), one launch per call."""
        from numba import cuda
        fn()
        cuda.synchronize()
        self.events.clear()
        for _ in range(repeats):
            fn()
        cuda.synchronize()
        if not self.events:
            raise RuntimeError("no persistent sweep kernel was launched to time")
        return statistics.median(a.elapsed_time(b) * 1e3 for a, b in self.events)


class _Timed:
    def __init__(self, kernel, events):
        self.kernel, self.events = kernel, events

    def __getattr__(self, name):          # compile(), and whatever else layer.py asks of the kernel
        return getattr(self.kernel, name)

    def __getitem__(self, config):
        from numba import cuda
        launch = self.kernel[config]

        def run(*args):
            start, end = cuda.event(), cuda.event()
            start.record()
            launch(*args)
            end.record()
            self.events.append((start, end))
        return run


def kernel_steps(layer):
    """(plan, forward us per step, backward us per step) of the persistent sweep kernels alone
    (SweepTimer), the persistent strategy forced; the dispatcher's reason where it cannot run."""
    from fastrnn.kernels.cuda import dispatch

    def run():
        with SweepTimer() as timer:
            saved = layer.forward(T_LONG)
            plan = dispatch.last_plan
            return (plan, timer.median_us(lambda: layer.forward(T_LONG)) / T_LONG,
                    timer.median_us(lambda: layer.backward(T_LONG, saved)) / T_LONG)
    return forced("persistent", run)


def per_step(fn_of_T):
    """(us per call at T_LONG, us per step from the T_LONG - T_SHORT difference)."""
    long, short = median_us(lambda: fn_of_T(T_LONG)), median_us(lambda: fn_of_T(T_SHORT))
    return long, (long - short) / (T_LONG - T_SHORT)


def modelled(layer, backward):
    """Modelled (persistent, step) us per step of the plan the dispatcher makes for this pass,
    as layer.py asks the model; persistent is None where no persistent plan exists."""
    from fastrnn.kernels.cuda import dispatch
    seen = {}
    choose = dispatch.choose

    def spy(G, B, H, itemsize, limit, forced=None, shared_limit=dispatch.SHARED_LIMIT, compare=None):
        plan = choose(G, B, H, itemsize, limit, forced, shared_limit, compare)
        if plan.strategy == "persistent":
            seen["us"] = compare(plan)
        return plan

    from fastrnn.kernels.cuda import layer as cuda_layer
    dispatch.choose = spy
    try:
        os.environ["FASTRNN_CUDA_STRATEGY"] = "auto"
        cuda_layer._plan(layer.mode, layer.B, layer.H, np.float32, backward)
    finally:
        dispatch.choose = choose
    return seen.get("us", (None, None))


def forced(strategy, fn):
    os.environ["FASTRNN_CUDA_STRATEGY"] = strategy
    try:
        return fn()
    except ValueError as e:      # the persistent kernel cannot run this shape
        return str(e)
    finally:
        os.environ["FASTRNN_CUDA_STRATEGY"] = "auto"


def measure_layer(layer):
    from fastrnn.kernels.cuda import dispatch
    row = {"mode": layer.mode, "B": layer.B, "H": layer.H}
    for strategy in ("step", "persistent"):
        def passes():
            saved = {T: layer.forward(T) for T in (T_LONG, T_SHORT)}
            plan = str(dispatch.last_plan)
            return per_step(layer.forward), per_step(lambda T: layer.backward(T, saved[T])), plan
        got = forced(strategy, passes)
        if isinstance(got, str):
            row[strategy] = {"error": got}
            continue
        (fl, fs), (bl, bs), plan = got
        row[strategy] = {"forward_us": fl, "forward_step_us": fs, "backward_us": bl, "backward_step_us": bs,
                         "plan": plan}
        if strategy == "persistent":
            _, row[strategy]["forward_kernel_step_us"], row[strategy]["backward_kernel_step_us"] = kernel_steps(layer)
    both_long, both_step = per_step(layer.both)
    row["auto"] = {"both_us": both_long, "both_step_us": both_step}
    for bw, name in ((False, "forward"), (True, "backward")):
        p, s = modelled(layer, bw)
        row[f"model_{name}"] = {"persistent_step_us": p, "step_step_us": s}
    steps = layer.torch_steps()
    if steps:
        fl, fs = per_step(lambda T: steps[T][0]())
        bl, bs = per_step(lambda T: steps[T][1]())
        row["torch"] = {"forward_us": fl, "forward_step_us": fs, "both_us": bl, "both_step_us": bs}
    return row


def candidates(mode, B, H, rng):
    """Each persistent plan the dispatcher weighs (units 1, 2, 4, ... per block): measured and
    modelled forward per step."""
    from fastrnn.kernels.cuda import dispatch
    layer = Layer(mode, B, H, rng)
    rows, units = [], 1
    while units <= H:
        os.environ["FASTRNN_CUDA_BLOCKS"] = str(-(-H // units))
        try:
            got = forced("persistent", lambda: per_step(layer.forward))
            if not isinstance(got, str):
                plan = dispatch.last_plan
                p, _ = modelled(layer, False)
                rows.append({"blocks": plan.blocks, "units": plan.units_per_block, "forward_us": got[0],
                             "forward_step_us": got[1], "model_step_us": p})
        finally:
            del os.environ["FASTRNN_CUDA_BLOCKS"]
        units *= 2
    return rows


def thread_counts(mode, shapes, rng, counts=(128, 256, 512)):
    """The persistent sweeps' kernel time per step at each block size (dispatch.PERSISTENT_THREADS,
    which the layouts and the co-residency query follow), the plan otherwise the dispatcher's."""
    from fastrnn.kernels.cuda import dispatch
    rows, saved_threads = [], dispatch.PERSISTENT_THREADS
    for B, H in shapes:
        layer = Layer(mode, B, H, rng)
        for n in counts:
            dispatch.PERSISTENT_THREADS = n
            try:
                got = kernel_steps(layer)
            finally:
                dispatch.PERSISTENT_THREADS = saved_threads
            if isinstance(got, str):
                rows.append({"B": B, "H": H, "threads": n, "error": got})
            else:
                plan, fwd, bwd = got
                rows.append({"B": B, "H": H, "threads": n, "blocks": plan.blocks, "units": plan.units_per_block,
                             "forward_kernel_step_us": fwd, "backward_kernel_step_us": bwd})
    return rows


def host_profile(mode, B, H, rng, calls=3 if SIM else 20):
    """cProfile of `calls` persistent forward+backward calls (synchronised), the 25 functions
    with the most time of their own: where a call's fixed host cost goes."""
    import cProfile
    import io
    import pstats
    from numba import cuda
    layer = Layer(mode, B, H, rng)

    def both():
        layer.both(T_LONG)
        cuda.synchronize()
    forced("persistent", both)
    prof = cProfile.Profile()
    os.environ["FASTRNN_CUDA_STRATEGY"] = "persistent"
    try:
        prof.enable()
        for _ in range(calls):
            both()
        prof.disable()
    finally:
        os.environ["FASTRNN_CUDA_STRATEGY"] = "auto"
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
    return f"{mode} B={B} H={H} T={T_LONG}, {calls} calls\n" + out.getvalue()


# -- report ---------------------------------------------------------------------------------------

def _f(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def report_fixed(fixed, gpu):
    print(f"# GPU calibration: {gpu}\n")
    print("## fixed costs (measured; the model's assumption in brackets)\n")
    print(f"- grid.sync(), 1 block per SM: {_f(fixed['sync1'], 2)} us; 2 blocks per SM: {_f(fixed['sync2'], 2)} us "
          f"[{fixed['assumed_sync']:.2f}]")
    print(f"- kernel launch from Python, back to back: {fixed['launch']:.2f} us [{fixed['assumed_launch']:.2f} "
          "on the GPU's timeline]\n")
    print(f"## per pass, float32, T={T_LONG} (us per call / us per step from T={T_LONG} - T={T_SHORT}; "
          "persistent: (the sweep kernel alone per step, CUDA events))\n")
    print("| cell | B | H | step fwd | pers fwd | model pers | model step | step bwd | pers bwd | model pers | "
          "model step | auto fwd+bwd | cuDNN fwd | cuDNN fwd+bwd | cuDNN / auto |")
    print("|" + "---|" * 15, flush=True)


def report_row(r):
    def pair(strategy, name):
        d = r[strategy]
        if "error" in d:
            return "-"
        kernel = d.get(name + "_kernel_step_us")
        return f"{d[name + '_us']:.0f} / {d[name + '_step_us']:.2f}" + (f" ({kernel:.2f})" if kernel else "")
    t = r.get("torch")
    ratio = _f(t["both_us"] / r["auto"]["both_us"], 2) if t else "-"
    mf, mb = r["model_forward"], r["model_backward"]
    print(f"| {r['mode']} | {r['B']} | {r['H']} | {pair('step', 'forward')} | {pair('persistent', 'forward')} | "
          f"{_f(mf['persistent_step_us'], 2)} | {_f(mf['step_step_us'], 2)} | {pair('step', 'backward')} | "
          f"{pair('persistent', 'backward')} | {_f(mb['persistent_step_us'], 2)} | {_f(mb['step_step_us'], 2)} | "
          f"{r['auto']['both_us']:.0f} | {_f(t and t['forward_us'], 0)} | {_f(t and t['both_us'], 0)} | {ratio} |",
          flush=True)


def report_rest(rows, cands):
    print("\nPersistent plans used:\n")
    for r in rows:
        d = r["persistent"]
        print(f"- {r['mode']} B={r['B']} H={r['H']}: {d.get('plan', d.get('error'))}")
    mode, (B, H) = CELLS[0], CANDIDATE_SHAPE
    print(f"\n## persistent candidates, {mode} forward B={B} H={H} (us per step)\n")
    print("| blocks | units | measured/step | modelled/step | per call |")
    print("|---|---|---|---|---|")
    for c in cands:
        print(f"| {c['blocks']} | {c['units']} | {c['forward_step_us']:.2f} | {_f(c['model_step_us'], 2)} | "
              f"{c['forward_us']:.0f} |", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write every figure here too")
    args = ap.parse_args(argv)
    from fastrnn.kernels.cuda.profile import gpus
    from numba import cuda
    gpu = "numba CUDA simulator" if SIM else cuda.get_current_device().name
    gpu = gpu.decode() if isinstance(gpu, bytes) else gpu
    rng = np.random.default_rng(0)
    fixed = {"sync1": grid_sync_us(1), "sync2": grid_sync_us(2), "launch": launch_us(),
             "assumed_sync": gpus.H100.grid_sync_us, "assumed_launch": gpus.H100.launch_us}
    report_fixed(fixed, gpu)
    rows = []
    for mode in CELLS:        # each row printed when measured: a run cut short keeps what it has
        for B, H in SHAPES:
            t = time.perf_counter()
            rows.append(measure_layer(Layer(mode, B, H, rng)))
            report_row(rows[-1])
            print(f"{mode} B={B} H={H}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    cands = candidates(CELLS[0], *CANDIDATE_SHAPE, rng)
    report_rest(rows, cands)
    threads = thread_counts(CELLS[0], THREAD_SHAPES, rng)
    print(f"\n## threads per block, {CELLS[0]} persistent, the sweep kernel alone (us per step)\n")
    print("| B | H | threads | blocks | units | forward | backward |")
    print("|---|---|---|---|---|---|---|")
    for r in threads:
        if "error" in r:
            print(f"| {r['B']} | {r['H']} | {r['threads']} | - | - | {r['error']} | |")
        else:
            print(f"| {r['B']} | {r['H']} | {r['threads']} | {r['blocks']} | {r['units']} | "
                  f"{r['forward_kernel_step_us']:.2f} | {r['backward_kernel_step_us']:.2f} |", flush=True)
    host = host_profile(CELLS[0], *CANDIDATE_SHAPE, rng)
    print(f"\n## host time of a persistent call (cProfile)\n\n```\n{host}```")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"gpu": gpu, "fixed": fixed, "passes": rows, "candidates": cands, "threads": threads,
                       "host": host}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
