"""Run every CUDA sweep once, both strategies, and check it against the reference.

    NUMBA_ENABLE_CUDASIM=0 compute-sanitizer --tool memcheck python bench/gpu_kernels_once.py [MODE ...]

The target bench/gpu_suite.sh hands to compute-sanitizer (memcheck, racecheck): small enough to
run under it in seconds, large enough that the persistent kernels span many blocks (on a GPU the
dispatcher gives each block one or two hidden units here), at batch sizes that take each
persistent batch tile (persistent.batch_tile: B 3, 5, 9 -> BT 1, 4, 8). MODEs (default all)
let bench/gpu_suite.sh run one process per cell side by side. Exits 1 if any result is off, so a
race that changes numbers shows up even when the tool does not flag it.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from helpers import MODES, assert_close64, make_problem, run  # noqa: E402

from fastrnn.kernels.cuda import dispatch  # noqa: E402


def main(modes):
    sim = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    T, I, H = (3, 3, 5) if sim else (4, 20, 70)
    batches = (2,) if sim else (3, 5, 9)
    unknown = set(modes) - set(MODES)
    if unknown:
        sys.exit(f"unknown mode(s) {sorted(unknown)}; choose from {MODES}")
    rng = np.random.default_rng(0)
    failures = 0
    for strategy in ("step", "persistent"):
        os.environ["FASTRNN_CUDA_STRATEGY"] = strategy
        for mode in modes:
            for B in batches:
                p = make_problem(rng, mode, T, B, I, H, bidirectional=True)
                try:
                    assert_close64(run(p, "cuda", np.float64), run(p, "reference", np.float64))
                    status = "ok"
                except AssertionError as e:
                    failures += 1
                    status = f"FAIL {e}"
                print(f"{strategy:10} {mode:8} B={B} {dispatch.last_plan}: {status}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or MODES))
