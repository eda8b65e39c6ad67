"""`fastrnn warmup` fills numba's disk cache: a later process that runs the cell finds every kernel
there (no cache miss), whatever shapes, lengths, directions and team splits it uses."""
import json
import os
import subprocess
import sys

import pytest

# A process unlike the warmup's: other sizes, a cell, lengths, both directions, two layers, float32,
# on one member and split over the team. Prints the kernels that missed the cache.
LATER = r"""
import importlib, json, pkgutil
import numpy as np
from numba.core.registry import CPUDispatcher
import fastrnn
from fastrnn.kernels import cpu
from fastrnn.kernels.cpu.runtime import team
rng = np.random.default_rng(1)
for split in (False, True):
    settings = dict(min_units=1, min_work=0, min_call_work=0, min_rows=1) if split else {}
    with team.configured(**settings):
        gru = fastrnn.GRU(6, 9, num_layers=2, bidirectional=True)
        for T, B in ((1, 1), (5, 3), (60, 2)):
            y, _ = gru(rng.standard_normal((T, B, 6)), lengths=np.full(B, T) - (np.arange(B) if T > B else 0))
            gru.backward(np.ones_like(y))
        cell = fastrnn.GRUCell(6, 9)
        cell(rng.standard_normal((4, 6)))
        cell.backward(np.ones((4, 9)))
missed = []
for info in pkgutil.walk_packages(cpu.__path__, cpu.__name__ + "."):
    module = importlib.import_module(info.name)
    for f in vars(module).values():
        if isinstance(f, CPUDispatcher) and f.__module__ == module.__name__ and f.stats.cache_misses:
            missed.append(f"{f.__module__}.{f.__name__}")
print(json.dumps(sorted(set(missed))))
"""


def _run(args, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=1200)


@pytest.mark.parametrize("dtype", ["float32"])
def test_warmup_leaves_nothing_to_compile(tmp_path, dtype):
    done = _run(["-m", "fastrnn", "warmup", "--cell", "gru", "--dtype", dtype], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "GRU float32" in done.stdout and "compiled" in done.stdout
    later = _run(["-c", LATER], tmp_path)
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout.strip().splitlines()[-1]) == []


def test_warmup_help_and_bad_arguments():
    from fastrnn.__main__ import main
    with pytest.raises(SystemExit) as e:
        main(["warmup", "--dtype", "float16"])
    assert e.value.code == 2
