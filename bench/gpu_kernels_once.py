"""Run every CUDA sweep once, both strategies, and check it against the reference.

    NUMBA_ENABLE_CUDASIM=0 compute-sanitizer --tool memcheck python bench/gpu_kernels_once.py

The target bench/gpu_suite.sh hands to compute-sanitizer (memcheck, racecheck): small enough to
run under it in seconds, large enough that the persistent kernels span many blocks (on a GPU the
dispatcher gives each block one or two hidden units here). Exits 1 if any result is off, so a
race that changes numbers shows up even when the tool does not flag it.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from helpers import MODES, assert_close64, make_problem, run  # noqa: E402

from fastrnn.kernels.cuda import dispatch  # noqa: E402


def main():
    T, B, I, H = (3, 2, 3, 5) if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" else (4, 3, 20, 70)
    rng = np.random.default_rng(0)
    failures = 0
    for strategy in ("step", "persistent"):
        os.environ["FASTRNN_CUDA_STRATEGY"] = strategy
        for mode in MODES:
            p = make_problem(rng, mode, T, B, I, H, bidirectional=True)
            try:
                assert_close64(run(p, "cuda", np.float64), run(p, "reference", np.float64))
                status = "ok"
            except AssertionError as e:
                failures += 1
                status = f"FAIL {e}"
            print(f"{strategy:10} {mode:8} {dispatch.last_plan}: {status}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
