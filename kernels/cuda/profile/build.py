"""One kernel compiled for a GPU target the way numba compiles it before a launch, no GPU needed.

numba lowers the kernel to NVVM IR, NVVM emits PTX, and nvJitLink links it (with cudadevrt for
the cooperative kernels, whose grid.sync() calls into it) to a cubin. The cubin is what would
run: its resource table (cuobjdump -res-usage) and its SASS (cuobjdump -sass) are read here.
ptxas -v on the same PTX adds the spill counts the resource table does not show.
"""
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Build:
    ptx: str
    sass: str            # this kernel's function only
    registers: int       # per thread
    stack: int           # bytes per thread
    local: int           # bytes per thread of local memory
    shared: int          # static shared memory per block, bytes
    spill_stores: int    # bytes
    spill_loads: int     # bytes


def tool(name):
    """A CUDA binary utility: the nvidia-cuda-* wheels' copy, else one on PATH."""
    from cuda.pathfinder import find_nvidia_binary_utility
    path = find_nvidia_binary_utility(name)
    if path is None:
        raise RuntimeError(f"{name} not found: pip install nvidia-cuda-nvcc nvidia-cuda-cuobjdump "
                           "nvidia-cuda-nvdisasm (the test extra brings them)")
    return path


def _run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{Path(cmd[0]).name} failed: {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout + r.stderr


def library(kernel, sig):
    """numba's code library for a kernel: typed and lowered once, compiled per target on demand."""
    from numba.cuda.compiler import _compile_pyfunc_with_fixup
    lib, _ = _compile_pyfunc_with_fixup(kernel.py_func, sig, device=False, abi="numba")
    # the dispatcher's rule: a kernel using grid groups links the device runtime
    lib.needs_cudadevrt = lib.use_cooperative
    return lib


def build(lib, cc):
    arch = f"sm_{cc[0]}{cc[1]}"
    ptx = lib.get_asm_str(cc=cc)
    cubin = lib.get_cubin(cc=cc)
    with tempfile.TemporaryDirectory() as tmp:
        cubin_path = Path(tmp, "kernel.cubin")
        cubin_path.write_bytes(bytes(cubin.code))
        ptx_path = Path(tmp, "kernel.ptx")
        ptx_path.write_text(ptx)
        usage = _run(tool("cuobjdump"), "-res-usage", str(cubin_path))
        sass = _run(tool("cuobjdump"), "-sass", str(cubin_path))
        # relocatable (-c): the cooperative kernels call into cudadevrt, linked above
        ptxas = _run(tool("ptxas"), f"-arch={arch}", "-c", "-v", "-o", str(Path(tmp, "k.o")), str(ptx_path))
    entry = _entry_name(ptx)
    res = _resources(usage, entry)
    spills = _spills(ptxas, entry)
    return Build(ptx, _function_sass(sass, entry), res["REG"], res["STACK"], res["LOCAL"], res["SHARED"], *spills)


def _entry_name(ptx):
    m = re.search(r"\.entry\s+([\w$]+)", ptx)
    if m is None:
        raise RuntimeError("no .entry in the PTX: not a kernel")
    return m.group(1)


def _resources(usage, entry):
    lines = usage.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f"Function {entry}:":
            return {k: int(v) for k, v in re.findall(r"(\w+(?:\[\d+\])?):(\d+)", lines[i + 1])}
    raise RuntimeError(f"cuobjdump -res-usage has no entry for {entry}")


def _spills(ptxas, entry):
    # "ptxas info : Function properties for <entry>" then "N bytes stack frame, S bytes spill stores, L bytes spill loads"
    m = re.search(rf"Function properties for {re.escape(entry)}\s*\n.*?(\d+) bytes spill stores, (\d+) bytes spill loads",
                  ptxas)
    if m is None:
        raise RuntimeError(f"ptxas -v reported no properties for {entry}")
    return int(m.group(1)), int(m.group(2))


def _function_sass(sass, entry):
    start = sass.find(f"Function : {entry}\n")
    if start < 0:
        raise RuntimeError(f"cuobjdump -sass has no function {entry}")
    end = sass.find("Function :", start + 1)
    return sass[start:end if end > 0 else len(sass)]
