"""The static profile (kernels/cuda/profile): it compiles every kernel for sm_90 and sm_80 with
NVIDIA's tools, its checks catch what they are for, and its model stays within physics."""
import json
import os
import subprocess
import sys

import pytest

from fastrnn.kernels.cuda import dispatch
from fastrnn.kernels.cuda.profile import gpus, model, targets


def _real_compiler(args, **kw):
    # A fresh process: the simulator, once on in this one, cannot compile.
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    return subprocess.run([sys.executable] + args, capture_output=True, text=True, env=env, **kw)


def test_profile_of_every_kernel_passes(tmp_path):
    out = tmp_path / "profile.md"
    r = _real_compiler(["-m", "fastrnn.kernels.cuda.profile", "--out", str(out)])
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    text = out.read_text()
    assert "\n0 failure(s)" in text
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in text.splitlines() if line.startswith("| ")]
    resources = [r for r in rows if len(r) == 10 and r[1] == "float32"]
    loops = [r for r in rows if len(r) == 7 and r[1] == "float32"]
    # every kernel on both targets, and every persistent sweep variant within its budget
    n = len(targets.kernels("float32"))
    assert sorted(r[2] for r in resources) == ["80"] * n + ["90"] * n
    persistent = [name for name, _, _ in targets.kernels("float32") if "persistent" in name]
    assert sorted(r[0] for r in loops) == sorted(persistent) and all(float(r[2]) <= float(r[6]) for r in loops)
    model_rows = [r for r in rows if r[0] == "H100 SXM"]
    assert len(model_rows) == 4 * 2 * 2 * 5   # cells x passes x H x B


PLANTED = r"""
import json, math
from numba import cuda, float32
from fastrnn.kernels.cuda.profile import build, sass, targets, budget
from fastrnn.kernels.cuda.profile.__main__ import inner_loops
targets.pretend_device((9, 0))
from numba import types
A = types.Array(types.float32, 1, "C")

def promoted(x):            # float32 * a bare float literal computes in float64
    x[0] = x[0] * 0.1

def local_memory(x, n):     # a dynamically indexed local array lives in local memory
    buf = cuda.local.array(64, float32)
    for k in range(64):
        buf[k] = 0
    for k in range(64):
        buf[(k * n) % 64] += x[k]
    x[0] = buf[n % 64]

def dot(x, y, n):
    acc = float32(0)
    for k in range(n):
        acc += x[k] * y[k]
    x[0] = acc

def activation_loop(x, y, n):
    acc = float32(0)
    for k in range(n):
        acc += math.exp(x[k]) * y[k]
    x[0] = acc

def compiled(f, sig):
    return build.build(build.library(cuda.jit(f), sig), (9, 0))

out = {}
b = compiled(promoted, (A,))
out["f64"] = [sass.float64_instructions(b.sass), sum(".f64" in l for l in b.ptx.splitlines())]
b = compiled(local_memory, (A, types.int64))
out["local"] = b.local + b.stack
out["dot"] = sass.inner_loop(compiled(dot, (A, A, types.int64)).sass).fmas
out["activation"] = sass.inner_loop(compiled(activation_loop, (A, A, types.int64)).sass) is None
name = "LSTM forward persistent BT=4"
kernel, sig = {n: (k, s) for n, k, s in targets.kernels("float32")}[name]
builds = {("float32", name, (9, 0)): build.build(build.library(kernel, sig), (9, 0))}
budget.INNER_LOOP[name] = 1.0
failures = []
inner_loops(builds, (9, 0), failures)
out["over_budget"] = failures
print(json.dumps(out))
"""


def test_profile_checks_catch_planted_faults():
    r = _real_compiler(["-c", PLANTED])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["f64"][0] > 0 and out["f64"][1] > 0
    assert out["local"] > 0
    assert out["dot"] >= 1                 # the plain dot product's loop is found
    assert out["activation"] is True       # a loop with exp in it is not a product loop
    assert len(out["over_budget"]) == 1 and "> budget 1.0" in out["over_budget"][0]


