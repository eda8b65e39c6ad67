import os

# CUDA kernels run on numba's simulator unless the caller asks for the GPU
# (bench/gpu_suite.sh sets NUMBA_ENABLE_CUDASIM=0). Read once, when numba.cuda is first imported.
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
# The CPU team tests run teams of up to 3 members (tests/test_cpu_team.py), and a team is at most
# numba's thread count (kernels/cpu/runtime/team.py), fixed when numba starts.
os.environ.setdefault("NUMBA_NUM_THREADS", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng(request):
    """Fresh random inputs every run; the seed is printed so a failure can be replayed
    (FASTRNN_TEST_SEED=<seed> pins it)."""
    seed = int(os.environ.get("FASTRNN_TEST_SEED", np.random.SeedSequence().entropy % 2**63))
    print(f"{request.node.nodeid}: FASTRNN_TEST_SEED={seed}")
    return np.random.default_rng(seed)


@pytest.fixture(autouse=True)
def poison_kernel_outputs(monkeypatch):
    """Kernel outputs start as NaN, so an element a kernel forgets to write fails the test."""
    from fastrnn.kernels.cpu.runtime import memory

    def nan_empty(shape, dtype):
        return np.full(shape, np.nan, dtype=dtype)

    monkeypatch.setattr(memory, "empty", nan_empty)
    try:
        from fastrnn.kernels.cuda.runtime import device
    except ImportError:      # numba-cuda not installed: the CUDA tests say so themselves
        return
    from numba import cuda

    monkeypatch.setattr(device, "device_empty", lambda shape, dtype: cuda.to_device(nan_empty(shape, dtype)))


@pytest.fixture(params=["packed", "in_place"])
def weight_form(request, monkeypatch):
    """The CPU sweeps' two ways to read W_hh (kernels/cpu/layer.*_PACK_ROWS): packed into panels,
    or in place. Tests of small problems take both, whatever their size picks."""
    from helpers import use_weight_form
    use_weight_form(monkeypatch, request.param)
    return request.param


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"team{n}")
def members(request):
    """Teams of 1 to 3 members (kernels/cpu/runtime/team.py), each given a share however small the work."""
    from fastrnn.kernels.cpu.runtime import team
    with team.configured(threads=request.param, min_units=1, min_work=0, min_call_work=0, min_rows=1):
        assert team.size() == request.param, "numba has fewer threads than the team needs (NUMBA_NUM_THREADS)"
        yield request.param
