"""What a benchmark run tells a person: machine facts, one table per cell, JSON and a plot."""
import json
import os
import platform

import numpy as np

import fastrnn


def machine():
    """CPU model, core count, the CPU kernels' team size, the CPU numba compiles for and the
    kernels OpenBLAS runs (both move the CPU timings: OPENBLAS_CORETYPE, say), GPU, library
    versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import numba

    from fastrnn.kernels.cpu.runtime import team
    info = {"cpu": cpu, "cores": os.cpu_count(), "threads": team.size(), "cpu_target": _cpu_target(),
            "blas": _blas(), "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "fastrnn": fastrnn.__version__,
            "gpu": None, "torch": None, "cupy": None}
    try:
        import cupy
        info["cupy"] = cupy.__version__
    except ImportError:
        pass
    try:
        import torch
        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def _cpu_target():
    import llvmlite.binding as llvm
    return llvm.get_host_cpu_name()


def _blas():
    # e.g. "openblas 0.3.30 (Haswell)" for each BLAS library loaded: numpy's, and scipy's, which
    # the sgemm peak calls (loaded here if not yet). From blas.py's controllers, not
    # threadpool_info, which also queries every OpenMP runtime in the process (torch's too) just
    # before the timings.
    from fastrnn.kernels.cpu.products import blas
    libs = {f"{c.internal_api} {c.version} ({getattr(c, 'architecture', None) or '?'})"
            for c in blas.controllers()}
    return ", ".join(sorted(libs)) or "none found"


def header(info, backend, peak):
    line1 = (f"fastrnn {info['fastrnn']} (backend {backend}) | {info['cpu']} ({info.get('cpu_target', '?')}), "
             f"{info['cores']} cores ({info['threads']} threads) | BLAS {info.get('blas', '?')} | "
             f"GPU: {info['gpu'] or 'none'} | numba {info['numba']} | torch {info['torch'] or 'not installed'}")
    if backend == "cuda":
        line1 += f" | cupy {info.get('cupy') or 'not installed (GEMMs on the fallback kernel)'}"
    return (line1 + f"\nmeasured sgemm peak {peak:.0f} GFLOP/s | forward+backward, float32, medians | "
            "ratio = torch / fastrnn (> 1: fastrnn faster)")


def table(rows, peak):
    """One block per cell: shape, times, ratio, GFLOP/s, % of the sgemm peak, first-call time."""
    out = []
    for cell in dict.fromkeys(r["cell"] for r in rows):
        head = (f"{cell.upper():5} {'T':>4} {'B':>4} {'I':>5} {'H':>5} {'fastrnn ms':>11} {'torch ms':>9} "
                f"{'ratio':>6} {'GFLOP/s':>8} {'% peak':>6} {'1st call s':>10}"
                + ("  kernel" if any(r.get("plan") for r in rows) else ""))
        out += ["", head, "-" * len(head)]
        for r in (r for r in rows if r["cell"] == cell):
            ours = r["fastrnn_s"]
            gflops = r["flops"] / ours / 1e9
            torch_ms = f"{r['torch_s'] * 1e3:9.2f}" if r["torch_s"] else f"{'-':>9}"
            ratio = f"{r['torch_s'] / ours:6.2f}" if r["torch_s"] else f"{'-':>6}"
            out.append(f"{'':5} {r['T']:4d} {r['B']:4d} {r['I']:5d} {r['H']:5d} {ours * 1e3:11.2f} {torch_ms} "
                       f"{ratio} {gflops:8.1f} {100 * gflops / peak:6.0f} {r['first_call_s']:10.2f}"
                       + (f"  {r['plan'].split()[0].rstrip(':')}" if r.get("plan") else ""))
    return "\n".join(out)


def write_json(path, info, peak, command, rows):
    with open(path, "w") as f:
        json.dump({"machine": info, "sgemm_peak_gflops": peak, "command": command, "rows": rows}, f, indent=1)


def plot(path, rows):
    """ratio torch/fastrnn against batch size, one line per hidden size, a panel per (cell, T).
    Returns False (and writes nothing) without matplotlib or without torch timings."""
    rows = [r for r in rows if r["torch_s"]]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return False
    if not rows:
        return False
    cells = list(dict.fromkeys(r["cell"] for r in rows))
    Ts = sorted({r["T"] for r in rows})
    fig, axes = plt.subplots(len(cells), len(Ts), figsize=(4 * len(Ts), 3 * len(cells)),
                             squeeze=False, sharey=True)
    for i, cell in enumerate(cells):
        for j, T in enumerate(Ts):
            ax = axes[i][j]
            for H in sorted({r["H"] for r in rows}):
                pts = sorted((r["B"], r["torch_s"] / r["fastrnn_s"]) for r in rows
                             if r["cell"] == cell and r["T"] == T and r["H"] == H)
                if pts:
                    ax.plot(*zip(*pts), marker="o", label=f"H={H}")
            ax.axhline(1.0, color="gray", lw=0.8, ls="--")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log", base=2)
            ax.set_xticks(sorted({r["B"] for r in rows}))
            ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            ax.set_title(f"{cell.upper()}, T={T}")
            ax.set_xlabel("batch size B")
            if j == 0:
                ax.set_ylabel("torch time / fastrnn time")
            ax.legend(fontsize=7)
    fig.suptitle("fastrnn speed-up over torch (forward+backward, float32); above 1: fastrnn faster")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