@pytest.mark.parametrize("registers,threads,shared,expected", [
    (98, 128, 0, 4),            # 98 -> 3328 registers per warp; 19 warps fit; 4 blocks of 4 warps
    (32, 256, 0, 8),            # threads bind: 2048 / 256
    (16, 32, 0, 32),            # the 32-block limit
    (64, 128, 48 * 1024, 4),    # shared binds: 228 KiB / (48 + 1) KiB
    (255, 1024, 0, 0),          # does not fit at all
])
def test_blocks_per_sm(registers, threads, shared, expected):
    assert gpus.blocks_per_sm(gpus.H100, registers, threads, shared) == expected


CODE = model.SweepCode(registers=64, static_shared=1024, per_fma=2.0, l1_bytes_per_fma=4.0, pointwise=200,
                       staging=16.0)


@pytest.mark.parametrize("gpu", [gpus.H100, gpus.H200])
@pytest.mark.parametrize("G", [1, 3, 4])
@pytest.mark.parametrize("B", [1, 8, 256])
@pytest.mark.parametrize("H", [256, 1024])
def test_model_never_beats_the_fma_peak(gpu, G, B, H):
    e = model.estimate(gpu, (CODE, CODE), G, B, H)
    floor_us = B * G * H * H / gpu.fma_peak * 1e6
    assert e.step_us >= floor_us + 2 * gpu.launch_us
    assert e.persistent_us >= floor_us + gpu.grid_sync_us
    assert model.fraction_of_peak(gpu, G, B, H, e.best_us) < 1


@pytest.mark.parametrize("backward", [False, True])
def test_model_waits_for_the_staged_operand(backward):
    # a step waits at least one L2 round trip for what the other blocks wrote, and a costlier
    # staging loop never makes it faster
    gpu = gpus.H100
    e = model.estimate(gpu, (CODE, CODE), 4, 8, 1024, backward=backward)
    assert e.persistent_us >= gpu.l2_latency_clocks / (gpu.clock_ghz * 1e3) + gpu.grid_sync_us
    slow = model.SweepCode(64, 1024, 2.0, 4.0, 200, 64.0)
    assert model.estimate(gpu, (slow, slow), 4, 8, 1024, backward=backward).persistent_us > e.persistent_us


def test_model_plans_for_both_kernels():
    # one plan serves both passes: a heavier backward kernel caps the blocks of both
    heavy = model.SweepCode(255, 1024, 2.0, 4.0, 200, 16.0)
    light = model.estimate(gpus.H100, (CODE, CODE), 1, 1, 1024)      # RNN: registers bind, not shared memory
    both = model.estimate(gpus.H100, (CODE, heavy), 1, 1, 1024)
    assert light.plan is not None and both.plan is not None
    assert both.plan.blocks <= gpus.blocks_per_sm(gpus.H100, 255, both.plan.threads,
                                                  both.plan.shared_bytes(True) + 1024) * gpus.H100.sms
    # and the most blocks a plan may have (the first candidate) are fewer with the heavy kernel
    def most_blocks(codes):
        def limit(threads, shared):
            return min(model._resident(gpus.H100, c, threads, shared) for c in codes)
        return dispatch.plan_for(1, 1, 1024, 4, limit, "persistent", dispatch.PERSISTENT_THREADS,
                                 shared_limit=gpus.H100.shared_per_block - 1024).blocks
    assert most_blocks((CODE, heavy)) < most_blocks((CODE, CODE))
    # static shared memory that leaves no room for the weights: no persistent plan at all
    full = model.SweepCode(64, 227 * 1024, 2.0, 4.0, 200, 16.0)
    e = model.estimate(gpus.H100, (CODE, full), 4, 8, 1024, backward=True)
    assert e.persistent_us == float("inf") and e.plan is None
